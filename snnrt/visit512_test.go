package snnrt

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ann2snn/ann2snn/internal/kernels"
)

// visitCase is one input of the visit kernels: per input position the
// number of events it holds, the visits, and the shift that misaligns the
// weight rows (in floats) against a 64-byte boundary.
type visitCase struct {
	name   string
	counts []int      // events per input position
	vis    []visitRef // in: input position, out: accumulator offset in floats
	shift  int        // added to every weight offset
}

// visitCases covers empty ranges, single events, long event runs, visits
// that repeat an output row (so their order matters), and weight and
// accumulator rows off any vector alignment; and odd and even numbers of
// visits, neighbours with one or both ranges empty, of very unequal and
// of equal lengths, and whose rows overlap, by a few floats or by one
// row's width less one, or touch without overlapping (which of these it is
// depends on the width), for kernels that take more than one visit at a
// time. Outputs are multiples of 64 floats plus an odd
// part, so that rows of width 64 do not overlap unless meant to.
var visitCases = append([]visitCase{
	{name: "novisit", counts: []int{3}, vis: nil},
	{name: "empty", counts: []int{0, 0, 0}, vis: []visitRef{{0, 0}, {1, 64}, {2, 128}}},
	{name: "single", counts: []int{1}, vis: []visitRef{{0, 0}}},
	{name: "one-long", counts: []int{40}, vis: []visitRef{{0, 67}}, shift: 3},
	{name: "single-unaligned", counts: []int{0, 1, 0}, vis: []visitRef{{1, 3}, {0, 64}, {2, 131}}, shift: 5},
	{name: "mixed", counts: []int{0, 5, 1, 0, 17}, vis: []visitRef{{0, 0}, {1, 64}, {4, 128 + 1}, {2, 64}, {3, 192}, {4, 0}, {1, 0}}, shift: 1},
	{name: "many", counts: []int{200, 63}, vis: []visitRef{{0, 0}, {1, 64}, {0, 64}, {1, 0}}},
	{name: "many-unaligned", counts: []int{129, 2, 77}, vis: []visitRef{{2, 7}, {0, 71}, {1, 7}, {0, 135}, {2, 135}}, shift: 13},
	{name: "odd", counts: []int{3, 7, 1, 9, 2}, vis: []visitRef{{0, 0}, {1, 64}, {2, 128}, {3, 192}, {4, 256}}},
	{name: "unequal", counts: []int{1, 300, 2, 250}, vis: []visitRef{{0, 0}, {1, 64}, {3, 128}, {2, 192}}, shift: 2},
	{name: "equal", counts: []int{6, 6, 6}, vis: []visitRef{{0, 0}, {1, 64}, {2, 128}, {0, 192}}},
	{name: "half-empty", counts: []int{0, 5, 4, 0}, vis: []visitRef{{0, 0}, {1, 64}, {2, 128}, {3, 192}, {1, 256}, {0, 0}, {3, 64}}},
	{name: "same-row", counts: []int{5, 9}, vis: []visitRef{{0, 64}, {1, 64}, {1, 64}, {0, 64}}},
	{name: "overlap", counts: []int{4, 11, 3}, vis: []visitRef{{0, 64}, {1, 70}, {2, 0}, {1, 63}, {0, 100}, {2, 84}, {1, 84}, {0, 99}}},
	{name: "touch", counts: []int{7, 2}, vis: []visitRef{{0, 0}, {1, 64}, {1, 96}, {0, 128}, {0, 144}, {1, 152}}},
}, randVisitCases()...)

// randVisitCases returns long visit lists: event
// counts of 0 to 12 (about one in five empty), rows anywhere (repeats and
// overlaps included) or, as eventSyn builds them, at distinct multiples of
// 64 floats.
func randVisitCases() []visitCase {
	r := rand.New(rand.NewPCG(7, 7))
	var cs []visitCase
	for _, n := range []int{40, 41} {
		for _, distinct := range []bool{false, true} {
			c := visitCase{name: fmt.Sprintf("rand-%d-distinct=%v", n, distinct), shift: n % 3}
			for i := 0; i < n; i++ {
				k := r.IntN(13)
				if r.IntN(5) == 0 {
					k = 0
				}
				c.counts = append(c.counts, k)
				out := int32(r.IntN(4*64 + 1))
				if distinct {
					out = int32(64 * i)
				}
				c.vis = append(c.vis, visitRef{in: int32(i), out: out})
			}
			cs = append(cs, c)
		}
	}
	return cs
}

// build returns the kernels' inputs for width n: the weights (rows of
// ld = 72 floats, one per channel), accumulator (room for a row of 64
// floats at the highest output), event ranges bs, weight offsets, values,
// and the visits with exactly one readable entry beyond the last. The
// entry after that one holds an input index far outside bs, so a kernel
// that read it would fault or go wrong. off and val are padded by one
// element, as visitAsm requires.
func (c visitCase) build(r *rand.Rand) (w, acc []float32, bs, off []int32, val []float32, vis []visitRef) {
	const ld, chans = 72, 256
	w = randVec(r, chans*ld+c.shift+64, -1, 1)
	hi := int32(0)
	for _, v := range c.vis {
		hi = max(hi, v.out)
	}
	acc = randVec(r, int(hi)+64, -1, 1)
	bs = []int32{0}
	for _, k := range c.counts {
		for j := 0; j < k; j++ {
			// Channels in any order, repeats included: the kernels take
			// offsets as given.
			off = append(off, int32(r.IntN(chans)*ld+c.shift))
			val = append(val, r.Float32()*4-2)
		}
		bs = append(bs, int32(len(off)))
	}
	off, val = append(off, 0), append(val, 0)
	n := len(c.vis)
	vis = make([]visitRef, n+2)
	copy(vis, c.vis)
	vis[n+1] = visitRef{in: 1 << 30, out: 1 << 30}
	return w, acc, bs, off, val, vis[: n : n+1]
}

// TestVisit512 compares the AVX-512 visit kernels (visitAsm with zmm) bit
// for bit with the AVX2 kernels and visitGo, for every width (width 8 checks that visitAsm runs visit8 whatever zmm
// says). visitGo's float64 FMA could in principle round twice; with these
// fixed seeds it never does, so any difference is a kernel bug.
func TestVisit512(t *testing.T) {
	if !haveEventAsm() {
		t.Skip("no assembly event kernels on this CPU")
	}
	if !haveVisit512() {
		t.Skip("no AVX-512F on this CPU")
	}
	for _, width := range []int{64, 32, 16, 8} {
		for ci, c := range visitCases {
			for seed := uint64(0); seed < 4; seed++ {
				r := rand.New(rand.NewPCG(seed, uint64(ci)))
				w, acc, bs, off, val, vis := c.build(r)
				run := func(f func(acc []float32)) []float32 {
					a := slices.Clone(acc)
					f(a)
					return a
				}
				got := map[string][]float32{
					"visitGo": run(func(a []float32) { visitGo(a, w, width, vis, bs, off, val) }),
					"AVX2":    run(func(a []float32) { visitAsm(width, false, a, w, vis, bs, off, val) }),
					"AVX-512": run(func(a []float32) { visitAsm(width, true, a, w, vis, bs, off, val) }),
				}
				want := got["visitGo"]
				for kernel, g := range got {
					for i := range want {
						if math.Float32bits(g[i]) != math.Float32bits(want[i]) {
							t.Fatalf("width %d, %s, seed %d: acc[%d] = %v (%s), %v (visitGo)",
								width, c.name, seed, i, g[i], kernel, want[i])
						}
					}
				}
			}
		}
	}
}

// TestVisitAsmChoosesZMM checks that a new event layer runs the AVX-512
// kernels exactly where the CPU has them.
func TestVisitAsmChoosesZMM(t *testing.T) {
	s := newEventSyn(kernels.ConvGeom{C: 8, H: 4, W: 4, K: 8, KH: 3, KW: 3}, make([]float32, 8*8*9), nil)
	if s.useZMM != haveVisit512() || s.useAsm != haveEventAsm() {
		t.Errorf("useAsm %v, useZMM %v; CPU runs the AVX2 kernels %v, the AVX-512 ones %v", s.useAsm, s.useZMM, haveEventAsm(), haveVisit512())
	}
}

// TestEventSynVisit512 checks a whole event conv layer, whose output
// blocks of 64, 32, 16 and 8 channels (K = 120) and two input-channel
// blocks (C = 200) run every kernel width, to give the same bits with the
// AVX-512 kernels, the AVX2 ones and visitGo.
func TestEventSynVisit512(t *testing.T) {
	if !haveVisit512() {
		t.Skip("no AVX-512F on this CPU")
	}
	g := kernels.ConvGeom{C: 200, H: 6, W: 5, K: 120, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}
	r := rand.New(rand.NewPCG(5, 12))
	s := newEventSyn(g, randVec(r, g.K*g.C*9, -0.1, 0.1), randVec(r, g.K, -0.1, 0.1))
	for _, d := range []float64{0, 0.03, 0.3, 1} {
		e, _ := randEvents(r, g.C, g.H*g.W, d)
		for j := range e.val[:e.count()] {
			e.val[j] = r.Float32()*4 - 2
		}
		run := func(asm, zmm bool) []float32 {
			s.useAsm, s.useZMM = asm, zmm
			acc := make([]float32, s.outP*g.K)
			s.accumulate(acc, &e)
			return acc
		}
		want, avx2, zmm := run(false, false), run(true, false), run(true, true)
		for i := range want {
			if math.Float32bits(zmm[i]) != math.Float32bits(want[i]) || math.Float32bits(zmm[i]) != math.Float32bits(avx2[i]) {
				t.Fatalf("density %v: acc[%d] = %v (AVX-512), %v (AVX2), %v (visitGo)", d, i, zmm[i], avx2[i], want[i])
			}
		}
	}
}

// BenchmarkVisit runs one visit kernel over a block like those of a
// 64-channel-wide conv layer on a 16×16 map: 128 input channels (32 KiB
// of weights at width 64, L1-resident), each position visiting its own
// accumulator row, at a spike density d. syn-op/ns counts multiply-adds
// (events × width).
func BenchmarkVisit(b *testing.B) {
	if !haveEventAsm() {
		b.Skip("no assembly event kernels on this CPU")
	}
	const positions, chans = 256, 128
	for _, width := range []int{64, 32, 16} {
		for _, d := range []float64{0.05, 0.2} {
			r := rand.New(rand.NewPCG(1, 2))
			w := randVec(r, chans*width, -0.1, 0.1)
			acc := make([]float32, positions*width)
			var off []int32
			var val []float32
			bs := []int32{0}
			vis := make([]visitRef, 0, positions+1)
			for p := 0; p < positions; p++ {
				for c := 0; c < chans; c++ {
					if r.Float64() < d {
						off = append(off, int32(c*width))
						val = append(val, 1)
					}
				}
				bs = append(bs, int32(len(off)))
				vis = append(vis, visitRef{in: int32(p), out: int32(p * width)})
			}
			nev := len(off)
			off, val = append(off, 0), append(val, 0)
			vis = append(vis, visitRef{})[:positions]
			for _, zmm := range []bool{false, true} {
				name := "avx2"
				if zmm {
					if !haveVisit512() {
						continue
					}
					name = "avx512"
				}
				b.Run(fmt.Sprintf("w=%d/d=%g/%s", width, d, name), func(b *testing.B) {
					for b.Loop() {
						visitAsm(width, zmm, acc, w, vis, bs, off, val)
					}
					b.ReportMetric(float64(nev*width)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "syn-op/ns")
				})
			}
		}
	}
}
