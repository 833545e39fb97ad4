package convert

import (
	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/kernels"
	"github.com/ann2snn/ann2snn/snnrt"
)

// movementOps are the operators that only move data: each output element
// is a copy of one input element. Chains of them (ShuffleNet's channel
// shuffle Reshape → Transpose → Reshape, Split, Slice, Flatten, ...) are
// not lowered node by node: the lowerer evaluates them on an index tensor
// (each element holds its own flat position in the layer that the chain
// reads) and lowers the composed map when a layer reads its result.
var movementOps = map[string]bool{
	"Reshape": true, "Flatten": true, "Transpose": true, "Split": true,
	"Slice": true, "Squeeze": true, "Unsqueeze": true, "Gather": true,
	"Identity": true,
}

// moved is a value computed by a chain of movement ops from the output of
// layer src: element i of the value (row-major, batch included) is element
// idx[v].Data[i] of src's output for the batch of view v (see batchView).
type moved struct {
	src  int
	idx  []*importer.Tensor // per view: the value's shape, exact integer indices
	node *importer.Node     // the last node of the chain, for names and errors
}

// batchView is what the lowerer knows of the graph for one batch size:
// value shapes and evaluated shape arithmetic.
type batchView struct {
	batch  int
	shapes map[string][]int
	vals   map[string]*importer.Tensor
}

// maxIndex bounds the size of a layer output (for the largest view's
// batch) read by a movement chain: float32 holds integers exactly up to
// 2^24.
const maxIndex = 1 << 24

// known returns v's value when it is a constant or was computed from
// constants and shapes only (shape arithmetic).
func (l *lowerer) known(bv *batchView, v string) (*importer.Tensor, bool) {
	if c := l.g.Consts[v]; c != nil {
		return c, true
	}
	t, ok := bv.vals[v]
	return t, ok
}

// shapeArith evaluates n in every view if it only does shape arithmetic
// (a Shape node, or a node whose inputs are all known) and reports whether
// it did. Its outputs become known values, for the Reshape and Slice nodes
// that read them.
func (l *lowerer) shapeArith(n *importer.Node) (bool, error) {
	for i, bv := range l.views {
		ok, err := bv.shapeArith(l, n)
		if !ok || err != nil {
			if i > 0 && err == nil {
				// Known for one image but not for two: the
				// graph's shapes disagree with themselves.
				return false, nodeErr(n, "shape arithmetic is computable for a batch of 1 but not of %d", bv.batch)
			}
			return ok, err
		}
	}
	return true, nil
}

func (bv *batchView) shapeArith(l *lowerer, n *importer.Node) (bool, error) {
	if n.Op == "Shape" {
		dims := bv.shapes[n.Inputs[0]]
		r := len(dims)
		start, end := int(n.Attrs.Int("start", 0)), int(n.Attrs.Int("end", int64(r)))
		if start < 0 {
			start += r
		}
		if end < 0 {
			end += r
		}
		start, end = max(0, min(start, r)), max(0, min(end, r))
		t := &importer.Tensor{Shape: []int{max(0, end-start)}, Ints: []int64{}}
		for _, d := range dims[start:max(start, end)] {
			t.Ints = append(t.Ints, int64(d))
		}
		bv.vals[n.Outputs[0]] = t
		return true, nil
	}
	ins := make([]*importer.Tensor, len(n.Inputs))
	for i, v := range n.Inputs {
		if v == "" {
			continue
		}
		t, ok := l.known(bv, v)
		if !ok {
			return false, nil
		}
		ins[i] = t
	}
	out, err := importer.Eval(n, ins)
	if err != nil {
		return false, nodeErr(n, "evaluating shape arithmetic: %v", err)
	}
	for i, o := range n.Outputs {
		if o != "" && i < len(out) {
			bv.vals[o] = out[i]
		}
	}
	return true, nil
}

// indexOf returns the index tensors of value v (see moved): for a layer's
// output, its own positions.
func (l *lowerer) indexOf(n *importer.Node, v string) (*moved, error) {
	if mv, ok := l.moved[v]; ok {
		return mv, nil
	}
	src, err := l.inputLayer(n, v)
	if err != nil {
		return nil, err
	}
	mv := &moved{src: src}
	for _, bv := range l.views {
		shape := bv.shapes[v]
		size := importer.NumElements(shape)
		if size <= 0 || size >= maxIndex {
			return nil, nodeErr(n, "input %q has shape %v; data movement converts for up to 2^24 values", v, shape)
		}
		idx := importer.NewTensor(shape...)
		for i := range idx.Data {
			idx.Data[i] = float32(i)
		}
		mv.idx = append(mv.idx, idx)
	}
	return mv, nil
}

// move records the index tensors of the outputs of movement node n.
func (l *lowerer) move(n *importer.Node) error {
	in, err := l.indexOf(n, n.Inputs[0])
	if err != nil {
		return err
	}
	outs := make([]*moved, len(n.Outputs))
	for i := range outs {
		outs[i] = &moved{src: in.src, node: n}
	}
	for vi, bv := range l.views {
		ins := []*importer.Tensor{in.idx[vi]}
		for _, v := range n.Inputs[1:] {
			if v == "" {
				ins = append(ins, nil)
				continue
			}
			t, ok := l.known(bv, v)
			if !ok {
				return nodeErr(n, "input %q is computed at run time; only constant shapes, indices and sizes convert", v)
			}
			ins = append(ins, t)
		}
		out, err := importer.Eval(n, ins)
		if err != nil {
			return nodeErr(n, "evaluating the data movement: %v", err)
		}
		for i, o := range n.Outputs {
			if o == "" || i >= len(out) {
				continue
			}
			if out[i].IsInt() {
				return nodeErr(n, "output %q is an integer tensor", o)
			}
			outs[i].idx = append(outs[i].idx, out[i])
		}
	}
	for i, o := range n.Outputs {
		if o != "" && len(outs[i].idx) == len(l.views) {
			l.moved[o] = outs[i]
		}
	}
	return nil
}

// materialise lowers moved value v to layers: nothing when it is its
// source unchanged, a Flatten when it is the source flattened to [N, F],
// and a 1×1 convolution with a 0/1 selection matrix when every output
// channel is one channel of the source at the same H×W positions (channel
// shuffle, split, channel slice). Any other movement (across positions,
// or mixing images of the batch) is a *ConvertError.
func (l *lowerer) materialise(n *importer.Node, v string, mv *moved) (int, error) {
	at := mv.node
	src := l.m.Input
	if mv.src != snnrt.InputIndex {
		src = l.m.Layers[mv.src].Shape
	}
	shape := l.shapes[v]
	idx := mv.idx[0].Data
	// The chain must treat every image alike: in the view of two images,
	// image 1 reads what image 0 reads, one image further on.
	for _, t := range mv.idx[1:] {
		ok := len(t.Data) == 2*len(idx) && len(t.Shape) == len(shape) && t.Shape[0] == 2
		for i := 0; ok && i < len(idx); i++ {
			ok = t.Data[i] == idx[i] && t.Data[len(idx)+i] == idx[i]+float32(src.Len())
		}
		if !ok {
			return 0, nodeErr(at, "output %q: the data movement mixes the images of a batch; not convertible", v)
		}
	}
	out, ok := perImage(shape)
	if !ok {
		return 0, nodeErr(at, "output %q has shape %v; only [N,C,H,W] and [N,F] values convert", v, shape)
	}
	if shape[0] != 1 {
		return 0, nodeErr(at, "output %q has shape %v for one image", v, shape)
	}
	ident := len(idx) == src.Len()
	for i, x := range idx {
		if x != float32(i) {
			ident = false
			break
		}
	}
	switch {
	case ident && out == src:
		return mv.src, nil
	case ident && out.H == 1 && out.W == 1:
		if src.H == 1 && src.W == 1 {
			return mv.src, nil
		}
		return l.add(at, v, snnrt.Layer{Kind: snnrt.KindFlatten, Inputs: []int{mv.src}})
	}
	sel, ok := channelSelection(idx, out, src)
	if !ok {
		return 0, nodeErr(at, "the data movement from %v to %v (%q) is not a selection of channels at unchanged H×W positions; not convertible", src, out, v)
	}
	w := make([]float32, out.C*src.C)
	for k, c := range sel {
		w[k*src.C+c] = 1
	}
	geom := kernels.ConvGeom{C: src.C, H: src.H, W: src.W, K: out.C, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Group: 1}
	return l.add(at, v, snnrt.Layer{Kind: snnrt.KindConv, Inputs: []int{mv.src}, Conv: geom, W: w})
}

// channelSelection returns sel with idx[k,h,w] = (sel[k]·H + h)·W + w for
// every output channel k of out, when out and src have the same H×W.
func channelSelection(idx []float32, out, src snnrt.Shape) ([]int, bool) {
	if out.H != src.H || out.W != src.W || len(idx) != out.Len() {
		return nil, false
	}
	hw := src.H * src.W
	sel := make([]int, out.C)
	for k := range out.C {
		first := int(idx[k*hw])
		if first < 0 || first%hw != 0 || first/hw >= src.C || float32(first) != idx[k*hw] {
			return nil, false
		}
		for j := range hw {
			if idx[k*hw+j] != float32(first+j) {
				return nil, false
			}
		}
		sel[k] = first / hw
	}
	return sel, true
}

// input returns the layer computing value v for node n; a value computed
// by a movement chain is lowered (see materialise) on first use.
func (l *lowerer) input(n *importer.Node, v string) (int, error) {
	if idx, ok := l.layer[v]; ok {
		return idx, nil
	}
	mv, ok := l.moved[v]
	if !ok {
		return l.inputLayer(n, v)
	}
	idx, err := l.materialise(n, v, mv)
	if err != nil {
		return 0, err
	}
	l.layer[v] = idx
	if err := l.activation(v, idx); err != nil {
		return 0, err
	}
	return idx, nil
}
