package finetune

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// This file adapts the primitives of the unrolled network (kernels) to
// gorgonia's op interface. Every value in the graph is a flat float32
// vector (or a float32 scalar for losses); a kernel knows the shapes
// behind it. Gorgonia provides the graph, the reverse-mode chain rule
// (Grad), the summation of gradients at fan-out and the tape machine; each
// kernel provides its forward map and a hand-written adjoint:
//
//	y = fwdOp{k}(x1..xn)
//	packed = bwdOp{k}(x1..xn, y, dL/dy)     all input gradients in one vector
//	dL/dxi = unpackOp{k, i}(packed)         (skipped when only one input needs it)
//
// so one backward pass computes the gradients of all inputs together (one
// BPTT sweep for an IF layer, one im2col per conv block).

// kernel is one primitive of the unrolled network: a map from input
// vectors to an output vector, and its adjoint.
type kernel interface {
	// id names the kernel uniquely within its graph; gorgonia hashes ops
	// to merge identical nodes, so two kernels must never share an id.
	id() string
	// inLens returns the lengths of the inputs.
	inLens() []int
	// outLen returns the length of the output; 0 means a scalar.
	outLen() int
	// diff reports which inputs receive a gradient.
	diff() []bool
	// forward computes out = f(in...), writing every element of out
	// (which holds the previous run's values on entry).
	forward(out []float32, in [][]float32)
	// backward adds to gin[i] (zeroed on entry, nil when diff()[i] is
	// false) the gradient of the loss with respect to input i, given the
	// inputs, the forward output and its gradient gout.
	backward(gin [][]float32, in [][]float32, out, gout []float32)
}

var vecType = G.TensorType{Dims: 1, Of: tensor.Float32}

// typeOfLen returns the gorgonia type of a value of length n (0: scalar).
func typeOfLen(n int) hm.Type {
	if n == 0 {
		return tensor.Float32
	}
	return vecType
}

func shapeOfLen(n int) tensor.Shape {
	if n == 0 {
		return tensor.ScalarShape()
	}
	return tensor.Shape{n}
}

// newValue returns a gorgonia value of length n (0: scalar) holding v.
func newValue(v []float32, n int) G.Value {
	if n == 0 {
		return G.NewF32(v[0])
	}
	return tensor.New(tensor.WithShape(n), tensor.WithBacking(v))
}

// floats returns the data of a float32 value (a one-element slice for a
// scalar). The slice aliases the value.
func floats(v G.Value) []float32 {
	switch t := v.(type) {
	case *tensor.Dense:
		return t.Float32s()
	case *G.F32:
		return []float32{float32(*t)}
	}
	panic(fmt.Sprintf("finetune: unexpected gorgonia value %T", v))
}

// opBase holds the methods common to all three op types. buf is the op's
// output buffer, reused from run to run: a value computed by an op is valid
// until the op runs again (the next run of the graph).
type opBase struct {
	k    kernel
	role string
	buf  *[]float32
}

func newOpBase(k kernel, role string) opBase { return opBase{k: k, role: role, buf: new([]float32)} }

// output returns the op's buffer resized to n.
func (o opBase) output(n int) []float32 {
	if cap(*o.buf) < n {
		*o.buf = make([]float32, n)
	}
	return (*o.buf)[:n]
}

func (o opBase) ReturnsPtr() bool      { return false }
func (o opBase) CallsExtern() bool     { return false }
func (o opBase) OverwritesInput() int  { return -1 }
func (o opBase) WriteHash(h hash.Hash) { fmt.Fprintf(h, "finetune.%s(%s)", o.role, o.k.id()) }
func (o opBase) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}
func (o opBase) String() string { return o.role + "(" + o.k.id() + ")" }

// fwdOp applies a kernel's forward map.
type fwdOp struct{ opBase }

func (o fwdOp) Arity() int { return len(o.k.inLens()) }

func (o fwdOp) Type() hm.Type {
	var ts []hm.Type
	for _, n := range o.k.inLens() {
		ts = append(ts, typeOfLen(n))
	}
	return hm.NewFnType(append(ts, typeOfLen(o.k.outLen()))...)
}

func (o fwdOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return shapeOfLen(o.k.outLen()), nil
}

func (o fwdOp) Do(vs ...G.Value) (G.Value, error) {
	in := make([][]float32, len(vs))
	for i, v := range vs {
		in[i] = floats(v)
	}
	out := o.output(max(o.k.outLen(), 1))
	o.k.forward(out, in)
	return newValue(out, o.k.outLen()), nil
}

func (o fwdOp) DiffWRT(int) []bool { return o.k.diff() }

func (o fwdOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	args := append(append(G.Nodes{}, inputs...), output, grad)
	packed, err := G.ApplyOp(bwdOp{newOpBase(o.k, "bwd")}, args...)
	if err != nil {
		return nil, err
	}
	diff := o.k.diff()
	ret := make(G.Nodes, len(inputs))
	n := 0
	for _, d := range diff {
		if d {
			n++
		}
	}
	for i, d := range diff {
		if !d {
			continue
		}
		if n == 1 {
			ret[i] = packed
			continue
		}
		if ret[i], err = G.ApplyOp(unpackOp{newOpBase(o.k, fmt.Sprintf("unpack%d", i)), i}, packed); err != nil {
			return nil, err
		}
	}
	return ret, nil
}

// packedLen returns the total length of the gradients of k's
// differentiable inputs and the offset of each.
func packedLen(k kernel) (total int, off []int) {
	off = make([]int, len(k.inLens()))
	for i, n := range k.inLens() {
		off[i] = total
		if k.diff()[i] {
			total += max(n, 1)
		}
	}
	return total, off
}

// bwdOp computes all input gradients of a kernel in one packed vector.
type bwdOp struct{ opBase }

func (o bwdOp) Arity() int { return len(o.k.inLens()) + 2 }

func (o bwdOp) Type() hm.Type {
	var ts []hm.Type
	for _, n := range o.k.inLens() {
		ts = append(ts, typeOfLen(n))
	}
	ts = append(ts, typeOfLen(o.k.outLen()), typeOfLen(o.k.outLen()))
	total, _ := packedLen(o.k)
	return hm.NewFnType(append(ts, typeOfLen(total))...)
}

func (o bwdOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	total, _ := packedLen(o.k)
	return shapeOfLen(total), nil
}

func (o bwdOp) Do(vs ...G.Value) (G.Value, error) {
	nin := len(o.k.inLens())
	in := make([][]float32, nin)
	for i := range in {
		in[i] = floats(vs[i])
	}
	out, gout := floats(vs[nin]), floats(vs[nin+1])
	total, off := packedLen(o.k)
	packed := o.output(total)
	clear(packed)
	gin := make([][]float32, nin)
	for i, d := range o.k.diff() {
		if d {
			gin[i] = packed[off[i] : off[i]+max(o.k.inLens()[i], 1)]
		}
	}
	o.k.backward(gin, in, out, gout)
	return newValue(packed, total), nil
}

// unpackOp extracts the gradient of input i from a bwdOp's packed vector
// (a view, not a copy).
type unpackOp struct {
	opBase
	i int
}

func (o unpackOp) Arity() int { return 1 }

func (o unpackOp) Type() hm.Type {
	total, _ := packedLen(o.k)
	return hm.NewFnType(typeOfLen(total), typeOfLen(o.k.inLens()[o.i]))
}

func (o unpackOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return shapeOfLen(o.k.inLens()[o.i]), nil
}

func (o unpackOp) Do(vs ...G.Value) (G.Value, error) {
	_, off := packedLen(o.k)
	n := o.k.inLens()[o.i]
	v := floats(vs[0])[off[o.i]:]
	return newValue(v[:max(n, 1):max(n, 1)], n), nil
}

// Compile-time interface checks.
var (
	_ G.SDOp = fwdOp{}
	_ G.Op   = bwdOp{}
	_ G.Op   = unpackOp{}
)
