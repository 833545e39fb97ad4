package importer

import (
	"fmt"
	"math"
)

// evalVariadic computes Sum, Max, Min and Mean of one or more inputs with
// numpy broadcasting. All-integer inputs give an integer result (Mean
// truncates toward zero); otherwise float32, accumulated in float64. Max
// and Min propagate NaN.
func evalVariadic(n *Node, in []*Tensor) ([]*Tensor, error) {
	shapes := make([][]int, len(in))
	allInt := true
	for i, t := range in {
		if t == nil {
			return nil, fmt.Errorf("input %d is absent", i)
		}
		shapes[i] = t.Shape
		allInt = allInt && t.IsInt()
	}
	os, err := broadcastAll(shapes...)
	if err != nil {
		return nil, err
	}
	total := NumElements(os)
	out := &Tensor{Shape: os}
	if allInt {
		out.Ints = make([]int64, total)
		broadcastIndexN(os, shapes, func(i int, idx []int) {
			acc := in[0].Ints[idx[0]]
			for k := 1; k < len(in); k++ {
				v := in[k].Ints[idx[k]]
				switch n.Op {
				case "Max":
					acc = max(acc, v)
				case "Min":
					acc = min(acc, v)
				default:
					acc += v
				}
			}
			if n.Op == "Mean" {
				acc /= int64(len(in))
			}
			out.Ints[i] = acc
		})
		return []*Tensor{out}, nil
	}
	fs := make([][]float32, len(in))
	for k, t := range in {
		fs[k] = t.Floats()
	}
	out.Data = make([]float32, total)
	broadcastIndexN(os, shapes, func(i int, idx []int) {
		acc := float64(fs[0][idx[0]])
		for k := 1; k < len(in); k++ {
			v := float64(fs[k][idx[k]])
			switch n.Op {
			case "Max":
				if v > acc || math.IsNaN(v) {
					acc = v
				}
			case "Min":
				if v < acc || math.IsNaN(v) {
					acc = v
				}
			default:
				acc += v
			}
		}
		if n.Op == "Mean" {
			acc /= float64(len(in))
		}
		out.Data[i] = float32(acc)
	})
	return []*Tensor{out}, nil
}

// evalPow computes out = x^y with numpy broadcasting. The result has x's
// kind: float32 for a float x; for an integer x, the float64 power
// truncated toward zero (exact for the integer results ONNX expects).
func evalPow(n *Node, in []*Tensor) ([]*Tensor, error) {
	a, b := in[0], in[1]
	os, err := broadcastShapes(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	x, y := a.Floats(), b.Floats()
	total := NumElements(os)
	if a.IsInt() {
		out := &Tensor{Shape: os, Ints: make([]int64, total)}
		var ferr error
		broadcastIndex(os, a.Shape, b.Shape, func(i, ia, ib int) {
			var p float64
			if b.IsInt() {
				p = math.Pow(float64(a.Ints[ia]), float64(b.Ints[ib]))
			} else {
				p = math.Pow(float64(a.Ints[ia]), float64(y[ib]))
			}
			if !(p >= math.MinInt64 && p <= math.MaxInt64) {
				ferr = fmt.Errorf("integer power %g out of range", p)
				return
			}
			out.Ints[i] = int64(p)
		})
		return []*Tensor{out}, ferr
	}
	out := &Tensor{Shape: os, Data: make([]float32, total)}
	if b.Len() == 1 && y[0] == 2 {
		// x² (the decomposed LayerNorm's variance): float64 holds a
		// float32's square exactly, so rounding it once is x·x rounded
		// once, the same bits as math.Pow at a fraction of its cost.
		broadcastIndex(os, a.Shape, b.Shape, func(i, ia, _ int) {
			out.Data[i] = x[ia] * x[ia]
		})
		return []*Tensor{out}, nil
	}
	broadcastIndex(os, a.Shape, b.Shape, func(i, ia, ib int) {
		out.Data[i] = float32(math.Pow(float64(x[ia]), float64(y[ib])))
	})
	return []*Tensor{out}, nil
}
