package calibrate_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ann2snn/ann2snn/calibrate"
	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/snnrt"
)

// These tests check Collect, ClippedMeans, SNNMeans, CorrectBias and
// CompareLayers on tiny networks against values derived by hand (in the
// comments), through the public API only.
//
// The ANN is tinyGraph: a = W1·x + b1, h = relu(a), y = W2·h + b2 with
//
//	a0 = x0, a1 = x1, a2 = x0 − x1 + 0.1
//
// and the three images tinyX, on which
//
//	a = (0.3, 0.8, −0.4), (0.65, 0.1, 0.65), (1, 0.45, 0.65)
//	h = (0.3, 0.8, 0),    (0.65, 0.1, 0.65), (1, 0.45, 0.65).

var tinyX = []float32{0.3, 0.8, 0.65, 0.1, 1, 0.45}

var tinyH = [][]float64{{0.3, 0.8, 0}, {0.65, 0.1, 0.65}, {1, 0.45, 0.65}}

var (
	tinyW1 = []float32{1, 0, 0, 1, 1, -1}
	tinyB1 = []float32{0, 0, 0.1}
	tinyW2 = []float32{1, 1, -1, -1, 0, 2}
	tinyB2 = []float32{0.5, -0.25}
)

func tinyGraph() *importer.Graph {
	return &importer.Graph{
		Inputs:  []importer.Value{{Name: "x", Shape: []int{-1, 2}}},
		Outputs: []string{"y"},
		Opset:   13,
		Consts: map[string]*importer.Tensor{
			"w1": {Shape: []int{3, 2}, Data: tinyW1},
			"b1": {Shape: []int{3}, Data: tinyB1},
			"w2": {Shape: []int{2, 3}, Data: tinyW2},
			"b2": {Shape: []int{2}, Data: tinyB2},
		},
		Nodes: []*importer.Node{
			{Name: "fc1", Op: "Gemm", Inputs: []string{"x", "w1", "b1"}, Outputs: []string{"a"}, Attrs: importer.Attrs{"transB": int64(1)}},
			{Name: "relu", Op: "Relu", Inputs: []string{"a"}, Outputs: []string{"h"}, Attrs: importer.Attrs{}},
			{Name: "fc2", Op: "Gemm", Inputs: []string{"h", "w2", "b2"}, Outputs: []string{"y"}, Attrs: importer.Attrs{"transB": int64(1)}},
		},
	}
}

func tinyExecutor(t *testing.T) calibrate.Executor {
	t.Helper()
	ex, err := calibrate.NewExecutor(tinyGraph())
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// tinySNN is the SNN of tinyGraph: fc1 → IF (θ, V0, two spikes per step,
// signed) → fc2. A hidden unit under the constant current a_j fires, after
// t steps, n = ⌊(V0 + t·a_j)/θ⌋ spikes clipped at 0 (snnrt.IF: the
// membrane stays in [0, θ) while a_j ≤ 2θ).
func tinySNN(t *testing.T, theta, v0 float32) *snnrt.Model {
	t.Helper()
	m := &snnrt.Model{Input: snnrt.Shape{C: 2, H: 1, W: 1}}
	for _, l := range []snnrt.Layer{
		{Name: "fc1", Kind: snnrt.KindLinear, Inputs: []int{snnrt.InputIndex}, W: tinyW1, B: slices.Clone(tinyB1)},
		{Name: "if", Kind: snnrt.KindIF, Inputs: []int{0}, IF: snnrt.IF{Theta: []float32{theta}, V0: []float32{v0}, MaxSpikes: 2, Signed: true}},
		{Name: "fc2", Kind: snnrt.KindLinear, Inputs: []int{1}, W: tinyW2, B: tinyB2},
	} {
		if _, err := m.Append(l); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// nearAll reports whether got and want have the same length and agree
// element by element within tol.
func nearAll(got, want []float32, tol float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !near(float64(got[i]), float64(want[i]), tol) {
			return false
		}
	}
	return true
}

// TestCollectTiny: Collect keeps, per value, the count of all values per
// channel (3 images: 3 each) and a histogram of the positive ones. For h
// and for a (its negative −0.4 is not positive) the positive values are
// 0.3 0.8 0.65 0.1 0.65 1 0.45 0.65: 8 of them, maximum 1; per channel
// {0.3, 0.65, 1}, {0.8, 0.1, 0.45}, {0.65, 0.65}, maxima 1, 0.8, 0.65. So
// Max gives θ = 1 per layer and (1, 0.8, 0.65) per channel, whatever the
// batch. (0.65 of channel 2 is computed in float32 as 1 − 0.45 + 0.1, so
// values and thresholds are compared to 1e-6.)
func TestCollectTiny(t *testing.T) {
	ex := tinyExecutor(t)
	for _, batch := range []int{1, 2, 64} {
		samples, err := calibrate.Collect(t.Context(), ex, calibrate.Slice(tinyX, 3), []string{"h", "a"},
			calibrate.CollectOptions{Batch: batch, PerChannel: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"h", "a"} {
			s := samples[name]
			if s == nil {
				t.Fatalf("batch %d: no sample of %q", batch, name)
			}
			if !slices.Equal(s.Count, []int{3, 3, 3}) {
				t.Errorf("batch %d %s: Count %v, want [3 3 3]", batch, name, s.Count)
			}
			if s.Layer.N() != 8 || s.Layer.Max() != 1 {
				t.Errorf("batch %d %s: layer N %d max %v, want 8 and 1", batch, name, s.Layer.N(), s.Layer.Max())
			}
			wantN := []uint64{3, 3, 2}
			wantMax := []float32{1, 0.8, 0.65}
			for c, h := range s.Channel {
				if h.N() != wantN[c] || !near(float64(h.Max()), float64(wantMax[c]), 1e-6) {
					t.Errorf("batch %d %s channel %d: N %d max %v, want %d and %v", batch, name, c, h.N(), h.Max(), wantN[c], wantMax[c])
				}
			}
			for _, tc := range []struct {
				per  bool
				want []float32
			}{{false, []float32{1}}, {true, []float32{1, 0.8, 0.65}}} {
				th, err := s.Threshold(t.Context(), calibrate.Max{}, tc.per)
				if err != nil {
					t.Fatal(err)
				}
				if !nearAll(th, tc.want, 1e-6) {
					t.Errorf("batch %d %s per channel %v: Max θ %v, want %v", batch, name, tc.per, th, tc.want)
				}
			}
		}
	}
	if _, err := calibrate.Collect(t.Context(), ex, calibrate.Slice(tinyX, 3), []string{"nope"}, calibrate.CollectOptions{}); err == nil {
		t.Error("Collect of a name that is not a value of the graph: no error")
	}
}

// TestClippedMeansTiny: the mean over the three images of
// min(max(h_c, 0), limit_c). One limit 0.5 for all channels:
// (0.3+0.5+0.5)/3, (0.5+0.1+0.45)/3, (0+0.5+0.5)/3; limits (1, 0.2, 0.6):
// (0.3+0.65+1)/3 = 0.65, (0.2+0.1+0.2)/3, (0+0.6+0.6)/3 = 0.4. The
// pre-activation a gives the same (its −0.4 clips to 0).
func TestClippedMeansTiny(t *testing.T) {
	ex := tinyExecutor(t)
	limits := [][]float32{{0.5}, {1, 0.2, 0.6}, {0.5}}
	want := [][]float64{{1.3 / 3, 1.05 / 3, 1.0 / 3}, {0.65, 0.5 / 3, 0.4}, {1.3 / 3, 1.05 / 3, 1.0 / 3}}
	for _, batch := range []int{1, 3} {
		got, err := calibrate.ClippedMeans(t.Context(), ex, calibrate.Slice(tinyX, 3), batch, []string{"h", "h", "a"}, limits)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			for c := range want[i] {
				if !near(got[i][c], want[i][c], 1e-7) {
					t.Errorf("batch %d value %d channel %d: %v, want %v", batch, i, c, got[i][c], want[i][c])
				}
			}
		}
	}
	if _, err := calibrate.ClippedMeans(t.Context(), ex, calibrate.Slice(tinyX, 3), 1, []string{"h"}, nil); err == nil {
		t.Error("ClippedMeans with no limits: no error")
	}
}

// TestSNNMeansTiny: with θ = 0.5 and V0 = 0.25 the hidden units fire
// n = ⌊0.5 + 16·a⌋ times in 8 steps: (5, 13, 0), (10, 2, 10), (16, 7, 10)
// (a2 = −0.4 of image 0 never fires), so the mean output per step, θ·n/8
// = n/16, per channel over the images is 31/48, 22/48 and 20/48.
func TestSNNMeansTiny(t *testing.T) {
	want := []float64{31.0 / 48, 22.0 / 48, 20.0 / 48}
	for _, batch := range []int{1, 2, 3} {
		got, err := calibrate.SNNMeans(t.Context(), tinySNN(t, 0.5, 0.25), calibrate.Slice(tinyX, 3), batch, 8, []int{1})
		if err != nil {
			t.Fatal(err)
		}
		for c := range want {
			if !near(got[0][c], want[c], 1e-7) {
				t.Errorf("batch %d channel %d: %v, want %v", batch, c, got[0][c], want[c])
			}
		}
	}
	if _, err := calibrate.SNNMeans(t.Context(), tinySNN(t, 0.5, 0.25), calibrate.Slice(tinyX, 3), 1, 8, []int{7}); err == nil {
		t.Error("SNNMeans of layer 7 of a 3-layer model: no error")
	}
}

// TestCorrectBiasThroughBias: the IF layer reads fc1 (a Linear layer no
// other layer reads), so the error e = target − SNN mean goes into fc1's
// bias. The SNN means are TestSNNMeansTiny's, so targets (0.7, 0.5, 0.4)
// give b1 = (0, 0, 0.1) + (0.7 − 31/48, 0.5 − 22/48, 0.4 − 20/48).
func TestCorrectBiasThroughBias(t *testing.T) {
	target := []float64{0.7, 0.5, 0.4}
	want := []float64{0.7 - 31.0/48, 0.5 - 22.0/48, 0.1 + 0.4 - 20.0/48}
	for _, sequential := range []bool{true, false} {
		m := tinySNN(t, 0.5, 0.25)
		err := calibrate.CorrectBias(t.Context(), m, calibrate.Slice(tinyX, 3), 2, 8, []calibrate.Target{{Layer: 1, Mean: target}}, sequential)
		if err != nil {
			t.Fatal(err)
		}
		for c, w := range want {
			if !near(float64(m.Layers[0].B[c]), w, 1e-6) {
				t.Errorf("sequential %v: fc1 bias %v, want %v", sequential, m.Layers[0].B, want)
				break
			}
		}
		if !slices.Equal(m.Layers[1].IF.V0, []float32{0.25}) {
			t.Errorf("sequential %v: V0 changed to %v", sequential, m.Layers[1].IF.V0)
		}
	}
	bad := []calibrate.Target{{Layer: 0, Mean: target}}
	if err := calibrate.CorrectBias(t.Context(), tinySNN(t, 0.5, 0.25), calibrate.Slice(tinyX, 3), 1, 8, bad, true); err == nil {
		t.Error("correcting a Linear layer as if it were IF: no error")
	}
}

// chainSNN is input → IF1 → Linear (weight 1) → IF2 → Linear read-out on
// one value, θ = 1, V0 = 0.5, one spike per step. IF2 receives IF1's
// spikes (at most 1 per step), so it fires exactly as often as IF1.
func chainSNN(t *testing.T) *snnrt.Model {
	t.Helper()
	m := &snnrt.Model{Input: snnrt.Shape{C: 1, H: 1, W: 1}}
	neuron := snnrt.IF{Theta: []float32{1}, V0: []float32{0.5}}
	for _, l := range []snnrt.Layer{
		{Name: "if1", Kind: snnrt.KindIF, Inputs: []int{snnrt.InputIndex}, IF: neuron},
		{Name: "fc", Kind: snnrt.KindLinear, Inputs: []int{0}, W: []float32{1}},
		{Name: "if2", Kind: snnrt.KindIF, Inputs: []int{1}, IF: neuron},
		{Name: "out", Kind: snnrt.KindLinear, Inputs: []int{2}, W: []float32{1}},
	} {
		if _, err := m.Append(l); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// TestCorrectBiasSequential distinguishes sequential from joint
// correction on chainSNN with the input 0.26 for T = 10 steps. IF1 fires
// ⌊0.5 + 2.6⌋ = 3 times: mean 0.3, and so does IF2. Targets 0.5 (IF1) and
// 0.4 (IF2):
//
//   - IF1 reads the input, so its correction goes into V0: 0.5 +
//     (0.5 − 0.3)·10 = 2.5. IF1 then fires at steps 1, 2, 3, 6 and 10
//     (membrane 2.76, 2.02, 1.28, 0.54, 0.80, 1.06, 0.32, 0.58, 0.84, 1.10
//     before firing): 5 spikes, mean 0.5; IF2 fires 5 times too.
//   - IF2 reads fc, so its correction goes into fc's bias: sequentially,
//     after IF1's correction, 0.4 − 0.5 = −0.1; jointly, measured before
//     it, 0.4 − 0.3 = 0.1.
func TestCorrectBiasSequential(t *testing.T) {
	x := []float32{0.26}
	targets := []calibrate.Target{{Layer: 0, Mean: []float64{0.5}}, {Layer: 2, Mean: []float64{0.4}}}
	for _, tc := range []struct {
		sequential bool
		bias       float64
	}{{true, -0.1}, {false, 0.1}} {
		m := chainSNN(t)
		if err := calibrate.CorrectBias(t.Context(), m, calibrate.Slice(x, 1), 1, 10, targets, tc.sequential); err != nil {
			t.Fatal(err)
		}
		if v0 := m.Layers[0].IF.V0; len(v0) != 1 || !near(float64(v0[0]), 2.5, 1e-6) {
			t.Errorf("sequential %v: IF1 V0 %v, want [2.5]", tc.sequential, v0)
		}
		if b := m.Layers[1].B; len(b) != 1 || !near(float64(b[0]), tc.bias, 1e-6) {
			t.Errorf("sequential %v: fc bias %v, want [%v]", tc.sequential, b, tc.bias)
		}
		means, err := calibrate.SNNMeans(t.Context(), m, calibrate.Slice(x, 1), 1, 10, []int{0})
		if err != nil {
			t.Fatal(err)
		}
		if !near(means[0][0], 0.5, 1e-9) {
			t.Errorf("sequential %v: IF1 mean after correction %v, want 0.5", tc.sequential, means[0][0])
		}
	}
}

// TestCompareLayersTiny compares tinySNN without threshold shift (θ = 0.5,
// V0 = 0: the floor quantiser, n = ⌊t·a/θ⌋ = ⌊2t·a⌋) with the ANN's h
// after 4 and 8 steps. The counts, derived by hand:
//
//	T = 4: n = ⌊8a⌋:  (2, 6, 0), (5, 0, 5), (8, 3, 5)
//	T = 8: n = ⌊16a⌋: (4, 12, 0), (10, 1, 10), (16, 7, 10)
//
// The SNN value is s = θ·n/T, the ANN's a = h (within [0, θ·2] = [0, 1]),
// and one spike's worth is q = θ/T. The statistics are computed here from
// these counts with the formulas of LayerComparison's documentation: e.g.
// at T = 8, s − a = (−0.05, −0.05, 0), (−0.025, −0.0375, −0.025),
// (0, −0.0125, −0.025): MAE 0.225/9 = 0.025, three of nine below −q/2 =
// −0.03125 (Under 1/3), none above (Over 0).
func TestCompareLayersTiny(t *testing.T) {
	counts := map[int][][]float64{
		4: {{2, 6, 0}, {5, 0, 5}, {8, 3, 5}},
		8: {{4, 12, 0}, {10, 1, 10}, {16, 7, 10}},
	}
	const theta = 0.5
	ts := []int{4, 8}
	got, err := calibrate.CompareLayers(tinyExecutor(t), tinySNN(t, theta, 0), []string{"", "h", ""}, tinyX, 3, ts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ts) {
		t.Fatalf("%d comparisons, want %d (one IF layer, two T)", len(got), len(ts))
	}
	for i, T := range ts {
		var a, s []float64
		for img, row := range counts[T] {
			for j, n := range row {
				a = append(a, tinyH[img][j])
				s = append(s, theta*n/float64(T))
			}
		}
		q := theta / float64(T)
		var mae, meanA, meanS, over, under float64
		for j := range a {
			d := s[j] - a[j]
			mae += math.Abs(d)
			meanA += a[j]
			meanS += s[j]
			if d > q/2 {
				over++
			} else if -d > q/2 {
				under++
			}
		}
		k := float64(len(a))
		mae, meanA, meanS, over, under = mae/k, meanA/k, meanS/k, over/k, under/k
		var cov, va, vs float64
		for j := range a {
			cov += (a[j] - meanA) * (s[j] - meanS)
			va += (a[j] - meanA) * (a[j] - meanA)
			vs += (s[j] - meanS) * (s[j] - meanS)
		}
		corr := cov / math.Sqrt(va*vs)
		c := got[i]
		if c.Layer != 1 || c.Name != "if" || c.T != T {
			t.Errorf("comparison %d: layer %d %q T %d, want layer 1 \"if\" T %d", i, c.Layer, c.Name, c.T, T)
		}
		for _, f := range []struct {
			name      string
			got, want float64
		}{{"MAE", c.MAE, mae}, {"MeanANN", c.MeanANN, meanA}, {"Correlation", c.Correlation, corr}, {"Over", c.Over, over}, {"Under", c.Under, under}} {
			if !near(f.got, f.want, 1e-6) {
				t.Errorf("T %d: %s %v, want %v", T, f.name, f.got, f.want)
			}
		}
	}
	if T8 := got[1]; !near(T8.MAE, 0.025, 1e-7) || !near(T8.Under, 1.0/3, 1e-12) || T8.Over != 0 {
		t.Errorf("T 8: MAE %v Under %v Over %v, want 0.025, 1/3, 0 (see the comment)", T8.MAE, T8.Under, T8.Over)
	}
	if _, err := calibrate.CompareLayers(tinyExecutor(t), tinySNN(t, theta, 0), []string{"", "", ""}, tinyX, 3, ts); err == nil {
		t.Error("an IF layer without an ANN source: no error")
	}
}

// brokenExecutor wraps an Executor and breaks Forward's contract: it
// drops the kept values or returns them with the wrong batch size.
type brokenExecutor struct {
	calibrate.Executor
	drop bool
}

func (b brokenExecutor) Forward(x []float32, n int, keep []string) ([]float32, map[string]*importer.Tensor, error) {
	out, kept, err := b.Executor.Forward(x, n, keep)
	if err != nil {
		return nil, nil, err
	}
	for name, t := range kept {
		if b.drop {
			delete(kept, name)
		} else {
			t.Shape[0]++
		}
	}
	return out, kept, nil
}

// TestExecutorContract: an executor of the caller's that breaks Forward's
// contract, or none at all, is an error naming the problem, not a crash.
func TestExecutorContract(t *testing.T) {
	src := calibrate.Slice(tinyX, 3)
	for _, tc := range []struct {
		name string
		ex   calibrate.Executor
		msg  string
	}{
		{"nil", nil, "no ANN executor"},
		{"drops values", brokenExecutor{tinyExecutor(t), true}, `returned no value "h"`},
		{"wrong batch", brokenExecutor{tinyExecutor(t), false}, `returned "h" with shape`},
	} {
		_, err := calibrate.Collect(t.Context(), tc.ex, src, []string{"h"}, calibrate.CollectOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "calibrate: ") {
			t.Errorf("Collect with %s: %v, want an error containing %q", tc.name, err, tc.msg)
		}
		_, err = calibrate.ClippedMeans(t.Context(), tc.ex, src, 2, []string{"h"}, [][]float32{{1}})
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ClippedMeans with %s: %v, want an error containing %q", tc.name, err, tc.msg)
		}
		_, err = calibrate.CompareLayers(tc.ex, tinySNN(t, 0.5, 0), []string{"", "h", ""}, tinyX, 3, []int{4})
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("CompareLayers with %s: %v, want an error containing %q", tc.name, err, tc.msg)
		}
	}
}
