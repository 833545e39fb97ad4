package importer

import (
	"fmt"
	"math"
)

// ReduceMean, ReduceSum, ReduceMax and ReduceMin in every opset form: the
// axes come from the "axes" attribute (ReduceSum before opset 13, the
// others before 18) or from the optional second input (later opsets; after
// normalization a constant axes input is an attribute again). Without axes,
// or with an empty list, all axes are reduced, unless noop_with_empty_axes
// is set (opset 13/18), which makes the operator an identity. keepdims
// (default 1) keeps the reduced dimensions with size 1.

// reduceAxes returns, per input dimension, whether it is reduced; nil
// means the operator is an identity (noop_with_empty_axes).
func reduceAxes(n *Node, in []shapeVal) ([]bool, error) {
	rank := len(in[0].shape)
	axes, ok, known := attrOrInput(n, in, "axes", 1)
	if !known {
		return nil, needKnown("axes")
	}
	if !ok || len(axes) == 0 {
		if n.Attrs.Int("noop_with_empty_axes", 0) != 0 {
			return nil, nil
		}
		all := make([]bool, rank)
		for i := range all {
			all[i] = true
		}
		return all, nil
	}
	return axesList(axes, rank)
}

func checkReduce(n *Node) error {
	if k := n.Attrs.Int("keepdims", 1); k != 0 && k != 1 {
		return nodeErr(n, fmt.Errorf("keepdims %d, want 0 or 1", k))
	}
	return nil
}

func shapeReduce(n *Node, in []shapeVal) ([][]int, error) {
	mark, err := reduceAxes(n, in)
	if err != nil {
		return nil, err
	}
	x := in[0].shape
	if mark == nil {
		return [][]int{clone(x)}, nil
	}
	keep := n.Attrs.Int("keepdims", 1) != 0
	out := []int{}
	for i, d := range x {
		switch {
		case !mark[i]:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	return [][]int{out}, nil
}

// evalReduce computes y[j] = op over the reduced positions i of x[i], where
// op is the mean, sum, maximum or minimum, accumulated in float64 (int64
// for integer inputs; an integer mean truncates toward zero). The maximum
// of an empty set is -Inf, its minimum +Inf, its mean NaN.
func evalReduce(n *Node, in []*Tensor) ([]*Tensor, error) {
	x := in[0]
	sv := toShapeVals(in)
	mark, err := reduceAxes(n, sv)
	if err != nil {
		return nil, err
	}
	s, err := shapeReduce(n, sv)
	if err != nil {
		return nil, err
	}
	if mark == nil {
		out := x.Clone()
		out.Shape = s[0]
		return []*Tensor{out}, nil
	}
	// Output strides in the input's index space: 0 along reduced axes.
	red := make([]int, len(x.Shape))
	for i, d := range x.Shape {
		if mark[i] {
			red[i] = 1
		} else {
			red[i] = d
		}
	}
	ost := strides(red)
	for i := range ost {
		if mark[i] {
			ost[i] = 0
		}
	}
	total, outN := x.Len(), NumElements(red)
	count := 1
	if outN > 0 {
		count = total / outN
	}
	acc := make([]float64, outN)
	var iacc []int64
	isInt := x.IsInt()
	if isInt {
		iacc = make([]int64, outN)
	}
	for j := range acc {
		switch n.Op {
		case "ReduceMax":
			acc[j] = math.Inf(-1)
			if isInt {
				iacc[j] = math.MinInt64
			}
		case "ReduceMin":
			acc[j] = math.Inf(1)
			if isInt {
				iacc[j] = math.MaxInt64
			}
		}
	}
	idx := make([]int, len(x.Shape))
	o := 0
	xs := x.Data
	for i := 0; i < total; i++ {
		if isInt {
			v := x.Ints[i]
			switch n.Op {
			case "ReduceMax":
				iacc[o] = max(iacc[o], v)
			case "ReduceMin":
				iacc[o] = min(iacc[o], v)
			default:
				iacc[o] += v
			}
		} else {
			v := float64(xs[i])
			switch n.Op {
			case "ReduceMax":
				if v > acc[o] || math.IsNaN(v) {
					acc[o] = v
				}
			case "ReduceMin":
				if v < acc[o] || math.IsNaN(v) {
					acc[o] = v
				}
			default:
				acc[o] += v
			}
		}
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			o += ost[d]
			if idx[d] < x.Shape[d] {
				break
			}
			o -= ost[d] * idx[d]
			idx[d] = 0
		}
	}
	out := &Tensor{Shape: s[0]}
	if isInt {
		if n.Op == "ReduceMean" {
			if count == 0 {
				return nil, fmt.Errorf("integer mean of an empty set")
			}
			for j := range iacc {
				iacc[j] /= int64(count)
			}
		}
		out.Ints = iacc
		return []*Tensor{out}, nil
	}
	out.Data = make([]float32, outN)
	for j, v := range acc {
		if n.Op == "ReduceMean" {
			v /= float64(count)
		}
		out.Data[j] = float32(v)
	}
	return []*Tensor{out}, nil
}
