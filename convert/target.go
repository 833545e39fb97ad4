package convert

import (
	"context"
	"fmt"
	"strconv"

	"github.com/ann2snn/ann2snn/calibrate"
	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/snnrt"
)

// Target is the simulator a converted model is built for: it fixes the
// neuron model and how thresholds and biases are calibrated under it.
type Target uint8

const (
	// TargetSnnrt is the default: snnrt's neurons as Options chooses them.
	TargetSnnrt Target = iota
	// TargetNIR builds neurons that NIR ≥ 1.0.6's IF node runs exactly
	// (reset to zero, initial potential 0, one binary spike per step,
	// unsigned, one θ per layer) and calibrates under that model: θ from
	// calibrate.ResetZeroMSE (unless Options.Norm is set), then
	// calibrate.TuneLayers, which simulates the reset-to-zero network
	// layer by layer to scale each θ and correct each bias. Options'
	// neuron fields (Reset, NoShift, MaxSpikes, Unsigned, PerChannel,
	// Bias) are overridden; a model with max pooling or concatenation
	// still converts but cannot be exported to NIR.
	TargetNIR
)

// String returns the --target flag spelling.
func (t Target) String() string {
	switch t {
	case TargetSnnrt:
		return "snnrt"
	case TargetNIR:
		return "nir"
	}
	return "Target(" + strconv.Itoa(int(t)) + ")"
}

// ParseTarget parses "snnrt" or "nir".
func ParseTarget(s string) (Target, error) {
	for _, t := range []Target{TargetSnnrt, TargetNIR} {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown target %q (want snnrt or nir)", s)
}

// MetaTarget is the .snn metadata key that records Options.Target.
const MetaTarget = "convert.target"

// forTarget returns o with the neuron settings its Target requires.
// o has its defaults (withDefaults) already; an explicit Norm is kept.
func (o Options) forTarget(normSet bool) Options {
	if o.Target != TargetNIR {
		return o
	}
	o.Reset = snnrt.ResetToZero
	o.NoShift = true
	o.MaxSpikes = 1
	o.Unsigned = true
	o.PerChannel, o.PerLayer = false, true
	o.Bias = BiasOff // TuneLayers corrects the biases itself
	if !normSet {
		o.Norm = calibrate.ResetZeroMSE{T: o.T}
	}
	return o
}

// tuneTarget runs the target's calibration on m after the thresholds are
// set: for TargetNIR, calibrate.TuneLayers on the first CorrectImages
// calibration images, over every IF layer in network order. names[i] is
// the ANN value that targets[i] replaces. It records the target and what
// the tuning chose in m.Metadata.
func tuneTarget(ctx context.Context, m *snnrt.Model, ex interface {
	InputShape() []int
	Forward(x []float32, n int, keep []string) ([]float32, map[string]*importer.Tensor, error)
}, src calibrate.Images, opt Options, targets []calibrate.Target, names []string) error {
	if opt.Target != TargetNIR {
		return nil
	}
	m.Metadata[MetaTarget] = opt.Target.String()
	layers := make([]calibrate.TuneLayer, len(targets))
	for i, tg := range targets {
		layers[i] = calibrate.TuneLayer{Layer: tg.Layer, Value: names[i]}
	}
	head := calibrate.Head(src, opt.CorrectImages)
	res, err := calibrate.TuneLayers(ctx, m, ex, head, layers, calibrate.TuneOptions{T: opt.T, Batch: opt.Batch, Bias: true})
	if err != nil {
		return fmt.Errorf("convert: target nir: %w", err)
	}
	for _, r := range res {
		key := "convert.tune." + strconv.Itoa(r.Layer)
		m.Metadata[key] = fmt.Sprintf("scale %g, rmse %.4g (scale 1: %.4g), bias corrected %t", r.Scale, r.RMSE, r.RMSE1, r.Biased)
	}
	return nil
}
