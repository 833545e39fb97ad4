// Package finetune fine-tunes a converted spiking network directly as an
// SNN with surrogate gradients and backpropagation through time, starting
// from the converted weights and thresholds ("hybrid" training, Rathi et
// al. 2020). A few epochs close most of the accuracy gap that conversion
// leaves at small T.
//
// # Data flow
//
// New takes a snnrt.Model, a labelled training set and its preprocessing,
// copies the model and builds its unrolled network as a gorgonia graph: one
// node per layer for all T steps together (values are step-major
// [T,N,C,H,W]; layers that see only the analog input, such as the first
// convolution under direct encoding, are computed once as [N,C,H,W] and
// repeated). Gorgonia is the autodiff engine: it builds the backward graph
// (Grad), sums gradients at fan-out and runs both passes on its tape
// machine. Each primitive is a custom gorgonia op (kernel) with its own
// forward map and hand-written adjoint:
//
//   - Conv: forward on the project's kernels.Conv; backward dW by im2col +
//     kernels.Sgemm, dx as the transposed convolution on kernels.Conv
//     (stride 1) or col2im (otherwise);
//   - Linear: kernels.Sgemm both ways;
//   - AvgPool, GlobalAvgPool, Concat, Flatten, Add (gorgonia's own);
//   - IF: one fused op over all T steps, charge → fire → reset (by
//     subtraction or to zero, bursts up to MaxSpikes, signed take-back
//     spikes, initial potential V0) exactly as snnrt, with BPTT through the
//     membrane in which the derivative of each step of the spike function
//     (at u/θ = 1, 2, … and, for signed neurons, 0, −1, … while the running
//     count allows a take-back) is replaced by a Surrogate. Thresholds θ are trainable (∂/∂θ flows
//     through the spike value s·θ, the reset and the firing condition).
//   - MaxPool (cumulative and gate): fused over T, gradients through the
//     winners.
//
// The read-out is the mean over T of the output layer, as in evaluation
// (prediction = argmax of the accumulated output). Losses: cross-entropy
// of the mean output (LossMean) or TET (LossTET), plus an optional
// firing-rate regulariser and an optional residual-membrane regulariser
// (Config.MemReg, memKernel).
//
// # Surrogate widths and the gradient report
//
// Each IF layer's surrogate is Widen(Config.Surrogate, a): a is annealed
// from Config.WidthAnneal to 1 over training and/or multiplied by a
// per-layer factor chosen before the first step (Config.AutoWidth,
// Dspike-style, widths.go). Trainer.GradReport measures, per IF layer and
// step, the norm of the surrogate gradient at the layer's input and its
// cosine with a reference gradient of the same loss: central finite
// differences of the spiking loss along random Gaussian directions, on a
// forward-only copy of the network (gradreport.go explains the choice). Optimisers: Adam(W) and SGD with momentum,
// cosine learning rate over Config.Epochs (after an optional linear
// warm-up, Config.Warmup), weight decay on weights only.
// Trainer.RunEpoch runs one epoch: a seeded shuffle (dataset.Sample, PCG),
// optional CIFAR augmentation (random crop with 4-pixel zero padding and
// horizontal flip), one step per batch. Evaluate measures accuracy with
// snnrt.Run, the reference simulator, so its numbers are those of
// "ann2snn eval".
//
// # Invariants
//
// The forward pass equals snnrt.Run on the same model (every layer, every
// step; TestForwardMatchesSnnrt). With the test-only option
// smooth (the step replaced by the surrogate's Primitive) the backward
// pass is the exact gradient (TestGradientsFiniteDifference). Results do
// not depend on GOMAXPROCS: reductions use a fixed number of partial sums
// (reduceShards) added in a fixed order, so the same seed gives the same
// loss curve. Thresholds stay ≥ 1e-4, so a trained model stays valid.
//
// # Checkpoints
//
// Trainer.SaveCheckpoint writes a normal .snn (readable by snnrt.Load and
// "ann2snn eval"; metadata finetune.epoch/.step give the position) and the
// optimizer state in a sidecar PATH.state (see checkpoint.go). Resume
// continues exactly where a run stopped, mid-epoch included: an
// interrupted and resumed run gives the same parameters as an
// uninterrupted one.
//
// # Runs, validation and keep-best
//
// Run executes a whole Job as "ann2snn finetune" does (the command only
// parses flags into a Job and prints Run's Events and Report): training,
// a checkpoint after every epoch, a test evaluation after every epoch,
// gradient reports, resuming, and an *InterruptedError after writing a
// checkpoint when its context is cancelled.
//
// Fine-tuning can lower the accuracy of a model that conversion already
// brought close to its ANN. With Config.Val, New holds out Val training
// images, a sample fixed by the seed and drawn before Config.Subset, so
// never trained on (val.go, splitVal); Trainer.Validate measures the SNN
// at T on them (Evaluate, the reference simulator) and keeps a copy of
// the parameters, thresholds included, when the accuracy beats every
// earlier point's. Run validates before the first step, after every epoch
// and every Config.ValEvery steps, and writes the kept model to Job.Out:
// the earliest point of highest validation accuracy, so the model as
// converted is returned unless training improves on it. The test set
// plays no part in the choice. The checkpoint holds the validation curve
// and the kept parameters (PATH.best), so a resumed run keeps the same
// model as an uninterrupted one; like the loss curve, the choice does not
// depend on GOMAXPROCS.
//
// # Not supported
//
// Signed neurons that reset to zero (*UnsupportedError), the membrane
// regulariser with reset to zero (*UnsupportedError), Poisson input
// encoding, training V0, batch norm (no TEBN-style per-step
// normalisation). The last incomplete batch of an epoch is
// skipped. Memory grows with T·Batch (all T steps of every layer are kept
// for the backward pass).
package finetune
