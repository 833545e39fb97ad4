package convert

import (
	"fmt"

	"github.com/ann2snn/ann2snn/calibrate"
)

// Choice is the part of Options that the converter chooses per number of
// time steps T when the caller leaves it unset: the threshold granularity
// and the burst size. The thresholds then minimise the quantisation error
// of the neurons it builds (calibrate.MSEOptimal for their
// calibrate.Uniform quantiser of T·MaxSpikes levels).
type Choice struct {
	// PerChannel: one threshold per channel instead of per layer.
	PerChannel bool
	// MaxSpikes is the burst size (spikes per neuron per step).
	MaxSpikes int
}

// PerT returns the measured default Choice for T time steps
// (docs/methods.md, "Per-T defaults": the option that measured best at
// that T on vgg16h_cifar10_relu and vgg_small_cifar10_relu, first 2,000
// CIFAR-10 test images, each converted for T; at T = 8 on vgg_small and
// the ReLU ResNet-20 of models/, where per-channel thresholds beat
// per-layer ones on both). Beyond the measured T the last row holds.
func PerT(t int) Choice {
	switch {
	case t <= 1:
		return Choice{PerChannel: true, MaxSpikes: 8}
	case t <= 4:
		return Choice{PerChannel: true, MaxSpikes: 4}
	default:
		return Choice{PerChannel: true, MaxSpikes: 2}
	}
}

// String describes c as convert's header prints it.
func (c Choice) String() string {
	g := "per-layer"
	if c.PerChannel {
		g = "per-channel"
	}
	return fmt.Sprintf("%s thresholds, up to %d spikes per step", g, c.MaxSpikes)
}

// neuronNorm returns the norm that minimises the quantisation error of the
// neurons o builds: reset by subtraction over o.T steps with up to
// o.MaxSpikes spikes each, rounding (initial potential θ/2) or flooring
// (NoShift). o has its T and MaxSpikes set.
func (o Options) neuronNorm() calibrate.Norm {
	levels := o.T * o.MaxSpikes
	if o.NoShift {
		return calibrate.MSEOptimal{T: levels, Q: calibrate.Uniform{Levels: levels, Floor: true}}
	}
	return calibrate.MSEOptimal{T: levels}
}

// Effective returns o with every default filled in as ConvertImages fills
// it: PerT's choice for T, the neurons' norm, and the Target's overrides.
// Its Metadata is what the converted model records.
func (o Options) Effective() Options {
	return o.withDefaults().forTarget(o.Norm != nil)
}
