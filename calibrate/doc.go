// Package calibrate sets the thresholds and correction terms of a converted
// SNN from calibration data run through the ANN.
//
// # Threshold balancing
//
// For every IF layer the ANN activation it replaces is summarised on the
// calibration images. Collect streams them: it reads the images a batch at
// a time (Images), runs each batch through the ann executor and adds the
// kept values to a Hist per layer (and per channel when asked), then drops
// them, so memory grows with the batch, not the number of images. A Hist
// holds the first values themselves and, beyond LayerExact (ChannelExact),
// counts them in bins of relative width 2^-LayerBits (2^-ChannelBits) over
// the float32 bit pattern, with the exact count, minimum and maximum. A
// Norm turns the summary into a threshold θ, per layer or per channel:
//
//   - Max: the largest activation (Diehl et al. 2015);
//   - Percentile(p): the p-th percentile of the non-zero activations
//     (Rueckauer et al. 2017; 99.9 and 99.99 are common);
//   - MSEOptimal(T): the clip level λ that minimises the squared error
//     between the activation a and the rate code of the neurons the
//     converter builds (a Quantiser; by default the T-level rounding one,
//     λ/T·clip(round(a·T/λ), 0, T), of an IF neuron with initial potential
//     θ/2), searched continuously: a log scan of 64 points per octave up to
//     the maximum, then an exact sweep of the error's quadratic pieces
//     around the best local minima. It balances clipping error against
//     quantisation error for the time budget the SNN will run with.
//
// Max is exact; a binned percentile is within one bin (relative 2^-bits)
// of the sorted-values one; MSEOptimal on a binned Hist minimises the
// error of the bins' midpoints. Bins are counts, so a summary does not depend on the batch size or the
// number of workers.
//
// Clip(0, λ) and QCFS activations keep their trained λ.
//
// # Correction
//
// ThresholdShift sets the initial membrane potential to θ/2 (Deng & Gu
// 2021; Bu et al. 2022), which turns the IF neuron's floor quantiser into a
// rounding one. CorrectBias implements the bias correction of Li et al.
// 2021 ("SNN calibration", light pipeline): layer by layer, in network
// order, the mean difference per channel between the ANN activation and the
// SNN's firing rate × θ (with all earlier layers already corrected) is added
// to the current the layer receives, through the bias of the synaptic layer
// in front of it or, where there is none, through the initial potential.
// ClippedMeans and SNNMeans stream too: float64 sums per image and channel,
// added in image order, so the means do not depend on the batch size.
//
// # The ANN executor
//
// Collect, ClippedMeans and CompareLayers run the ANN through the Executor
// interface (Graph, InputShape, Forward), whose signatures use only the
// public importer types, rather than through the module's internal
// executor type, so that programs outside the module can call them: with
// NewExecutor (the module's reference executor, which is what the
// converter uses) or with an executor of their own. An interface suffices
// because calibration needs only those three methods; the reference
// executor stays internal so that it can change without breaking callers.
package calibrate
