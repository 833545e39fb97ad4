package snnrt

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ann2snn/ann2snn/internal/kernels"
)

func randVec(r *rand.Rand, n int, lo, hi float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = lo + (hi-lo)*r.Float32()
	}
	return v
}

// smallNet builds input 2x8x8 → conv3x3 (4) → IF → [maxpool|avgpool] 2x2 →
// flatten → linear 10 → IF → linear 3 (output), with weights scaled so
// neurons fire at moderate rates.
func smallNet(t testing.TB, seed uint64, maxPool bool, n IF) *Model {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	m := &Model{Input: Shape{2, 8, 8}}
	g := kernels.ConvGeom{C: 2, H: 8, W: 8, K: 4, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}
	c := m.MustAppend(Layer{Name: "conv1", Kind: KindConv, Inputs: []int{InputIndex}, Conv: g,
		W: randVec(r, 4*2*9, -0.15, 0.3), B: randVec(r, 4, -0.05, 0.1)})
	n1 := n
	n1.Theta = []float32{1, 0.8, 1.2, 0.9}
	c = m.MustAppend(Layer{Name: "if1", Kind: KindIF, Inputs: []int{c}, IF: n1})
	p := PoolGeom{C: 4, H: 8, W: 8, KH: 2, KW: 2, StrideH: 2, StrideW: 2}
	kind := KindAvgPool
	if maxPool {
		kind = KindMaxPool
	}
	c = m.MustAppend(Layer{Name: "pool", Kind: kind, Inputs: []int{c}, Pool: p})
	c = m.MustAppend(Layer{Name: "flat", Kind: KindFlatten, Inputs: []int{c}})
	c = m.MustAppend(Layer{Name: "fc1", Kind: KindLinear, Inputs: []int{c},
		W: randVec(r, 10*64, -0.1, 0.15), B: randVec(r, 10, 0, 0.1)})
	n2 := n
	n2.Theta = []float32{1.5}
	c = m.MustAppend(Layer{Name: "if2", Kind: KindIF, Inputs: []int{c}, IF: n2})
	m.MustAppend(Layer{Name: "fc2", Kind: KindLinear, Inputs: []int{c},
		W: randVec(r, 3*10, -1, 1), B: randVec(r, 3, -0.1, 0.1)})
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

// branchyNet has every layer kind: two conv branches joined by add and
// concat, spiking max pooling, global average pooling.
func branchyNet(t testing.TB, seed uint64) *Model {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 2))
	m := &Model{Input: Shape{3, 7, 7}, Metadata: map[string]string{"ann2snn.dataset": "test"}}
	g := kernels.ConvGeom{C: 3, H: 7, W: 7, K: 4, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}
	a := m.MustAppend(Layer{Name: "c1", Kind: KindConv, Inputs: []int{InputIndex}, Conv: g,
		W: randVec(r, 4*3*9, -0.2, 0.4), B: randVec(r, 4, 0, 0.1)})
	a = m.MustAppend(Layer{Name: "n1", Kind: KindIF, Inputs: []int{a},
		IF: IF{Theta: []float32{1}, V0: []float32{0.5}}})
	g2 := kernels.ConvGeom{C: 4, H: 7, W: 7, K: 4, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 2}
	b := m.MustAppend(Layer{Name: "c2", Kind: KindConv, Inputs: []int{a}, Conv: g2,
		W: randVec(r, 4*2*9, -0.2, 0.4)})
	b = m.MustAppend(Layer{Name: "n2", Kind: KindIF, Inputs: []int{b},
		IF: IF{Theta: []float32{0.7, 0.8, 0.9, 1}, V0: []float32{0.35, 0.4, 0.45, 0.5}, Signed: true}})
	s := m.MustAppend(Layer{Name: "add", Kind: KindAdd, Inputs: []int{a, b}})
	cat := m.MustAppend(Layer{Name: "cat", Kind: KindConcat, Inputs: []int{s, a}})
	p := m.MustAppend(Layer{Name: "mp", Kind: KindMaxPool, Inputs: []int{cat},
		Pool: PoolGeom{C: 8, H: 7, W: 7, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1}})
	g3 := kernels.ConvGeom{C: 8, H: 4, W: 4, K: 6, KH: 2, KW: 2, StrideH: 2, StrideW: 2}
	c := m.MustAppend(Layer{Name: "c3", Kind: KindConv, Inputs: []int{p}, Conv: g3,
		W: randVec(r, 6*8*4, -0.2, 0.3), B: randVec(r, 6, 0, 0.05)})
	c = m.MustAppend(Layer{Name: "n3", Kind: KindIF, Inputs: []int{c},
		IF: IF{Theta: []float32{1}, MaxSpikes: 3, Reset: ResetToZero}})
	c = m.MustAppend(Layer{Name: "gap", Kind: KindGlobalAvgPool, Inputs: []int{c}})
	m.MustAppend(Layer{Name: "fc", Kind: KindLinear, Inputs: []int{c},
		W: randVec(r, 5*6, -1, 1), B: randVec(r, 5, -0.1, 0.1)})
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

// wideNet has channel counts that are multiples of 8, so that the
// Simulator's vector IF kernels (NHWC, 8 channels at a time) run: conv →
// IF → conv → IF → avgpool → linear, with neurons n.
//
// Weights, biases and thresholds are multiples of 1/64, so every sum of
// spikes × weights is exact in float32 whatever the order: the event path
// must then fire exactly as Run does, even where a membrane lands on a
// multiple of θ (with random weights, the different summation orders of
// the event and dense paths may move such a spike by one step).
func wideNet(t testing.TB, seed uint64, n IF) *Model {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 3))
	randVec := func(r *rand.Rand, n int, lo, hi float32) []float32 {
		v := randVec(r, n, lo, hi)
		for i := range v {
			v[i] = float32(math.Round(float64(v[i])*64)) / 64
		}
		return v
	}
	m := &Model{Input: Shape{3, 8, 8}}
	g := kernels.ConvGeom{C: 3, H: 8, W: 8, K: 8, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}
	c := m.MustAppend(Layer{Name: "conv1", Kind: KindConv, Inputs: []int{InputIndex}, Conv: g,
		W: randVec(r, 8*3*9, -0.3, 0.45), B: randVec(r, 8, -0.05, 0.1)})
	n1 := n
	n1.Theta = randVec(r, 8, 0.6, 1.2)
	c = m.MustAppend(Layer{Name: "if1", Kind: KindIF, Inputs: []int{c}, IF: n1})
	g2 := kernels.ConvGeom{C: 8, H: 8, W: 8, K: 16, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}
	c = m.MustAppend(Layer{Name: "conv2", Kind: KindConv, Inputs: []int{c}, Conv: g2,
		W: randVec(r, 16*8*9, -0.2, 0.3), B: randVec(r, 16, -0.05, 0.1)})
	n2 := n
	n2.Theta = []float32{0.9}
	c = m.MustAppend(Layer{Name: "if2", Kind: KindIF, Inputs: []int{c}, IF: n2})
	c = m.MustAppend(Layer{Name: "pool", Kind: KindAvgPool, Inputs: []int{c},
		Pool: PoolGeom{C: 16, H: 8, W: 8, KH: 2, KW: 2, StrideH: 2, StrideW: 2}})
	c = m.MustAppend(Layer{Name: "flat", Kind: KindFlatten, Inputs: []int{c}})
	m.MustAppend(Layer{Name: "fc", Kind: KindLinear, Inputs: []int{c},
		W: randVec(r, 10*256, -0.1, 0.12), B: randVec(r, 10, 0, 0.1)})
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}
