// Package nir exports snnrt models to the Neuromorphic Intermediate
// Representation (NIR, github.com/neuromorphs/NIR), the graph format that
// SNN simulators and neuromorphic toolchains exchange, and describes
// what the export means as an snnrt model again.
//
// # Data flow
//
//	snnrt.Model ──FromModel──▶ Graph ──WriteTo/Save──▶ .nir (HDF5, internal/hdf5)
//	                            │
//	                            └──ToModel──▶ snnrt.Model "as NIR describes it"
//
// Semantics(m) = ToModel(FromModel(m)) is the model to simulate with
// snnrt.Run next to m to measure what the export costs in accuracy.
//
// # Mapping (docs/nir.md has the full table and the losses)
//
// Conv → Conv2d (weight, bias, stride, padding, dilation, groups,
// input_shape); Linear → Affine (preceded by a Flatten node when its
// input is C×H×W); AvgPool and GlobalAvgPool → AvgPool2d (SumPool2d with
// Options.SumPool); Flatten → Flatten (start_dim 0, end_dim −1: NIR
// shapes have no batch axis); IF → IF (r = 1, one v_threshold for the
// layer, v_reset = 0 from NIR 1.0.6 on, each stored per neuron); Add →
// several edges into the next node (NIR sums incoming edges); the model
// input and the read-out → Input and Output nodes with their shapes. Node
// names are the layer kind and index ("conv0", "if1", ...). The graph
// metadata records MetaDT = "1": one step is dt = 1.
//
// Spikes are worth θ in snnrt and 1 in NIR. FromModel tracks, per
// channel, the factor between the two along the graph and folds it into
// the next Conv2d/Affine weights, per-channel θ into the output channels
// of the layer before the IF, and the factors of summands that differ
// (a residual skip) into the other branch's weights and the next
// threshold; a diagonal 1×1 Conv2d is added only where no such fold
// exists. It writes no Scale node, which no importer maps. All of it is
// exact up to float32 rounding of the folded products.
//
// # What NIR cannot carry
//
// Reset by subtraction (exported as reset to 0; with Options.NIRVersion
// before 1.0.6, whose IF resets by subtraction, reset to zero is the loss
// instead) and a non-zero initial potential V0 (dropped) are reported as
// Loss values, or rejected with Options.Strict. NIR fires when v > v_threshold, snnrt when v ≥ θ: the
// two differ only when the membrane lands exactly on θ. MaxPool, Concat,
// burst (MaxSpikes > 1) and signed neurons, asymmetric padding and
// average pooling that excludes padding are rejected with
// *UnsupportedError; unsigned burst neurons export with Options.Burst
// for NIR < 1.0.6, whose IF sinabs runs with several spikes per step
// (reported as LossBurst). The Output node receives the read-out layer's value
// at every step; snnrt sums it over time (Options.Integrate adds an I
// node that does the same inside the graph, but no importer maps it).
//
// Files follow nir.write of the nir Python package (version Version, or
// Options.NIRVersion):
// root "version", group "node" (type "NIRGraph", "nodes", "edges" as an
// E×2 string array, optional "metadata"), float32 weights, int64 integer
// parameters, variable-length UTF-8 strings.
package nir
