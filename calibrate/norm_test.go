package calibrate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

func TestNorms(t *testing.T) {
	// 0, 1, ..., 1000: the positive values are 1..1000.
	a := make([]float32, 1001)
	for i := range a {
		a[i] = float32(i)
	}
	tests := []struct {
		norm Norm
		want float32
		tol  float32
	}{
		{Max{}, 1000, 0},
		{Percentile(100), 1000, 0},
		{Percentile(50), 500.5, 1e-3},
		{Percentile(99.9), 999.001, 1e-2},
	}
	for _, tc := range tests {
		got := tc.norm.Threshold(append([]float32(nil), a...))
		if d := got - tc.want; d > tc.tol || d < -tc.tol {
			t.Errorf("%v: got %v, want %v", tc.norm, got, tc.want)
		}
	}
	if got := (Percentile(99)).Threshold([]float32{0, -1}); got != 0 {
		t.Errorf("no positive values: got %v, want 0", got)
	}
}

// directErr is Σ (q(a) − a)² for the quantiser the SNN implements, written
// out from the neuron's spike count (snnrt.IF: ⌊(V0 + L·a/λ·θ)/θ⌋ with
// V0 = θ/2, or 0 when floor), clipped at 0 and L, times λ/L: the tests'
// reference, independent of Uniform.Steps.
func directErr(a []float64, lam float64, levels int, floor bool) float64 {
	l := float64(levels)
	off := 0.5
	if floor {
		off = 0
	}
	var s float64
	for _, v := range a {
		k := math.Min(math.Max(math.Floor(v*l/lam+off), 0), l)
		d := k*lam/l - v
		s += d * d
	}
	return s
}

// bruteOptimum returns the least directErr over λ in [lo, hi], found by
// brute force: every breakpoint v·L/(k − off) (where a value changes
// level) in the range, and in every piece between neighbouring ones the
// minimum of the piece's quadratic Σ (k_i·λ/L − v_i)², with the levels k_i
// read at the piece's midpoint. O(n² L).
func bruteOptimum(a []float64, lo, hi float64, levels int, floor bool) (lam, e float64) {
	l := float64(levels)
	off := 0.5
	if floor {
		off = 0
	}
	bps := []float64{lo, hi}
	for _, v := range a {
		for k := 1; k <= levels; k++ {
			if b := v * l / (float64(k) - off); b > lo && b < hi {
				bps = append(bps, b)
			}
		}
	}
	slices.Sort(bps)
	e = math.Inf(1)
	try := func(x float64) {
		if d := directErr(a, x, levels, floor); d < e {
			lam, e = x, d
		}
	}
	for i, b := range bps {
		try(b)
		if i+1 == len(bps) || bps[i+1] == b {
			continue
		}
		mid := (b + bps[i+1]) / 2
		var qa, qb float64
		for _, v := range a {
			y := math.Min(math.Max(math.Floor(v*l/mid+off), 0), l) / l
			qa += y * y
			qb += y * v
		}
		if qa > 0 {
			try(math.Min(math.Max(qb/qa, b), bps[i+1]))
		}
	}
	return lam, e
}

// TestMSEOptimalReachesOptimum: on constructed samples the search's θ has
// the least error over all θ up to the maximum, as brute force over every
// breakpoint finds it (to the float32 rounding of θ).
func TestMSEOptimalReachesOptimum(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 1))
	exp := make([]float64, 800)
	for i := range exp {
		exp[i] = r.ExpFloat64()
	}
	halfNormal := make([]float64, 600)
	for i := range halfNormal {
		halfNormal[i] = math.Abs(r.NormFloat64())
	}
	// 998 values spread over (0, 1] and a tail of 2 at 4 and 5: the 99.75th
	// percentile is about 1, the maximum 5, and at 16 levels the optimum
	// lies between (about 3.9: the bulk's rounding error λ²/(12·16²) per
	// value against the tail's clipping error).
	tail := make([]float64, 0, 1000)
	for i := range 998 {
		tail = append(tail, (float64(i)+0.5)/998)
	}
	tail = append(tail, 4, 5)
	tests := []struct {
		name   string
		a      []float64
		levels int
		floor  bool
		aboveP float64 // if > 0: the optimum must lie above this percentile
	}{
		{"exponential L=2", exp, 2, false, 0},
		{"exponential L=4", exp, 4, false, 0},
		{"exponential L=16", exp, 16, false, 0},
		{"exponential floor L=4", exp, 4, true, 0},
		{"half-normal L=8", halfNormal, 8, false, 0},
		{"half-normal L=32", halfNormal, 32, false, 0},
		{"five values L=2", []float64{0.1, 0.4, 0.45, 1, 2.5}, 2, false, 0},
		{"tail beyond p99.75 L=16", tail, 16, false, 99.75},
		{"tail beyond p99.75 L=32", tail, 32, false, 99.75},
	}
	got := map[string]float32{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a32 := make([]float32, len(tc.a))
			for i, v := range tc.a {
				a32[i] = float32(v)
				tc.a[i] = float64(a32[i]) // the sample the search sees
			}
			lo, hi := slices.Min(tc.a), slices.Max(tc.a)
			want, wantErr := bruteOptimum(tc.a, lo, hi, tc.levels, tc.floor)
			norm := MSEOptimal{T: tc.levels}
			if tc.floor {
				norm.Q = Uniform{Levels: tc.levels, Floor: true}
			}
			th := norm.Threshold(slices.Clone(a32))
			got[tc.name] = th
			thErr := directErr(tc.a, float64(th), tc.levels, tc.floor)
			if thErr > wantErr*(1+1e-6)+1e-12 {
				t.Errorf("θ %v has error %.9g; brute force θ %v has %.9g", th, thErr, want, wantErr)
			}
			if tc.aboveP > 0 {
				p := float64(Percentile(tc.aboveP).Threshold(slices.Clone(a32)))
				if !(want > p && want < hi) || !(float64(th) > p && float64(th) < hi) {
					t.Errorf("optimum θ %v (search %v) not between p%v = %v and the maximum %v", want, th, tc.aboveP, p, hi)
				}
			}
		})
	}
	// T = 8 and T = 16 with two spikes per step: both optima lie in the
	// range a percentile grid up to p99.75 and the max cannot reach, and
	// they differ.
	if a, b := got["tail beyond p99.75 L=16"], got["tail beyond p99.75 L=32"]; a == b {
		t.Errorf("16 and 32 levels: the same θ %v on the tail sample", a)
	}
}

// TestMSEOptimalUniformClosedForm: for a uniform distribution on (0, 1]
// the L-level rounding quantiser's error per value is
// λ³/(12L²) + (1 − λ)³/3 (rounding noise λ/L squared over 12 on [0, λ),
// clipping above), least at λ = 2L/(2L+1). The sample is 2^16 evenly
// spaced values; 16 and 32 levels (T = 8 and 16 with two spikes per step)
// have different optima, 32/33 and 64/65, and the search finds each.
func TestMSEOptimalUniformClosedForm(t *testing.T) {
	a := make([]float32, LayerExact)
	for i := range a {
		a[i] = (float32(i) + 0.5) / float32(len(a))
	}
	h := NewHist(LayerBits, 1000) // binned: the streaming path
	h.Add(a)
	got := map[int]float32{}
	for _, levels := range []int{2, 4, 16, 32} {
		want := 2 * float64(levels) / float64(2*levels+1)
		for name, th := range map[string]float32{
			"values": MSEOptimal{T: levels}.Threshold(slices.Clone(a)),
			"binned": h.Threshold(MSEOptimal{T: levels}),
		} {
			if d := math.Abs(float64(th) - want); d > 1e-3 {
				t.Errorf("L=%d %s: θ %v, want 2L/(2L+1) = %.6f (|Δ| %.2g)", levels, name, th, want, d)
			}
		}
		got[levels] = MSEOptimal{T: levels}.Threshold(slices.Clone(a))
	}
	if got[16] == got[32] {
		t.Errorf("16 and 32 levels give the same θ %v", got[16])
	}
}

// TestQuantiserSteps checks Uniform's steps against the spike count the
// neuron fires (directErr's formula) on a fine grid of inputs, and that a
// quantiser breaking the contract is refused (θ = 0, not a guess).
func TestQuantiserSteps(t *testing.T) {
	for _, u := range []Uniform{{Levels: 1}, {Levels: 4}, {Levels: 4, Floor: true}, {Levels: 16}} {
		y, b := u.Steps()
		for i := range 4000 {
			x := float64(i) / 2000 // a/λ in [0, 2)
			k := sort.SearchFloat64s(b, x)
			if k == len(b) || b[k] > x {
				k--
			}
			off := 0.5
			if u.Floor {
				off = 0
			}
			l := float64(u.Levels)
			want := math.Min(math.Max(math.Floor(x*l+off), 0), l) / l
			if y[k] != want {
				t.Fatalf("%v: a/λ = %v: step level %v, neuron %v", u, x, y[k], want)
			}
		}
	}
	bad := MSEOptimal{Q: badSteps{}}
	if th := bad.Threshold([]float32{1, 2, 3}); th != 0 {
		t.Errorf("bad quantiser: θ %v, want 0", th)
	}
	h := NewHist(LayerBits, 0)
	h.Add([]float32{1, 2, 3})
	if _, err := h.threshold(t.Context(), bad); err == nil {
		t.Error("bad quantiser: no error from the histogram search")
	}
}

// badSteps has levels that do not increase.
type badSteps struct{}

func (badSteps) Steps() (y, b []float64) { return []float64{0, 1, 1}, []float64{0, 0.5, 0.7} }
func (badSteps) String() string          { return "bad" }

func TestParseNorm(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  bool
	}{
		{"max", "max", false},
		{"p99.9", "p99.9", false},
		{"p99.99", "p99.99", false},
		{"minerr", "minerr8", false},
		{"p0", "", true},
		{"p101", "", true},
		{"median", "", true},
	}
	for _, tc := range tests {
		n, err := ParseNorm(tc.in, 8)
		if (err != nil) != tc.err {
			t.Errorf("%q: err %v", tc.in, err)
			continue
		}
		if err == nil && n.String() != tc.want {
			t.Errorf("%q: got %v, want %v", tc.in, n, tc.want)
		}
	}
}

func ExamplePercentile() {
	acts := []float32{0, 0, 0.5, 1, 1.5, 2, 10}
	fmt.Println(Max{}.Threshold(acts), Percentile(50).Threshold(acts))
	// Output: 10 1.5
}
