package calibrate

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/snnrt"
)

// simulateResetZero runs the neuron of ResetZeroQuant step by step.
func simulateResetZero(a, theta float64, t int) float64 {
	var v, out float64
	for range t {
		v += a
		if v >= theta {
			out += theta
			v = 0
		}
	}
	return out / float64(t)
}

func TestResetZeroQuant(t *testing.T) {
	// Hand-derived: θ = 1, T = 8.
	for _, c := range []struct{ a, want float64 }{
		{-1, 0}, {0, 0}, {0.1, 0}, // never reaches θ in 8 steps
		{0.13, 1.0 / 8},  // k = 8: one spike
		{0.3, 2.0 / 8},   // k = 4: spikes at steps 4 and 8
		{0.4, 2.0 / 8},   // k = 3: steps 3, 6
		{0.6, 4.0 / 8},   // k = 2: half the steps, well below 0.6
		{0.99, 4.0 / 8},  // k = 2
		{1, 1}, {3.5, 1}, // saturates at θ
	} {
		if got := ResetZeroQuant(c.a, 1, 8); got != c.want {
			t.Errorf("ResetZeroQuant(%v, 1, 8) = %v, want %v", c.a, got, c.want)
		}
	}
	// Against the neuron itself, away from exact multiples.
	for _, tt := range []int{1, 3, 8, 16, 32} {
		for i := 1; i < 400; i++ {
			a := float64(i)*0.00731 + 1e-4
			got, want := ResetZeroQuant(a, 1.3, tt), simulateResetZero(a, 1.3, tt)
			if math.Abs(got-want) > 1e-12 {
				t.Fatalf("T=%d a=%v: closed form %v, simulated %v", tt, a, got, want)
			}
		}
	}
}

func TestResetZeroMSE(t *testing.T) {
	// All activations equal to 0.6: θ = 0.6 reproduces them exactly (one
	// spike per step), any larger candidate halves them; the search must
	// find the exact one, from samples and from a histogram.
	a := make([]float32, 100)
	for i := range a {
		a[i] = 0.6
	}
	a = append(a, 0, -1)
	n := ResetZeroMSE{T: 8}
	if got := n.Threshold(append([]float32(nil), a...)); got != 0.6 {
		t.Errorf("Threshold = %v, want 0.6", got)
	}
	h := NewHist(8, 0)
	h.Add(a)
	if got := n.HistThreshold(h); math.Abs(float64(got)-0.6) > 0.6/256 {
		t.Errorf("HistThreshold = %v, want 0.6 within a bin", got)
	}
	if got := n.Threshold([]float32{0, -2}); got != 0 {
		t.Errorf("Threshold of no positive value = %v, want 0", got)
	}
	if got := n.String(); got != "zerominerr8" {
		t.Errorf("String = %q", got)
	}
}

// identityANN returns its input as the value "x": the ANN of a model
// whose only layer is IF on the input.
type identityANN struct{ n int }

func (e identityANN) InputShape() []int { return []int{e.n, 1, 1} }
func (e identityANN) Forward(x []float32, n int, keep []string) ([]float32, map[string]*importer.Tensor, error) {
	t := &importer.Tensor{Shape: []int{n, e.n, 1, 1}, Data: append([]float32(nil), x...)}
	return x, map[string]*importer.Tensor{"x": t}, nil
}

func TestTuneLayers(t *testing.T) {
	// Two channels of a 1×1 conv (identity weights, no bias) into
	// reset-to-zero IF neurons with θ = 1, T = 4, on the constant input
	// 0.3 (ANN value 0.3). At θ = 1 a neuron needs k = ⌈1/0.3⌉ = 4 steps
	// per spike: rate × θ = 1/4, error 0.05. At θ = 0.6 (scale 0.6) it
	// fires every 2 steps (0.3 + 0.3 = 0.6 exactly in float32): 2·0.6/4 =
	// 0.3, no error, and the bias correction adds nothing.
	m := &snnrt.Model{Input: snnrt.Shape{C: 2, H: 1, W: 1}}
	conv := snnrt.Layer{Name: "conv", Kind: snnrt.KindConv, Inputs: []int{snnrt.InputIndex},
		Conv: snnrt.ConvGeom{C: 2, H: 1, W: 1, K: 2, KH: 1, KW: 1}, W: []float32{1, 0, 0, 1}}
	if _, err := m.Append(conv); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Append(snnrt.Layer{Name: "if", Kind: snnrt.KindIF, Inputs: []int{0},
		IF: snnrt.IF{Theta: []float32{1}, Reset: snnrt.ResetToZero}}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Append(snnrt.Layer{Name: "out", Kind: snnrt.KindFlatten, Inputs: []int{1}}); err != nil {
		t.Fatal(err)
	}
	x := []float32{0.3, 0.3, 0.3, 0.3}
	res, err := TuneLayers(context.Background(), m, identityANN{2}, Slice(x, 2),
		[]TuneLayer{{Layer: 1, Value: "x"}}, TuneOptions{T: 4, Scales: []float64{0.6, 1}, Bias: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Scale != 0.6 || res[0].RMSE > 1e-6 || math.Abs(res[0].RMSE1-0.05) > 1e-6 || !res[0].Biased {
		t.Fatalf("result %+v, want scale 0.6, RMSE 0, RMSE1 0.05 (0.25 vs 0.3), biased", res)
	}
	if th := m.Layers[1].IF.Theta[0]; math.Abs(float64(th)-0.6) > 1e-6 {
		t.Errorf("θ = %v, want 0.6", th)
	}
	// At θ = 0.6 the output is exact, so the bias correction adds 0.
	for c, b := range m.Layers[0].B {
		if math.Abs(float64(b)) > 1e-6 {
			t.Errorf("bias[%d] = %v, want 0", c, b)
		}
	}
	if _, err := TuneLayers(context.Background(), m, identityANN{2}, Slice(x, 2),
		[]TuneLayer{{Layer: 0, Value: "x"}}, TuneOptions{T: 4}); err == nil {
		t.Error("tuning a Conv layer: no error")
	}
}

func TestBiasLayer(t *testing.T) {
	// input → conv0 → if1 → conv2 ┐
	//                   └────────→ add3 → if4 → conv5 (read by add6 and if7)
	//                                     add6 = conv5 + if4 → if8
	sh := snnrt.Shape{C: 2, H: 1, W: 1}
	convL := func(in int) snnrt.Layer {
		return snnrt.Layer{Kind: snnrt.KindConv, Inputs: []int{in}, Conv: snnrt.ConvGeom{C: 2, H: 1, W: 1, K: 2, KH: 1, KW: 1}, W: []float32{1, 0, 0, 1}}
	}
	ifL := func(in int) snnrt.Layer {
		return snnrt.Layer{Kind: snnrt.KindIF, Inputs: []int{in}, IF: snnrt.IF{Theta: []float32{1}}}
	}
	m := &snnrt.Model{Input: sh}
	for _, l := range []snnrt.Layer{
		convL(snnrt.InputIndex), ifL(0), convL(1),
		{Kind: snnrt.KindAdd, Inputs: []int{2, 1}}, ifL(3), convL(4),
		{Kind: snnrt.KindAdd, Inputs: []int{5, 4}}, ifL(5), ifL(6),
		{Kind: snnrt.KindFlatten, Inputs: []int{8}},
	} {
		if _, err := m.Append(l); err != nil {
			t.Fatal(err)
		}
	}
	readers := make([]int, len(m.Layers))
	for _, l := range m.Layers {
		for _, in := range l.Inputs {
			if in >= 0 {
				readers[in]++
			}
		}
	}
	for _, c := range []struct{ in, want int }{
		{snnrt.InputIndex, -1},
		{0, 0},  // a conv read only by if1
		{3, 2},  // an Add: its conv summand conv2
		{5, -1}, // conv5 is read by add6 and if7
		{6, -1}, // add6's conv summand is read twice, its other summand is IF
	} {
		if got := biasLayer(m, readers, c.in); got != c.want {
			t.Errorf("biasLayer(%d) = %d, want %d", c.in, got, c.want)
		}
	}
}

// TestResetZeroSteps checks the step function of ResetZero's Steps
// against ResetZeroQuant (itself checked against a simulated neuron in
// TestResetZeroQuant) on a fine grid of a/θ, at every level bound and
// just below it (1e-9 relative: within an ulp, ResetZeroQuant's ⌈θ/a⌉ is
// itself decided by rounding).
func TestResetZeroSteps(t *testing.T) {
	for _, T := range []int{1, 2, 3, 5, 8, 16, 32} {
		y, b := ResetZero{T: T}.Steps()
		level := func(x float64) float64 { // the step function at a/θ = x
			k := 0
			for k+1 < len(b) && x >= b[k+1] {
				k++
			}
			return y[k]
		}
		xs := []float64{0, 1e-9, 0.5, 1, 1.5, 3}
		for i := 0; i <= 4000; i++ {
			xs = append(xs, float64(i)/2000)
		}
		for _, v := range b[1:] {
			xs = append(xs, v, v*(1-1e-9))
		}
		for _, x := range xs {
			if got, want := level(x), ResetZeroQuant(x, 1, T); math.Abs(got-want) > 1e-12 {
				t.Errorf("T=%d: a/θ = %v: Steps give %v, ResetZeroQuant %v", T, x, got, want)
			}
		}
	}
}

// TestResetZeroMSEReachesOptimum compares ResetZeroMSE with a brute force
// over every piece of the error: between consecutive breakpoints λ = v/b
// every value keeps its level y, so the error Σ (λ·y − v)² is a quadratic
// whose minimum over the piece is Σ y·v / Σ y² clamped to it (evaluated
// directly with ResetZeroQuant just inside the piece).
func TestResetZeroMSEReachesOptimum(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for _, T := range []int{2, 4, 8, 16} {
		a := make([]float32, 400)
		for i := range a {
			a[i] = float32(rng.ExpFloat64())
		}
		direct := func(lam float64) float64 {
			var s float64
			for _, v := range a {
				d := ResetZeroQuant(float64(v), lam, T) - float64(v)
				s += d * d
			}
			return s
		}
		_, b := ResetZero{T: T}.Steps()
		hi := float64(slices.Max(a))
		lo := hi * 0x1p-24
		cuts := []float64{lo, hi}
		for _, v := range a {
			for _, bk := range b[1:] {
				if c := float64(v) / bk; c > lo && c < hi {
					cuts = append(cuts, c)
				}
			}
		}
		slices.Sort(cuts)
		cuts = slices.Compact(cuts)
		best := math.Inf(1)
		for i := 0; i+1 < len(cuts); i++ {
			p, q := cuts[i], cuts[i+1]
			mid := (p + q) / 2
			var syv, syy float64
			for _, v := range a {
				y := ResetZeroQuant(float64(v), mid, T) / mid
				syv += y * float64(v)
				syy += y * y
			}
			l := mid
			if syy > 0 {
				l = syv / syy
			}
			l = min(max(l, p+(q-p)*1e-6), q-(q-p)*1e-6)
			best = min(best, direct(l))
		}
		best = min(best, direct(hi))
		th := ResetZeroMSE{T: T}.Threshold(append([]float32(nil), a...))
		if got := direct(float64(th)); got > best*(1+1e-5)+1e-12 {
			t.Errorf("T=%d: θ = %v has error %.9g, the brute-force optimum %.9g", T, th, got, best)
		}
	}
}
