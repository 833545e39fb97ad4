package calibrate

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// longTail returns n deterministic values: −10 % of them negative, the
// rest exponential with mean 1 (a post-ReLU-like long tail).
func longTail(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	a := make([]float32, n)
	for i := range a {
		if r.IntN(10) == 0 {
			a[i] = -r.Float32()
			continue
		}
		a[i] = float32(r.ExpFloat64())
	}
	return a
}

// TestHistExactBelowCap: with no more values than the cap, a Hist's
// threshold is the in-memory norm's, bit for bit.
func TestHistExactBelowCap(t *testing.T) {
	a := longTail(5000, 1)
	for _, norm := range []Norm{Max{}, Percentile(50), Percentile(99.9), MSEOptimal{T: 4}, MSEOptimal{T: 16}} {
		h := NewHist(LayerBits, len(a))
		h.Add(a)
		if !h.Exact() {
			t.Fatalf("%v: %d values with cap %d spilled into bins", norm, len(a), len(a))
		}
		if got, want := h.Threshold(norm), norm.Threshold(slices.Clone(a)); got != want {
			t.Errorf("%v: Hist %v, in memory %v", norm, got, want)
		}
	}
}

// TestHistBinnedIntegers checks binned quantiles against hand-derived
// order statistics: the values 1..1000 (and 0, which is not positive). A
// 12-bit bin is 256/4096 = 1/16 wide in [256, 512) and 1/8 in [512, 1024),
// so every integer has a bin of its own and is read back as its bin's
// midpoint, v + 1/32 or v + 1/16.
func TestHistBinnedIntegers(t *testing.T) {
	a := make([]float32, 1001)
	for i := range a {
		a[i] = float32(i)
	}
	h := NewHist(12, 0)
	h.Add(a)
	if h.Exact() || h.N() != 1000 {
		t.Fatalf("exact %v, n %d; want binned, 1000", h.Exact(), h.N())
	}
	tests := []struct {
		norm Norm
		want float32
		tol  float32
	}{
		{Max{}, 1000, 0},
		{Percentile(100), 1000, 0},
		// rank 499.5 of 1..1000: between 500 and 501, both read as v+1/32.
		{Percentile(50), 500.5 + 1.0/32, 1e-4},
		// rank 998.001: 999 (read 999.0625) + 0.001·(1000 − 999.0625).
		{Percentile(99.9), 999.0625 + 0.001*0.9375, 1e-4},
	}
	for _, tc := range tests {
		if got := h.Threshold(tc.norm); math.Abs(float64(got-tc.want)) > float64(tc.tol) {
			t.Errorf("%v: got %v, want %v", tc.norm, got, tc.want)
		}
	}
	if got := (Percentile(50)).HistThreshold(NewHist(12, 0)); got != 0 {
		t.Errorf("empty Hist: got %v, want 0", got)
	}
}

// TestHistBinnedMatchesInMemory: on a long tail too large for the exact
// buffer, binned percentiles stay within one bin of the sorted values, and
// MSEOptimal's binned choice has a quantisation error (over all values)
// within 0.5 % of the in-memory choice's.
func TestHistBinnedMatchesInMemory(t *testing.T) {
	a := longTail(200_000, 2)
	pos := positive(a)
	slices.Sort(pos)
	for _, bits := range []int{LayerBits, ChannelBits} {
		h := NewHist(bits, LayerExact)
		h.Add(a)
		if h.Exact() {
			t.Fatalf("bits %d: %d positive values did not spill", bits, h.N())
		}
		rel := math.Ldexp(1, -bits)
		for _, p := range []float64{10, 50, 90, 99, 99.9, 99.99, 100} {
			got, want := h.Quantile(p/100), quantile(pos, p/100)
			if d := math.Abs(float64(got - want)); d > rel*float64(want) {
				t.Errorf("bits %d p%v: binned %v, sorted %v (|Δ| %.3g > %.3g)", bits, p, got, want, d, rel*float64(want))
			}
		}
		for _, T := range []int{4, 8, 16} {
			m := MSEOptimal{T: T}
			hb, mem := h.Threshold(m), m.Threshold(slices.Clone(a))
			eh, em := quantError(pos, hb, T), quantError(pos, mem, T)
			if eh > em*1.005 {
				t.Errorf("bits %d T=%d: binned θ %v has error %v, in-memory θ %v has %v", bits, T, hb, eh, mem, em)
			}
		}
	}
}

// TestHistOrderIndependent: the same values added in another order or
// split into merged parts give the same thresholds, bit for bit.
func TestHistOrderIndependent(t *testing.T) {
	a := longTail(100_000, 3)
	rev := slices.Clone(a)
	slices.Reverse(rev)
	whole := NewHist(LayerBits, LayerExact)
	whole.Add(a)
	backwards := NewHist(LayerBits, LayerExact)
	backwards.Add(rev)
	merged := NewHist(LayerBits, LayerExact)
	for _, cut := range [][2]int{{0, 10}, {10, 60_000}, {60_000, 100_000}} {
		part := NewHist(LayerBits, LayerExact)
		part.Add(a[cut[0]:cut[1]])
		merged.Merge(part)
	}
	for _, norm := range []Norm{Max{}, Percentile(99.9), MSEOptimal{T: 8}} {
		w := whole.Threshold(norm)
		if b, m := backwards.Threshold(norm), merged.Threshold(norm); b != w || m != w {
			t.Errorf("%v: in order %v, reversed %v, merged %v", norm, w, b, m)
		}
	}
}
