package snnrt

import (
	"fmt"

	"github.com/ann2snn/ann2snn/internal/kernels"
	"math/rand/v2"
	"testing"
)

// BenchmarkRun simulates 32 images of the small conv net for 32 steps.
func BenchmarkRun(b *testing.B) {
	m := smallNet(b, 1, true, IF{V0: []float32{0.5}})
	r := rand.New(rand.NewPCG(1, 1))
	const n = 32
	x := randVec(r, n*m.Input.Len(), 0, 1)
	for b.Loop() {
		if _, err := Run(m, x, n, Config{T: 32}); err != nil {
			b.Fatal(err)
		}
	}
}

// randEvents returns events of a [c][h·w] spike map with density d and
// value 1.
func randEvents(r *rand.Rand, c, hw int, d float64) (events, []float32) {
	x := make([]float32, c*hw)
	for j := range x {
		if r.Float64() < d {
			x[j] = 1
		}
	}
	e := newEvents(hw, c)
	e.scan(x, c, hw)
	return e, x
}

// BenchmarkEventConv compares, per image, the event-driven accumulation of
// a 3×3 conv (C→K on H×W, pad 1) with the dense kernels.Conv at several
// spike densities; ns/op is per image.
func BenchmarkEventConv(b *testing.B) {
	for _, sz := range []struct{ c, k, h int }{{32, 32, 32}, {64, 64, 16}, {128, 128, 8}, {256, 256, 4}} {
		g := kernels.ConvGeom{C: sz.c, H: sz.h, W: sz.h, K: sz.k, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}
		r := rand.New(rand.NewPCG(1, 2))
		w := randVec(r, sz.k*sz.c*9, -0.1, 0.1)
		s := newEventSyn(g, w, nil)
		acc := make([]float32, sz.k*sz.h*sz.h)
		for _, d := range []float64{0.02, 0.1, 0.2, 0.3} {
			e, _ := randEvents(r, sz.c, sz.h*sz.h, d)
			b.Run(fmt.Sprintf("%dx%dx%d/d=%g", sz.c, sz.h, sz.k, d), func(b *testing.B) {
				for b.Loop() {
					s.accumulate(acc, &e)
				}
				b.ReportMetric(float64(s.cost(&e))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GSOP/s")
			})
		}
		const n = 8
		x := randVec(r, n*sz.c*sz.h*sz.h, 0, 1)
		out := make([]float32, n*len(acc))
		ws := make([]float32, s.denseConv.WorkspaceLen(n))
		b.Run(fmt.Sprintf("%dx%dx%d/dense", sz.c, sz.h, sz.k), func(b *testing.B) {
			for b.Loop() {
				s.denseConv.Forward(out, x, n, ws)
			}
			b.ReportMetric(float64(s.denseMACs)*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/image")
		})
	}
}

// BenchmarkEventLinear times the event-driven accumulation of a Linear
// layer (In→Out) at several densities, and its dense evaluation.
func BenchmarkEventLinear(b *testing.B) {
	const in, out = 4096, 256
	r := rand.New(rand.NewPCG(1, 3))
	s := newEventSyn(kernels.ConvGeom{C: in, H: 1, W: 1, K: out, KH: 1, KW: 1}, randVec(r, in*out, -0.1, 0.1), nil)
	acc := make([]float32, out)
	for _, d := range []float64{0.02, 0.1, 0.3} {
		e, _ := randEvents(r, in, 1, d)
		b.Run(fmt.Sprintf("d=%g", d), func(b *testing.B) {
			for b.Loop() {
				s.accumulate(acc, &e)
			}
		})
	}
	const n = 8
	x := randVec(r, n*in, 0, 1)
	dst := make([]float32, n*out)
	ws := make([]float32, s.denseConv.WorkspaceLen(n))
	b.Run("dense", func(b *testing.B) {
		for b.Loop() {
			s.denseConv.Forward(dst, x, n, ws)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/image")
	})
}

// vggNet builds a small VGG-like SNN: 3x32x32 → conv 32 → IF → conv 32 →
// IF → avgpool → conv 64 → IF → avgpool → flatten → linear 10, with
// thresholds that give firing rates around 0.1.
func vggNet(t testing.TB) *Model {
	return vggNetOf(t, IF{Theta: []float32{1}, V0: []float32{0.5}})
}

// vggNetOf is vggNet with neurons n.
func vggNetOf(t testing.TB, n IF) *Model {
	r := rand.New(rand.NewPCG(5, 5))
	m := &Model{Input: Shape{3, 32, 32}}
	last := InputIndex
	conv := func(c, k, h int) {
		g := kernels.ConvGeom{C: c, H: h, W: h, K: k, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}
		last = m.MustAppend(Layer{Kind: KindConv, Inputs: []int{last}, Conv: g,
			W: randVec(r, k*c*9, -0.1, 0.12), B: randVec(r, k, -0.05, 0.05)})
		last = m.MustAppend(Layer{Kind: KindIF, Inputs: []int{last}, IF: n})
	}
	pool := func(c, h int) {
		last = m.MustAppend(Layer{Kind: KindAvgPool, Inputs: []int{last}, Pool: PoolGeom{C: c, H: h, W: h, KH: 2, KW: 2, StrideH: 2, StrideW: 2}})
	}
	conv(3, 32, 32)
	conv(32, 32, 32)
	pool(32, 32)
	conv(32, 64, 16)
	pool(64, 16)
	last = m.MustAppend(Layer{Kind: KindFlatten, Inputs: []int{last}})
	m.MustAppend(Layer{Kind: KindLinear, Inputs: []int{last}, W: randVec(r, 10*64*64, -0.1, 0.1)})
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

// benchImages is the chunk of images the step benchmarks simulate.
const benchImages = 8

// warmWorker runs a one-worker Simulator of m (dense or event-driven) on
// benchImages random images for 4 steps and returns its worker, in the
// state after the run, with the images and the result.
func warmWorker(b *testing.B, m *Model, dense bool) (*simWorker, []float32, *Result) {
	b.Helper()
	x := randVec(rand.New(rand.NewPCG(1, 1)), benchImages*m.Input.Len(), 0, 1)
	sim, err := NewSimulator(m, Config{T: 4, Dense: dense, Chunk: benchImages, Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	res, err := sim.Run(x, benchImages)
	if err != nil {
		b.Fatal(err)
	}
	return sim.workers[0], x, res
}

// BenchmarkStep times one time step of 8 images of vggNet, event-driven
// and dense.
func BenchmarkStep(b *testing.B) {
	m := vggNet(b)
	for _, dense := range []bool{false, true} {
		w, x, res := warmWorker(b, m, dense)
		name := "event"
		if dense {
			name = "dense"
		}
		b.Run(name, func(b *testing.B) {
			c0 := cpuSeconds()
			for b.Loop() {
				w.step(1, x, benchImages)
			}
			b.ReportMetric((cpuSeconds()-c0)*1e6/float64(b.N), "cpu-µs/op")
			if !dense {
				b.ReportMetric(res.Rate(3), "rate")
			}
		})
	}
}

// BenchmarkIFNHWC times one step of the NHWC IF layer of vggNet (32×32×32
// neurons, 8 images) that feeds the event conv, for the classic neuron and
// the default signed burst one; cpu-ns/neuron is per neuron update.
func BenchmarkIFNHWC(b *testing.B) {
	for _, nc := range []struct {
		name string
		n    IF
	}{
		{"classic", IF{Theta: []float32{1}, V0: []float32{0.5}}},
		{"signed-burst", IF{Theta: []float32{0.5}, V0: []float32{0.25}, Signed: true, MaxSpikes: 2}},
	} {
		b.Run(nc.name, func(b *testing.B) {
			m := vggNetOf(b, nc.n)
			w, _, res := warmWorker(b, m, false)
			const n = benchImages
			L := m.Layers[1].Shape.Len()
			in := w.nhwc[0]
			c0 := cpuSeconds()
			for b.Loop() {
				for img := 0; img < n; img++ {
					w.ifNHWC(1, img, in[img*L:(img+1)*L])
				}
			}
			b.ReportMetric((cpuSeconds()-c0)*1e9/float64(b.N)/float64(n*L), "cpu-ns/neuron")
			b.ReportMetric(res.Rate(1), "rate")
		})
	}
}

// BenchmarkEventChunk times the event accumulation of a chunk of
// benchImages images through one 3×3 conv (C→K on H×W, pad 1) at spike
// density 0.2 and the dense conv of the same chunk; ns/op is per chunk.
func BenchmarkEventChunk(b *testing.B) {
	for _, sz := range []struct{ c, k, h int }{{32, 32, 32}, {64, 64, 16}, {128, 128, 8}, {256, 256, 4}, {256, 256, 2}} {
		g := kernels.ConvGeom{C: sz.c, H: sz.h, W: sz.h, K: sz.k, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}
		r := rand.New(rand.NewPCG(1, 2))
		s := newEventSyn(g, randVec(r, sz.k*sz.c*9, -0.1, 0.1), nil)
		L := sz.k * sz.h * sz.h
		accs := make([][]float32, benchImages)
		evs := make([]*events, benchImages)
		x := make([]float32, 0, benchImages*sz.c*sz.h*sz.h)
		var sops int64
		for i := range accs {
			accs[i] = make([]float32, L)
			e, xi := randEvents(r, sz.c, sz.h*sz.h, 0.2)
			evs[i] = &e
			x = append(x, xi...)
			sops += s.cost(&e)
		}
		b.Run(fmt.Sprintf("%dx%dx%d/event", sz.c, sz.h, sz.k), func(b *testing.B) {
			c0 := cpuSeconds()
			for b.Loop() {
				s.accumulateChunk(accs, evs)
			}
			b.ReportMetric(float64(sops)*float64(b.N)/(cpuSeconds()-c0)/1e9, "GSOP/cpu-s")
		})
		out := make([]float32, benchImages*L)
		ws := make([]float32, s.denseConv.WorkspaceLen(benchImages))
		b.Run(fmt.Sprintf("%dx%dx%d/dense", sz.c, sz.h, sz.k), func(b *testing.B) {
			for b.Loop() {
				s.denseConv.Forward(out, x, benchImages, ws)
			}
		})
	}
}
