package snnrt

import (
	"math/rand/v2"
	"time"
)

// simWorker owns the buffers and state of a Simulator for a chunk of up to
// cap images; it is reused across runs. Per-image tensors of layer i lie at
// [img·len, (img+1)·len) of its buffers.
type simWorker struct {
	s     *Simulator
	done  <-chan struct{} // RunContext's ctx.Done(): simulate stops between steps once closed (nil: never)
	cap   int
	out   [][]float32 // native output: NCHW map, or NHWC accumulator (execEvent); nil for NHWC IF
	dense [][]float32 // NCHW map (== out for NCHW layers), when needed
	nhwc  [][]float32 // NHWC copy of a constant layer (needNHWC)
	v     [][]float32 // IF membranes (native layout); MaxPool cumulative inputs
	cnt   [][]int32   // IF running spike counts (NCHW IF, or signed NHWC IF)
	prev  [][]float32 // MaxPool previous maxima
	ev    [][]events  // NHWC IF, execPoolEv: per image events of the current step
	scan  events      // events scanned from an NCHW map
	dIn   []float32   // dense fallback: inputs of the images that go dense
	dOut  []float32   // dense fallback: their NCHW outputs
	dImg  []int       // dense fallback: which images
	mask  []uint8     // spike bit masks of one NHWC IF image
	ks    []int32     // spike counts k of one NHWC IF image
	pool  []float32   // execPoolEv accumulator of one image
	eAcc  [][]float32 // event-driven images of the current layer: accumulators
	eEv   []*events   // and their events
	tmp   []float32   // a constant layer's NCHW output (one image) when only its NHWC copy is kept
	ws    []float32   // conv workspace
	in    []float32   // Poisson input
	acc   []float32   // accumulated output
	xin   []float32   // with an exit policy: the chunk's input images, compacted with the live images
	slot  []int       // with an exit policy: chunk index (image − first) of the image in each slot
	track []ExitState // with an exit policy: per slot
	ins   [][]float32
	shp   []Shape
	pcgs  []rand.PCG
	rngs  []*rand.Rand
	first int // global index of the chunk's first image

	runStats
	prof []LayerProfile
}

func (s *Simulator) newWorker() *simWorker {
	m, c := s.m, s.chunk
	nl := len(m.Layers)
	w := &simWorker{s: s, cap: c,
		out: make([][]float32, nl), dense: make([][]float32, nl), nhwc: make([][]float32, nl),
		v: make([][]float32, nl), cnt: make([][]int32, nl), prev: make([][]float32, nl), ev: make([][]events, nl),
		runStats: newRunStats(nl, s.cfg.T), prof: make([]LayerProfile, nl), dImg: make([]int, c),
		eAcc: make([][]float32, 0, c), eEv: make([]*events, 0, c), pcgs: make([]rand.PCG, c), rngs: make([]*rand.Rand, c)}
	for i := range w.rngs {
		w.rngs[i] = rand.New(&w.pcgs[i])
	}
	var scanP, scanC, dIn, dOut, ws, mask, pool, tmp int
	for i := range m.Layers {
		l, sl := &m.Layers[i], &s.layers[i]
		L := l.Shape.Len()
		switch sl.exec {
		case execDense, execMaxPool:
			if sl.alias {
				w.out[i] = w.dense[l.Inputs[0]] // the same floats, read as (C·H·W)×1×1
			} else {
				w.out[i] = make([]float32, c*L)
			}
			w.dense[i] = w.out[i]
			if sl.conv != nil {
				ws = max(ws, sl.conv.WorkspaceLen(c))
			}
			if sl.exec == execMaxPool {
				w.v[i] = make([]float32, c*m.shapeOf(l.Inputs[0]).Len())
				w.prev[i] = make([]float32, c*L)
			}
		case execEvent:
			e := sl.ev
			if sl.fuseIF {
				w.out[i] = make([]float32, L) // one image (eventIFStep)
			} else {
				w.out[i] = make([]float32, c*L)
			}
			if sl.needDense {
				w.dense[i] = w.out[i]
				if e.outP > 1 {
					w.dense[i] = make([]float32, c*L)
				}
			}
			if !sl.fromEvents {
				scanP, scanC = max(scanP, e.inP), max(scanC, e.g.C)
			}
			dIn = max(dIn, c*e.g.C*e.inP)
			dOut = max(dOut, c*L)
			ws = max(ws, e.denseConv.WorkspaceLen(c))
		case execIF:
			w.v[i] = make([]float32, c*L)
			if !sl.nhwc || l.IF.Signed {
				w.cnt[i] = make([]int32, c*L)
			}
			if !sl.nhwc {
				w.out[i] = make([]float32, c*L)
				w.dense[i] = w.out[i]
				mask = max(mask, l.Shape.H*l.Shape.W/8) // ifPlaneBurst
				break
			}
			mask = max(mask, L/8)
			hw := l.Shape.H * l.Shape.W
			w.ev[i] = make([]events, c)
			for j := range w.ev[i] {
				w.ev[i][j] = newEvents(hw, l.Shape.C)
			}
			if sl.needDense {
				w.dense[i] = make([]float32, c*L)
			}
		}
		if sl.exec == execPoolEv {
			w.ev[i] = make([]events, c)
			for j := range w.ev[i] {
				w.ev[i][j] = newEvents(sl.pool.outP, l.Shape.C)
			}
			if sl.needDense {
				w.dense[i] = make([]float32, c*L)
			}
			pool = max(pool, L)
		}
		if sl.convNHWC != nil {
			ws = max(ws, sl.convNHWC.WorkspaceLen(c))
		}
		if sl.needNHWC {
			w.nhwc[i] = make([]float32, c*L)
			if sl.convNHWC == nil {
				tmp = max(tmp, L)
			}
			if !sl.needDense && sl.conv != nil {
				w.out[i], w.dense[i] = nil, nil
			}
		}
	}
	w.scan = newEvents(scanP, scanC)
	w.dIn, w.dOut, w.ws = make([]float32, dIn), make([]float32, dOut), make([]float32, ws)
	w.mask = make([]uint8, mask)
	w.ks = make([]int32, 8*mask)
	w.pool = make([]float32, pool)
	w.tmp = make([]float32, tmp)
	if s.cfg.Encoding == Poisson {
		w.in = make([]float32, c*m.Input.Len())
	}
	w.acc = make([]float32, c*m.Layers[m.Output].Shape.Len())
	if s.cfg.Exit != nil {
		w.xin = make([]float32, c*m.Input.Len())
		w.slot = make([]int, c)
		w.track = make([]ExitState, c)
	}
	return w
}

func (w *simWorker) resetStats() {
	w.runStats.reset()
	clear(w.prof)
}

// denseOf returns the NCHW map of source src for the chunk (cur for the
// model input).
func (w *simWorker) denseOf(src int, cur []float32) []float32 {
	if src == InputIndex {
		return cur
	}
	return w.dense[src]
}

// simulate runs images first..first+nimg−1 for T steps and writes their
// accumulated outputs into r. After the first call on a worker it does not
// allocate.
func (w *simWorker) simulate(r *Result, x []float32, first, nimg int) {
	s := w.s
	m, cfg := s.m, s.cfg
	inLen := m.Input.Len()
	xs := x[first*inLen : (first+nimg)*inLen]
	w.first = first
	w.initState(nimg)
	if cfg.Encoding == Poisson {
		for i := 0; i < nimg; i++ {
			w.pcgs[i].Seed(cfg.Seed, uint64(first+i))
		}
	}
	classes := m.Layers[m.Output].Shape.Len()
	acc := w.acc[:nimg*classes]
	clear(acc)
	if cfg.Exit != nil {
		w.simulateAdaptive(r, xs, first, nimg)
		return
	}
	for t := 0; t < cfg.T; t++ {
		select {
		case <-w.done:
			return // RunContext reports ctx.Err(); r is discarded
		default:
		}
		w.step(t, xs, nimg)
		for j, v := range w.dense[m.Output][:nimg*classes] {
			acc[j] += v
		}
		copy(r.acc[(t*r.N+first)*classes:], acc)
	}
}

// initState sets membranes to V0 and clears counts and max-pool state.
func (w *simWorker) initState(nimg int) {
	m := w.s.m
	for i := range m.Layers {
		l, sl := &m.Layers[i], &w.s.layers[i]
		switch {
		case sl.exec == execIF && sl.nhwc:
			L, C := l.Shape.Len(), l.Shape.C
			v := w.v[i][:nimg*L]
			for j := 0; j < len(v); j += C {
				copy(v[j:j+C], sl.v0)
			}
			if w.cnt[i] != nil {
				clear(w.cnt[i][:nimg*L])
			}
		case sl.exec == execIF:
			l.IF.init(w.v[i], w.cnt[i], l.Shape, nimg)
		case sl.exec == execMaxPool:
			clear(w.v[i])
			clear(w.prev[i])
		}
	}
}

// step evaluates every layer once, at step t (0-based), for nimg images
// with analog input xs.
func (w *simWorker) step(t int, xs []float32, nimg int) {
	s := w.s
	m, cfg := s.m, s.cfg
	cur := xs
	if cfg.Encoding == Poisson {
		cur = w.in[:nimg*m.Input.Len()]
		ev, sops := poissonStep(cur, xs, w.rngs[:nimg], m.Input.Len(), s.fan[0])
		w.addSpikes(InputIndex, t, ev, sops)
	}
	if cfg.Observe != nil {
		cfg.Observe(InputIndex, t+1, w.first, nimg, cur)
	}
	for i := 0; i < len(m.Layers); i++ {
		select {
		case <-w.done:
			return // cancelled (RunContext): the state is reset by the next run
		default:
		}
		if s.layers[i].fuseIF {
			w.eventIFStep(i, t, cur, nimg) // layers i and i+1; Observe is nil
			i++
			continue
		}
		if !s.layers[i].constant || t == 0 {
			var t0 time.Duration
			if cfg.Profile {
				t0 = profClock()
			}
			w.layerStep(i, t, cur, nimg)
			if cfg.Profile {
				w.prof[i].Time += profClock() - t0
			}
		}
		if cfg.Observe != nil {
			cfg.Observe(i, t+1, w.first, nimg, w.dense[i][:nimg*m.Layers[i].Shape.Len()])
		}
	}
	w.addMACs(s.macs, nimg, t)
}
