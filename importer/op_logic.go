package importer

import (
	"fmt"
	"math"
)

// Comparisons, logic and Where. Boolean tensors are integer tensors
// (Tensor.Ints) holding 0 (false) or 1 (true); a condition is true where
// its value is non-zero.

// broadcastAll returns the numpy broadcast of all shapes.
func broadcastAll(shapes ...[]int) ([]int, error) {
	out := []int{}
	for _, s := range shapes {
		var err error
		if out, err = broadcastShapes(out, s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// broadcastIndexN calls f(i, idx) for each element i of the output shape
// out, with idx[k] the flat index of the broadcast operand k of shape
// shapes[k]. idx is reused between calls.
func broadcastIndexN(out []int, shapes [][]int, f func(i int, idx []int)) {
	total := NumElements(out)
	st := make([][]int, len(shapes))
	for k, s := range shapes {
		st[k] = bcastStrides(s, out)
	}
	pos := make([]int, len(out))
	idx := make([]int, len(shapes))
	for i := 0; i < total; i++ {
		f(i, idx)
		for d := len(out) - 1; d >= 0; d-- {
			pos[d]++
			for k := range idx {
				idx[k] += st[k][d]
			}
			if pos[d] < out[d] {
				break
			}
			for k := range idx {
				idx[k] -= st[k][d] * pos[d]
			}
			pos[d] = 0
		}
	}
}

func shapeBroadcastAll(n *Node, in []shapeVal) ([][]int, error) {
	shapes := make([][]int, len(in))
	for i, v := range in {
		shapes[i] = v.shape
	}
	s, err := broadcastAll(shapes...)
	if err != nil {
		return nil, err
	}
	return [][]int{s}, nil
}

// evalCompare computes Equal, Less, Greater, LessOrEqual and
// GreaterOrEqual with numpy broadcasting; the result is a bool tensor.
// Integer operands are compared as int64, others as float32.
func evalCompare(n *Node, in []*Tensor) ([]*Tensor, error) {
	a, b := in[0], in[1]
	os, err := broadcastShapes(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	out := &Tensor{Shape: os, Ints: make([]int64, NumElements(os))}
	cmp := func(c int) bool { // c = sign(a - b)
		switch n.Op {
		case "Equal":
			return c == 0
		case "Less":
			return c < 0
		case "Greater":
			return c > 0
		case "LessOrEqual":
			return c <= 0
		case "GreaterOrEqual":
			return c >= 0
		}
		return false
	}
	if a.IsInt() && b.IsInt() {
		x, y := a.Ints, b.Ints
		broadcastIndex(os, a.Shape, b.Shape, func(i, ia, ib int) {
			c := 0
			if x[ia] < y[ib] {
				c = -1
			} else if x[ia] > y[ib] {
				c = 1
			}
			if cmp(c) {
				out.Ints[i] = 1
			}
		})
		return []*Tensor{out}, nil
	}
	x, y := a.Floats(), b.Floats()
	broadcastIndex(os, a.Shape, b.Shape, func(i, ia, ib int) {
		u, v := x[ia], y[ib]
		if math.IsNaN(float64(u)) || math.IsNaN(float64(v)) {
			return // every comparison with NaN is false
		}
		c := 0
		if u < v {
			c = -1
		} else if u > v {
			c = 1
		}
		if cmp(c) {
			out.Ints[i] = 1
		}
	})
	return []*Tensor{out}, nil
}

// evalLogic computes Not (one operand) and And, Or, Xor (two, broadcast)
// on bool tensors (non-zero is true).
func evalLogic(n *Node, in []*Tensor) ([]*Tensor, error) {
	for i, t := range in {
		if !t.IsInt() && t.Len() > 0 {
			return nil, fmt.Errorf("input %d is not a bool tensor", i)
		}
	}
	if n.Op == "Not" {
		x := in[0]
		out := &Tensor{Shape: clone(x.Shape), Ints: make([]int64, len(x.Ints))}
		for i, v := range x.Ints {
			if v == 0 {
				out.Ints[i] = 1
			}
		}
		return []*Tensor{out}, nil
	}
	a, b := in[0], in[1]
	os, err := broadcastShapes(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	out := &Tensor{Shape: os, Ints: make([]int64, NumElements(os))}
	broadcastIndex(os, a.Shape, b.Shape, func(i, ia, ib int) {
		p, q := a.Ints[ia] != 0, b.Ints[ib] != 0
		var r bool
		switch n.Op {
		case "And":
			r = p && q
		case "Or":
			r = p || q
		case "Xor":
			r = p != q
		}
		if r {
			out.Ints[i] = 1
		}
	})
	return []*Tensor{out}, nil
}

// evalWhere computes out = cond ? x : y elementwise with numpy broadcasting
// of all three. The result is an integer tensor when x and y both are,
// float otherwise.
func evalWhere(n *Node, in []*Tensor) ([]*Tensor, error) {
	c, x, y := in[0], in[1], in[2]
	if !c.IsInt() && c.Len() > 0 {
		return nil, fmt.Errorf("condition is not a bool tensor")
	}
	shapes := [][]int{c.Shape, x.Shape, y.Shape}
	os, err := broadcastAll(shapes...)
	if err != nil {
		return nil, err
	}
	total := NumElements(os)
	out := &Tensor{Shape: os}
	if x.IsInt() && y.IsInt() {
		out.Ints = make([]int64, total)
		broadcastIndexN(os, shapes, func(i int, idx []int) {
			if c.Ints[idx[0]] != 0 {
				out.Ints[i] = x.Ints[idx[1]]
			} else {
				out.Ints[i] = y.Ints[idx[2]]
			}
		})
		return []*Tensor{out}, nil
	}
	xs, ys := x.Floats(), y.Floats()
	out.Data = make([]float32, total)
	broadcastIndexN(os, shapes, func(i int, idx []int) {
		if c.Ints[idx[0]] != 0 {
			out.Data[i] = xs[idx[1]]
		} else {
			out.Data[i] = ys[idx[2]]
		}
	})
	return []*Tensor{out}, nil
}
