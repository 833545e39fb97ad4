package kernels

import (
	"fmt"
	"math"
	"testing"
)

// winoCases are the geometries Winograd is checked on: every H, W in
// {1, 2, 3, 5, 8, 32} (odd sizes leave half tiles), C, K in {1, 3, 16, 33,
// 64}, one and three images, other paddings, and shapes whose blocks of
// tiles end inside a tile row or span images.
func winoCases() []struct {
	g ConvGeom
	n int
} {
	var cs []struct {
		g ConvGeom
		n int
	}
	add := func(g ConvGeom, n int) {
		cs = append(cs, struct {
			g ConvGeom
			n int
		}{g, n})
	}
	sizes := []int{1, 2, 3, 5, 8, 32}
	chans := [][2]int{{1, 3}, {3, 16}, {16, 33}, {33, 64}, {64, 1}, {64, 64}}
	i := 0
	for _, h := range sizes {
		for _, w := range sizes {
			ck := chans[i%len(chans)]
			add(ConvGeom{C: ck[0], H: h, W: w, K: ck[1], KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}, 1+2*(i%2))
			i++
		}
	}
	for _, ck := range [][2]int{{1, 1}, {3, 3}, {16, 16}, {33, 33}, {1, 64}, {33, 1}} {
		add(ConvGeom{C: ck[0], H: 5, W: 3, K: ck[1], KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}, 3)
	}
	add(ConvGeom{C: 64, H: 30, W: 30, K: 64, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}, 2) // blocks end mid-row
	add(ConvGeom{C: 33, H: 7, W: 9, K: 16, KH: 3, KW: 3}, 3)                                       // no padding
	add(ConvGeom{C: 16, H: 9, W: 17, K: 16, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}, 3)  // 9-tile rows
	add(ConvGeom{C: 33, H: 16, W: 16, K: 8, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}, 2)  // 8-tile rows
	add(ConvGeom{C: 16, H: 6, W: 7, K: 16, KH: 3, KW: 3, PadT: 0, PadL: 1, PadB: 1, PadR: 0}, 2)   // asymmetric padding
	add(ConvGeom{C: 16, H: 5, W: 6, K: 17, KH: 3, KW: 3, PadT: 2, PadL: 2, PadB: 2, PadR: 2}, 2)   // padding 2
	add(ConvGeom{C: 17, H: 4, W: 4, K: 16, KH: 3, KW: 3, PadT: 3, PadL: 0, PadB: 0, PadR: 3}, 2)   // padding past the kernel
	add(ConvGeom{C: 16, H: 3, W: 3, K: 16, KH: 3, KW: 3}, 3)                                       // one output pixel
	add(ConvGeom{C: 3, H: 3, W: 64, K: 5, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}, 3)    // 32-tile rows
	add(ConvGeom{C: 5, H: 8, W: 5, K: 7, KH: 3, KW: 3, PadT: 2, PadL: 0, PadB: 1, PadR: 3}, 3)     // uneven padding
	add(ConvGeom{C: 3, H: 1, W: 2, K: 3, KH: 3, KW: 3, PadT: 2, PadL: 2, PadB: 2, PadR: 2}, 3)     // more padding than input
	return cs
}

// convRef64 is ConvRef in float64 for stride 1, dilation 1 and one group;
// it also returns, per output, Σ|w·x| + |bias|, the scale of its rounding.
func convRef64(x []float32, n int, w, bias []float32, g ConvGeom) (ref, scale []float64) {
	oh, ow := g.OutH(), g.OutW()
	ref, scale = make([]float64, n*g.K*oh*ow), make([]float64, n*g.K*oh*ow)
	for i := 0; i < n; i++ {
		for k := 0; k < g.K; k++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					s, a := float64(bias[k]), math.Abs(float64(bias[k]))
					for c := 0; c < g.C; c++ {
						for ky := 0; ky < g.KH; ky++ {
							for kx := 0; kx < g.KW; kx++ {
								iy, ix := oy-g.PadT+ky, ox-g.PadL+kx
								if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
									continue
								}
								p := float64(w[((k*g.C+c)*g.KH+ky)*g.KW+kx]) * float64(x[((i*g.C+c)*g.H+iy)*g.W+ix])
								s += p
								a += math.Abs(p)
							}
						}
					}
					o := ((i*g.K+k)*oh+oy)*ow + ox
					ref[o], scale[o] = s, a
				}
			}
		}
	}
	return ref, scale
}

// runWino runs c.forward with the given kernel kind and transforms on n
// images, with a workspace of exactly WorkspaceLen(n) floats pre-filled
// with NaN (a read of stale scratch shows) and dst pre-filled with NaN (an
// output not written shows).
func runWino(c *Winograd, x []float32, n int, ep Epilogue, kind kernelKind, asm bool) []float32 {
	g := c.Geom()
	dst := make([]float32, n*g.K*g.OutH()*g.OutW())
	for i := range dst {
		dst[i] = float32(math.NaN())
	}
	ws := make([]float32, c.WorkspaceLen(n))
	for i := range ws {
		ws[i] = float32(math.NaN())
	}
	c.forward(dst, x, n, ws, ep, kind, asm)
	return dst
}

// TestWinogradMatchesRef checks Winograd against a float64 direct
// convolution to 1e-4 of Σ|w·x| per output, with every GEMM micro-kernel
// and both the assembly and the portable transforms.
func TestWinogradMatchesRef(t *testing.T) {
	for i, tc := range winoCases() {
		g, n := tc.g, tc.n
		t.Run(fmt.Sprintf("%s_n%d", geomName(g), n), func(t *testing.T) {
			w, bias := randSlice(g.K*g.C*9, uint64(100+i)), randSlice(g.K, uint64(200+i))
			x := randSlice(n*g.C*g.H*g.W, uint64(300+i))
			c := NewWinograd(g, w, bias)
			ref, scale := convRef64(x, n, w, bias, g)
			for _, kind := range availableKernels() {
				for _, asm := range []bool{false, true} {
					if asm && !haveAVX512Kernel() {
						continue
					}
					got := runWino(c, x, n, nil, kind, asm)
					worst := 0.0
					for o, v := range got {
						e := math.Abs(float64(v) - ref[o])
						if !(e <= 1e-4*scale[o]) {
							t.Fatalf("%v asm=%v: output %d = %v, want %v (scale %v)", kind, asm, o, v, ref[o], scale[o])
						}
						worst = max(worst, e/max(scale[o], 1e-30))
					}
					if testing.Verbose() && kind == bestKernel() && asm == haveAVX512Kernel() {
						t.Logf("largest error / Σ|w·x|: %.2g", worst)
					}
				}
			}
		})
	}
}

// TestWinogradTransforms checks that the assembly transforms compute the
// same bits as their portable twins: the whole Forward with one GEMM
// kernel, assembly against portable transforms, and the result of one
// image against the same image inside a batch.
func TestWinogradTransforms(t *testing.T) {
	if !haveAVX512Kernel() {
		t.Skip("no AVX-512 transforms on this CPU")
	}
	for i, tc := range winoCases() {
		g, n := tc.g, tc.n
		t.Run(fmt.Sprintf("%s_n%d", geomName(g), n), func(t *testing.T) {
			w, bias := randSlice(g.K*g.C*9, uint64(100+i)), randSlice(g.K, uint64(200+i))
			x := randSlice(n*g.C*g.H*g.W, uint64(300+i))
			c := NewWinograd(g, w, bias)
			kind := bestKernel()
			want := runWino(c, x, n, nil, kind, false)
			got := runWino(c, x, n, nil, kind, true)
			for o := range want {
				if math.Float32bits(got[o]) != math.Float32bits(want[o]) {
					t.Fatalf("output %d: assembly %v, portable %v", o, got[o], want[o])
				}
			}
			// The last image alone gives the same bits as inside the batch.
			per, out := g.C*g.H*g.W, g.K*g.OutH()*g.OutW()
			one := runWino(c, x[(n-1)*per:], 1, nil, kind, true)
			for o := range one {
				if math.Float32bits(one[o]) != math.Float32bits(got[(n-1)*out+o]) {
					t.Fatalf("output %d of the last image: alone %v, in the batch %v", o, one[o], got[(n-1)*out+o])
				}
			}
		})
	}
}

// TestWinogradEpilogue checks that ForwardEpilogue equals Forward followed
// by the epilogue over each channel, bit for bit, and does not allocate.
func TestWinogradEpilogue(t *testing.T) {
	for i, tc := range winoCases() {
		g, n := tc.g, tc.n
		t.Run(fmt.Sprintf("%s_n%d", geomName(g), n), func(t *testing.T) {
			c := NewWinograd(g, randSlice(g.K*g.C*9, uint64(10+i)), randSlice(g.K, uint64(20+i)))
			x := randSlice(n*g.C*g.H*g.W, uint64(40+i))
			p := g.OutH() * g.OutW()
			want := make([]float32, n*g.K*p)
			ws := make([]float32, c.WorkspaceLen(n))
			c.Forward(want, x, n, ws)
			ref := &quantEpilogue{}
			for j := 0; j < n*g.K; j++ {
				ref.Apply(j%g.K, want[j*p:(j+1)*p])
			}
			got := make([]float32, n*g.K*p)
			ep := &quantEpilogue{}
			c.ForwardEpilogue(got, x, n, ws, ep)
			for o := range want {
				if math.Float32bits(got[o]) != math.Float32bits(want[o]) {
					t.Fatalf("output %d: fused %v, separate %v", o, got[o], want[o])
				}
			}
			if a := testing.AllocsPerRun(3, func() { c.ForwardEpilogue(got, x, n, ws, ep) }); a != 0 {
				t.Errorf("ForwardEpilogue allocates %v times per call", a)
			}
		})
	}
}

// TestWinogradFits checks which geometries NewWinograd takes and that it
// panics on the others.
func TestWinogradFits(t *testing.T) {
	base := ConvGeom{C: 4, H: 6, W: 6, K: 4, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}
	for _, tc := range []struct {
		name string
		mod  func(*ConvGeom)
		want bool
	}{
		{"3x3", func(*ConvGeom) {}, true},
		{"explicit ones", func(g *ConvGeom) { g.StrideH, g.StrideW, g.DilH, g.DilW, g.Group = 1, 1, 1, 1, 1 }, true},
		{"stride 2", func(g *ConvGeom) { g.StrideW = 2 }, false},
		{"dilation 2", func(g *ConvGeom) { g.DilH = 2 }, false},
		{"groups", func(g *ConvGeom) { g.Group = 2 }, false},
		{"5x5", func(g *ConvGeom) { g.KH, g.KW = 5, 5 }, false},
		{"3x1", func(g *ConvGeom) { g.KW = 1 }, false},
		{"invalid", func(g *ConvGeom) { g.PadT = -1 }, false},
	} {
		g := base
		tc.mod(&g)
		if got := WinogradFits(g); got != tc.want {
			t.Errorf("%s: WinogradFits = %v, want %v", tc.name, got, tc.want)
		}
		if !tc.want {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s: NewWinograd did not panic", tc.name)
					}
				}()
				NewWinograd(g, make([]float32, g.K*g.C*g.KH*g.KW), nil)
			}()
		}
	}
}

// BenchmarkWinograd compares Winograd.Forward with Conv.Forward on 64
// images of VGG-16's (half width) 3×3 layers; GFLOPS counts the direct
// convolution's flops for both, so the figures compare as speeds.
//
//	GOMAXPROCS=1 go test ./internal/kernels -run X -bench Winograd
func BenchmarkWinograd(b *testing.B) {
	layers := []layer3x3{{32, 32, 32}, {32, 64, 16}, {64, 64, 16}, {64, 128, 8}, {128, 128, 8},
		{128, 256, 4}, {256, 256, 4}, {256, 256, 2}, {512, 512, 2}}
	benchConv3x3(b, 64, layers, []string{"conv", "winograd"}, func(g ConvGeom, w, bias []float32) []forwarder {
		return []forwarder{NewConv(g, w, bias), NewWinograd(g, w, bias)}
	})
}
