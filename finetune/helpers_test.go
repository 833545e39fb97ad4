package finetune

import (
	"math/rand/v2"
	"testing"

	"github.com/ann2snn/ann2snn/internal/kernels"
	"github.com/ann2snn/ann2snn/snnrt"
)

func randVec(r *rand.Rand, n int, lo, hi float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = lo + (hi-lo)*r.Float32()
	}
	return v
}

// smallNet builds input 2x8x8 → conv3x3 (4) → IF → [max|avg]pool 2x2 →
// flatten → linear 10 → IF → linear 3 (output), with weights scaled so
// neurons fire at moderate rates.
func smallNet(t testing.TB, seed uint64, maxPool bool, n snnrt.IF) *snnrt.Model {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	m := &snnrt.Model{Input: snnrt.Shape{C: 2, H: 8, W: 8}}
	g := kernels.ConvGeom{C: 2, H: 8, W: 8, K: 4, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}
	c := m.MustAppend(snnrt.Layer{Name: "conv1", Kind: snnrt.KindConv, Inputs: []int{snnrt.InputIndex}, Conv: g,
		W: randVec(r, 4*2*9, -0.15, 0.3), B: randVec(r, 4, -0.05, 0.1)})
	n1 := n
	n1.Theta = []float32{1, 0.8, 1.2, 0.9}
	c = m.MustAppend(snnrt.Layer{Name: "if1", Kind: snnrt.KindIF, Inputs: []int{c}, IF: n1})
	p := snnrt.PoolGeom{C: 4, H: 8, W: 8, KH: 2, KW: 2, StrideH: 2, StrideW: 2}
	kind := snnrt.KindAvgPool
	if maxPool {
		kind = snnrt.KindMaxPool
	}
	c = m.MustAppend(snnrt.Layer{Name: "pool", Kind: kind, Inputs: []int{c}, Pool: p})
	c = m.MustAppend(snnrt.Layer{Name: "flat", Kind: snnrt.KindFlatten, Inputs: []int{c}})
	c = m.MustAppend(snnrt.Layer{Name: "fc1", Kind: snnrt.KindLinear, Inputs: []int{c},
		W: randVec(r, 10*64, -0.1, 0.15), B: randVec(r, 10, 0, 0.1)})
	n2 := n
	n2.Theta = []float32{1.5}
	c = m.MustAppend(snnrt.Layer{Name: "if2", Kind: snnrt.KindIF, Inputs: []int{c}, IF: n2})
	m.MustAppend(snnrt.Layer{Name: "fc2", Kind: snnrt.KindLinear, Inputs: []int{c},
		W: randVec(r, 3*10, -1, 1), B: randVec(r, 3, -0.1, 0.1)})
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

// branchyNet has every layer kind: two conv branches joined by add and
// concat, grouped convolution, spiking max pooling (gate), global average
// pooling, burst neurons with reset to zero.
func branchyNet(t testing.TB, seed uint64) *snnrt.Model {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 2))
	m := &snnrt.Model{Input: snnrt.Shape{C: 3, H: 7, W: 7}, Metadata: map[string]string{"ann2snn.dataset": "test"}}
	g := kernels.ConvGeom{C: 3, H: 7, W: 7, K: 4, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}
	a := m.MustAppend(snnrt.Layer{Name: "c1", Kind: snnrt.KindConv, Inputs: []int{snnrt.InputIndex}, Conv: g,
		W: randVec(r, 4*3*9, -0.2, 0.4), B: randVec(r, 4, 0, 0.1)})
	a = m.MustAppend(snnrt.Layer{Name: "n1", Kind: snnrt.KindIF, Inputs: []int{a},
		IF: snnrt.IF{Theta: []float32{1}, V0: []float32{0.5}}})
	g2 := kernels.ConvGeom{C: 4, H: 7, W: 7, K: 4, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 2}
	b := m.MustAppend(snnrt.Layer{Name: "c2", Kind: snnrt.KindConv, Inputs: []int{a}, Conv: g2,
		W: randVec(r, 4*2*9, -0.2, 0.4)})
	b = m.MustAppend(snnrt.Layer{Name: "n2", Kind: snnrt.KindIF, Inputs: []int{b},
		IF: snnrt.IF{Theta: []float32{0.7, 0.8, 0.9, 1}, V0: []float32{0.35, 0.4, 0.45, 0.5}}})
	s := m.MustAppend(snnrt.Layer{Name: "add", Kind: snnrt.KindAdd, Inputs: []int{a, b}})
	cat := m.MustAppend(snnrt.Layer{Name: "cat", Kind: snnrt.KindConcat, Inputs: []int{s, a}})
	p := m.MustAppend(snnrt.Layer{Name: "mp", Kind: snnrt.KindMaxPool, Inputs: []int{cat}, MaxPool: snnrt.MaxPoolGate,
		Pool: snnrt.PoolGeom{C: 8, H: 7, W: 7, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1}})
	g3 := kernels.ConvGeom{C: 8, H: 4, W: 4, K: 6, KH: 2, KW: 2, StrideH: 2, StrideW: 2}
	c := m.MustAppend(snnrt.Layer{Name: "c3", Kind: snnrt.KindConv, Inputs: []int{p}, Conv: g3,
		W: randVec(r, 6*8*4, -0.2, 0.3), B: randVec(r, 6, 0, 0.05)})
	c = m.MustAppend(snnrt.Layer{Name: "n3", Kind: snnrt.KindIF, Inputs: []int{c},
		IF: snnrt.IF{Theta: []float32{1}, MaxSpikes: 3, Reset: snnrt.ResetToZero}})
	c = m.MustAppend(snnrt.Layer{Name: "gap", Kind: snnrt.KindGlobalAvgPool, Inputs: []int{c}})
	m.MustAppend(snnrt.Layer{Name: "fc", Kind: snnrt.KindLinear, Inputs: []int{c},
		W: randVec(r, 5*6, -1, 1), B: randVec(r, 5, -0.1, 0.1)})
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

// randImages returns n images of m's input shape with values in [0, 1).
func randImages(m *snnrt.Model, n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 3))
	return randVec(r, n*m.Input.Len(), 0, 1)
}
