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
// a faster (event-driven) simulator can run the same Model, with this one
// as the definition of its semantics.
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
// buffers, pooling closures), removing them is left to the fast runtime.
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
