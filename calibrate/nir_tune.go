package calibrate

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/snnrt"
)

// TuneLayer names one IF layer for TuneLayers: its index in the model and
// the ANN value (the activation's output) it replaces.
type TuneLayer struct {
	Layer int
	Value string
}

// TuneOptions control TuneLayers.
type TuneOptions struct {
	// T is the number of steps simulated; it must be at least 1.
	T int
	// Batch is how many images are simulated together; 0 means 64.
	Batch int
	// Scales are the factors of each layer's θ tried; nil means
	// DefaultTuneScales.
	Scales []float64
	// Bias also corrects the bias of the Conv or Linear layer in front of
	// each IF layer (when no other layer reads it) by the mean error per
	// channel measured at the chosen θ.
	Bias bool
}

// DefaultTuneScales are the factors of θ TuneLayers tries by default.
var DefaultTuneScales = []float64{0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.25, 1.4}

// TuneResult is what TuneLayers chose for one layer.
type TuneResult struct {
	Layer int
	// Scale is the factor applied to the layer's θ.
	Scale float64
	// RMSE is the root mean squared error, per element, between the
	// layer's firing rate × θ and the ANN activation max(a, 0) at the
	// chosen scale, before the bias correction; RMSE1 is the same at
	// scale 1.
	RMSE, RMSE1 float64
	// Biased reports whether the bias in front of the layer was corrected.
	Biased bool
}

// forwarder is the part of the ANN executor TuneLayers uses.
type forwarder interface {
	InputShape() []int
	Forward(x []float32, n int, keep []string) ([]float32, map[string]*importer.Tensor, error)
}

// TuneLayers calibrates m layer by layer, in the order of layers (network
// order), by simulating the spiking network itself on the images of src
// (which must be preprocessed for the ANN ex): for each IF layer it
// simulates the model up to that layer (all earlier layers already tuned)
// once per candidate factor s of the layer's θ, measures
//
//	E(s) = Σ_{images, channels, positions} d²,   d = r·θ_s − max(a, 0),
//
// with r·θ_s the layer's mean output per step over opt.T steps and a the
// ANN's activation, and keeps the factor of least E (scale 1 unless another
// is strictly better). (Removing each channel's mean error from
// E, what the bias correction will remove, chose worse scales on the
// Fashion-MNIST LeNet: the bias correction is not exact for these
// neurons.) The error is measured against what the neurons as
// they are (their reset mode, V0, burst size) emit, so it tunes the
// thresholds for the neuron model m runs: for reset-to-zero neurons,
// whose static quantiser (ResetZeroMSE) ignores how spike trains, not
// constant currents, arrive from the layer before, this matters most.
// With opt.Bias, the mean error per channel at the chosen θ, measured
// against min(max(a, 0), θ) (what the neuron can emit), is subtracted
// from the bias of the Conv or Linear layer the IF layer reads, when no
// other layer reads it; layers behind an Add are left as they are.
//
// Sums are float64, per image and channel, added in image order, so the
// result does not depend on opt.Batch or the number of workers. TuneLayers
// checks ctx between batches and returns ctx.Err() (wrapped) once it is
// done; m may then be partly tuned.
func TuneLayers(ctx context.Context, m *snnrt.Model, ex forwarder, src Images, layers []TuneLayer, opt TuneOptions) ([]TuneResult, error) {
	if opt.T < 1 {
		return nil, fmt.Errorf("calibrate: TuneLayers: T = %d, want at least 1", opt.T)
	}
	if opt.Batch <= 0 {
		opt.Batch = 64
	}
	scales := opt.Scales
	if scales == nil {
		scales = DefaultTuneScales
	}
	one := slices.Index(scales, 1)
	if one < 0 {
		scales = append(slices.Clone(scales), 1)
		one = len(scales) - 1
	}
	if src.Len() < 1 {
		return nil, fmt.Errorf("calibrate: TuneLayers: no calibration images")
	}
	readers := make([]int, len(m.Layers))
	for _, l := range m.Layers {
		for _, in := range l.Inputs {
			if in >= 0 {
				readers[in]++
			}
		}
	}
	per := importer.NumElements(ex.InputShape())
	if per != m.Input.Len() {
		return nil, fmt.Errorf("calibrate: TuneLayers: ANN input has %d values per image, the SNN %d", per, m.Input.Len())
	}
	var out []TuneResult
	for _, tl := range layers {
		res, err := tuneLayer(ctx, m, ex, src, per, tl, scales, one, readers, opt)
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

// tuneStats are the per-channel sums of one candidate.
type tuneStats struct {
	s2 []float64 // Σd² against max(a, 0)
	c1 []float64 // Σ(r·θ − min(max(a, 0), θ))
}

func tuneLayer(ctx context.Context, m *snnrt.Model, ex forwarder, src Images, per int, tl TuneLayer, scales []float64, one int, readers []int, opt TuneOptions) (TuneResult, error) {
	res := TuneResult{Layer: tl.Layer, Scale: 1}
	if tl.Layer < 0 || tl.Layer >= len(m.Layers) {
		return res, fmt.Errorf("calibrate: TuneLayers: layer %d of a model with %d layers", tl.Layer, len(m.Layers))
	}
	l := &m.Layers[tl.Layer]
	if l.Kind != snnrt.KindIF {
		return res, fmt.Errorf("calibrate: TuneLayers: layer %d (%s) is %v, not IF", tl.Layer, l.Name, l.Kind)
	}
	sh := l.Shape
	// The model up to the layer, read out through a Flatten so that the
	// IF layer is not the output (which never spikes).
	sub := &snnrt.Model{Input: m.Input, Layers: slices.Clone(m.Layers[:tl.Layer+1])}
	sub.Layers[tl.Layer].IF.Theta = slices.Clone(l.IF.Theta)
	if _, err := sub.Append(snnrt.Layer{Name: "tune", Kind: snnrt.KindFlatten, Inputs: []int{tl.Layer}}); err != nil {
		return res, fmt.Errorf("calibrate: TuneLayers: layer %d (%s): %w", tl.Layer, l.Name, err)
	}
	theta0 := slices.Clone(l.IF.Theta)
	thetaOf := func(c int) float64 { return float64(theta0[min(c, len(theta0)-1)]) }
	stats := make([]tuneStats, len(scales))
	for i := range stats {
		stats[i] = tuneStats{make([]float64, sh.C), make([]float64, sh.C)}
	}
	inner := sh.H * sh.W
	n := 0
	err := batches(ctx, src, per, opt.Batch, func(first, k int, x []float32) error {
		act := make([]float32, 0, k*sh.Len())
		for f := 0; f < k; f += forwardImages {
			j := min(forwardImages, k-f)
			_, kept, err := ex.Forward(x[f*per:(f+j)*per], j, []string{tl.Value})
			if err != nil {
				return fmt.Errorf("calibrate: TuneLayers: ANN pass: %w", err)
			}
			t := kept[tl.Value]
			if t == nil || len(t.Data) != j*sh.Len() {
				return fmt.Errorf("calibrate: TuneLayers: ANN value %q does not match layer %d (%s, %v)", tl.Value, tl.Layer, l.Name, sh)
			}
			act = append(act, t.Data...)
		}
		acc := make([]float32, k*sh.Len())
		for si, s := range scales {
			th := sub.Layers[tl.Layer].IF.Theta
			for c := range th {
				th[c] = float32(float64(theta0[c]) * s)
			}
			clear(acc)
			sim, err := snnrt.NewSimulator(sub, snnrt.Config{T: opt.T, Observe: func(layer, _, f, kk int, o []float32) {
				if layer != tl.Layer {
					return
				}
				a := acc[f*sh.Len() : (f+kk)*sh.Len()]
				for i, v := range o[:len(a)] {
					a[i] += v
				}
			}})
			if err != nil {
				return fmt.Errorf("calibrate: TuneLayers: layer %d (%s): %w", tl.Layer, l.Name, err)
			}
			if _, err := sim.RunContext(ctx, x, k); err != nil {
				return fmt.Errorf("calibrate: TuneLayers: layer %d (%s), images %d..%d: %w", tl.Layer, l.Name, first, first+k-1, err)
			}
			st := &stats[si]
			for img := range k {
				for c := range sh.C {
					thc := thetaOf(c) * s
					var s2, c1 float64
					off := (img*sh.C + c) * inner
					for i := off; i < off+inner; i++ {
						r := float64(acc[i]) / float64(opt.T)
						a := math.Max(float64(act[i]), 0)
						d := r - a
						s2 += d * d
						c1 += r - math.Min(a, thc)
					}
					st.s2[c] += s2
					st.c1[c] += c1
				}
			}
		}
		n += k
		return nil
	})
	if err != nil {
		return res, err
	}
	count := float64(n * inner)
	rmse := func(st tuneStats) float64 {
		var e float64
		for c := range st.s2 {
			e += st.s2[c]
		}
		return math.Sqrt(e / (count * float64(sh.C)))
	}
	best := one
	for i := range scales {
		if rmse(stats[i]) < rmse(stats[best]) {
			best = i
		}
	}
	res.Scale, res.RMSE, res.RMSE1 = scales[best], rmse(stats[best]), rmse(stats[one])
	l.IF.Theta = make([]float32, len(theta0))
	for c := range theta0 {
		l.IF.Theta[c] = float32(float64(theta0[c]) * scales[best])
	}
	in := l.Inputs[0]
	if opt.Bias && in >= 0 && readers[in] == 1 && (m.Layers[in].Kind == snnrt.KindConv || m.Layers[in].Kind == snnrt.KindLinear) {
		p := &m.Layers[in]
		b := make([]float32, sh.C)
		copy(b, p.B)
		for c := range b {
			b[c] -= float32(stats[best].c1[c] / count)
		}
		p.B = b
		res.Biased = true
	}
	return res, nil
}
