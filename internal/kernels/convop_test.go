package kernels

import (
	"fmt"
	"math"
	"testing"
)

// convCases are the geometries Conv is checked on against ConvRef.
var convCases = []ConvGeom{
	{C: 3, H: 32, W: 32, K: 32, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	{C: 32, H: 8, W: 8, K: 64, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	{C: 16, H: 2, W: 2, K: 40, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	{C: 5, H: 9, W: 11, K: 7, KH: 3, KW: 2, StrideH: 2, StrideW: 3, PadT: 2, PadL: 0, PadB: 1, PadR: 3},
	{C: 4, H: 13, W: 10, K: 9, KH: 3, KW: 3, DilH: 2, DilW: 3, PadT: 1, PadL: 4, PadB: 0, PadR: 2},
	{C: 8, H: 7, W: 7, K: 12, KH: 3, KW: 3, Group: 4, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	{C: 6, H: 10, W: 9, K: 6, KH: 3, KW: 3, Group: 6, StrideH: 2, StrideW: 1, PadT: 1, PadL: 2, PadB: 2, PadR: 0},
	{C: 6, H: 10, W: 9, K: 6, KH: 5, KW: 3, Group: 6, DilH: 2, PadT: 3, PadL: 1, PadB: 1, PadR: 1},
	{C: 6, H: 8, W: 8, K: 12, KH: 3, KW: 3, Group: 6, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	{C: 24, H: 17, W: 5, K: 13, KH: 1, KW: 1},
	{C: 20, H: 9, W: 9, K: 10, KH: 1, KW: 1, StrideH: 2, StrideW: 2},
	{C: 300, H: 3, W: 3, K: 7, KH: 1, KW: 1, PadT: 1, PadR: 1},
	{C: 64, H: 6, W: 6, K: 20, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	{C: 2, H: 40, W: 37, K: 3, KH: 7, KW: 5, StrideH: 3, StrideW: 2, PadT: 3, PadL: 2, PadB: 3, PadR: 2},
	{C: 3, H: 1, W: 1, K: 2, KH: 1, KW: 1},
	{C: 64, H: 24, W: 24, K: 8, KH: 3, KW: 3, Group: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1}, // direct, 3 blocks per image
	{C: 16, H: 40, W: 40, K: 12, KH: 1, KW: 1},                                              // direct 1×1
}

func geomName(g ConvGeom) string {
	return fmt.Sprintf("C%dx%dx%d_K%d_k%dx%d_s%d,%d_p%d,%d,%d,%d_d%d,%d_g%d", g.C, g.H, g.W, g.K, g.KH, g.KW,
		g.StrideH, g.StrideW, g.PadT, g.PadL, g.PadB, g.PadR, g.DilH, g.DilW, g.Group)
}

func absAll(s []float32) []float32 {
	if s == nil {
		return nil
	}
	r := make([]float32, len(s))
	for i, v := range s {
		r[i] = float32(math.Abs(float64(v)))
	}
	return r
}

// runConv runs a fresh Conv on n images with a workspace of exactly
// WorkspaceLen(n) floats, pre-filled with NaN to catch reads of stale data.
func runConv(c *Conv, x []float32, n int) []float32 {
	g := c.Geom()
	dst := make([]float32, n*g.K*g.OutH()*g.OutW())
	ws := make([]float32, c.WorkspaceLen(n))
	for i := range ws {
		ws[i] = float32(math.NaN())
	}
	c.Forward(dst, x, n, ws)
	return dst
}

func TestConvMatchesRef(t *testing.T) {
	for i, g := range convCases {
		t.Run(geomName(g), func(t *testing.T) {
			if err := g.Validate(); err != nil {
				t.Fatal(err)
			}
			kdim := g.C / one(g.Group) * g.KH * g.KW
			w := randSlice(g.K*kdim, uint64(10+i))
			bias := randSlice(g.K, uint64(20+i))
			if i%3 == 2 {
				bias = nil
			}
			c := NewConv(g, w, bias)
			for n := 1; n <= 5; n++ {
				x := randSlice(n*g.C*g.H*g.W, uint64(30+i+n))
				got := runConv(c, x, n)
				want := make([]float32, len(got))
				ConvRef(want, x, n, w, bias, g)
				scale := make([]float32, len(got))
				ConvRef(scale, absAll(x), n, absAll(w), absAll(bias), g)
				for j := range got {
					if d := math.Abs(float64(got[j] - want[j])); d > 1e-5*float64(scale[j]) {
						t.Fatalf("n=%d: dst[%d] = %g, ConvRef %g (|Σ| %g)", n, j, got[j], want[j], scale[j])
					}
				}
			}
		})
	}
}

// TestConvBatchInvariant checks that an image's output is bit-identical
// whatever the batch size and its position in the batch.
func TestConvBatchInvariant(t *testing.T) {
	cases := append([]ConvGeom{
		{C: 8, H: 4, W: 4, K: 16, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{C: 512, H: 2, W: 2, K: 8, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	}, convCases...)
	for i, g := range cases {
		t.Run(geomName(g), func(t *testing.T) {
			c := NewConv(g, randSlice(g.K*g.C/one(g.Group)*g.KH*g.KW, uint64(i)), randSlice(g.K, 99))
			in, out := g.C*g.H*g.W, g.K*g.OutH()*g.OutW()
			const n = 37
			x := randSlice(n*in, uint64(100+i))
			all := runConv(c, x, n)
			for _, idx := range []int{0, 5, n - 1} {
				alone := runConv(c, x[idx*in:(idx+1)*in], 1)
				// Put the image at a different position of a smaller batch.
				pos := (idx + 2) % 4
				xb := make([]float32, 4*in)
				copy(xb, x[(n-4)*in:])
				copy(xb[pos*in:], x[idx*in:(idx+1)*in])
				moved := runConv(c, xb, 4)[pos*out : (pos+1)*out]
				for j, v := range all[idx*out : (idx+1)*out] {
					if alone[j] != v || moved[j] != v {
						t.Fatalf("image %d, output %d: batch %g, alone %g, at %d of 4: %g", idx, j, v, alone[j], pos, moved[j])
					}
				}
			}
		})
	}
}

func TestConvGeomValidate(t *testing.T) {
	tests := []struct {
		g  ConvGeom
		ok bool
	}{
		{ConvGeom{C: 3, H: 4, W: 4, K: 2, KH: 3, KW: 3}, true},
		{ConvGeom{C: 3, H: 4, W: 4, K: 2, KH: 3, KW: 3, Group: 2}, false},
		{ConvGeom{C: 3, H: 2, W: 4, K: 2, KH: 3, KW: 3, StrideH: 2}, false},
		{ConvGeom{C: 3, H: 2, W: 4, K: 2, KH: 3, KW: 3, PadT: 1}, true},
		{ConvGeom{C: 0, H: 4, W: 4, K: 2, KH: 1, KW: 1}, false},
		{ConvGeom{C: 1, H: 4, W: 4, K: 2, KH: 1, KW: 1, PadL: -1}, false},
	}
	for _, tc := range tests {
		if err := tc.g.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: Validate() = %v, want ok=%v", tc.g, err, tc.ok)
		}
	}
}

// TestConvNHWCMatchesForward checks that ConvNHWC is bit-identical to
// Conv.Forward followed by a transpose, for every geometry but depthwise,
// batch sizes that split the im2col blocks differently, and with and
// without bias.
func TestConvNHWCMatchesForward(t *testing.T) {
	for i, g := range convCases {
		gn := g
		gn.Group = one(g.Group)
		if gn.Group == g.C && gn.Group == g.K {
			continue // depthwise
		}
		t.Run(geomName(g), func(t *testing.T) {
			kdim := g.C / one(g.Group) * g.KH * g.KW
			w := randSlice(g.K*kdim, uint64(40+i))
			bias := randSlice(g.K, uint64(50+i))
			if i%2 == 1 {
				bias = nil
			}
			c, cn := NewConv(g, w, bias), NewConvNHWC(g, w, bias)
			p := g.OutH() * g.OutW()
			for _, n := range []int{1, 3, 7} {
				x := randSlice(n*g.C*g.H*g.W, uint64(60+i+n))
				nchw := runConv(c, x, n)
				got := make([]float32, len(nchw))
				cn.Forward(got, x, n, make([]float32, cn.WorkspaceLen(n)))
				for img := 0; img < n; img++ {
					for k := 0; k < g.K; k++ {
						for q := 0; q < p; q++ {
							if a, b := got[(img*p+q)*g.K+k], nchw[(img*g.K+k)*p+q]; a != b {
								t.Fatalf("n=%d image %d channel %d pixel %d: NHWC %g, Forward %g", n, img, k, q, a, b)
							}
						}
					}
				}
			}
		})
	}
}

// quantEpilogue is a test Epilogue: v = floor(v·(k+1)) per channel k, which
// makes any difference in the value or the channel it is given visible.
type quantEpilogue struct{ calls int }

func (q *quantEpilogue) Apply(k int, v []float32) {
	q.calls++
	for i, x := range v {
		v[i] = float32(math.Floor(float64(x * float32(k+1))))
	}
}

// TestConvEpilogue checks that ForwardEpilogue equals Forward followed by
// the epilogue over each channel, bit for bit, on the direct, batched and
// depthwise paths.
func TestConvEpilogue(t *testing.T) {
	for i, g := range convCases {
		t.Run(geomName(g), func(t *testing.T) {
			kdim := g.C / one(g.Group) * g.KH * g.KW
			c := NewConv(g, randSlice(g.K*kdim, uint64(10+i)), randSlice(g.K, uint64(20+i)))
			const n = 3
			x := randSlice(n*g.C*g.H*g.W, uint64(40+i))
			want := runConv(c, x, n)
			p := g.OutH() * g.OutW()
			var ref quantEpilogue
			for j := 0; j < n*g.K; j++ {
				ref.Apply(j%g.K, want[j*p:(j+1)*p])
			}
			got := make([]float32, len(want))
			var ep quantEpilogue
			c.ForwardEpilogue(got, x, n, make([]float32, c.WorkspaceLen(n)), &ep)
			if ep.calls == 0 {
				t.Fatal("epilogue never called")
			}
			for j := range got {
				if got[j] != want[j] {
					t.Fatalf("out[%d] = %g, Forward then epilogue %g", j, got[j], want[j])
				}
			}
		})
	}
}

// TestConvForwardNoAllocs checks that ForwardEpilogue does not allocate on
// the direct, batched (gather), stride-2 and depthwise paths.
func TestConvForwardNoAllocs(t *testing.T) {
	for _, i := range []int{0, 2, 3, 6} {
		g := convCases[i]
		t.Run(geomName(g), func(t *testing.T) {
			kdim := g.C / one(g.Group) * g.KH * g.KW
			c := NewConv(g, randSlice(g.K*kdim, 1), randSlice(g.K, 2))
			const n = 4
			x := randSlice(n*g.C*g.H*g.W, 3)
			dst := make([]float32, n*g.K*g.OutH()*g.OutW())
			ws := make([]float32, c.WorkspaceLen(n))
			ep := &quantEpilogue{}
			if a := testing.AllocsPerRun(5, func() { c.ForwardEpilogue(dst, x, n, ws, ep) }); a != 0 {
				t.Fatalf("%v allocations per call, want 0", a)
			}
		})
	}
}
