package kernels

import (
	"math"
	"testing"
)

// specials are the values every elementwise kernel is checked on: signed
// zeros, NaN, infinities, denormals, halves and values just around them.
func specials() []float32 {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	s := []float32{0, float32(math.Copysign(0, -1)), nan, -nan, inf, -inf, 1e-45, -1e-45, 0.5, -0.5, 1.5, -1.5,
		math.Nextafter32(0.5, 1), math.Nextafter32(0.5, 0), math.Nextafter32(-0.5, 0), 3.999999, 4, 4.000001, 1e30, -1e30}
	s = append(s, randSlice(61, 9)...) // not a multiple of 16: tails run the Go loop
	for i := range s[20:] {
		s[20+i] *= 5
	}
	return s
}

// TestElementwiseHand checks Relu and Quantize against hand-derived values.
func TestElementwiseHand(t *testing.T) {
	nan := float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	tests := []struct {
		name    string
		in, out []float32
		run     func([]float32)
	}{
		{"relu", []float32{3, -2, negZero, nan, float32(math.Inf(1)), float32(math.Inf(-1))},
			[]float32{3, 0, 0, 0, float32(math.Inf(1)), 0}, Relu},
		// 0.25·clip(⌊2x + 0.5⌋, 0, 4): 0.74 → ⌊1.98⌋ = 1; −3 → −6 → 0;
		// 10 → 20 → 4; 0.25 → 1; −0.25 → ⌊0⌋ = +0; NaN stays NaN.
		{"quantize", []float32{0.74, -3, 10, 0.25, -0.25, nan},
			[]float32{0.25, 0, 1, 0.25, 0, nan},
			func(v []float32) { Quantize(v, 2, 0.5, 0, 4, 0.25) }},
	}
	for _, tc := range tests {
		// Repeat the inputs so that both the 16-lane and the tail paths run.
		var in, want []float32
		for range 6 {
			in = append(in, tc.in...)
			want = append(want, tc.out...)
		}
		tc.run(in)
		for i := range in {
			if math.Float32bits(in[i]) != math.Float32bits(want[i]) && !(in[i] != in[i] && want[i] != want[i]) {
				t.Errorf("%s: [%d] = %v, want %v", tc.name, i, in[i], want[i])
			}
		}
	}
}

// TestElementwiseKernels checks that the AVX-512 paths are bit-identical to
// the portable loops on special values.
func TestElementwiseKernels(t *testing.T) {
	if !haveAVX512Kernel() {
		t.Skip("no AVX-512 on this CPU")
	}
	quant := [][5]float32{{2, 0.5, 0, 4, 0.25}, {-3.7, -0.5, -2, 2, 1.5}, {1, float32(math.Copysign(0, -1)), -1, 0, -1}}
	for shift := range 3 {
		x := specials()[shift:]
		got, want := append([]float32(nil), x...), append([]float32(nil), x...)
		Relu(got)
		reluGo(want)
		equalBits(t, "relu", got, want)
		for _, q := range quant {
			got, want := append([]float32(nil), x...), append([]float32(nil), x...)
			Quantize(got, q[0], q[1], q[2], q[3], q[4])
			quantizeGo(want, q[0], q[1], q[2], q[3], q[4])
			equalBits(t, "quantize", got, want)
		}
	}
}

func equalBits(t *testing.T, name string, got, want []float32) {
	t.Helper()
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: [%d] = %v (%#x), portable %v (%#x)", name, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}
