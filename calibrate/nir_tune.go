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
	// each IF layer (when no other layer reads it), searched together with
	// θ (see TuneLayers).
	Bias bool
	// MaxBytes bounds the memory of the cached input currents of one
	// layer (4·T·values per image): TuneLayers uses the first images of
	// src that fit, at least one. 0 means DefaultTuneBytes.
	MaxBytes int
}

// DefaultTuneBytes is TuneOptions.MaxBytes's default.
const DefaultTuneBytes = 256 << 20

// DefaultTuneScales are the factors of θ TuneLayers tries by default.
var DefaultTuneScales = []float64{0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.25, 1.4}

// TuneResult is what TuneLayers chose for one layer.
type TuneResult struct {
	Layer int
	// Scale is the factor applied to the layer's θ.
	Scale float64
	// RMSE is the root mean squared error, per element, between the
	// layer's firing rate × θ and the ANN activation max(a, 0) at the
	// chosen scale and bias; RMSE1 is the same at scale 1 (with its own
	// bias correction).
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
// order), by simulating the spiking network itself on the first images of
// src (which must be preprocessed for the ANN ex; as many as
// opt.MaxBytes allows). For each IF layer it simulates the model up to
// the layer the IF layer reads (all earlier layers already tuned) once,
// keeping that layer's output, the IF layer's input current, at every
// step; then, for each candidate factor s of the layer's θ, it runs the IF
// neurons (as they are: their reset mode, V0, burst size, firing exactly
// as snnrt.IF.Fire) on those currents and measures
//
//	E(s) = Σ_{images, channels, positions} d²,   d = r·θ_s − max(a, 0),
//
// with r·θ_s the neuron's mean output per step over opt.T steps and a the
// ANN's activation. With opt.Bias, when the IF layer reads a Conv or
// Linear layer that no other layer reads, each candidate first gets a bias
// correction b (added to that layer's bias, so to every step's current):
// biasRounds times, b_c −= mean over channel c of r·θ_s − min(max(a, 0),
// θ_s) (the error against what the neuron can emit), re-simulated each
// time, since for reset-to-zero neurons the rate is not linear in the
// current. TuneLayers keeps the candidate (factor and bias) of least E,
// scale 1 unless another is strictly better. An IF layer behind a
// residual Add (that nothing else reads) gets its correction through the
// bias of a Conv or Linear summand that nothing else reads; other IF
// layers keep their bias. This tunes the thresholds for the neuron model m runs: for
// reset-to-zero neurons, whose static quantiser (ResetZeroMSE) ignores
// that spike trains, not constant currents, arrive from the layer before,
// it matters most.
//
// Sums are float64, per image and channel, added in image order, so the
// result does not depend on opt.Batch or the number of workers. TuneLayers
// checks ctx between batches and candidates and returns ctx.Err()
// (wrapped) once it is done; m may then be partly tuned.
func TuneLayers(ctx context.Context, m *snnrt.Model, ex forwarder, src Images, layers []TuneLayer, opt TuneOptions) ([]TuneResult, error) {
	if opt.T < 1 {
		return nil, fmt.Errorf("calibrate: TuneLayers: T = %d, want at least 1", opt.T)
	}
	if opt.Batch <= 0 {
		opt.Batch = 64
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultTuneBytes
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

// biasRounds is how many times tuneLayer measures the mean error of a
// candidate θ and corrects the bias by it before the final measurement.
const biasRounds = 3

// tuneLayer tunes one IF layer: it simulates the model up to the layer in
// front of it once, keeping that layer's output (the IF layer's input
// current) at every step for every image, then runs the IF layer alone on
// it for each candidate θ, with the bias correction iterated biasRounds
// times, and keeps the candidate of least error.
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
	size := sh.Len()
	in := l.Inputs[0]
	bl := biasLayer(m, readers, in)
	biasable := opt.Bias && bl >= 0
	// Images: as many as the current cache fits in opt.MaxBytes.
	n := src.Len()
	if maxBytes := opt.MaxBytes; maxBytes > 0 {
		n = max(1, min(n, maxBytes/(4*opt.T*size)))
	}
	cur := make([]float32, opt.T*n*size) // [step][image][value]
	act := make([]float32, 0, n*size)
	var sub *snnrt.Model
	if in >= 0 {
		// The model up to the IF layer's input, which becomes the read-out.
		sub = &snnrt.Model{Input: m.Input, Layers: m.Layers[:in+1], Output: in}
	}
	err := batches(ctx, Head(src, n), per, opt.Batch, func(first, k int, x []float32) error {
		for f := 0; f < k; f += forwardImages {
			j := min(forwardImages, k-f)
			_, kept, err := ex.Forward(x[f*per:(f+j)*per], j, []string{tl.Value})
			if err != nil {
				return fmt.Errorf("calibrate: TuneLayers: ANN pass: %w", err)
			}
			t := kept[tl.Value]
			if t == nil || len(t.Data) != j*size {
				return fmt.Errorf("calibrate: TuneLayers: ANN value %q does not match layer %d (%s, %v)", tl.Value, tl.Layer, l.Name, sh)
			}
			act = append(act, t.Data...)
		}
		if sub == nil { // the IF layer reads the model input: the same current at every step
			for step := range opt.T {
				copy(cur[(step*n+first)*size:], x[:k*size])
			}
			return nil
		}
		sim, err := snnrt.NewSimulator(sub, snnrt.Config{T: opt.T, Observe: func(layer, step, f, kk int, o []float32) {
			if layer == in {
				copy(cur[((step-1)*n+first+f)*size:((step-1)*n+first+f+kk)*size], o[:kk*size])
			}
		}})
		if err != nil {
			return fmt.Errorf("calibrate: TuneLayers: layer %d (%s): %w", tl.Layer, l.Name, err)
		}
		if _, err := sim.RunContext(ctx, x, k); err != nil {
			return fmt.Errorf("calibrate: TuneLayers: layer %d (%s), images %d..%d: %w", tl.Layer, l.Name, first, first+k-1, err)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	inner := sh.H * sh.W
	count := float64(n * inner)
	neuron := l.IF
	theta0 := slices.Clone(l.IF.Theta)
	// run simulates the IF layer with θ·s and the extra bias b on the
	// cached currents and returns the error sums.
	run := func(s float64, b []float64) tuneStats {
		st := tuneStats{make([]float64, sh.C), make([]float64, sh.C)}
		v := make([]float32, inner)
		cnt := make([]int32, inner)
		out := make([]float32, inner)
		for img := range n {
			for c := range sh.C {
				th := float32(float64(theta0[min(c, len(theta0)-1)]) * s)
				var v0 float32
				if len(neuron.V0) > 0 {
					v0 = neuron.V0[min(c, len(neuron.V0)-1)]
				}
				var bc float32
				if b != nil {
					bc = float32(b[c])
				}
				for j := range v {
					v[j], cnt[j], out[j] = v0, 0, 0
				}
				off := (img*sh.C + c) * inner
				for step := range opt.T {
					x := cur[(step*n)*size+off : (step*n)*size+off+inner]
					for j, xj := range x {
						u := v[j] + (xj + bc)
						k := neuron.Fire(u, th, cnt[j])
						if k != 0 {
							if neuron.Reset == snnrt.ResetToZero {
								u = 0
							} else {
								u -= float32(k) * th
							}
							cnt[j] += int32(k)
							out[j] += float32(k) * th
						}
						v[j] = u
					}
				}
				var s2, c1 float64
				for j := range out {
					r := float64(out[j]) / float64(opt.T)
					a := math.Max(float64(act[off+j]), 0)
					d := r - a
					s2 += d * d
					c1 += r - math.Min(a, float64(th))
				}
				st.s2[c] += s2
				st.c1[c] += c1
			}
		}
		return st
	}
	rmse := func(st tuneStats) float64 {
		var e float64
		for c := range st.s2 {
			e += st.s2[c]
		}
		return math.Sqrt(e / (count * float64(sh.C)))
	}
	// tune returns the error and the corrected bias of the candidate s.
	tune := func(s float64) (float64, []float64) {
		if !biasable {
			return rmse(run(s, nil)), nil
		}
		b := make([]float64, sh.C)
		for range biasRounds {
			st := run(s, b)
			for c := range b {
				b[c] -= st.c1[c] / count
			}
		}
		return rmse(run(s, b)), b
	}
	best, bestErr, bestBias := one, math.Inf(1), []float64(nil)
	for i, s := range scales {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("calibrate: TuneLayers: layer %d (%s): %w", tl.Layer, l.Name, err)
		}
		e, b := tune(s)
		if i == one {
			res.RMSE1 = e
		}
		if e < bestErr || (e == bestErr && i == one) {
			best, bestErr, bestBias = i, e, b
		}
	}
	res.Scale, res.RMSE = scales[best], bestErr
	l.IF.Theta = make([]float32, len(theta0))
	for c := range theta0 {
		l.IF.Theta[c] = float32(float64(theta0[c]) * scales[best])
	}
	if bestBias != nil {
		p := &m.Layers[bl]
		nb := make([]float32, sh.C)
		copy(nb, p.B)
		for c := range nb {
			nb[c] += float32(bestBias[c])
		}
		p.B = nb
		res.Biased = true
	}
	return res, nil
}

// biasLayer returns the layer whose bias reaches every step's input
// current of an IF layer that reads layer in unchanged, or −1: in itself
// when it is a Conv or Linear layer no other layer reads, or, when in is
// an Add (a residual sum), the first of its summands that is such a layer
// with in's shape (its bias adds to the sum).
func biasLayer(m *snnrt.Model, readers []int, in int) int {
	ok := func(j int) bool {
		return j >= 0 && readers[j] == 1 && (m.Layers[j].Kind == snnrt.KindConv || m.Layers[j].Kind == snnrt.KindLinear)
	}
	switch {
	case in < 0:
		return -1
	case ok(in):
		return in
	case m.Layers[in].Kind == snnrt.KindAdd && readers[in] == 1:
		for _, j := range m.Layers[in].Inputs {
			if ok(j) && m.Layers[j].Shape == m.Layers[in].Shape {
				return j
			}
		}
	}
	return -1
}
