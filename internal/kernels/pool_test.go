package kernels

import (
	"fmt"
	"math"
	"testing"
)

// naiveOut counts output positions directly: a window at o·s-pb must
// fit in the padded input (floor mode) or start before its end so that the
// size is rounded up (ceil mode), and in ceil mode start inside the input
// or the leading padding.
func naiveOut(in, k, s, pb, pe int, ceil bool) int {
	o := 0
	for ; ; o++ {
		start := o*s - pb
		if !ceil && start+k > in+pe {
			break
		}
		if ceil && (o*s > in+pb+pe-k+s-1 || start >= in) {
			break
		}
	}
	return o
}

// naivePool pools one plane by visiting every window tap.
func naivePool(x []float32, p PoolGeom, isMax bool) []float32 {
	sh, sw := one(p.StrideH), one(p.StrideW)
	oh := naiveOut(p.H, p.KH, sh, p.PadT, p.PadB, p.CeilMode)
	ow := naiveOut(p.W, p.KW, sw, p.PadL, p.PadR, p.CeilMode)
	out := make([]float32, oh*ow)
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			var sum float64
			m := float32(math.Inf(-1))
			cnt, padCnt := 0, 0
			for ky := 0; ky < p.KH; ky++ {
				for kx := 0; kx < p.KW; kx++ {
					iy, ix := oy*sh-p.PadT+ky, ox*sw-p.PadL+kx
					if iy < p.H+p.PadB && ix < p.W+p.PadR {
						padCnt++
					}
					if iy < 0 || iy >= p.H || ix < 0 || ix >= p.W {
						continue
					}
					v := x[iy*p.W+ix]
					sum += float64(v)
					m = max(m, v)
					cnt++
				}
			}
			var r float32
			switch {
			case cnt == 0:
			case isMax:
				r = m
			case p.CountIncludePad:
				r = float32(sum / float64(padCnt))
			default:
				r = float32(sum / float64(cnt))
			}
			out[oy*ow+ox] = r
		}
	}
	return out
}

func TestPool(t *testing.T) {
	tests := []PoolGeom{
		{C: 2, H: 8, W: 8, KH: 2, KW: 2, StrideH: 2, StrideW: 2},
		{C: 3, H: 6, W: 10, KH: 2, KW: 2, StrideH: 2, StrideW: 2}, // avgPool2x2
		{C: 1, H: 5, W: 5, KH: 2, KW: 2, StrideH: 2, StrideW: 2, CeilMode: true},
		{C: 1, H: 3, W: 3, KH: 1, KW: 1, StrideH: 2, StrideW: 2, PadB: 1, PadR: 1, CeilMode: true}, // last window dropped
		{C: 3, H: 7, W: 6, KH: 3, KW: 2, StrideH: 2, StrideW: 1, PadT: 1, PadL: 1, PadB: 2, PadR: 0},
		{C: 3, H: 7, W: 6, KH: 3, KW: 2, StrideH: 2, StrideW: 1, PadT: 1, PadL: 1, PadB: 2, PadR: 0, CountIncludePad: true},
		{C: 2, H: 6, W: 9, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1, CeilMode: true, CountIncludePad: true},
		{C: 2, H: 6, W: 9, KH: 3, KW: 3, StrideH: 3, StrideW: 2, PadT: 2, PadL: 0, PadB: 1, PadR: 2, CeilMode: true},
		{C: 1, H: 4, W: 4, KH: 4, KW: 4},
		{C: 1, H: 1, W: 1, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1, CountIncludePad: true},
	}
	for i, p := range tests {
		t.Run(fmt.Sprintf("%+v", p), func(t *testing.T) {
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
			oh := naiveOut(p.H, p.KH, one(p.StrideH), p.PadT, p.PadB, p.CeilMode)
			ow := naiveOut(p.W, p.KW, one(p.StrideW), p.PadL, p.PadR, p.CeilMode)
			if p.OutH() != oh || p.OutW() != ow {
				t.Fatalf("output %dx%d, want %dx%d", p.OutH(), p.OutW(), oh, ow)
			}
			const n = 2
			x := randSlice(n*p.C*p.H*p.W, uint64(i))
			for _, isMax := range []bool{false, true} {
				got := make([]float32, n*p.C*oh*ow)
				if isMax {
					MaxPool(got, x, n, p)
				} else {
					AvgPool(got, x, n, p)
				}
				for plane := 0; plane < n*p.C; plane++ {
					want := naivePool(x[plane*p.H*p.W:], p, isMax)
					for j, w := range want {
						if g := got[plane*oh*ow+j]; math.Abs(float64(g-w)) > 1e-6 {
							t.Fatalf("max=%v plane %d out %d: got %g, want %g", isMax, plane, j, g, w)
						}
					}
				}
			}
		})
	}
}

// TestMaxPoolPaddingNeverWins checks that an all-negative input is not
// clipped at 0 by the padding.
func TestMaxPoolPaddingNeverWins(t *testing.T) {
	p := PoolGeom{C: 1, H: 2, W: 2, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}
	x := []float32{-4, -3, -2, -1}
	got := make([]float32, 4)
	MaxPool(got, x, 1, p)
	for i, v := range got {
		if v != -1 {
			t.Fatalf("dst[%d] = %g, want -1", i, v)
		}
	}
}

func TestGlobalAvgPool(t *testing.T) {
	tests := []struct{ n, c, hw int }{{1, 1, 1}, {2, 3, 16}, {3, 5, 49}}
	for _, tc := range tests {
		x := randSlice(tc.n*tc.c*tc.hw, 5)
		got := make([]float32, tc.n*tc.c)
		GlobalAvgPool(got, x, tc.n, tc.c, tc.hw)
		for plane := range got {
			var s float64
			for j := 0; j < tc.hw; j++ {
				s += float64(x[plane*tc.hw+j])
			}
			if w := float32(s / float64(tc.hw)); got[plane] != w {
				t.Fatalf("%+v: dst[%d] = %g, want %g", tc, plane, got[plane], w)
			}
		}
	}
}

// TestAvgPool2x2Bits checks the 2×2 fast path bit for bit against the sum
// in window order divided by 4, on values where a rounding or sign
// difference would show: −0, subnormals, the largest floats, ±Inf, NaN.
func TestAvgPool2x2Bits(t *testing.T) {
	special := []float32{0, float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, -3 * math.SmallestNonzeroFloat32,
		math.MaxFloat32, -math.MaxFloat32, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-38, 3, -0.7}
	p := PoolGeom{C: 3, H: 8, W: 6, KH: 2, KW: 2, StrideH: 2, StrideW: 2}
	const n = 2
	x := randSlice(n*p.C*p.H*p.W, 9)
	for i := range x {
		if i%3 != 0 {
			x[i] = special[(i*7)%len(special)]
		}
	}
	got := make([]float32, n*p.C*p.OutH()*p.OutW())
	AvgPool(got, x, n, p)
	oh, ow := p.OutH(), p.OutW()
	for plane := 0; plane < n*p.C; plane++ {
		xs := x[plane*p.H*p.W:]
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				i := (2*oy)*p.W + 2*ox
				s := float32(0) + xs[i]
				s += xs[i+1]
				s += xs[i+p.W]
				s += xs[i+p.W+1]
				want := s / 4
				if g := got[(plane*oh+oy)*ow+ox]; math.Float32bits(g) != math.Float32bits(want) && !(g != g && want != want) {
					t.Fatalf("plane %d (%d,%d): got %g (%#x), want %g (%#x)", plane, oy, ox, g, math.Float32bits(g), want, math.Float32bits(want))
				}
			}
		}
	}
}

// TestAvgPool2x2Kernels checks avgPool2x2 (avgPool2x2AVX512 where the CPU
// has AVX-512) against the portable avgPool2x2Go bit for bit, NaN payloads
// included, on widths around the 16-output step and its masked tail, with
// input rows longer than 2·ow, special values (signed zeros, infinities,
// NaN, subnormals) and a guard after dst that must stay untouched.
func TestAvgPool2x2Kernels(t *testing.T) {
	special := []float32{0, float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, -3 * math.SmallestNonzeroFloat32,
		math.MaxFloat32, -math.MaxFloat32, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
		math.Float32frombits(0xffc00123), 1e-38, 3, -0.7}
	const guard = 37
	for _, ow := range []int{1, 2, 3, 4, 7, 8, 12, 15, 16, 17, 24, 31, 32, 33, 47, 48, 50} {
		for _, extra := range []int{0, 1, 5} {
			for _, rows := range []int{1, 2, 7} {
				w := 2*ow + extra
				x := randSlice(2*rows*w, uint64(ow*100+extra*10+rows))
				for i := range x {
					if i%3 == 1 {
						x[i] = special[(i*7)%len(special)]
					}
				}
				got := make([]float32, rows*ow+guard)
				want := make([]float32, rows*ow+guard)
				for i := range got {
					got[i], want[i] = -9, -9
				}
				avgPool2x2(got, x, rows, w, 1, ow)
				avgPool2x2Go(want, x, rows, w, ow)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("ow %d, w %d, rows %d: out[%d] = %g (%#x), want %g (%#x)", ow, w, rows, i,
							got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
					}
				}
			}
		}
	}
}
