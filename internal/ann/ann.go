package ann

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/kernels"
)

// Executor runs one graph. It is safe for concurrent use: Forward keeps all
// per-call state on its own stack.
type Executor struct {
	g        *importer.Graph
	input    string
	inShape  []int // per-image input shape (batch dimension removed)
	outShape []int // per-image output shape
	lastUse  map[string]int
	workers  int
	// batchMajor: the values whose first dimension is the batch (their
	// shape at batch 2 is their shape at batch 1 with 2 for 1), which
	// Forward can keep from a batch cut between workers.
	batchMajor map[string]bool
	helpers    *workerPool                 // workers−1 goroutines for Forward (nil with one worker)
	folded     map[string]*importer.Tensor // values of nodes with constant inputs, computed by New
	steps      []step                      // the execution plan (plan.go)
	arenas     sync.Pool                   // *arena: buffers reused across steps and calls
}

// New checks that g has exactly one input whose per-image shape is fixed
// (only the batch dimension may be dynamic), infers all shapes and returns
// an executor for it. Workers is GOMAXPROCS at the time of the call: Run
// and Forward cut a batch into that many pieces, and GOMAXPROCS−1 helper
// goroutines, which poll for work for a moment after each call (see
// workerPool) and end when the executor is garbage collected, run all but
// the caller's piece.
func New(g *importer.Graph) (*Executor, error) { return newExecutor(g, true) }

// newExecutor is New; with fuse false it runs every node with importer.Eval
// (no folding, no prepared convolutions, no fusion), the reference the tests
// compare the fused plan with.
func newExecutor(g *importer.Graph, fuse bool) (*Executor, error) {
	if len(g.Inputs) != 1 {
		return nil, fmt.Errorf("ann: graph has %d runtime inputs, want exactly 1", len(g.Inputs))
	}
	if len(g.Outputs) != 1 {
		return nil, fmt.Errorf("ann: graph has %d outputs, want exactly 1", len(g.Outputs))
	}
	in := g.Inputs[0]
	if len(in.Shape) < 2 {
		return nil, fmt.Errorf("ann: input %q has shape %v, want a batch dimension and at least one more", in.Name, in.Shape)
	}
	inShape := append([]int(nil), in.Shape[1:]...)
	for _, d := range inShape {
		if d <= 0 {
			return nil, fmt.Errorf("ann: input %q has shape %v: only the batch dimension may be dynamic", in.Name, in.Shape)
		}
	}
	shapes, err := g.InferShapes(append([]int{1}, inShape...))
	if err != nil {
		return nil, err
	}
	out := shapes[g.Outputs[0]]
	if len(out) == 0 || out[0] != 1 {
		return nil, fmt.Errorf("ann: output %q has shape %v for a batch of 1", g.Outputs[0], out)
	}
	e := &Executor{
		g:        g,
		input:    in.Name,
		inShape:  inShape,
		outShape: append([]int(nil), out[1:]...),
		lastUse:  map[string]int{},
		workers:  runtime.GOMAXPROCS(0),
	}
	for i, n := range g.Nodes {
		for _, name := range n.Inputs {
			e.lastUse[name] = i
		}
	}
	for _, o := range g.Outputs {
		e.lastUse[o] = len(g.Nodes)
	}
	e.batchMajor = batchMajorValues(g, shapes, inShape)
	if err := e.plan(shapes, fuse); err != nil {
		return nil, err
	}
	e.arenas.New = func() any { return new(arena) }
	if e.workers > 1 {
		e.helpers = newWorkerPool(e.workers - 1)
		runtime.AddCleanup(e, func(p *workerPool) { p.stop() }, e.helpers)
	}
	return e, nil
}

// InputShape returns the per-image input shape, e.g. [3 32 32].
func (e *Executor) InputShape() []int { return append([]int(nil), e.inShape...) }

// OutputShape returns the per-image output shape, e.g. [10].
func (e *Executor) OutputShape() []int { return append([]int(nil), e.outShape...) }

// Graph returns the graph e runs.
func (e *Executor) Graph() *importer.Graph { return e.g }

// Run evaluates the graph on n images x (NCHW, len(x) == n·prod(InputShape))
// and returns the output, n·prod(OutputShape) values in batch order.
func (e *Executor) Run(x []float32, n int) ([]float32, error) {
	out, _, err := e.Forward(x, n, nil)
	return out, err
}

// Forward is Run that also returns the values named in keep, each as a
// tensor with the batch as its first dimension; constants, and values that
// do not depend on the batch (shapes computed from the image size), as
// they are; the values computed from the batch without it as their first
// dimension (a Shape of the input) as computed for the whole batch, which
// then runs on one worker. Names that are not values of the graph are an
// error.
func (e *Executor) Forward(x []float32, n int, keep []string) ([]float32, map[string]*importer.Tensor, error) {
	per := importer.NumElements(e.inShape)
	if n <= 0 || len(x) != n*per {
		return nil, nil, fmt.Errorf("ann: got %d input values for %d images of shape %v", len(x), n, e.inShape)
	}
	for _, k := range keep {
		if _, ok := e.lastUse[k]; !ok && k != e.input {
			if _, c := e.g.Consts[k]; !c && !e.produces(k) {
				return nil, nil, fmt.Errorf("ann: %q is not a value of the graph", k)
			}
		}
	}
	// Cut the batch into contiguous chunks, one per worker; on one worker
	// when a value to keep does not have the batch as its first dimension
	// (a Shape of the input: each chunk would have its own).
	w := min(e.workers, n)
	for _, k := range keep {
		if !e.batchMajor[k] && e.constant(k) == nil {
			w = 1
		}
	}
	outPer := importer.NumElements(e.outShape)
	out := make([]float32, n*outPer)
	type part struct {
		kept map[string]*importer.Tensor
		err  error
	}
	parts := make([]part, w)
	run := func(i int) {
		lo, hi := i*n/w, (i+1)*n/w
		p := &parts[i]
		p.kept, p.err = e.chunk(out[lo*outPer:hi*outPer], x[lo*per:hi*per], hi-lo, keep, nil, nil)
	}
	// The helpers run the first w−1 chunks, the calling goroutine the last
	// (one core needs no helper at all); see workerPool for why they poll.
	var pending atomic.Int64
	pending.Store(int64(w - 1))
	for i := range w - 1 {
		e.helpers.jobs <- func() {
			run(i)
			pending.Add(-1)
		}
	}
	run(w - 1)
	waitPending(&pending)
	for _, p := range parts {
		if p.err != nil {
			return nil, nil, p.err
		}
	}
	if len(keep) == 0 {
		return out, nil, nil
	}
	kept := make(map[string]*importer.Tensor, len(keep))
	for _, k := range keep {
		if t := e.constant(k); t != nil {
			kept[k] = t // the same in every chunk
			continue
		}
		if w == 1 {
			kept[k] = parts[0].kept[k]
			continue
		}
		t := &importer.Tensor{Shape: append([]int{n}, parts[0].kept[k].Shape[1:]...)}
		for _, p := range parts {
			t.Data = append(t.Data, p.kept[k].Data...)
			t.Ints = append(t.Ints, p.kept[k].Ints...)
		}
		kept[k] = t
	}
	return out, kept, nil
}

// batchMajorValues returns the values of g whose first dimension is the
// batch: shapes holds every value's shape at batch 1; a value is batch
// major when its shape at batch 2 is the same with 2 for its leading 1.
// If the graph's shapes cannot be inferred at batch 2, none is.
func batchMajorValues(g *importer.Graph, shapes map[string][]int, inShape []int) map[string]bool {
	two, err := g.InferShapes(append([]int{2}, inShape...))
	if err != nil {
		return nil
	}
	bm := make(map[string]bool, len(two))
	for name, s2 := range two {
		s1 := shapes[name]
		bm[name] = len(s1) > 0 && len(s2) == len(s1) && s1[0] == 1 && s2[0] == 2 && slices.Equal(s1[1:], s2[1:])
	}
	return bm
}

// constant returns the value of the constant name (folded by the plan or
// an initialiser), or nil.
func (e *Executor) constant(name string) *importer.Tensor {
	if t, ok := e.folded[name]; ok {
		return t
	}
	return e.g.Consts[name]
}

func (e *Executor) produces(name string) bool {
	for _, n := range e.g.Nodes {
		for _, o := range n.Outputs {
			if o == name {
				return true
			}
		}
	}
	return false
}

// chunk runs the whole graph on n images and copies the output into dst
// (n·prod(OutputShape) values). prof, when not nil, receives the time of
// each step of the plan as measured by clock (nanoseconds, added).
func (e *Executor) chunk(dst, x []float32, n int, keep []string, prof []int64, clock func() int64) (map[string]*importer.Tensor, error) {
	env := make(map[string]*importer.Tensor, len(e.g.Nodes)+1)
	env[e.input] = &importer.Tensor{Shape: append([]int{n}, e.inShape...), Data: x}
	kept := make(map[string]*importer.Tensor, len(keep))
	want := make(map[string]bool, len(keep))
	for _, k := range keep {
		want[k] = true
		if k == e.input {
			kept[k] = env[k]
		}
		if t, ok := e.folded[k]; ok {
			kept[k] = t
		}
	}
	lookup := func(name string) *importer.Tensor {
		if t, ok := env[name]; ok {
			return t
		}
		return e.constant(name)
	}
	store := func(name string, t *importer.Tensor) {
		env[name] = t
		if want[name] {
			kept[name] = t
		}
	}
	ar := e.arenas.Get().(*arena)
	defer e.arenas.Put(ar)
	ws := ar.get(e.workspaceLen(n))
	defer ar.put(ws)
	ins := make([]*importer.Tensor, 0, 4)
	for si := range e.steps {
		s := &e.steps[si]
		var t0 int64
		if prof != nil {
			t0 = clock()
		}
		unfused := false
		for _, v := range s.inner {
			unfused = unfused || want[v]
		}
		if s.add && !unfused {
			node := e.g.Nodes[s.nodes[0]]
			at, bt := lookup(node.Inputs[0]), lookup(node.Inputs[1])
			for i, t := range []*importer.Tensor{at, bt} {
				if err := checkInput(t, node, node.Inputs[i], n, s.inPer); err != nil {
					return nil, err
				}
			}
			out := ar.tensor(n, s.outPer)
			addPlanes(out, at.Data, bt.Data, s.ep)
			store(s.out, out)
		} else if s.pool != nil && !unfused {
			node := e.g.Nodes[s.nodes[0]]
			xt := lookup(node.Inputs[0])
			if err := checkInput(xt, node, node.Inputs[0], n, s.inPer); err != nil {
				return nil, err
			}
			out := ar.tensor(n, s.outPer)
			kernels.AvgPool(out.Data, xt.Data, n, *s.pool)
			if s.ep != nil {
				s.ep.applyTensor(out)
			}
			store(s.out, out)
		} else if s.dense != nil && !unfused {
			node := e.g.Nodes[s.nodes[0]]
			xt := lookup(s.src)
			if err := checkInput(xt, node, s.src, n, s.inPer); err != nil {
				return nil, err
			}
			out := ar.tensor(n, s.outPer)
			var ep kernels.RowEpilogue
			if s.ep != nil {
				ep = s.ep
			}
			s.dense.ForwardEpilogue(out.Data, xt.Data, n, ws, ep)
			store(s.out, out)
		} else if s.conv != nil && !unfused {
			node := e.g.Nodes[s.nodes[0]]
			xt := lookup(node.Inputs[0])
			if err := checkInput(xt, node, node.Inputs[0], n, s.inPer); err != nil {
				return nil, err
			}
			out := ar.tensor(n, s.outPer)
			var ep kernels.Epilogue
			if s.ep != nil {
				ep = s.ep
			}
			if s.post != nil {
				convPool(s, out.Data, xt.Data, n, ws, ar, ep)
			} else {
				s.conv.ForwardEpilogue(out.Data, xt.Data, n, ws, ep)
			}
			store(s.out, out)
		} else {
			nodes := s.nodes
			if !unfused && s.ep != nil {
				nodes = nodes[:1]
			}
			for _, i := range nodes {
				node := e.g.Nodes[i]
				ins = ins[:0]
				for _, name := range node.Inputs {
					if name == "" {
						ins = append(ins, nil)
						continue
					}
					t := lookup(name)
					if t == nil {
						return nil, fmt.Errorf("ann: node %s: input %q has no value", node, name)
					}
					ins = append(ins, t)
				}
				outs, err := importer.Eval(node, ins)
				if err != nil {
					return nil, fmt.Errorf("ann: %w", err)
				}
				for j, name := range node.Outputs {
					if name == "" || j >= len(outs) {
						continue
					}
					if len(nodes) < len(s.nodes) {
						// The chain runs in place on the producer's fresh output.
						if outs[j].IsInt() {
							return nil, fmt.Errorf("ann: node %s: integer output feeds a fused float chain", node)
						}
						s.ep.applyTensor(outs[j])
						name = s.out
					}
					store(name, outs[j])
				}
			}
		}
		// Drop values whose last reader has run, to bound memory; their
		// buffers serve later steps (never the caller's input or a kept
		// value, which outlive the chunk).
		for _, i := range s.nodes {
			for _, name := range e.g.Nodes[i].Inputs {
				if e.lastUse[name] != i {
					continue
				}
				if t, ok := env[name]; ok && name != e.input && !want[name] && t.Data != nil {
					ar.put(t.Data)
				}
				delete(env, name)
			}
		}
		if prof != nil {
			prof[si] += clock() - t0
		}
	}
	name := e.g.Outputs[0]
	out := env[name]
	if out == nil {
		return nil, fmt.Errorf("ann: output %q was not computed", name)
	}
	if len(out.Data) != len(dst) || out.IsInt() {
		return nil, fmt.Errorf("ann: output %q has shape %v, want %v", name, out.Shape, append([]int{n}, e.outShape...))
	}
	copy(dst, out.Data)
	// The output's buffer serves the next call, so that a steady stream of
	// batches allocates no layer output (unless it is the caller's input, a
	// constant or a kept value).
	if _, folded := e.folded[name]; name != e.input && !folded && e.g.Consts[name] == nil && !want[name] {
		ar.put(out.Data)
	}
	return kept, nil
}

// checkInput returns an error naming node and its input name unless t, the
// value a prepared step reads, is a float tensor of shape [n, per...].
func checkInput(t *importer.Tensor, node *importer.Node, name string, n int, per []int) error {
	if t == nil || t.IsInt() || !sameShape(t.Shape, n, per) {
		return fmt.Errorf("ann: node %s: input %q is not a float tensor of shape %v", node, name, append([]int{n}, per...))
	}
	return nil
}

// sameShape reports whether shape is [n, per...].
func sameShape(shape []int, n int, per []int) bool {
	if len(shape) != len(per)+1 || shape[0] != n {
		return false
	}
	for i, d := range per {
		if shape[i+1] != d {
			return false
		}
	}
	return true
}

// addPlanes sets out = a + b (float32, element by element) and applies ep
// (if not nil) to each channel plane right after it is summed.
func addPlanes(out *importer.Tensor, a, b []float32, ep *chain) {
	inner := importer.NumElements(out.Shape[2:])
	k := out.Shape[1]
	d := out.Data
	for r := 0; r < out.Shape[0]*k; r++ {
		lo, hi := r*inner, (r+1)*inner
		dp, ap, bp := d[lo:hi], a[lo:hi], b[lo:hi]
		for i := range dp {
			dp[i] = ap[i] + bp[i]
		}
		if ep != nil {
			ep.Apply(r%k, dp)
		}
	}
}
