package snnrt

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/ann2snn/ann2snn/internal/kernels"
)

// Encoding says how the analog input image becomes input current.
// The zero value is Direct.
type Encoding uint8

const (
	// Direct feeds the analog image x as input current at every step; the
	// first layer does dense multiply-accumulates (counted as MACs).
	Direct Encoding = iota
	// Poisson feeds, at every step and for every pixel independently, a
	// spike of value sign(x) with probability min(|x|, 1), else 0: rate
	// coding of |x| clipped to [0,1], so the expected input is
	// clip(x, −1, 1). Inputs should be scaled to [−1, 1] (or [0, 1]) for the
	// SNN to match the ANN. The random stream of image i (global index in
	// the batch) is PCG(Config.Seed, i), so results do not depend on how
	// the batch is split.
	Poisson
)

// String returns "direct" or "poisson".
func (e Encoding) String() string {
	switch e {
	case Direct:
		return "direct"
	case Poisson:
		return "poisson"
	}
	return fmt.Sprintf("Encoding(%d)", int(e))
}

// MaxT bounds Config.T.
const MaxT = 1 << 20

// Config controls Run. The zero value is not runnable: T must be set.
type Config struct {
	// T is the number of time steps, 1 ≤ T ≤ MaxT.
	T int
	// Encoding is the input encoding; the zero value is Direct.
	Encoding Encoding
	// Seed seeds the Poisson encoder (unused for Direct).
	Seed uint64
	// Workers is the number of goroutines; 0 means GOMAXPROCS. Results do
	// not depend on it.
	Workers int
	// Chunk is the number of images a worker simulates together; 0 means
	// 16 for Run, and for a Simulator chunks of at most 16 that share the
	// images evenly among the workers. Results do not depend on it.
	Chunk int
	// MaxBytes bounds the activation and state memory of all workers
	// together, estimated as workers·chunk·Model.ImageBytes(); 0 means
	// DefaultMaxBytes. Chunk, then Workers, are lowered to fit it.
	// Results do not depend on it.
	MaxBytes int64
	// Observe, if not nil, is called after every layer at every step with
	// the layer's output for images first..first+n−1 ([n, Shape], valid
	// only during the call), and with layer == InputIndex for the encoded
	// input current. Steps t count from 1. It is called concurrently from
	// several workers (with disjoint image ranges) and must be safe for
	// that.
	Observe func(layer, t, first, n int, out []float32)
	// Dense makes a Simulator evaluate every synaptic layer with dense
	// GEMMs at every step, switching its event-driven path off (for
	// comparison). Run, the reference, is always dense and ignores it.
	Dense bool
	// Profile makes a Simulator measure the time spent in every layer
	// (see Simulator.Profile). Run ignores it.
	Profile bool
	// Exit, if not nil, makes a Simulator run adaptive time: after every
	// step each image's accumulated output is checked against the policy,
	// and an image that exits stops there (T is then the largest number of
	// steps). An exited image costs nothing more: the Simulator's chunks
	// keep only their live images, so events, SOPs, MACs and time fall
	// with it. Its logits stay at their value at the exit step for the
	// later steps (Result.Logits(T) holds every image's answer), and
	// Result.Steps records the exit steps; see ExitPolicy.Steps for the
	// definition. Run, the reference, refuses it; Observe cannot be
	// combined with it.
	Exit *ExitPolicy
}

// Run simulates the SNN m on n images x ([n, m.Input] in NCHW order) for
// cfg.T steps: every layer is evaluated at every step in topological order
// (IF neurons charge, fire and reset; the other layers are applied to their
// inputs' current-step values, with biases added every step); the value of
// the output layer is accumulated, and the accumulated value after every
// step is kept in the Result. Images are split into chunks over
// cfg.Workers goroutines; every output is bit-identical whatever the
// worker count and chunk size.
//
// It returns an error if m is invalid, len(x) != n·m.Input.Len(), x holds a
// non-finite value or cfg is out of range.
func Run(m *Model, x []float32, n int, cfg Config) (*Result, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if cfg.T < 1 || cfg.T > MaxT {
		return nil, fmt.Errorf("snnrt: Run: T = %d, want 1..%d", cfg.T, MaxT)
	}
	if cfg.Encoding != Direct && cfg.Encoding != Poisson {
		return nil, fmt.Errorf("snnrt: Run: unknown encoding %d", int(cfg.Encoding))
	}
	if err := checkInput(m, x, n); err != nil {
		return nil, fmt.Errorf("snnrt: Run: %w", err)
	}
	if cfg.Exit != nil {
		return nil, fmt.Errorf("snnrt: Run: an exit policy needs a Simulator (Run is the fixed-T reference; see ExitPolicy.Steps)")
	}
	chunk := cfg.Chunk
	if chunk <= 0 {
		chunk = 16
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	chunk, workers, err := fitMemory(m.ImageBytes(), chunk, workers, cfg.MaxBytes)
	if err != nil {
		return nil, err
	}
	nchunks := (n + chunk - 1) / chunk
	workers = max(1, min(workers, nchunks))

	p := newPlan(m, cfg, min(chunk, n))
	r := newResult(m, n, cfg.T)
	var next atomic.Int64
	ws := make([]*worker, workers)
	var wg sync.WaitGroup
	for w := range ws {
		ws[w] = newWorker(p, min(chunk, n))
		wg.Add(1)
		go func(wk *worker) {
			defer wg.Done()
			for {
				c := int(next.Add(1) - 1)
				if c >= nchunks {
					return
				}
				first := c * chunk
				wk.simulate(r, x, first, min(chunk, n-first))
			}
		}(ws[w])
	}
	wg.Wait()
	for _, w := range ws {
		r.addStats(&w.runStats)
	}
	return r, nil
}

func checkInput(m *Model, x []float32, n int) error {
	if n < 0 || len(x) != n*m.Input.Len() {
		return fmt.Errorf("len(x) = %d, want n·%v = %d", len(x), m.Input, max(n, 0)*m.Input.Len())
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("input element %d (image %d) = %v is not finite", i, i/m.Input.Len(), v)
		}
	}
	return nil
}

// plan holds what every worker shares read-only.
type plan struct {
	m       *Model
	cfg     Config
	fan     [][]int64 // per source, index layer+1
	macs    []int64   // dense MACs per image per step of an analog source, index layer+1
	spiking []bool    // index layer+1
	convs   []*kernels.Conv
	wsLen   int // conv workspace per worker
}

func newPlan(m *Model, cfg Config, chunk int) *plan {
	p := &plan{m: m, cfg: cfg, fan: fanouts(m), spiking: spikingOutputs(m, cfg.Encoding == Poisson)}
	p.convs, p.wsLen = prepareConvs(m, chunk)
	p.macs = sourceMACs(m, p.fan, p.spiking)
	return p
}

// sourceMACs returns, per source (index layer+1, 0 = input), the dense MACs
// per image per step that its analog output causes.
func sourceMACs(m *Model, fan [][]int64, spiking []bool) []int64 {
	macs := make([]int64, len(fan))
	for i, f := range fan {
		if spiking[i] {
			continue
		}
		kind := Kind(0)
		if i > 0 {
			kind = m.Layers[i-1].Kind
		}
		if i == 0 || kind == KindConv || kind == KindLinear || kind == KindMaxPool {
			for _, v := range f {
				macs[i] += v
			}
		}
	}
	return macs
}

// worker owns the buffers and state for a chunk of up to cap images.
type worker struct {
	p        *plan
	outs     [][]float32 // per layer output at the current step
	v        [][]float32 // IF membranes; MaxPool cumulative inputs
	cnt      [][]int32   // IF running spike counts
	prev     [][]float32 // MaxPool previous maxima
	in       []float32   // encoded input (Poisson)
	acc      []float32   // accumulated output
	ins      [][]float32
	inShapes []Shape
	rngs     []*rand.Rand
	ws       []float32 // conv workspace
	runStats
}

func newWorker(p *plan, capacity int) *worker {
	m := p.m
	w := &worker{p: p, runStats: newRunStats(len(m.Layers), p.cfg.T)}
	nl := len(m.Layers)
	w.outs = make([][]float32, nl)
	w.v = make([][]float32, nl)
	w.cnt = make([][]int32, nl)
	w.prev = make([][]float32, nl)
	for i := range m.Layers {
		l := &m.Layers[i]
		w.outs[i] = make([]float32, capacity*l.Shape.Len())
		switch l.Kind {
		case KindIF:
			w.v[i] = make([]float32, capacity*l.Shape.Len())
			w.cnt[i] = make([]int32, capacity*l.Shape.Len())
		case KindMaxPool:
			w.v[i] = make([]float32, capacity*m.shapeOf(l.Inputs[0]).Len())
			w.prev[i] = make([]float32, capacity*l.Shape.Len())
		}
	}
	if p.cfg.Encoding == Poisson {
		w.in = make([]float32, capacity*m.Input.Len())
	}
	w.acc = make([]float32, capacity*m.Layers[m.Output].Shape.Len())
	w.ws = make([]float32, p.wsLen)
	return w
}

// simulate runs images first..first+nimg−1 for T steps and writes their
// accumulated outputs into r.
func (w *worker) simulate(r *Result, x []float32, first, nimg int) {
	m, cfg := w.p.m, w.p.cfg
	inLen := m.Input.Len()
	xs := x[first*inLen : (first+nimg)*inLen]
	for i := range m.Layers {
		l := &m.Layers[i]
		switch l.Kind {
		case KindIF:
			l.IF.init(w.v[i], w.cnt[i], l.Shape, nimg)
		case KindMaxPool:
			clear(w.v[i])
			clear(w.prev[i])
		}
	}
	if cfg.Encoding == Poisson {
		w.rngs = w.rngs[:0]
		for i := 0; i < nimg; i++ {
			w.rngs = append(w.rngs, rand.New(rand.NewPCG(cfg.Seed, uint64(first+i))))
		}
	}
	classes := m.Layers[m.Output].Shape.Len()
	acc := w.acc[:nimg*classes]
	clear(acc)
	for t := 0; t < cfg.T; t++ {
		cur := xs
		if cfg.Encoding == Poisson {
			cur = w.in[:nimg*inLen]
			ev, sops := poissonStep(cur, xs, w.rngs, inLen, w.p.fan[0])
			w.addSpikes(InputIndex, t, ev, sops)
		}
		if cfg.Observe != nil {
			cfg.Observe(InputIndex, t+1, first, nimg, cur)
		}
		for i := range m.Layers {
			w.layerStep(i, t, cur, nimg)
			if cfg.Observe != nil {
				cfg.Observe(i, t+1, first, nimg, w.outs[i][:nimg*m.Layers[i].Shape.Len()])
			}
		}
		for j, v := range w.outs[m.Output][:nimg*classes] {
			acc[j] += v
		}
		copy(r.acc[(t*r.N+first)*classes:], acc)
		w.addMACs(w.p.macs, nimg, t)
	}
}

// layerStep evaluates layer i at step t (0-based) for nimg images; cur is
// the current input.
func (w *worker) layerStep(i, t int, cur []float32, nimg int) {
	m := w.p.m
	l := &m.Layers[i]
	w.ins, w.inShapes = w.ins[:0], w.inShapes[:0]
	for _, src := range l.Inputs {
		if src == InputIndex {
			w.ins = append(w.ins, cur)
		} else {
			w.ins = append(w.ins, w.outs[src][:nimg*m.Layers[src].Shape.Len()])
		}
		w.inShapes = append(w.inShapes, m.shapeOf(src))
	}
	dst := w.outs[i][:nimg*l.Shape.Len()]
	switch l.Kind {
	case KindIF:
		sp, sops := l.IF.step(dst, w.v[i], w.cnt[i], w.ins[0], l.Shape, nimg, w.p.fan[i+1])
		w.addSpikes(i, t, sp, sops)
	case KindMaxPool:
		ev := maxPoolStep(dst, w.ins[0], w.v[i], w.prev[i], nimg, l.Pool, l.MaxPool)
		if w.p.spiking[i+1] {
			w.addSpikes(i, t, ev, eventSOPs(dst, w.p.fan[i+1], l.Shape.Len()))
		}
	default:
		denseForward(l, w.p.convs[i], w.ws, dst, w.ins, w.inShapes, nimg)
	}
}

// eventSOPs returns Σ over non-zero elements of fan (per-image length per).
func eventSOPs(out []float32, fan []int64, per int) int64 {
	var s int64
	for j, v := range out {
		if v != 0 {
			s += fan[j%per]
		}
	}
	return s
}

// poissonStep draws one step of Poisson input for the chunk into dst.
func poissonStep(dst, x []float32, rngs []*rand.Rand, per int, fan []int64) (events, sops int64) {
	for i, rng := range rngs {
		xs, ds := x[i*per:(i+1)*per], dst[i*per:(i+1)*per]
		for j, v := range xs {
			u := rng.Float32()
			a := v
			sign := float32(1)
			if a < 0 {
				a, sign = -a, -1
			}
			if u < a {
				ds[j] = sign
				events++
				sops += fan[j]
			} else {
				ds[j] = 0
			}
		}
	}
	return events, sops
}
