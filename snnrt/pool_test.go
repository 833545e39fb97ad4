package snnrt

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ann2snn/ann2snn/internal/kernels"
)

var poolGeoms = []PoolGeom{
	{C: 2, H: 4, W: 5, KH: 2, KW: 2, StrideH: 2, StrideW: 2, CeilMode: true},
	{C: 1, H: 7, W: 7, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	{C: 1, H: 6, W: 5, KH: 3, KW: 2, StrideH: 2, StrideW: 3, PadT: 2, PadL: 1, CeilMode: true},
	{C: 3, H: 5, W: 5, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadB: 2, PadR: 1, CountIncludePad: true},
}

// TestPoolWindowsMatchKernels checks the window iteration used by spiking
// max pooling and SOP counting against kernels.AvgPool: the fan-out of an
// input pixel through an average pool is the number of windows whose
// kernels.AvgPool output it changes.
func TestPoolWindowsMatchKernels(t *testing.T) {
	for gi, p := range poolGeoms {
		m := &Model{Input: Shape{p.C, p.H, p.W}}
		i := m.MustAppend(Layer{Kind: KindIF, Inputs: []int{-1}, IF: IF{Theta: []float32{1}}})
		a := m.MustAppend(Layer{Kind: KindAvgPool, Inputs: []int{i}, Pool: p})
		f := m.MustAppend(Layer{Kind: KindFlatten, Inputs: []int{a}})
		m.MustAppend(Layer{Kind: KindLinear, Inputs: []int{f}, W: make([]float32, m.Layers[f].Shape.C)})
		fan := fanouts(m)[1]
		x := make([]float32, m.Input.Len())
		out := make([]float32, m.Layers[a].Shape.Len())
		for j := range x {
			clear(x)
			x[j] = 1
			kernels.AvgPool(out, x, 1, p)
			var want int64
			for _, v := range out {
				if v != 0 {
					want++
				}
			}
			if fan[j] != want {
				t.Fatalf("geometry %d pixel %d: fan-out %d, kernels.AvgPool touches %d windows", gi, j, fan[j], want)
			}
		}
	}
}

// TestMaxPoolSpiking feeds random binary spike trains to spiking max
// pools and checks that the cumulative output count equals the max input
// count at every step and that each output is 0 or θ; the gate variant
// must output one of its inputs.
func TestMaxPoolSpiking(t *testing.T) {
	const th, T = 0.5, 60
	r := rand.New(rand.NewPCG(1, 2))
	for gi, p := range poolGeoms {
		oh, ow := p.OutH(), p.OutW()
		in := p.C * p.H * p.W
		rates := randVec(r, in, 0, 1)
		for _, mode := range []MaxPoolMode{MaxPoolCumulative, MaxPoolGate} {
			x := make([]float32, in)
			cum, prev := make([]float32, in), make([]float32, p.C*oh*ow)
			dst := make([]float32, p.C*oh*ow)
			cntIn := make([]float32, in)
			cntOut := make([]float32, p.C*oh*ow)
			want := make([]float32, len(dst))
			for step := 1; step <= T; step++ {
				for j := range x {
					x[j] = 0
					if r.Float32() < rates[j] {
						x[j] = th
						cntIn[j]++
					}
				}
				maxPoolStep(dst, x, cum, prev, 1, p, mode)
				for j, v := range dst {
					if v != 0 && v != th {
						t.Fatalf("geometry %d %v step %d: output %v, want 0 or θ", gi, mode, step, v)
					}
					if v != 0 {
						cntOut[j]++
					}
				}
				if mode == MaxPoolGate {
					continue
				}
				kernels.MaxPool(want, cntIn, 1, p)
				for j := range want {
					if cntOut[j] != want[j] {
						t.Fatalf("geometry %d step %d output %d: count %v, max input count %v", gi, step, j, cntOut[j], want[j])
					}
				}
			}
		}
	}
}

// TestEmitNonzero compares the vector emit kernel of evPool with its Go
// twin: zeros (of both signs) are skipped, the rest divided per position.
func TestEmitNonzero(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 1))
	lut := newPackLUT()
	for _, c := range []int{8, 24, 64} {
		const p = 6
		acc := make([]float32, c*p)
		for i := range acc {
			switch r.IntN(3) {
			case 0:
				acc[i] = float32(r.NormFloat64())
			case 1:
				acc[i] = float32(math.Copysign(0, -1))
			}
		}
		div := []float32{1, 4, 2, 3, 9, 4}
		want := newEvents(p, c)
		got := newEvents(p, c)
		nw := emitNonzeroGo(acc, div, c, p, want.ch[:cap(want.ch)], want.val[:cap(want.val)], want.start)
		ng := emitNonzero(acc, div, c, p, got.ch[:cap(got.ch)], got.val[:cap(got.val)], got.start, lut)
		if nw != ng || !slices.Equal(want.start, got.start) ||
			!slices.Equal(want.ch[:nw], got.ch[:ng]) || !slices.Equal(want.val[:nw], got.val[:ng]) {
			t.Errorf("c=%d: kernel and Go twin differ: %d vs %d events", c, ng, nw)
		}
		if nw == 0 || nw == c*p {
			t.Fatalf("c=%d: %d of %d non-zero: vacuous", c, nw, c*p)
		}
	}
}
