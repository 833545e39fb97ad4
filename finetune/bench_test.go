package finetune

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ann2snn/ann2snn/internal/cputime"
	"github.com/ann2snn/ann2snn/internal/kernels"
	"github.com/ann2snn/ann2snn/snnrt"
)

// vggSmall builds the architecture of vgg_small_cifar10_relu (8 conv 3×3
// 32-32-64-64-128-128-256-256 + IF, average pooling, linear 10) with
// random He-scaled weights and θ = 1, V0 = θ/2.
func vggSmall(tb testing.TB) *snnrt.Model {
	tb.Helper()
	r := rand.New(rand.NewPCG(1, 1))
	m := &snnrt.Model{Input: snnrt.Shape{C: 3, H: 32, W: 32}}
	prev, c, hw := snnrt.InputIndex, 3, 32
	neuron := snnrt.IF{Theta: []float32{1}, V0: []float32{0.5}}
	for i, k := range []int{32, 32, 64, 64, 128, 128, 256, 256} {
		s := float32(math.Sqrt(6 / float64(9*c)))
		prev = m.MustAppend(snnrt.Layer{Kind: snnrt.KindConv, Inputs: []int{prev},
			Conv: kernels.ConvGeom{C: c, H: hw, W: hw, K: k, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
			W:    randVec(r, k*c*9, -s, s), B: randVec(r, k, 0, 0.1)})
		prev = m.MustAppend(snnrt.Layer{Kind: snnrt.KindIF, Inputs: []int{prev}, IF: neuron})
		c = k
		if i%2 == 1 || i >= 6 {
			prev = m.MustAppend(snnrt.Layer{Kind: snnrt.KindAvgPool, Inputs: []int{prev},
				Pool: snnrt.PoolGeom{C: c, H: hw, W: hw, KH: 2, KW: 2, StrideH: 2, StrideW: 2}})
			hw /= 2
		}
	}
	prev = m.MustAppend(snnrt.Layer{Kind: snnrt.KindFlatten, Inputs: []int{prev}})
	m.MustAppend(snnrt.Layer{Kind: snnrt.KindLinear, Inputs: []int{prev}, W: randVec(r, 10*c, -0.1, 0.1), B: make([]float32, 10)})
	return m
}

// BenchmarkTrainStepVGGSmall measures one forward+backward pass of the
// vgg_small architecture at T = 4 on a batch of 32 CIFAR-sized images
// (report: images/s of wall time, and images per CPU-second, which is
// what counts on a shared machine). Profile with
//
//	go test ./finetune/ -run - -bench TrainStep -cpuprofile cpu.out
func BenchmarkTrainStepVGGSmall(b *testing.B) {
	m := vggSmall(b)
	const n = 32
	nt, err := newNet(m, netOptions{t: 4, n: n, surrogate: Arctan{2}})
	if err != nil {
		b.Fatal(err)
	}
	x := randImages(m, n, 1)
	labels := make([]int, n)
	cpu0, _ := cputime.Process()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := nt.run(x, labels); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
	if cpu1, ok := cputime.Process(); ok {
		b.ReportMetric(float64(n*b.N)/(cpu1-cpu0).Seconds(), "images/cpu-s")
	}
}
