package calibrate

import (
	"fmt"
	"math"
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

func TestMinErrorBeatsExtremes(t *testing.T) {
	// A long-tailed sample: the max is a poor threshold at few steps.
	a := make([]float32, 0, 10000)
	for i := range 10000 {
		a = append(a, float32(-math.Log(1-float64(i)/10000)))
	}
	for _, T := range []int{2, 4, 16} {
		me := MSEOptimal{T: T}.Threshold(append([]float32(nil), a...))
		emin := quantError(a, me, T)
		for _, other := range []Norm{Max{}, Percentile(99.9), Percentile(90)} {
			th := other.Threshold(append([]float32(nil), a...))
			if e := quantError(a, th, T); e < emin*0.999 {
				t.Errorf("T=%d: %v (θ=%v) has error %v < MSEOptimal's %v (θ=%v)", T, other, th, e, emin, me)
			}
		}
	}
}

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
