package finetune

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ann2snn/ann2snn/internal/kernels"
	"github.com/ann2snn/ann2snn/snnrt"
)

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// checkAdjoint checks a kernel's backward pass by the adjoint identity
// ⟨f(x), dy⟩ = ⟨x, fᵀ(dy)⟩ for every differentiable input i, with f the
// kernel as a function of input i alone: the inputs listed in zero[i] are
// zeroed (biases for data and weights, weights for biases, the other
// inputs of a concatenation), the rest held fixed.
func checkAdjoint(t *testing.T, k kernel, in [][]float32, zero map[int][]int, r *rand.Rand) {
	t.Helper()
	out := make([]float32, k.outLen())
	k.forward(out, in)
	dy := randVec(r, k.outLen(), -1, 1)
	for i, d := range k.diff() {
		if !d {
			continue
		}
		args := append([][]float32(nil), in...)
		for _, j := range zero[i] {
			args[j] = make([]float32, len(in[j]))
		}
		o := make([]float32, k.outLen())
		k.forward(o, args)
		gin := make([][]float32, len(in))
		for j, d := range k.diff() {
			if d {
				gin[j] = make([]float32, len(in[j]))
			}
		}
		k.backward(gin, args, o, dy)
		want, got := dot(o, dy), dot(in[i], gin[i])
		if math.Abs(got-want) > 1e-4*max(1, math.Abs(want)) {
			t.Fatalf("input %d: ⟨x, fᵀ(dy)⟩ = %.6g, ⟨f(x), dy⟩ = %.6g", i, got, want)
		}
	}
}

// affine lists, for conv and linear kernels, what to zero per input.
var affine = map[int][]int{0: {2}, 1: {2}, 2: {1}}

func TestConvKernelAdjoint(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, g := range []kernels.ConvGeom{
		{C: 3, H: 6, W: 5, K: 4, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{C: 2, H: 5, W: 6, K: 3, KH: 3, KW: 2, PadT: 0, PadL: 1, PadB: 2, PadR: 0},
		{C: 2, H: 7, W: 7, K: 3, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{C: 2, H: 7, W: 7, K: 2, KH: 2, KW: 2, DilH: 2, DilW: 2, PadT: 1, PadL: 1},
		{C: 4, H: 5, W: 5, K: 6, KH: 3, KW: 3, Group: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{C: 3, H: 4, W: 4, K: 5, KH: 1, KW: 1},
	} {
		t.Run(fmt.Sprintf("%+v", g), func(t *testing.T) {
			const n = 3
			k := newConvKernel("c", g, n, true, true)
			in := [][]float32{randVec(r, n*g.C*g.H*g.W, -1, 1), randVec(r, g.K*k.kdim, -1, 1), randVec(r, g.K, -1, 1)}
			checkAdjoint(t, k, in, affine, r)
			// The forward pass is ConvRef.
			out := make([]float32, k.outLen())
			k.forward(out, in)
			want := make([]float32, k.outLen())
			kernels.ConvRef(want, in[0], n, in[1], in[2], g)
			for j := range want {
				if math.Abs(float64(out[j]-want[j])) > 1e-4 {
					t.Fatalf("forward[%d] = %v, ConvRef %v", j, out[j], want[j])
				}
			}
		})
	}
}

func TestLinearAndPoolAdjoint(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	t.Run("linear", func(t *testing.T) {
		k := &linearKernel{name: "l", n: 4, in: 7, out: 5, hasBias: true, inGrad: true}
		checkAdjoint(t, k, [][]float32{randVec(r, 28, -1, 1), randVec(r, 35, -1, 1), randVec(r, 5, -1, 1)}, affine, r)
	})
	for _, p := range []snnrt.PoolGeom{
		{C: 2, H: 6, W: 6, KH: 2, KW: 2, StrideH: 2, StrideW: 2},
		{C: 2, H: 7, W: 7, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{C: 1, H: 7, W: 5, KH: 3, KW: 2, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1, CountIncludePad: true, CeilMode: true},
	} {
		t.Run(fmt.Sprintf("avgpool%+v", p), func(t *testing.T) {
			k := &avgPoolKernel{name: "p", p: p, n: 2}
			checkAdjoint(t, k, [][]float32{randVec(r, 2*p.C*p.H*p.W, -1, 1)}, nil, r)
		})
	}
	t.Run("globalavgpool", func(t *testing.T) {
		k := &globalAvgPoolKernel{name: "g", n: 2, c: 3, hw: 5}
		checkAdjoint(t, k, [][]float32{randVec(r, 30, -1, 1)}, nil, r)
	})
	t.Run("concat", func(t *testing.T) {
		k := &concatKernel{name: "c", n: 2, per: []int{3, 4}, dif: []bool{true, true}}
		checkAdjoint(t, k, [][]float32{randVec(r, 6, -1, 1), randVec(r, 8, -1, 1)}, map[int][]int{0: {1}, 1: {0}}, r)
	})
	t.Run("repeat", func(t *testing.T) {
		k := &repeatKernel{name: "r", t: 3, n: 2, per: 4, inputDif: true}
		checkAdjoint(t, k, [][]float32{randVec(r, 8, -1, 1)}, nil, r)
	})
}
