package kernels

import (
	"math"
	"testing"
)

// TestConvDirect checks the direct path (newDirect, directConvAVX512)
// against the GEMM path of the same Conv bit for bit: one and several k
// blocks, on the direct (C starts from the bias) and batched GEMM paths,
// strips of one and two runs, a last strip that overlaps the one before,
// 1×1 kernels, an epilogue, and signed zeros and large values in the
// inputs, weights and biases so that the order of the additions shows. It
// also checks which geometries get a direct path.
func TestConvDirect(t *testing.T) {
	if !haveAVX512Kernel() {
		t.Skip("no AVX-512: no direct path")
	}
	tests := []struct {
		g      ConvGeom
		direct bool // want a direct path
	}{
		{ConvGeom{C: 1, H: 28, W: 28, K: 16, KH: 5, KW: 5}, true},   // LeNet conv0
		{ConvGeom{C: 16, H: 12, W: 12, K: 32, KH: 5, KW: 5}, true},  // LeNet conv1: k = 400, batched GEMM path
		{ConvGeom{C: 12, H: 40, W: 40, K: 16, KH: 5, KW: 5}, true},  // k = 300 on the GEMM's direct path
		{ConvGeom{C: 3, H: 9, W: 20, K: 32, KH: 3, KW: 3}, true},    // 126 pixels: overlapping last strip
		{ConvGeom{C: 12, H: 13, W: 24, K: 16, KH: 5, KW: 5}, false}, // 180 pixels and k = 300: an overlapping last strip would add the second k block twice
		{ConvGeom{C: 3, H: 9, W: 13, K: 32, KH: 3, KW: 3}, false},   // 11-wide rows: a strip of 3 runs
		{ConvGeom{C: 5, H: 4, W: 16, K: 48, KH: 1, KW: 1}, true},    // 1×1
		{ConvGeom{C: 2, H: 17, W: 19, K: 16, KH: 2, KW: 3}, true},   // 16×17 outputs
		{ConvGeom{C: 3, H: 6, W: 6, K: 16, KH: 3, KW: 3}, false},    // 4-wide rows: strips of 4 runs
		{ConvGeom{C: 3, H: 28, W: 28, K: 24, KH: 3, KW: 3}, false},  // K not a multiple of 16
		{ConvGeom{C: 3, H: 28, W: 28, K: 16, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}, false},
		{ConvGeom{C: 3, H: 28, W: 28, K: 16, KH: 3, KW: 3, StrideH: 2, StrideW: 2}, false},
	}
	special := []float32{0, float32(math.Copysign(0, -1)), 1e4, -3e3, 1e-30, 0.5}
	for i, tc := range tests {
		g := tc.g
		t.Run(geomName(g), func(t *testing.T) {
			kdim := g.C * g.KH * g.KW
			w, bias := randSlice(g.K*kdim, uint64(50+i)), randSlice(g.K, uint64(60+i))
			for j := range w {
				if j%11 == 3 {
					w[j] = special[j%len(special)]
				}
			}
			for j := range bias {
				bias[j] *= 100
				if j%5 == 1 {
					bias[j] = special[j%2]
				}
			}
			c := NewConv(g, w, bias)
			if (c.dc != nil) != tc.direct {
				t.Fatalf("direct path %v, want %v", c.dc != nil, tc.direct)
			}
			if c.dc == nil {
				return
			}
			ref := *c
			ref.dc = nil
			for _, n := range []int{1, 5} {
				x := randSlice(n*g.C*g.H*g.W, uint64(70+i))
				for j := range x {
					if j%7 == 2 {
						x[j] = special[j%len(special)]
					}
				}
				for _, withEp := range []bool{false, true} {
					got := make([]float32, n*g.K*g.OutH()*g.OutW())
					want := make([]float32, len(got))
					var ep, refEp Epilogue
					if withEp {
						ep, refEp = &quantEpilogue{}, &quantEpilogue{}
					}
					c.ForwardEpilogue(got, x, n, make([]float32, c.WorkspaceLen(n)), ep)
					ref.ForwardEpilogue(want, x, n, make([]float32, ref.WorkspaceLen(n)), refEp)
					for j := range got {
						if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
							t.Fatalf("n %d, epilogue %v: out[%d] = %g (%#x), GEMM path %g (%#x)", n, withEp, j,
								got[j], math.Float32bits(got[j]), want[j], math.Float32bits(want[j]))
						}
					}
				}
			}
		})
	}
}
