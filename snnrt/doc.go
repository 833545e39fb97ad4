// Package snnrt is the reference simulator of ann2snn's spiking networks
// and the reader/writer of the .snn file format.
//
// # Model
//
// A Model is plain data: a list of layers in topological order, each one of
// a small closed set of primitive kinds (Kind): Conv and Linear (synaptic),
// AvgPool, GlobalAvgPool, Add, Concat and Flatten (weight-free linear
// "routing"), MaxPool (spiking max pooling) and IF (integrate-and-fire
// neurons). Layer i names its inputs by index (InputIndex = −1 is the model
// input) and stores its per-image output Shape (CHW). One layer, Output, is
// read out: it never spikes, its value is accumulated over time. The
// properties of each kind (arity, synaptic, routing, stateful) are kept in
// one table, not scattered through the code. Model.Append infers shapes;
// Model.Validate checks indices, shapes, parameter lengths, finite values
// and θ > 0, reporting *LayerError. convert/ and calibrate/ build Models;
// the faster, event-driven Simulator runs the same Model, with Run as the
// definition of its semantics.
//
// # Semantics
//
// Run simulates T discrete steps. At each step every layer is evaluated in
// order on its inputs' values at that step:
//
//   - the model input is the analog image (Direct) or a Poisson spike draw
//     (Poisson);
//   - Conv, Linear, pooling, Add, Concat and Flatten apply their (affine)
//     map; biases are added at every step;
//   - IF layers charge, fire and reset (see IF); a spike carries the value θ
//     (s·θ for a burst of s spikes, −θ for a negative spike), so the layers
//     behind need no knowledge of thresholds;
//   - MaxPool outputs the step increment of the window max of cumulative
//     inputs (MaxPoolCumulative, exact max of spike counts) or gates the
//     input with the largest count (MaxPoolGate, Rueckauer et al. 2017);
//   - the Output layer's value is added to an accumulator, whose value
//     after every step t = 1..T is kept (Result.Logits(t)), so one run
//     yields the accuracy at every T.
//
// Model.Analog evaluates the ANN that the SNN approximates: the same layers
// with IF replaced by clip(x, 0, θ·max(MaxSpikes,1)) and MaxPool by max.
// For rate-coded SNNs Logits(T)/T tends to it as T grows.
//
// Statistics: spike counts and firing rates per IF layer, synaptic
// operations (SOPs: each spike costs the number of synapses it drives in the
// next synaptic layers, traced through routing layers, with exact conv
// borders, stride and dilation) and dense MACs of analog sources (the model
// input under Direct encoding) are counted per layer and per step.
//
// # Concurrency and determinism
//
// Run splits the batch into chunks of Config.Chunk images handed to
// Config.Workers goroutines (default GOMAXPROCS). Every image is simulated
// independently (the dense kernels are bit-identical whatever the batch
// size, Poisson streams are seeded per global image index) and statistics
// are integer sums, so every output is bit-identical whatever GOMAXPROCS,
// worker count or chunk size. A Model is not modified by Run or Analog and
// may be shared. Run allocates state and activation buffers once per
// worker; steps still make small allocations (kernels.Sgemm packing
// buffers); the Simulator below does not.
//
// # The fast runtime: Simulator
//
// NewSimulator prepares a Model once (transposed weights, tap tables,
// packed dense kernels) and Simulator.Run simulates batches with the same
// semantics as Run, reusing its per-worker state buffers; a time step never
// allocates. Differences in how it evaluates the same maths:
//
//   - Event-driven synapses. A Conv or Linear layer whose input is a spike
//     train accumulates, per image and step, only its non-zero inputs: its
//     weights are stored so that the fan-out of one input channel at one
//     kernel tap to up to 64 output channels is a contiguous row, its
//     output channels-last (NHWC). The work is blocked so that weights come
//     from L1: per kernel tap, block of input channels (32 KiB of weights)
//     and block of up to 64 output channels, each output position keeps
//     its accumulator block in AVX2 registers while the events of the input
//     position the tap connects it to add value·row, one FMA per element.
//     Per output element the terms arrive taps ascending, then channels
//     ascending, whatever the blocking. A spike's value s·θ is the FMA's
//     multiplier, so a spike costs exactly what a pure add of a θ-scaled
//     weight copy would (one vector op per 8 synapses) without a second
//     copy of the weights and without the extra rounding of scaled
//     weights. Linear layers are 1×1 convolutions of 1×1 images. Layers
//     with more than 256 KiB of weights walk taps outermost and the chunk's
//     images innermost, so each block of weights serves every image.
//   - Per image, layer and step the runtime counts the SOPs the events would
//     cost and runs the layer densely instead (kernels.Conv, batched over
//     the chunk's dense images) when that is cheaper: SOPs·2 > dense MACs.
//   - IF layers fed by event layers keep their state NHWC and emit their
//     spikes directly as event lists; an event layer read only by such an
//     IF layer runs with it image by image, so that the accumulator is
//     charged into the membranes while it is in cache. The classic neuron (one spike, reset
//     by subtraction) and the default signed burst neuron (up to two
//     spikes, reset by subtraction) run 8 at a time in AVX2; for the
//     latter one kernel charges, fires (comparisons with θ and 2θ instead
//     of a division: see IF.fire), resets, counts and left-packs the firing
//     neurons' events with a permutation table, so no branch depends on a
//     spike. The dense path runs the same neuron kernel per channel plane
//     on NCHW maps, so event and dense paths differ in their synapses
//     alone. An AvgPool behind such an
//     IF layer pools only the spikes and emits its non-zero outputs as
//     events (bit-identical to kernels.AvgPool: events arrive in row-major
//     window order; a vector kernel left-packs the non-zero outputs). Other routing layers (global pooling, add,
//     concat) and spiking MaxPool run densely on NCHW spike maps, and the
//     synaptic layer behind them scans their output for non-zeros; Flatten
//     shares its input's NCHW map.
//   - Layers whose inputs do not change over time (under Direct encoding,
//     the analog first layer) are evaluated once per chunk, not every step.
//   - Config.Dense switches the event path off (every synaptic layer runs
//     kernels.Conv at every step), for comparison; Config.Profile measures
//     per-layer CPU time (Simulator.Profile).
//
// Results. The dense Simulator is bit-identical to Run. The event path
// sums the same terms in another order (per output: bias, then taps, then
// input channels, one FMA each, instead of the GEMM's blocks of 256), so
// pre-activations differ from Run's in the last bits (relative 1e-7); a
// neuron sitting exactly at its threshold can then fire one step earlier or
// later, so logits agree with Run's to about 1e-5 relative on small nets
// and predictions agree on real data (see cmd/ann2snn bench, which reports
// the agreement with the dense path). Spike and SOP statistics are exact
// for the spikes that occur. Every image is simulated on its own (event
// lists, dense-fallback decisions and neuron updates are per image, dense
// kernels are bit-identical whatever the batch), so Simulator results are
// bit-identical whatever GOMAXPROCS, Workers and Chunk.
//
// Work is split into chunks of Chunk images (by default at most 16, as
// many chunks as makes the work even among the workers) that Workers
// goroutines (default GOMAXPROCS) take in turn.
//
// # Evaluation, exit calibration and benchmarks
//
// Evaluate, CalibrateExit, Bench and BenchExit are the orchestration
// behind "ann2snn eval", "calibrate-exit" and "bench": they run a
// Simulator over images read batch by batch from a Batches source (a
// two-method interface, so snnrt does not depend on the data sets), with
// Config-like structs whose zero values are runnable, and return reports
// of exact counts (EvalReport: correct predictions, SOPs, MACs per read-out
// T, spikes per layer) or timings (BenchReport) that the caller formats.
// ExitTrace keeps a fixed run's output after every step, so that exit
// policies are evaluated offline: ExitTrace.Sweep evaluates every
// threshold of a policy family exactly in one pass, and CalibrateExit
// picks the policy with the smallest mean T that keeps the reference
// run's answers (or accuracy) within a tolerance. Errors the caller's
// input causes are *SetupError (model or settings refused) and
// *SourceError (the source failed).
//
// # Files
//
// Model.WriteTo, Model.Save (atomic), ReadModel and Load read and write the
// versioned .snn format: magic, version, JSON header (layers, neuron
// settings, tensor table, metadata), little-endian float32 data, CRC-32C.
// docs/format.md specifies it. Reading checks every length against the file
// size before allocating and never panics; malformed files give
// *FormatError, files from another version or with unknown features
// *UnsupportedError.
//
// # Not supported
//
// Leaky neurons, time-varying thresholds, batch norm (fold it into the
// preceding Conv/Linear), other dtypes than float32, and layers whose
// outputs are not CHW tensors.
package snnrt
