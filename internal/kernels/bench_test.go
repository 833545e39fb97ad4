package kernels

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// reportGFLOPS reports flops per iteration as GFLOPS over wall time and,
// where measurable, over the process CPU time since t0 ("GFLOPS-cpu"; run
// with GOMAXPROCS=1 so that it is one core's figure).
func reportGFLOPS(b *testing.B, flops, t0 float64) {
	total := flops * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds()/1e9, "GFLOPS")
	if t1 := cpuSeconds(); t1 > t0 {
		b.ReportMetric(total/(t1-t0)/1e9, "GFLOPS-cpu")
	}
}

// sgemmShapes are the benchmarked Sgemm shapes (m, n, k); the first is the
// gonum reference shape, the others are im2col GEMMs of the VGG layers.
var sgemmShapes = []struct{ m, n, k int }{
	{64, 1024, 576},
	{32, 1024, 288},
	{128, 512, 1152},
	{256, 256, 2304},
	{512, 512, 512},
}

func BenchmarkSgemm(b *testing.B) {
	for _, s := range sgemmShapes {
		b.Run(fmt.Sprintf("%dx%dx%d", s.m, s.n, s.k), func(b *testing.B) {
			a, bb, c := randSlice(s.m*s.k, 1), randSlice(s.k*s.n, 2), make([]float32, s.m*s.n)
			t0 := cpuSeconds()
			for b.Loop() {
				Sgemm(false, false, s.m, s.n, s.k, 1, a, s.k, bb, s.n, 0, c, s.n)
			}
			reportGFLOPS(b, 2*float64(s.m*s.n*s.k), t0)
		})
	}
}

// BenchmarkSgemmKernels measures Sgemm on the 512×512×512 and a VGG shape
// with every micro-kernel this CPU runs (avx512, avx2, go).
func BenchmarkSgemmKernels(b *testing.B) {
	for _, kind := range availableKernels() {
		for _, s := range []struct{ m, n, k int }{{512, 512, 512}, {128, 512, 1152}} {
			b.Run(fmt.Sprintf("%v/%dx%dx%d", kind, s.m, s.n, s.k), func(b *testing.B) {
				a, bb, c := randSlice(s.m*s.k, 1), randSlice(s.k*s.n, 2), make([]float32, s.m*s.n)
				t0 := cpuSeconds()
				for b.Loop() {
					sgemm(kind, false, false, s.m, s.n, s.k, 1, a, s.k, bb, s.n, 0, c, s.n)
				}
				reportGFLOPS(b, 2*float64(s.m*s.n*s.k), t0)
			})
		}
	}
}

// BenchmarkSgemmGonum measures gonum's pure-Go Sgemm on the same shapes.
func BenchmarkSgemmGonum(b *testing.B) {
	var impl gonum.Implementation
	for _, s := range sgemmShapes {
		b.Run(fmt.Sprintf("%dx%dx%d", s.m, s.n, s.k), func(b *testing.B) {
			a, bb, c := randSlice(s.m*s.k, 1), randSlice(s.k*s.n, 2), make([]float32, s.m*s.n)
			t0 := cpuSeconds()
			for b.Loop() {
				impl.Sgemm(blas.NoTrans, blas.NoTrans, s.m, s.n, s.k, 1, a, s.k, bb, s.n, 0, c, s.n)
			}
			reportGFLOPS(b, 2*float64(s.m*s.n*s.k), t0)
		})
	}
}

// vggLayers are the 3×3, pad-1 convolutions of VGG-16 at half width on
// 32×32 CIFAR images (one of each distinct shape) and ResNet-20's first
// stage (16 channels).
var vggLayers = []struct{ c, k, hw int }{
	{3, 32, 32}, {16, 16, 32}, {32, 32, 32}, {32, 64, 16}, {64, 64, 16}, {64, 128, 8}, {128, 128, 8},
	{128, 256, 4}, {256, 256, 4}, {256, 256, 2},
}

func BenchmarkConvForward(b *testing.B) {
	const n = 32
	for _, l := range vggLayers {
		g := ConvGeom{C: l.c, H: l.hw, W: l.hw, K: l.k, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}
		b.Run(fmt.Sprintf("C%d_K%d_%dx%d", l.c, l.k, l.hw, l.hw), func(b *testing.B) {
			c := NewConv(g, randSlice(l.k*l.c*9, 1), randSlice(l.k, 2))
			x := randSlice(n*l.c*l.hw*l.hw, 3)
			dst := make([]float32, n*l.k*l.hw*l.hw)
			ws := make([]float32, c.WorkspaceLen(n))
			t0 := cpuSeconds()
			for b.Loop() {
				c.Forward(dst, x, n, ws)
			}
			reportGFLOPS(b, 2*float64(n*l.k*l.hw*l.hw*l.c*9), t0)
		})
	}
}

// BenchmarkConvNHWC compares ConvNHWC.Forward with Conv.Forward on the
// first VGG layer and a middle one (16 images).
func BenchmarkConvNHWC(b *testing.B) {
	benchConv3x3(b, 16, []layer3x3{{3, 32, 32}, {64, 64, 16}}, []string{"NCHW", "NHWC"},
		func(g ConvGeom, w, bias []float32) []forwarder {
			return []forwarder{NewConv(g, w, bias), NewConvNHWC(g, w, bias)}
		})
}

// layer3x3 is a 3×3, pad-1, stride-1 convolution of c channels to k on
// hw×hw images.
type layer3x3 struct{ c, k, hw int }

// forwarder is a prepared convolution of any kind or layout.
type forwarder interface {
	Forward(dst, x []float32, n int, ws []float32)
	WorkspaceLen(n int) int
}

// benchConv3x3 runs, for each layer on n images, the convolutions that
// prepare returns (named by names, in order), in CPU time; GFLOPS counts
// the direct method's flops for all of them, so they compare as speeds.
func benchConv3x3(b *testing.B, n int, layers []layer3x3, names []string, prepare func(g ConvGeom, w, bias []float32) []forwarder) {
	for _, l := range layers {
		g := ConvGeom{C: l.c, H: l.hw, W: l.hw, K: l.k, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}
		w, bias := randSlice(l.k*l.c*9, 1), randSlice(l.k, 2)
		x := randSlice(n*l.c*l.hw*l.hw, 3)
		dst := make([]float32, n*l.k*l.hw*l.hw)
		flops := 2 * float64(n*l.k*l.hw*l.hw*l.c*9)
		for i, conv := range prepare(g, w, bias) {
			b.Run(fmt.Sprintf("%s/C%d_K%d_%dx%d", names[i], l.c, l.k, l.hw, l.hw), func(b *testing.B) {
				ws := make([]float32, conv.WorkspaceLen(n))
				t0 := cpuSeconds()
				for b.Loop() {
					conv.Forward(dst, x, n, ws)
				}
				reportGFLOPS(b, flops, t0)
			})
		}
	}
}

// BenchmarkConvDirect compares the direct path (newDirect) with the GEMM
// path of the same Conv on LeNet's two convolutions (64 images, CPU time):
//
//	GOMAXPROCS=1 go test ./internal/kernels -run X -bench ConvDirect
func BenchmarkConvDirect(b *testing.B) {
	const n = 64
	for _, g := range []ConvGeom{
		{C: 1, H: 28, W: 28, K: 16, KH: 5, KW: 5},
		{C: 16, H: 12, W: 12, K: 32, KH: 5, KW: 5},
	} {
		kdim := g.C * g.KH * g.KW
		direct := NewConv(g, randSlice(g.K*kdim, 1), randSlice(g.K, 2))
		gemm := *direct
		gemm.dc = nil
		x := randSlice(n*g.C*g.H*g.W, 3)
		dst := make([]float32, n*g.K*g.OutH()*g.OutW())
		flops := 2 * float64(n*g.K*g.OutH()*g.OutW()*kdim)
		for _, e := range []struct {
			name string
			c    *Conv
		}{{"gemm", &gemm}, {"direct", direct}} {
			b.Run(fmt.Sprintf("%s/C%d_K%d_%dx%d_k%d", e.name, g.C, g.K, g.H, g.W, g.KH), func(b *testing.B) {
				if e.name == "direct" && e.c.dc == nil {
					b.Skip("no direct path on this CPU")
				}
				ws := make([]float32, e.c.WorkspaceLen(n))
				t0 := cpuSeconds()
				for b.Loop() {
					e.c.Forward(dst, x, n, ws)
				}
				reportGFLOPS(b, flops, t0)
			})
		}
	}
}
