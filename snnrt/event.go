package snnrt

import (
	"math"

	"github.com/ann2snn/ann2snn/internal/kernels"
)

// This file holds the event-driven synaptic layers of the Simulator.
//
// A conv layer keeps its weights transposed so that the fan-out of one
// input channel at one kernel tap to a block of up to 64 output channels is
// a contiguous row (see newEventSyn for the exact layout), and its output
// (the accumulator) channels-last (NHWC), so that the outputs that row
// reaches are contiguous too. A spike thus costs one vectorised row update
// (value · weight row, one FMA per element) per tap that reads it, with no
// work for silent inputs.
//
// The accumulation is blocked so that the weights it reads come from the
// L1 cache: for each kernel tap t, block of input channels (cb, sized so
// that a block of weight rows fits in l1WeightBytes) and block of up to 64
// output channels (kb), every output position o that tap t connects to an
// input position p adds the events of p in block cb, its accumulator block
// held in registers meanwhile (a "visit"). Unblocked, the weight rows of a
// whole layer stream from L2 once per event, which bounds the event rate
// well below the FMA rate (measured here: 12–16 cycles per 64-wide event,
// against 7–8 blocked, about 2 of them the per-visit loop exit, with the
// AVX2 kernels; the AVX-512 ones, same loops on Z registers, run widths 64
// and 32 about 1.3–1.4× faster, bound by the latency of each accumulator's
// FMA chain rather than by issue). Per
// output element the terms still arrive taps ascending, then channels
// ascending, so the blocking does not change a single bit. A Linear layer
// is the 1×1 convolution of a 1×1 image with In channels.

// visitRef is one (input position, output position) pair of a kernel tap:
// the events bs[in] … bs[in+1]−1 of one channel block (in = input position
// · blocks per position, bs offset by the block) add into the accumulator
// row at out (= output position · K).
type visitRef struct{ in, out int32 }

// kBlock is a block of output channels k0 … k0+w−1 within a group.
type kBlock struct{ k0, w int }

// events lists the non-zero inputs of one image at one step, grouped by
// input position: position p holds the channels ch[start[p]:start[p+1]]
// (ascending) with values val[...] (s·θ for IF spikes). ch and val have
// capacity for 8 more elements than the densest map, so that their first
// element always exists and ifBurstEmit may store 8 at a time.
type events struct {
	start, ch []int32
	val       []float32
	off       []int32 // weight-row offsets of the events for the consumer at hand (eventSyn.prepare)
	bs        []int32 // event ranges per (position, channel block) for that consumer: start itself or bstart
	bstart    []int32 // storage for bs when the consumer blocks channels
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
	wT        []float32        // [group][tap][⌈kg/64⌉][cg][ld]: see newEventSyn
	ld        int              // row stride of wT: min(64, kg)
	bias      []float32        // [outP][K]: the bias of every output position
	inTaps    []int64          // per input position: the (output, tap) pairs that read it
	// Blocking (see the top of this file): nbg channel blocks per group,
	// nb = Group·nbg per position, block b ending before channel
	// blockEnd[b]; output-channel blocks kblk of every group; the visits
	// of tap t are visits[visStart[t]:visStart[t+1]], output positions
	// ascending.
	nbg, nb  int
	blockEnd []int32
	kblk     []kBlock
	visits   []visitRef
	visStart []int32
	// tapMajor: the weights exceed tapMajorBytes, so accumulateChunk walks
	// kernel taps outermost and images inside (one tap's weights stay in
	// L2 for every image of the chunk).
	tapMajor  bool
	denseMACs int64 // multiply-accumulates of one dense evaluation, one image
	denseConv *kernels.Conv
	useAsm    bool // the assembly visit kernels (haveEventAsm)
	useZMM    bool // their AVX-512 widths (haveVisit512)
}

// l1WeightBytes bounds the weights one visit block reads: a block of
// input channels × output channels that stays in the 32 KiB L1 data cache
// beside the accumulators and events.
const l1WeightBytes = 32 << 10

// tapMajorBytes is the weight size above which event accumulation runs
// kernel-tap-major (about half of a 512 KiB L2 cache).
const tapMajorBytes = 256 << 10

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
		ntap: g.KH * g.KW, useAsm: haveEventAsm(), useZMM: haveVisit512()}
	s.denseMACs = int64(s.outP) * int64(g.K) * int64(s.cg*s.ntap)
	s.denseConv = kernels.NewConv(g, w, b)
	// Output channels come in storage blocks of 64 (fewer if kg < 64): the
	// weights one visit block reads (one tap, a block of input channels,
	// up to 64 output channels) are then contiguous. With rows of all kg
	// outputs instead, a power-of-two row stride of 512 B or more maps the
	// block's rows onto a few L1 sets, which evict each other.
	s.ld = min(64, s.kg)
	nsb := (s.kg + 63) / 64
	s.wT = make([]float32, g.Group*s.ntap*nsb*s.cg*s.ld)
	for k := 0; k < g.K; k++ {
		gi, kl := k/s.kg, k%s.kg
		for c := 0; c < s.cg; c++ {
			for t := 0; t < s.ntap; t++ {
				s.wT[s.rowOffset(gi, t, kl)+c*s.ld+kl%64] = w[(k*s.cg+c)*s.ntap+t]
			}
		}
	}
	s.bias = make([]float32, s.outP*g.K)
	if b != nil {
		for p := 0; p < s.outP; p++ {
			copy(s.bias[p*g.K:], b)
		}
	}
	s.tapMajor = len(w)*4 > tapMajorBytes

	for k0 := 0; k0 < s.kg; {
		width := s.kg - k0
		for _, v := range [...]int{64, 32, 16, 8} {
			if width >= v {
				width = v
				break
			}
		}
		s.kblk = append(s.kblk, kBlock{k0, width})
		k0 += width
	}
	cb := max(8, l1WeightBytes/(4*s.ld))
	s.nbg = (s.cg + cb - 1) / cb
	s.nb = g.Group * s.nbg
	for gi := 0; gi < g.Group; gi++ {
		for j := 1; j <= s.nbg; j++ {
			s.blockEnd = append(s.blockEnd, int32(gi*s.cg+min(s.cg, j*cb)))
		}
	}

	s.inTaps = make([]int64, s.inP)
	s.visStart = make([]int32, s.ntap+1)
	for ky := 0; ky < g.KH; ky++ {
		for kx := 0; kx < g.KW; kx++ {
			for oy := 0; oy < oh; oy++ {
				iy := oy*g.StrideH - g.PadT + ky*g.DilH
				if iy < 0 || iy >= g.H {
					continue
				}
				for ox := 0; ox < ow; ox++ {
					ix := ox*g.StrideW - g.PadL + kx*g.DilW
					if ix < 0 || ix >= g.W {
						continue
					}
					in := iy*g.W + ix
					s.visits = append(s.visits, visitRef{in: int32(in * s.nb), out: int32((oy*ow + ox) * g.K)})
					s.inTaps[in]++
				}
			}
			s.visStart[ky*g.KW+kx+1] = int32(len(s.visits))
		}
	}
	// A sentinel beyond the last tap's visits: the assembly kernels load
	// one visit ahead.
	s.visits = append(s.visits, visitRef{})
	return s
}

// rowOffset returns the index in wT of the storage block of group gi, tap
// t and output channel kl (within the group): its row of input channel c
// starts c·ld later.
func (s *eventSyn) rowOffset(gi, t, kl int) int {
	nsb := (s.kg + 63) / 64
	return ((gi*s.ntap+t)*nsb + kl/64) * s.cg * s.ld
}

// prepare sets, for accumulating e into this layer, e.off to the weight-row
// offset (c mod C/Group)·ld of each event (channel c), so that the
// kernels need no multiplication per event, and e.bs to the event ranges
// per (position, channel block). It allocates only when e.bstart is too
// small, that is, once.
func (s *eventSyn) prepare(e *events) {
	ld, cg := int32(s.ld), int32(s.cg)
	off := e.off[:len(e.ch)]
	if s.g.Group == 1 {
		for j, c := range e.ch {
			off[j] = c * ld
		}
	} else {
		for j, c := range e.ch {
			off[j] = c % cg * ld
		}
	}
	nb := s.nb
	if nb == 1 {
		e.bs = e.start[:s.inP+1]
		return
	}
	n := s.inP*nb + 1
	if cap(e.bstart) < n {
		e.bstart = make([]int32, n)
	}
	bs, ch := e.bstart[:n], e.ch
	for p := 0; p < s.inP; p++ {
		j, end := e.start[p], e.start[p+1]
		for b, lim := range s.blockEnd {
			bs[p*nb+b] = j
			for j < end && ch[j] < lim {
				j++
			}
		}
	}
	bs[s.inP*nb] = e.start[s.inP]
	e.bs = bs
}

// cost returns the synaptic operations that accumulating e costs: Σ over
// events of (taps reading its position)·K/Group.
func (s *eventSyn) cost(e *events) int64 {
	var n int64
	for p, t := range s.inTaps {
		n += int64(e.start[p+1]-e.start[p]) * t
	}
	return n * int64(s.kg)
}

// accumulateChunk is accumulate for several images: accs[i] receives the
// result for evs[i]. Tap-major layers walk kernel taps outermost, then
// blocks, then images, so that a block of weights, once in L1, serves the
// whole chunk; the terms of every output element are summed in the same
// order as accumulate, so the results are bit-identical to it.
func (s *eventSyn) accumulateChunk(accs [][]float32, evs []*events) {
	if !s.tapMajor {
		for i, e := range evs {
			s.accumulate(accs[i], e)
		}
		return
	}
	for i, e := range evs {
		copy(accs[i], s.bias)
		if e.count() != 0 {
			s.prepare(e)
		}
	}
	for t := 0; t < s.ntap; t++ {
		s.accumulateTap(accs, evs, t)
	}
}

// accumulate sets acc ([outP][K], one image) to the bias plus the
// contribution of every event of e: per output element, taps in ascending
// (ky, kx) order, then channels ascending, one FMA per term.
func (s *eventSyn) accumulate(acc []float32, e *events) {
	copy(acc, s.bias)
	if e.count() == 0 {
		return
	}
	s.prepare(e)
	accs, evs := [1][]float32{acc}, [1]*events{e}
	for t := 0; t < s.ntap; t++ {
		s.accumulateTap(accs[:], evs[:], t)
	}
}

// accumulateTap adds the events of evs (prepared) that kernel tap t
// carries into accs, block by block (see the top of this file), images
// innermost.
func (s *eventSyn) accumulateTap(accs [][]float32, evs []*events, t int) {
	vis := s.visits[s.visStart[t]:s.visStart[t+1]]
	if len(vis) == 0 {
		return
	}
	for gi := 0; gi < s.g.Group; gi++ {
		for cb := 0; cb < s.nbg; cb++ {
			b := gi*s.nbg + cb
			for _, kb := range s.kblk {
				k0 := gi*s.kg + kb.k0
				w := s.wT[s.rowOffset(gi, t, kb.k0)+kb.k0%64:]
				for i, e := range evs {
					if e.count() == 0 {
						continue
					}
					off, val := e.off, e.val[:cap(e.val)]
					if s.useAsm && kb.w >= 8 {
						visitAsm(kb.w, s.useZMM, accs[i][k0:], w, vis, e.bs[b:], off, val)
					} else {
						visitGo(accs[i][k0:], w, kb.w, vis, e.bs[b:], off, val)
					}
				}
			}
		}
	}
}

// visitGo computes, for every visit v in order and every event j in
// bs[v.in] … bs[v.in+1]−1 in order, acc[v.out+i] = fma(val[j],
// w[off[j]+i], acc[v.out+i]) for i < n. It is the portable twin of the
// assembly kernels in event_amd64.s (keep in sync); its float64 FMA rounds
// twice, so the two agree to rounding, not always bit for bit.
func visitGo(acc, w []float32, n int, vis []visitRef, bs, off []int32, val []float32) {
	for _, v := range vis {
		j0, j1 := bs[v.in], bs[v.in+1]
		if j0 == j1 {
			continue
		}
		a := acc[v.out : int(v.out)+n]
		for j := j0; j < j1; j++ {
			x := float64(val[j])
			o := int(off[j])
			for i, wv := range w[o : o+n] {
				a[i] = float32(math.FMA(x, float64(wv), float64(a[i])))
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
