package ann

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/kernels"
)

// step is one unit of the execution plan: a producer node, run as a
// prepared convolution, a prepared fully connected layer, a prepared
// average pool or with importer.Eval, followed by the elementwise nodes
// fused into its store.
type step struct {
	nodes  []int             // graph node indices: the producer (a Flatten and its Gemm when dense reads through it), then the fused nodes in chain order
	conv   convKernel        // prepared convolution of the producer: kernels.Conv, or kernels.Winograd (winograd.go) (nil: importer.Eval)
	dense  *kernels.Dense    // prepared Gemm of the producer (nil: importer.Eval)
	src    string            // the value a prepared Gemm reads (its input, or the input of the Flatten folded into it)
	pool   *kernels.PoolGeom // prepared AveragePool of the producer (nil: importer.Eval)
	add    bool              // the producer is an Add of two runtime tensors of shape [n, inPer...]
	outPer []int             // per-image output shape of a prepared convolution or pool
	inPer  []int             // per-image input shape it was prepared for
	ep     *chain            // fused elementwise nodes (nil: none)
	inner  []string          // values computed inside the step and never stored
	out    string            // the value the step stores
	flops  float64           // multiply-adds ×2 per image of a prepared convolution or Gemm
	layer  string            // producer node name, for profiles
	ops    []string          // ops of the step's nodes, for profiles
	post   *kernels.PoolGeom // AveragePool fused after a prepared convolution's chain (see fusePool)
	postEp *chain            // elementwise nodes fused after post (nil: none)
}

// plan builds the execution plan of e.g: it folds nodes whose inputs are
// all constant (evaluated once here with importer.Eval), prepares every
// 2-D convolution with constant weights as a kernels.Conv and every Gemm
// with constant weights as a kernels.Dense (reading through a Flatten that
// feeds only it, which in NCHW is a reshape), and fuses into
// each node the chain of elementwise nodes (Relu, Clip, Floor, Mul, Add,
// Sub, Div by a per-layer or per-channel constant, BatchNormalization) that
// consume its output and nothing else. shapes are the inferred shapes for a
// batch of 1. With fuse false every node is its own step, run by
// importer.Eval (the unfused reference).
func (e *Executor) plan(shapes map[string][]int, fuse bool) error {
	g := e.g
	e.folded = map[string]*importer.Tensor{}
	constOf := e.constant
	isConst := func(name string) bool { return name == "" || constOf(name) != nil }
	uses := map[string]int{}
	consumer := map[string]int{}
	for i, n := range g.Nodes {
		for _, in := range n.Inputs {
			uses[in]++
			consumer[in] = i
		}
	}
	for _, o := range g.Outputs {
		uses[o] += 2 // never fused away
	}
	done := make([]bool, len(g.Nodes))
	if fuse {
		for i, n := range g.Nodes {
			all := !strings.HasPrefix(n.Op, "Random")
			for _, in := range n.Inputs {
				all = all && isConst(in)
			}
			if !all {
				continue
			}
			ins := make([]*importer.Tensor, len(n.Inputs))
			for j, in := range n.Inputs {
				if in != "" {
					ins[j] = constOf(in)
				}
			}
			outs, err := importer.Eval(n, ins)
			if err != nil {
				return fmt.Errorf("ann: folding constant node %s: %w", n, err)
			}
			for j, o := range n.Outputs {
				if o != "" && j < len(outs) {
					e.folded[o] = outs[j]
				}
			}
			done[i] = true
		}
	}
	for i, n := range g.Nodes {
		if done[i] {
			continue
		}
		done[i] = true
		s := step{nodes: []int{i}, layer: n.Name, ops: []string{n.Op}}
		if len(n.Outputs) > 0 {
			s.out = n.Outputs[0]
		}
		if !fuse || len(n.Outputs) != 1 {
			e.steps = append(e.steps, s)
			continue
		}
		switch n.Op {
		case "Conv":
			e.prepareConv(&s, n, shapes, constOf)
		case "AveragePool":
			preparePool(&s, n, shapes)
		case "Add":
			prepareAdd(&s, n, shapes, isConst)
		case "Gemm":
			prepareGemm(&s, n, n.Inputs[0], shapes, constOf)
		case "Flatten":
			// Fold the Flatten into the Gemm that is its only reader: the
			// Gemm reads the NCHW input as [n, C·H·W] rows, which is what
			// Flatten(axis 1) copies them into.
			j := consumer[s.out]
			if uses[s.out] != 1 || done[j] || n.Attrs.Int("axis", 1) != 1 || len(n.Inputs) != 1 {
				break
			}
			gm := g.Nodes[j]
			if gm.Op != "Gemm" || len(gm.Inputs) < 2 || gm.Inputs[0] != s.out || len(gm.Outputs) != 1 ||
				!prepareGemm(&s, gm, n.Inputs[0], shapes, constOf) {
				break
			}
			done[j] = true
			s.nodes = append(s.nodes, j)
			s.ops = append(s.ops, gm.Op)
			s.inner = append(s.inner, s.out)
			s.out, s.layer = gm.Outputs[0], gm.Name
		}
		// Follow the chain of elementwise consumers.
		s.ep, s.out = followChain(&s, s.out, g, uses, consumer, done, shapes, constOf)
		fusePool(&s, g, uses, consumer, done, shapes, constOf)
		e.steps = append(e.steps, s)
	}
	return nil
}

// prepareConv prepares node n as a kernels.Conv in s when its input is 4-D
// and its weights and bias are constant and well formed; otherwise s stays
// an importer.Eval step (which reports any error with the node's name).
func (e *Executor) prepareConv(s *step, n *importer.Node, shapes map[string][]int, constOf func(string) *importer.Tensor) {
	if len(n.Inputs) < 2 {
		return
	}
	x := shapes[n.Inputs[0]]
	w := constOf(n.Inputs[1])
	if len(x) != 4 || w == nil || len(w.Shape) != 4 {
		return
	}
	geo, err := importer.ConvGeometry(n, x, w.Shape)
	if err != nil || geo.Validate() != nil {
		return
	}
	wf := w.Floats()
	if len(wf) != geo.K*geo.C/max(1, geo.Group)*geo.KH*geo.KW {
		return
	}
	var bias []float32
	if len(n.Inputs) > 2 && n.Inputs[2] != "" {
		b := constOf(n.Inputs[2])
		if b == nil || b.Len() != geo.K {
			return
		}
		bias = b.Floats()
	}
	out := shapes[n.Outputs[0]]
	if len(out) != 4 || out[1] != geo.K || out[2] != geo.OutH() || out[3] != geo.OutW() {
		return
	}
	s.conv = kernels.NewConv(geo, wf, bias)
	s.inPer = append([]int(nil), x[1:]...)
	s.outPer = append([]int(nil), out[1:]...)
	s.flops = 2 * float64(geo.K*geo.OutH()*geo.OutW()*geo.C/max(1, geo.Group)*geo.KH*geo.KW)
}

// workspaceLen returns the scratch floats the prepared convolutions and
// Gemms need for n images (the largest of them: they run one after the
// other).
func (e *Executor) workspaceLen(n int) int {
	w := 0
	for i := range e.steps {
		if c := e.steps[i].conv; c != nil {
			w = max(w, c.WorkspaceLen(n))
		}
		if d := e.steps[i].dense; d != nil {
			w = max(w, d.WorkspaceLen(n))
		}
	}
	return w
}

// preparePool prepares the AveragePool node n as a kernels.AvgPool call in
// s when its input is 4-D and its geometry is one kernels.AvgPool runs
// (no dilation); otherwise s stays an importer.Eval step. kernels.AvgPool
// sums each window in the order importer.Eval does.
func preparePool(s *step, n *importer.Node, shapes map[string][]int) {
	x, out := shapes[n.Inputs[0]], shapes[n.Outputs[0]]
	if len(x) != 4 || len(out) != 4 || len(n.Inputs) != 1 {
		return
	}
	geo, err := importer.PoolGeometry(n, x)
	if err != nil || geo.Validate() != nil || out[1] != x[1] || out[2] != geo.OutH() || out[3] != geo.OutW() {
		return
	}
	s.pool = &geo
	s.inPer = append([]int(nil), x[1:]...)
	s.outPer = append([]int(nil), out[1:]...)
}

// arena holds float buffers that a chunk no longer needs, for later steps
// and later calls (through Executor.arenas), so that a steady stream of
// batches does not allocate an output per layer. Buffers from get are not
// zeroed: the prepared steps overwrite all of their output.
type arena struct{ free [][]float32 }

// get returns a buffer of n floats, the smallest free one that is large
// enough, or a new one.
func (a *arena) get(n int) []float32 {
	best := -1
	for i, b := range a.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(a.free[best])) {
			best = i
		}
	}
	if best < 0 {
		return make([]float32, n)
	}
	b := a.free[best][:n]
	a.free[best] = a.free[len(a.free)-1]
	a.free = a.free[:len(a.free)-1]
	return b
}

// tensor returns a tensor of shape [n, per...] on a buffer from a.
func (a *arena) tensor(n int, per []int) *importer.Tensor {
	return &importer.Tensor{Shape: append([]int{n}, per...), Data: a.get(n * importer.NumElements(per))}
}

// put returns b to the arena. The caller no longer uses b.
func (a *arena) put(b []float32) {
	if cap(b) > 0 {
		a.free = append(a.free, b[:0])
	}
}

// prepareAdd marks the Add node n as an elementwise sum of two runtime
// tensors of one shape [N, C, ...] (a residual connection), which the
// executor computes plane by plane with the fused chain applied to each
// plane while it is in cache, instead of importer.Eval's broadcasting loop.
// The sum is the same float32 a + b.
func prepareAdd(s *step, n *importer.Node, shapes map[string][]int, isConst func(string) bool) {
	if len(n.Inputs) != 2 || len(n.Attrs) != 0 || isConst(n.Inputs[0]) || isConst(n.Inputs[1]) {
		return
	}
	a, b, out := shapes[n.Inputs[0]], shapes[n.Inputs[1]], shapes[n.Outputs[0]]
	if len(a) < 2 || !slices.Equal(a, b) || !slices.Equal(a, out) {
		return
	}
	s.add = true
	s.inPer = append([]int(nil), a[1:]...)
	s.outPer = append([]int(nil), a[1:]...)
}

// followChain appends to s the chain of elementwise nodes that starts at
// the value v (each the only reader of the one before) and marks them done.
// It returns the chain (nil: none) and the chain's output value (v when
// there is none).
func followChain(s *step, v string, g *importer.Graph, uses map[string]int, consumer map[string]int, done []bool,
	shapes map[string][]int, constOf func(string) *importer.Tensor) (*chain, string) {
	var eps []epStep
	for uses[v] == 1 {
		j := consumer[v]
		if done[j] {
			break
		}
		st, ok := stepFor(g.Nodes[j], v, shapes[v], constOf)
		if !ok {
			break
		}
		eps = append(eps, st)
		s.nodes = append(s.nodes, j)
		s.ops = append(s.ops, g.Nodes[j].Op)
		s.inner = append(s.inner, v)
		done[j] = true
		v = g.Nodes[j].Outputs[0]
	}
	if len(eps) == 0 {
		return nil, v
	}
	return newChain(eps), v
}
