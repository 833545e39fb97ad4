// Package convert turns an imported ANN (importer.Graph) into a calibrated
// spiking network (snnrt.Model).
//
// Convert runs a pipeline of graph passes, then calibration:
//
//  1. FoldBatchNorm folds inference-mode BatchNormalization into the Conv or
//     Gemm in front of it: W' = s·W, b' = s·(b − mean) + β, s = γ/√(var+ε).
//  2. Lower rewrites the graph into the SNN's primitive layers. Each
//     ReLU-like activation becomes a layer of integrate-and-fire (IF)
//     neurons: Relu (threshold from calibration), Clip(0, λ) (ReLU6; threshold from calibration, at most λ) and
//     the quantisers that PyTorch exports for QCFS activations,
//     Mul/Div → Add → Floor → Clip(0, L) → Mul, recognised by composing the
//     affine maps around Floor and Clip into c·clip(floor(x/c + b), 0, L):
//     θ = c·L = λ and initial potential b·θ, the exact conversion of Bu et
//     al. 2022. Conv (grouped, depthwise) and Gemm/MatMul (+ bias Add)
//     become synaptic layers; AveragePool, GlobalAveragePool, MaxPool
//     (spiking; ceil mode too), residual Add, channel Concat and Flatten
//     map one to one, ReduceMean over H,W is global average pooling; a zero
//     Pad is merged into the pool or conv it feeds; a Softmax at the output
//     is dropped (it does not change the arg max). A BatchNormalization
//     that FoldBatchNorm could not fold (DenseNet's pre-activation BN after
//     a Concat) is a per-channel affine synapse in front of the neurons: a
//     depthwise 1×1 convolution with bias. Data movement (ShuffleNet's
//     channel shuffle Reshape → Transpose → Reshape, Split, Slice, Gather,
//     Squeeze, ...) is evaluated on an index tensor, each element holding
//     its flat position in the layer the chain reads; a result that selects
//     whole channels at unchanged H×W positions becomes a 1×1 convolution
//     with a 0/1 selection matrix (one synapse of weight 1 per output
//     neuron, exact), any other movement is refused. The selection is
//     exact but not free: like any 1×1 convolution it costs K synaptic
//     operations per input spike (zero weights included), about half of
//     ShuffleNet V2's SOPs; a weight-free routing kind for channel
//     selection would remove that cost. Shape arithmetic
//     (Shape → Gather → Concat → Reshape) is evaluated for one image.
//     Activations without an IF equivalent are refused before anything is
//     lowered, with a *ConvertError wrapping ErrNoIFEquivalent that names
//     the activation and its node: SiLU (x·sigmoid(x)), HardSwish, GELU
//     (Gelu, or Erf), sigmoid and hard-sigmoid gates (squeeze-and-
//     excitation), LayerNorm (LayerNormalization, or x − ReduceMean(x)),
//     softmax inside the network, products of two activations, tanh and
//     the other non-ReLU activations. Anything else is a *ConvertError
//     naming the node. Input normalisation is not folded into the first
//     layer (zero padding would then differ at the borders): the .snn file
//     records the preprocessing instead, and the first layer receives
//     normalised analog input.
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
