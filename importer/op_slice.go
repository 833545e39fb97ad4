package importer

import (
	"fmt"
	"math"
)

// sliceParams returns, per input dimension, start and step and the output
// size, following ONNX Slice clamping rules.
func sliceParams(n *Node, in []shapeVal) (start, step, size []int, err error) {
	x := in[0].shape
	starts, ok1, k1 := attrOrInput(n, in, "starts", 1)
	ends, ok2, k2 := attrOrInput(n, in, "ends", 2)
	axes, ok3, k3 := attrOrInput(n, in, "axes", 3)
	steps, ok4, k4 := attrOrInput(n, in, "steps", 4)
	if !k1 || !k2 || !k3 || !k4 {
		return nil, nil, nil, needKnown("starts/ends/axes/steps")
	}
	if !ok1 || !ok2 || len(starts) != len(ends) {
		return nil, nil, nil, fmt.Errorf("starts %v and ends %v", starts, ends)
	}
	if !ok3 {
		axes = make([]int64, len(starts))
		for i := range axes {
			axes[i] = int64(i)
		}
	}
	if !ok4 {
		steps = make([]int64, len(starts))
		for i := range steps {
			steps[i] = 1
		}
	}
	if len(axes) != len(starts) || len(steps) != len(starts) {
		return nil, nil, nil, fmt.Errorf("starts, ends, axes, steps lengths differ")
	}
	r := len(x)
	start, step, size = make([]int, r), make([]int, r), clone(x)
	for i := range step {
		step[i] = 1
	}
	seen := make([]bool, r)
	for i, a := range axes {
		ax, err := normAxis(a, r, false)
		if err != nil {
			return nil, nil, nil, err
		}
		if seen[ax] {
			return nil, nil, nil, fmt.Errorf("axis %d repeated", a)
		}
		seen[ax] = true
		dim := int64(x[ax])
		s, e, st := starts[i], ends[i], steps[i]
		if st == 0 {
			return nil, nil, nil, fmt.Errorf("slice step 0")
		}
		if s < 0 {
			s += dim
		}
		if e < 0 && e > math.MinInt64+dim {
			e += dim
		}
		var cnt int64
		if st > 0 {
			s, e = min(max(s, 0), dim), min(max(e, 0), dim)
			if e > s {
				cnt = (e-s-1)/st + 1
			}
		} else {
			s, e = min(max(s, 0), dim-1), min(max(e, -1), dim-1)
			if s > e && st != math.MinInt64 {
				cnt = (s-e-1)/(-st) + 1
			} else if s > e {
				cnt = 1
			}
		}
		start[ax], step[ax], size[ax] = int(s), int(st), int(cnt)
	}
	return start, step, size, nil
}

func shapeSlice(n *Node, in []shapeVal) ([][]int, error) {
	_, _, size, err := sliceParams(n, in)
	return [][]int{size}, err
}

func toShapeVals(in []*Tensor) []shapeVal {
	sv := make([]shapeVal, len(in))
	for i, t := range in {
		if t == nil {
			sv[i].absent = true
		} else {
			sv[i] = shapeVal{shape: t.Shape, val: t}
		}
	}
	return sv
}

// evalSlice computes out[i...] = x[start + i·step ...] per dimension.
func evalSlice(n *Node, in []*Tensor) ([]*Tensor, error) {
	start, step, size, err := sliceParams(n, toShapeVals(in))
	if err != nil {
		return nil, err
	}
	st := strides(in[0].Shape)
	return []*Tensor{remap(in[0], size, 0, func(o []int) int {
		off := 0
		for d := range o {
			off += (start[d] + o[d]*step[d]) * st[d]
		}
		return off
	})}, nil
}

func checkPad(n *Node) error {
	if m := n.Attrs.String("mode", "constant"); m != "constant" {
		return unsupportedAttr(n, "Pad mode %q", m)
	}
	return nil
}

// padParams returns the begin and end padding per dimension and the fill
// value, from attributes (opset < 11 and the normalized form: pads,
// value) or inputs (pads, constant_value, axes).
func padParams(n *Node, in []shapeVal) (begin, end []int, value float32, err error) {
	x := in[0].shape
	r := len(x)
	pads, ok, known := attrOrInput(n, in, "pads", 1)
	if !known {
		return nil, nil, 0, needKnown("pads")
	}
	if !ok {
		return nil, nil, 0, fmt.Errorf("no pads")
	}
	value = n.Attrs.Float("value", 0)
	if present(in, 2) {
		t, known := inputVal(in, 2)
		if !known {
			return nil, nil, 0, needKnown("constant_value")
		}
		if t.Len() != 1 {
			return nil, nil, 0, fmt.Errorf("constant_value of shape %v", t.Shape)
		}
		value = t.Floats()[0]
	}
	axes, ok, known := attrOrInput(n, in, "axes", 3)
	if !known {
		return nil, nil, 0, needKnown("axes")
	}
	if !ok {
		axes = make([]int64, r)
		for i := range axes {
			axes[i] = int64(i)
		}
	}
	if len(pads) != 2*len(axes) {
		return nil, nil, 0, fmt.Errorf("%d pads for %d axes", len(pads), len(axes))
	}
	begin, end = make([]int, r), make([]int, r)
	for i, a := range axes {
		ax, err := normAxis(a, r, false)
		if err != nil {
			return nil, nil, 0, err
		}
		b, e := pads[i], pads[i+len(axes)]
		if b < -MaxElements || b > MaxElements || e < -MaxElements || e > MaxElements {
			return nil, nil, 0, fmt.Errorf("pads %v out of range", pads)
		}
		begin[ax], end[ax] = int(b), int(e)
	}
	return begin, end, value, nil
}

func shapePad(n *Node, in []shapeVal) ([][]int, error) {
	begin, end, _, err := padParams(n, in)
	if err != nil {
		return nil, err
	}
	out := clone(in[0].shape)
	for i := range out {
		out[i] += begin[i] + end[i]
		if out[i] < 0 {
			return nil, fmt.Errorf("pads crop dimension %d below zero", i)
		}
	}
	return [][]int{out}, nil
}

// evalPad computes constant-mode padding: out[i...] = x[i − begin ...]
// inside x and value elsewhere; negative pads crop.
func evalPad(n *Node, in []*Tensor) ([]*Tensor, error) {
	sv := toShapeVals(in)
	begin, _, value, err := padParams(n, sv)
	if err != nil {
		return nil, err
	}
	s, err := shapePad(n, sv)
	if err != nil {
		return nil, err
	}
	x := in[0]
	st := strides(x.Shape)
	return []*Tensor{remap(x, s[0], value, func(o []int) int {
		off := 0
		for d := range o {
			i := o[d] - begin[d]
			if i < 0 || i >= x.Shape[d] {
				return -1
			}
			off += i * st[d]
		}
		return off
	})}, nil
}
