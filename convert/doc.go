// Package convert turns an imported ANN (importer.Graph) into a calibrated
// spiking network (snnrt.Model).
//
// Convert runs a pipeline of graph passes, then calibration:
//
//  1. FoldBatchNorm folds inference-mode BatchNormalization into the Conv or
//     Gemm in front of it: W' = s·W, b' = s·(b − mean) + β, s = γ/√(var+ε).
//  2. Lower rewrites the graph into the SNN's primitive layers. Each
//     ReLU-like activation becomes a layer of integrate-and-fire (IF)
//     neurons: Relu (threshold from calibration), Clip(0, λ) (θ = λ) and
//     the quantisers that PyTorch exports for QCFS activations,
//     Mul/Div → Add → Floor → Clip(0, L) → Mul, recognised by composing the
//     affine maps around Floor and Clip into c·clip(floor(x/c + b), 0, L):
//     θ = c·L = λ and initial potential b·θ, the exact conversion of Bu et
//     al. 2022. Conv and Gemm/MatMul (+ bias Add) become synaptic layers;
//     AveragePool, GlobalAveragePool, MaxPool (spiking), residual Add,
//     channel Concat and Flatten map one to one; a zero Pad is merged into
//     the pool or conv it feeds; a Softmax at the output is dropped (it does
//     not change the arg max). Anything else is a *ConvertError naming the
//     node. Input normalisation is not folded into the first layer (zero
//     padding would then differ at the borders): the .snn file records the
//     preprocessing instead, and the first layer receives normalised
//     analog input.
//  3. Threshold balancing (package calibrate) on the ANN's activations over
//     the calibration images, for every ReLU layer.
//  4. Threshold shift: initial potential θ/2, so neurons round rather than
//     floor (Deng & Gu 2021, Bu et al. 2022).
//  5. Optional neuron extensions against the unevenness error at few steps:
//     signed (take-back) spikes and burst spikes (snnrt.IF).
//  6. Bias correction (Li et al. 2021), layer by layer against the ANN at
//     the target number of time steps.
//
// Options' zero value is the measured default; docs/methods.md has the
// tables that chose it. Convert never modifies its input graph.
package convert
