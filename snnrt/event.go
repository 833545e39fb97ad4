package snnrt

import (
	"math"

	"github.com/ann2snn/ann2snn/internal/kernels"
)

// This file holds the event-driven synaptic layers of the Simulator.
//
// A conv layer keeps its weights transposed to [group][tap][C/Group][K/Group]
// so that the fan-out of one input channel at one kernel tap is a contiguous
// row of K/Group floats, and its output (the accumulator) channels-last
// (NHWC), so that the outputs that row reaches are contiguous too. The
// accumulation is output-stationary: for each output position, a block of
// up to 64 output channels stays in registers while, for every kernel tap
// (ascending ky, kx) that lands inside the input, every event at that input
// position (ascending channel) adds value · weight row (one FMA per
// element). A spike thus costs one vectorised row update per tap, with no
// work for silent inputs. A Linear layer is the 1×1 convolution of a 1×1
// image with In channels.

// tapRef is one kernel tap of one output position: the events at input
// positions in … end−1 (end = in+1 for the taps eventSyn builds; the
// kernels take ranges) contribute, event e with the weight row at
// w + off[e] of the transposed weights (off is computed per event list by
// eventSyn.offsets).
type tapRef struct{ in, end, w int }

// events lists the non-zero inputs of one image at one step, grouped by
// input position: position p holds the channels ch[start[p]:start[p+1]]
// (ascending) with values val[...] (s·θ for IF spikes). ch and val have
// capacity for 8 more elements than the densest map, so that their first
// element always exists and ifBurstEmit may store 8 at a time.
type events struct {
	start, ch []int32
	val       []float32
	off       []int32 // weight-row offsets of the events for the consumer at hand (eventSyn.offsets)
}

func newEvents(positions, channels int) events {
	n := positions*channels + 8
	return events{start: make([]int32, positions+1),
		ch: make([]int32, 0, n), val: make([]float32, 0, n), off: make([]int32, n)}
}

func (e *events) reset() { e.ch, e.val = e.ch[:0], e.val[:0] }

// closePos ends the events of position p; positions must be closed in
// order, each once.
func (e *events) closePos(p int) { e.start[p+1] = int32(len(e.ch)) }

// count returns the number of events.
func (e *events) count() int { return len(e.ch) }

// scan sets e to the non-zero elements of the dense [c][p] map x
// (channels·positions floats, NCHW order).
func (e *events) scan(x []float32, channels, positions int) {
	e.reset()
	x = x[:channels*positions]
	if positions == 1 {
		for c, v := range x {
			if v != 0 {
				e.ch = append(e.ch, int32(c))
				e.val = append(e.val, v)
			}
		}
		e.closePos(0)
		return
	}
	for p := 0; p < positions; p++ {
		for c := 0; c < channels; c++ {
			if v := x[c*positions+p]; v != 0 {
				e.ch = append(e.ch, int32(c))
				e.val = append(e.val, v)
			}
		}
		e.closePos(p)
	}
}

// scatter writes the events as a dense [c][p] map into dst (NCHW order),
// which it clears first.
func (e *events) scatter(dst []float32, positions int) {
	clear(dst)
	for p := 0; p < positions; p++ {
		for j := e.start[p]; j < e.start[p+1]; j++ {
			dst[int(e.ch[j])*positions+p] = e.val[j]
		}
	}
}

// eventSyn is a synaptic layer (Conv, or Linear as a 1×1 convolution)
// prepared for event-driven accumulation.
type eventSyn struct {
	g         kernels.ConvGeom // strides, dilations, group ≥ 1
	inP, outP int              // input and output positions per channel
	cg, kg    int              // channels per group in and out
	ntap      int              // KH·KW
	wT        []float32        // [group][tap][cg][kg]
	bias      []float32        // [outP][K]: the bias of every output position
	tapStart  []int32          // [outP+1]: taps of output position o are taps[tapStart[o]:tapStart[o+1]]
	taps      []tapRef
	inTaps    []int64 // per input position: the (output, tap) pairs that read it
	// tapMajor: the weights exceed tapMajorBytes, so accumulateChunk walks
	// kernel taps outermost (one tap's weights stay in L2 for every output
	// position and image); byTap are the taps ordered by kernel tap, with
	// their output positions byTapOut, tap t at byTapStart[t]..[t+1].
	tapMajor   bool
	byTap      []tapRef
	byTapOut   []int32
	byTapStart []int32
	denseMACs  int64 // multiply-accumulates of one dense evaluation, one image
	denseConv  *kernels.Conv
	useAsm     bool
}

// linearGeom returns the geometry of Linear layer l (with In inputs) as a
// 1×1 convolution of a 1×1 image.
func linearGeom(l *Layer, in int) kernels.ConvGeom {
	return kernels.ConvGeom{C: in, H: 1, W: 1, K: l.Shape.C, KH: 1, KW: 1}
}

// newEventSyn prepares conv geometry g with weights w [K, C/Group, KH, KW]
// and bias b ([K] or nil).
func newEventSyn(g kernels.ConvGeom, w, b []float32) *eventSyn {
	g.StrideH, g.StrideW, g.DilH, g.DilW, g.Group = one(g.StrideH), one(g.StrideW), one(g.DilH), one(g.DilW), one(g.Group)
	oh, ow := g.OutH(), g.OutW()
	s := &eventSyn{g: g, inP: g.H * g.W, outP: oh * ow, cg: g.C / g.Group, kg: g.K / g.Group,
		ntap: g.KH * g.KW, useAsm: haveEventAsm()}
	s.denseMACs = int64(s.outP) * int64(g.K) * int64(s.cg*s.ntap)
	s.denseConv = kernels.NewConv(g, w, b)
	s.wT = make([]float32, len(w))
	for k := 0; k < g.K; k++ {
		gi, kl := k/s.kg, k%s.kg
		for c := 0; c < s.cg; c++ {
			for t := 0; t < s.ntap; t++ {
				s.wT[((gi*s.ntap+t)*s.cg+c)*s.kg+kl] = w[(k*s.cg+c)*s.ntap+t]
			}
		}
	}
	s.bias = make([]float32, s.outP*g.K)
	if b != nil {
		for p := 0; p < s.outP; p++ {
			copy(s.bias[p*g.K:], b)
		}
	}
	s.tapMajor = g.Group == 1 && len(w)*4 > tapMajorBytes
	s.tapStart = make([]int32, s.outP+1)
	s.inTaps = make([]int64, s.inP)
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			for ky := 0; ky < g.KH; ky++ {
				iy := oy*g.StrideH - g.PadT + ky*g.DilH
				if iy < 0 || iy >= g.H {
					continue
				}
				for kx := 0; kx < g.KW; kx++ {
					ix := ox*g.StrideW - g.PadL + kx*g.DilW
					if ix < 0 || ix >= g.W {
						continue
					}
					in := iy*g.W + ix
					s.taps = append(s.taps, tapRef{in: in, end: in + 1, w: (ky*g.KW + kx) * s.cg * s.kg})
					s.inTaps[in]++
				}
			}
			s.tapStart[oy*ow+ox+1] = int32(len(s.taps))
		}
	}
	s.byTapStart = make([]int32, s.ntap+1)
	for t := 0; t < s.ntap; t++ {
		for o := 0; o < s.outP; o++ {
			for _, tr := range s.taps[s.tapStart[o]:s.tapStart[o+1]] {
				if tr.w == t*s.cg*s.kg {
					s.byTap = append(s.byTap, tr)
					s.byTapOut = append(s.byTapOut, int32(o))
				}
			}
		}
		s.byTapStart[t+1] = int32(len(s.byTap))
	}
	return s
}

// offsets sets e.off to the weight-row offset c·K/Group of each event
// (channel c), so that the kernels need no multiplication per event.
func (s *eventSyn) offsets(e *events) {
	kg := int32(s.kg)
	off := e.off[:len(e.ch)]
	for j, c := range e.ch {
		off[j] = c * kg
	}
}

// tapMajorBytes is the weight size above which event accumulation runs
// kernel-tap-major (about half of a 512 KiB L2 cache).
const tapMajorBytes = 256 << 10

// cost returns the synaptic operations that accumulating e costs: Σ over
// events of (taps reading its position)·K/Group.
func (s *eventSyn) cost(e *events) int64 {
	var n int64
	for p, t := range s.inTaps {
		n += int64(e.start[p+1]-e.start[p]) * t
	}
	return n * int64(s.kg)
}

// accumulate sets acc ([outP][K], one image) to the bias plus the
// contribution of every event of e: per output element, taps in ascending
// (ky, kx) order, then channels ascending, one FMA per term.
func (s *eventSyn) accumulate(acc []float32, e *events) {
	copy(acc, s.bias)
	if e.count() == 0 {
		return
	}
	K := s.g.K
	if s.g.Group == 1 {
		s.offsets(e)
	}
	off, val := e.off, e.val[:cap(e.val)]
	for o := 0; o < s.outP; o++ {
		taps := s.taps[s.tapStart[o]:s.tapStart[o+1]]
		a := acc[o*K : (o+1)*K]
		if s.g.Group > 1 {
			for gi := 0; gi < s.g.Group; gi++ {
				gatherGroupGo(a[gi*s.kg:(gi+1)*s.kg], s.wT[gi*s.ntap*s.cg*s.kg:], s.kg, taps, e, gi*s.cg, s.cg)
			}
			continue
		}
		s.gather(a, taps, e.start, off, val)
	}
}

// gather accumulates the events of taps into the output block a ([K]),
// 64, 32, 16 or 8 channels at a time in assembly where available.
func (s *eventSyn) gather(a []float32, taps []tapRef, start, off []int32, val []float32) {
	K, k0 := s.g.K, 0
	if s.useAsm {
		for _, width := range [...]int{64, 32, 16, 8} {
			for ; K-k0 >= width; k0 += width {
				gatherAsm(width, a[k0:], s.wT[k0:], taps, start, off, val)
			}
		}
	}
	if k0 < K {
		gatherGo(a[k0:], s.wT[k0:], taps, start, off, val)
	}
}

// accumulateChunk is accumulate for several images: accs[i] receives the
// result for evs[i]. Tap-major layers walk kernel taps outermost, then
// output positions, then images; per output element the terms are summed
// in the same order as accumulate (taps ascending, then channels), so the
// results are bit-identical to it.
func (s *eventSyn) accumulateChunk(accs [][]float32, evs []*events) {
	if !s.tapMajor {
		for i, e := range evs {
			s.accumulate(accs[i], e)
		}
		return
	}
	K := s.g.K
	for i, e := range evs {
		copy(accs[i], s.bias)
		s.offsets(e)
	}
	for j := range s.byTap {
		tr := s.byTap[j : j+1]
		o := int(s.byTapOut[j])
		in := tr[0].in
		for i, e := range evs {
			if e.start[in] == e.start[in+1] {
				continue
			}
			s.gather(accs[i][o*K:(o+1)*K], tr, e.start, e.off, e.val[:cap(e.val)])
		}
	}
}

// gatherGo computes, for every tap t in order and every event j at input
// positions t.in … t.end−1 in order, acc[i] = fma(val[j], w[t.w+off[j]+i],
// acc[i]) for i < len(acc). It is the portable twin of the assembly
// kernels in event_amd64.s (keep in sync); its float64 FMA rounds twice, so
// the two agree to rounding, not always bit for bit.
func gatherGo(acc, w []float32, taps []tapRef, start, off []int32, val []float32) {
	n := len(acc)
	for _, t := range taps {
		for j := start[t.in]; j < start[t.end]; j++ {
			v := float64(val[j])
			o := t.w + int(off[j])
			for i, x := range w[o : o+n] {
				acc[i] = float32(math.FMA(v, float64(x), float64(acc[i])))
			}
		}
	}
}

// gatherGroupGo is gatherGo for one group of a grouped convolution: only
// the events of channels c0..c0+cg−1 count, renumbered from 0.
func gatherGroupGo(acc, w []float32, ld int, taps []tapRef, e *events, c0, cg int) {
	for _, t := range taps {
		for j := e.start[t.in]; j < e.start[t.end]; j++ {
			c := int(e.ch[j]) - c0
			if c < 0 || c >= cg {
				continue
			}
			v := float64(e.val[j])
			for i, x := range w[t.w+c*ld : t.w+c*ld+len(acc)] {
				acc[i] = float32(math.FMA(v, float64(x), float64(acc[i])))
			}
		}
	}
}

// nchwToNHWC transposes one [c][p] image into [p][c]: in 8×8 AVX2 blocks
// where possible, else eight channels at a time so that every write fills
// 32 contiguous bytes.
func nchwToNHWC(dst, src []float32, channels, positions int) {
	if positions == 1 {
		copy(dst[:channels], src)
		return
	}
	src, dst = src[:channels*positions], dst[:channels*positions]
	if transposeBlocks(dst, src, channels, positions) {
		return
	}
	c0 := 0
	for ; c0+8 <= channels; c0 += 8 {
		s0, s1, s2, s3 := src[c0*positions:], src[(c0+1)*positions:], src[(c0+2)*positions:], src[(c0+3)*positions:]
		s4, s5, s6, s7 := src[(c0+4)*positions:], src[(c0+5)*positions:], src[(c0+6)*positions:], src[(c0+7)*positions:]
		s0, s1, s2, s3 = s0[:positions], s1[:positions], s2[:positions], s3[:positions]
		s4, s5, s6, s7 = s4[:positions], s5[:positions], s6[:positions], s7[:positions]
		for p := range s0 {
			d := (*[8]float32)(dst[p*channels+c0:])
			d[0], d[1], d[2], d[3] = s0[p], s1[p], s2[p], s3[p]
			d[4], d[5], d[6], d[7] = s4[p], s5[p], s6[p], s7[p]
		}
	}
	for c := c0; c < channels; c++ {
		for p, v := range src[c*positions : (c+1)*positions] {
			dst[p*channels+c] = v
		}
	}
}

// nhwcToNCHW transposes one [p][c] image into [c][p].
func nhwcToNCHW(dst, src []float32, channels, positions int) {
	if positions == 1 {
		copy(dst[:channels], src)
		return
	}
	for p := 0; p < positions; p++ {
		row := src[p*channels : (p+1)*channels]
		for c, v := range row {
			dst[c*positions+p] = v
		}
	}
}
