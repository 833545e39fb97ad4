package snnrt

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ann2snn/ann2snn/internal/kernels"
)

// Simulator is the fast runtime of a Model: it computes what Run computes
// (see the package documentation for the semantics and for how its sums
// differ from Run's), event-driven where spikes are sparse. NewSimulator
// prepares it once per model (transposed and packed weights, tap tables);
// its workers keep their state buffers from one Run to the next, and the
// time loop never allocates.
//
// A Simulator is not safe for concurrent use: call Run from one goroutine
// at a time (Run itself uses Config.Workers goroutines). The Model must not
// be modified while the Simulator is in use.
type Simulator struct {
	m       *Model
	cfg     Config
	chunk   int
	fan     [][]int64 // per source, index layer+1
	macs    []int64   // per source, index layer+1
	spiking []bool    // index layer+1
	layers  []simLayer
	workers []*simWorker
	prof    []LayerProfile
	// costRatio is eventCostRatio; tests change it to force a path.
	costRatio int64
	asm       bool     // use the assembly kernels
	lut       *packLUT // for ifBurstEmit
}

// LayerProfile is the cost of one layer over the Simulator's runs since
// NewSimulator or ResetProfile.
type LayerProfile struct {
	// Time is the CPU time of the worker threads spent evaluating the
	// layer, summed over workers (on Linux; wall time elsewhere); measured
	// only with Config.Profile.
	Time time.Duration
	// Event and Dense count the image·steps at which a synaptic layer with
	// spiking input ran event-driven and dense.
	Event, Dense int64
}

// execKind says how the Simulator evaluates a layer.
type execKind uint8

const (
	execDense   execKind = iota // stateless layer on NCHW maps (analog synaptic, routing)
	execEvent                   // synaptic layer with spiking input: event-driven or dense per image
	execIF                      // IF neurons, NCHW or NHWC
	execMaxPool                 // spiking max pooling on NCHW maps
	execPoolEv                  // AvgPool of an NHWC IF's events, emitting events
)

// simLayer is the prepared plan of one layer.
type simLayer struct {
	exec execKind
	// constant: the output is the same at every step (Direct input and
	// only stateless layers in between); it is computed once per chunk.
	constant bool
	// nhwc: the layer's native output (execEvent accumulator, IF state) is
	// channels-last.
	nhwc bool
	// needDense: consumers (or Observe) read the NCHW map of the output.
	needDense bool
	// needNHWC: a constant layer whose NHWC transpose an NHWC IF reads.
	needNHWC bool
	// convNHWC: a constant Conv with needNHWC and no NCHW readers computes
	// its NHWC output directly (no transpose).
	convNHWC *kernels.ConvNHWC
	// alias: a Flatten of a layer's NCHW map, which it shares instead of
	// copying (flattening NCHW moves no data).
	alias bool
	// fuseIF: an execEvent layer (not tap-major, no NCHW readers) whose
	// only reader is the NHWC IF layer right after it; the two run image
	// by image (simWorker.eventIFStep).
	fuseIF bool
	// fromEvents: execEvent reading the event lists of an NHWC IF layer
	// (else it scans the NCHW map of its input).
	fromEvents bool
	conv       *kernels.Conv // execDense Conv and Linear (as a 1×1 conv)
	ev         *eventSyn     // execEvent
	pool       *evPool       // execPoolEv
	theta, v0  []float32     // execIF: per channel
	fan        []int64       // execIF NHWC: fan-out in NHWC order
	fanPos     []int64       // execIF NHWC: fan-out per position, if the same for all channels
}

// eventCostRatio bounds the cost of one event-driven synaptic operation
// relative to one dense GEMM multiply-accumulate (im2col included): a layer
// runs event-driven for an image when SOPs·eventCostRatio ≤ dense MACs.
// BenchmarkEventChunk measures the two (here event SOPs ran at 0.55–1.25×
// the dense MAC rate, the small-image 256-channel layers slowest), so with
// 2 the event path is chosen only where it should cost at most about the
// dense one, and the dense kernel takes over at spike densities above
// roughly 0.5.
const eventCostRatio = 2

// defaultSimChunk is the largest chunk a Simulator picks when Config.Chunk
// is 0. Layers with large weights read each block of weights once per
// chunk and step (see eventSyn.accumulateChunk), so larger chunks save
// weight traffic; on vgg16h 16 ran up to 10 % faster than 8 (about this
// VM's noise) and 32 no faster, with twice the state per worker.
const defaultSimChunk = 16

// chunking returns the chunk size and chunk count for n images on workers
// goroutines: cfgChunk if set, else the fewest chunks of at most
// maxChunk images that is a multiple of workers, so that every
// worker gets work and the same amount of it.
func chunking(cfgChunk, maxChunk, n, workers int) (chunk, nchunks int) {
	if cfgChunk > 0 {
		return cfgChunk, (n + cfgChunk - 1) / cfgChunk
	}
	per := workers * maxChunk
	nchunks = workers * ((n + per - 1) / per)
	chunk = max(1, (n+nchunks-1)/nchunks)
	return chunk, (n + chunk - 1) / chunk
}

func checkConfig(cfg Config) error {
	if cfg.T < 1 || cfg.T > MaxT {
		return fmt.Errorf("T = %d, want 1..%d", cfg.T, MaxT)
	}
	if cfg.Encoding != Direct && cfg.Encoding != Poisson {
		return fmt.Errorf("unknown encoding %d", int(cfg.Encoding))
	}
	return nil
}

// NewSimulator validates m and cfg and prepares a Simulator. With
// cfg.Chunk 0, every Run picks chunks of at most 16 images that share the
// images evenly among the workers; cfg.Workers is read at every Run (0:
// GOMAXPROCS).
func NewSimulator(m *Model, cfg Config) (*Simulator, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if err := checkConfig(cfg); err != nil {
		return nil, fmt.Errorf("snnrt: NewSimulator: %w", err)
	}
	if cfg.Exit != nil {
		if err := cfg.Exit.Validate(); err != nil {
			return nil, fmt.Errorf("snnrt: NewSimulator: %w", err)
		}
		if cfg.Observe != nil {
			return nil, fmt.Errorf("snnrt: NewSimulator: Observe cannot be combined with an exit policy (images leave their chunk's order)")
		}
		p := *cfg.Exit // the Simulator's own copy
		cfg.Exit = &p
	}
	s := &Simulator{m: m, cfg: cfg, chunk: cfg.Chunk, costRatio: eventCostRatio, asm: haveEventAsm(), lut: newPackLUT()}
	if s.chunk <= 0 {
		s.chunk = defaultSimChunk
	}
	var err error
	if s.chunk, _, err = fitMemory(m.ImageBytes(), s.chunk, 1, cfg.MaxBytes); err != nil {
		return nil, err
	}
	s.fan = fanouts(m)
	s.spiking = spikingOutputs(m, cfg.Encoding == Poisson)
	s.macs = sourceMACs(m, s.fan, s.spiking)
	s.layers = make([]simLayer, len(m.Layers))
	s.prof = make([]LayerProfile, len(m.Layers))
	for i := range m.Layers {
		s.prepareLayer(i)
	}
	s.planLayouts()
	return s, nil
}

func (s *Simulator) isConstant(src int) bool {
	if src == InputIndex {
		return s.cfg.Encoding == Direct
	}
	return s.layers[src].constant
}

func (s *Simulator) prepareLayer(i int) {
	l, sl := &s.m.Layers[i], &s.layers[i]
	switch l.Kind {
	case KindIF:
		sl.exec = execIF
		sl.theta = make([]float32, l.Shape.C)
		sl.v0 = make([]float32, l.Shape.C)
		for c := range sl.theta {
			sl.theta[c], sl.v0[c] = l.IF.theta(c), l.IF.v0(c)
		}
		return
	case KindMaxPool:
		sl.exec = execMaxPool
		return
	}
	sl.constant = true
	for _, src := range l.Inputs {
		sl.constant = sl.constant && s.isConstant(src)
	}
	g := l.Conv
	if l.Kind == KindLinear {
		g = linearGeom(l, s.m.shapeOf(l.Inputs[0]).Len())
	}
	switch {
	case l.Kind != KindConv && l.Kind != KindLinear:
	case !s.cfg.Dense && s.spiking[l.Inputs[0]+1] && i != s.m.Output:
		// The output integrator stays dense: it is small (a few outputs
		// per image), so event lists cost more than they save there.
		sl.exec = execEvent
		sl.constant = false
		sl.ev = newEventSyn(g, l.W, l.B)
	default:
		sl.conv = kernels.NewConv(g, l.W, l.B)
	}
}

// planLayouts chooses NHWC for event accumulators and the IF layers behind
// them, and marks which NCHW maps must be materialised.
func (s *Simulator) planLayouts() {
	m := s.m
	for i := range m.Layers {
		l, sl := &m.Layers[i], &s.layers[i]
		switch sl.exec {
		case execEvent:
			sl.nhwc = true
		case execIF:
			src := l.Inputs[0]
			if src != InputIndex && !s.cfg.Dense && (s.layers[src].exec == execEvent || s.layers[src].constant) {
				sl.nhwc = true
				s.layers[src].needNHWC = s.layers[src].constant
				hw := l.Shape.H * l.Shape.W
				sl.fan = make([]int64, l.Shape.Len())
				for j, f := range s.fan[i+1] {
					sl.fan[(j%hw)*l.Shape.C+j/hw] = f
				}
				sl.fanPos = make([]int64, hw)
				for q := range sl.fanPos {
					row := sl.fan[q*l.Shape.C : (q+1)*l.Shape.C]
					sl.fanPos[q] = row[0]
					if slices.Min(row) != row[0] || slices.Max(row) != row[0] {
						sl.fanPos = nil
						break
					}
				}
			}
		}
	}
	for i := range m.Layers {
		l, sl := &m.Layers[i], &s.layers[i]
		if l.Kind == KindAvgPool && !s.cfg.Dense && s.emitsEvents(l.Inputs[0]) {
			sl.exec, sl.nhwc, sl.constant = execPoolEv, true, false
			sl.pool = newEvPool(l.Pool)
		}
	}
	for j := range m.Layers {
		lj, sj := &m.Layers[j], &s.layers[j]
		for _, src := range lj.Inputs {
			if src == InputIndex {
				continue
			}
			ss := &s.layers[src]
			switch {
			case (sj.exec == execEvent || sj.exec == execPoolEv) && s.emitsEvents(src):
				sj.fromEvents = true
			case sj.exec == execIF && sj.nhwc:
			default:
				ss.needDense = true
			}
		}
	}
	s.layers[m.Output].needDense = true
	if s.cfg.Observe != nil {
		for i := range s.layers {
			s.layers[i].needDense = true
		}
	}
	for i, l := range m.Layers {
		sl := &s.layers[i]
		sl.alias = l.Kind == KindFlatten && l.Inputs[0] != InputIndex
		if sl.needNHWC && !sl.needDense && l.Kind == KindConv {
			if g := l.Conv; !(one(g.Group) == g.C && g.C == g.K) { // not depthwise
				sl.convNHWC = kernels.NewConvNHWC(g, l.W, l.B)
			}
		}
	}
	readers := make([]int, len(m.Layers))
	for _, l := range m.Layers {
		for _, src := range l.Inputs {
			if src != InputIndex {
				readers[src]++
			}
		}
	}
	for i := 0; i+1 < len(m.Layers); i++ {
		sl, next := &s.layers[i], &s.layers[i+1]
		sl.fuseIF = sl.exec == execEvent && !sl.ev.tapMajor && !sl.needDense && readers[i] == 1 &&
			next.exec == execIF && next.nhwc && m.Layers[i+1].Inputs[0] == i
	}
}

// emitsEvents reports whether layer src (≥ 0) produces per-image event
// lists: NHWC IF layers and event-driven average pooling.
func (s *Simulator) emitsEvents(src int) bool {
	if src == InputIndex {
		return false
	}
	l := &s.layers[src]
	return (l.exec == execIF && l.nhwc) || l.exec == execPoolEv
}

// Profile returns a copy of the per-layer costs accumulated since
// NewSimulator or the last ResetProfile, indexed like Model.Layers.
func (s *Simulator) Profile() []LayerProfile {
	return append([]LayerProfile(nil), s.prof...)
}

// ResetProfile sets the accumulated per-layer costs to zero.
func (s *Simulator) ResetProfile() { clear(s.prof) }

// Run simulates n images x ([n, Input] in NCHW order) for Config.T steps
// and returns a new Result, as the package-level Run does. Images are
// split into chunks (Config.Chunk, or see NewSimulator) over
// Config.Workers goroutines; every image is simulated on its own (event
// lists, dense fallbacks and neuron updates are per image, dense kernels
// are bit-identical whatever the batch), so every output is bit-identical
// whatever the worker count and chunk size.
//
// It returns an error if len(x) != n·Input.Len() or x holds a non-finite
// value.
func (s *Simulator) Run(x []float32, n int) (*Result, error) {
	return s.RunContext(context.Background(), x, n)
}

// RunContext is Run that stops when ctx is done: every worker checks it
// before each chunk and each time step, and RunContext then returns
// ctx.Err() (wrapped) and no Result.
func (s *Simulator) RunContext(ctx context.Context, x []float32, n int) (*Result, error) {
	m, cfg := s.m, s.cfg
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("snnrt: Simulator.Run: %w", err)
	}
	if err := checkInput(m, x, n); err != nil {
		return nil, fmt.Errorf("snnrt: Simulator.Run: %w", err)
	}
	r := newResult(m, n, cfg.T)
	if cfg.Exit != nil {
		r.Steps = make([]int, n)
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	fixed := 0
	if cfg.Chunk > 0 {
		fixed = s.chunk // cfg.Chunk within the memory budget
	}
	_, workers, _ = fitMemory(m.ImageBytes(), s.chunk, workers, cfg.MaxBytes)
	chunk, nchunks := chunking(fixed, min(s.chunk, defaultSimChunk), n, workers)
	workers = max(1, min(workers, nchunks))
	for len(s.workers) < workers {
		s.workers = append(s.workers, s.newWorker())
	}
	ws := s.workers[:workers]
	for _, w := range ws {
		w.resetStats()
		w.done = ctx.Done()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for _, wk := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if cfg.Profile {
				profLock()
				defer profUnlock()
			}
			for {
				c := int(next.Add(1) - 1)
				if c >= nchunks || ctx.Err() != nil {
					return
				}
				first := c * chunk
				wk.simulate(r, x, first, min(chunk, n-first))
			}
		}()
	}
	wg.Wait()
	for _, w := range ws {
		w.done = nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("snnrt: Simulator.Run: %w", err)
	}
	for _, w := range ws {
		r.addStats(&w.runStats)
		for i, p := range w.prof {
			s.prof[i].Time += p.Time
			s.prof[i].Event += p.Event
			s.prof[i].Dense += p.Dense
		}
	}
	return r, nil
}
