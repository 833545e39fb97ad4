package importer

import (
	"fmt"
	"math"
)

// Operators whose output shape is a value: Expand, ConstantOfShape, Range
// (and Split's sizes, op_split.go). The value must be known at import or
// computed from a Shape chain.

// shapeInput returns input i, which must be known, as a list of
// dimensions, each in [0, MaxElements].
func shapeInput(in []shapeVal, i int, what string) ([]int, error) {
	t, ok := inputVal(in, i)
	if !ok {
		return nil, needKnown(what)
	}
	if !t.IsInt() && t.Len() > 0 {
		return nil, fmt.Errorf("%s input is not an integer tensor", what)
	}
	if len(t.Shape) != 1 {
		return nil, fmt.Errorf("%s input has shape %v, want 1-D", what, t.Shape)
	}
	spec := intsOf(t)
	s := make([]int, len(spec))
	for i, v := range spec {
		if v < 0 || v > MaxElements {
			return nil, fmt.Errorf("bad shape %v", spec)
		}
		s[i] = int(v)
	}
	return s, nil
}

func shapeExpand(n *Node, in []shapeVal) ([][]int, error) {
	s, err := shapeInput(in, 1, "shape")
	if err != nil {
		return nil, err
	}
	out, err := broadcastShapes(in[0].shape, s)
	if err != nil {
		return nil, err
	}
	return [][]int{out}, nil
}

// evalExpand broadcasts x to broadcast(x.shape, shape) (numpy rules in both
// directions: a dimension 1 of shape keeps x's dimension).
func evalExpand(n *Node, in []*Tensor) ([]*Tensor, error) {
	s, err := shapeExpand(n, toShapeVals(in))
	if err != nil {
		return nil, err
	}
	x := in[0]
	st := bcastStrides(x.Shape, s[0])
	return []*Tensor{remap(x, s[0], 0, func(idx []int) int {
		off := 0
		for d, i := range idx {
			off += i * st[d]
		}
		return off
	})}, nil
}

// constantOfShapeValue returns the fill value: the one-element "value"
// attribute, float 0 by default.
func constantOfShapeValue(n *Node) (*Tensor, error) {
	v, ok := n.Attrs["value"]
	if !ok {
		return &Tensor{Shape: []int{1}, Data: []float32{0}}, nil
	}
	t, ok := v.(*Tensor)
	if !ok || t.Len() != 1 {
		return nil, fmt.Errorf("value attribute must be a one-element tensor")
	}
	return t, nil
}

func shapeConstantOfShape(n *Node, in []shapeVal) ([][]int, error) {
	if _, err := constantOfShapeValue(n); err != nil {
		return nil, err
	}
	s, err := shapeInput(in, 0, "shape")
	if err != nil {
		return nil, err
	}
	return [][]int{s}, nil
}

// evalConstantOfShape returns a tensor of the input's shape filled with the
// "value" attribute (float 0 by default; integer when value is).
func evalConstantOfShape(n *Node, in []*Tensor) ([]*Tensor, error) {
	s, err := shapeConstantOfShape(n, toShapeVals(in))
	if err != nil {
		return nil, err
	}
	v, _ := constantOfShapeValue(n)
	total := NumElements(s[0])
	out := &Tensor{Shape: s[0]}
	if v.IsInt() {
		out.Ints = make([]int64, total)
		for i := range out.Ints {
			out.Ints[i] = v.Ints[0]
		}
	} else {
		out.Data = make([]float32, total)
		for i := range out.Data {
			out.Data[i] = v.Data[0]
		}
	}
	return []*Tensor{out}, nil
}

// rangeParams returns Range's scalars and its length
// max(ceil((limit − start)/delta), 0).
func rangeParams(in []shapeVal) (start, limit, delta *Tensor, count int, err error) {
	var ts [3]*Tensor
	for i, name := range []string{"start", "limit", "delta"} {
		t, ok := inputVal(in, i)
		if !ok {
			return nil, nil, nil, 0, needKnown(name)
		}
		if t.Len() != 1 {
			return nil, nil, nil, 0, fmt.Errorf("%s has shape %v, want a scalar", name, t.Shape)
		}
		ts[i] = t
	}
	start, limit, delta = ts[0], ts[1], ts[2]
	if start.IsInt() != limit.IsInt() || start.IsInt() != delta.IsInt() {
		return nil, nil, nil, 0, fmt.Errorf("start, limit and delta have different types")
	}
	var c float64
	if start.IsInt() {
		s, l, d := start.Ints[0], limit.Ints[0], delta.Ints[0]
		if d == 0 {
			return nil, nil, nil, 0, fmt.Errorf("delta is 0")
		}
		c = math.Ceil(float64(l-s) / float64(d))
	} else {
		s, l, d := float64(start.Data[0]), float64(limit.Data[0]), float64(delta.Data[0])
		if d == 0 {
			return nil, nil, nil, 0, fmt.Errorf("delta is 0")
		}
		c = math.Ceil((l - s) / d)
	}
	if !(c <= MaxElements) {
		return nil, nil, nil, 0, fmt.Errorf("range of %g elements exceeds the limit of %d", c, MaxElements)
	}
	return start, limit, delta, int(max(c, 0)), nil
}

func shapeRangeOp(n *Node, in []shapeVal) ([][]int, error) {
	_, _, _, c, err := rangeParams(in)
	if err != nil {
		return nil, err
	}
	return [][]int{{c}}, nil
}

// evalRange computes out[i] = start + i·delta for i < max(ceil((limit −
// start)/delta), 0); integer when the inputs are.
func evalRange(n *Node, in []*Tensor) ([]*Tensor, error) {
	start, _, delta, c, err := rangeParams(toShapeVals(in))
	if err != nil {
		return nil, err
	}
	out := &Tensor{Shape: []int{c}}
	if start.IsInt() {
		out.Ints = make([]int64, c)
		for i := range out.Ints {
			out.Ints[i] = start.Ints[0] + int64(i)*delta.Ints[0]
		}
		return []*Tensor{out}, nil
	}
	out.Data = make([]float32, c)
	v := start.Data[0]
	for i := range out.Data { // accumulated as onnxruntime does
		out.Data[i] = v
		v += delta.Data[0]
	}
	return []*Tensor{out}, nil
}
