package importer

import (
	"fmt"
	"math"
	"slices"
)

// broadcastShapes returns the numpy broadcast of shapes a and b.
func broadcastShapes(a, b []int) ([]int, error) {
	r := max(len(a), len(b))
	out := make([]int, r)
	for i := 0; i < r; i++ {
		da, db := 1, 1
		if j := i - (r - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (r - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// legacyAlign applies opset<7 broadcasting: with broadcast=1 and an axis
// attribute, b's dimensions are aligned with a's starting at axis.
func legacyAlign(n *Node, a, b []int) ([]int, error) {
	if n.Attrs.Int("broadcast", 0) == 0 {
		return b, nil
	}
	ax, ok := n.Attrs["axis"].(int64)
	if !ok {
		return b, nil
	}
	axis, err := normAxis(ax, len(a), false)
	if err != nil {
		return nil, err
	}
	if axis+len(b) > len(a) {
		return nil, fmt.Errorf("legacy broadcast of %v into %v at axis %d", b, a, axis)
	}
	nb := make([]int, 0, len(a)-axis)
	nb = append(nb, b...)
	for len(nb) < len(a)-axis {
		nb = append(nb, 1)
	}
	return nb, nil
}

func shapeBinary(n *Node, in []shapeVal) ([][]int, error) {
	b, err := legacyAlign(n, in[0].shape, in[1].shape)
	if err != nil {
		return nil, err
	}
	s, err := broadcastShapes(in[0].shape, b)
	if err != nil {
		return nil, err
	}
	return [][]int{s}, nil
}

// bcastStrides returns strides of a tensor of shape s laid out in the
// rank-r output space, with 0 for broadcast dimensions.
func bcastStrides(s []int, out []int) []int {
	st := strides(s)
	r := make([]int, len(out))
	off := len(out) - len(s)
	for i := range s {
		if s[i] != 1 || out[off+i] == 1 {
			r[off+i] = st[i]
		}
	}
	return r
}

// broadcastIndex calls f(i, ia, ib) for each output element i with the
// flat indices of the broadcast operands of shapes a and b.
func broadcastIndex(out, a, b []int, f func(i, ia, ib int)) {
	total := NumElements(out)
	if slices.Equal(a, b) {
		for i := 0; i < total; i++ {
			f(i, i, i)
		}
		return
	}
	sa, sb := bcastStrides(a, out), bcastStrides(b, out)
	idx := make([]int, len(out))
	ia, ib := 0, 0
	for i := 0; i < total; i++ {
		f(i, ia, ib)
		for d := len(out) - 1; d >= 0; d-- {
			idx[d]++
			ia += sa[d]
			ib += sb[d]
			if idx[d] < out[d] {
				break
			}
			ia -= sa[d] * idx[d]
			ib -= sb[d] * idx[d]
			idx[d] = 0
		}
	}
}

// evalBinary computes Add, Sub, Mul and Div with numpy broadcasting. Two
// integer operands give an integer result (Div truncates toward zero, as
// in onnxruntime); otherwise both are taken as float32.
func evalBinary(n *Node, in []*Tensor) ([]*Tensor, error) {
	a, b := in[0], in[1]
	bs, err := legacyAlign(n, a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	os, err := broadcastShapes(a.Shape, bs)
	if err != nil {
		return nil, err
	}
	if a.IsInt() && b.IsInt() {
		out := &Tensor{Shape: os, Ints: make([]int64, NumElements(os))}
		x, y := a.Ints, b.Ints
		var ferr error
		broadcastIndex(os, a.Shape, bs, func(i, ia, ib int) {
			switch n.Op {
			case "Add":
				out.Ints[i] = x[ia] + y[ib]
			case "Sub":
				out.Ints[i] = x[ia] - y[ib]
			case "Mul":
				out.Ints[i] = x[ia] * y[ib]
			case "Div":
				if y[ib] == 0 {
					ferr = fmt.Errorf("integer division by zero")
					return
				}
				out.Ints[i] = x[ia] / y[ib]
			}
		})
		return []*Tensor{out}, ferr
	}
	out := &Tensor{Shape: os, Data: make([]float32, NumElements(os))}
	x, y := a.Floats(), b.Floats()
	d := out.Data
	switch n.Op {
	case "Add":
		broadcastIndex(os, a.Shape, bs, func(i, ia, ib int) { d[i] = x[ia] + y[ib] })
	case "Sub":
		broadcastIndex(os, a.Shape, bs, func(i, ia, ib int) { d[i] = x[ia] - y[ib] })
	case "Mul":
		broadcastIndex(os, a.Shape, bs, func(i, ia, ib int) { d[i] = x[ia] * y[ib] })
	case "Div":
		broadcastIndex(os, a.Shape, bs, func(i, ia, ib int) { d[i] = x[ia] / y[ib] })
	default:
		return nil, fmt.Errorf("not a binary operator")
	}
	return []*Tensor{out}, nil
}

// unaryFunc returns the scalar function of a unary operator.
func unaryFunc(n *Node) func(float32) float32 {
	switch n.Op {
	case "Relu":
		return func(x float32) float32 {
			if x > 0 {
				return x
			}
			return 0
		}
	case "LeakyRelu":
		alpha := n.Attrs.Float("alpha", 0.01)
		return func(x float32) float32 {
			if x >= 0 {
				return x
			}
			return alpha * x
		}
	case "Floor":
		return func(x float32) float32 { return float32(math.Floor(float64(x))) }
	case "Ceil":
		return func(x float32) float32 { return float32(math.Ceil(float64(x))) }
	case "Reciprocal":
		return func(x float32) float32 { return 1 / x }
	case "Sigmoid":
		return func(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }
	case "Tanh":
		return func(x float32) float32 { return float32(math.Tanh(float64(x))) }
	case "Neg":
		return func(x float32) float32 { return -x }
	case "Abs":
		return func(x float32) float32 { return float32(math.Abs(float64(x))) }
	case "Exp":
		return func(x float32) float32 { return float32(math.Exp(float64(x))) }
	case "Log":
		return func(x float32) float32 { return float32(math.Log(float64(x))) }
	case "Sqrt":
		return func(x float32) float32 { return float32(math.Sqrt(float64(x))) }
	case "Erf":
		return func(x float32) float32 { return float32(math.Erf(float64(x))) }
	case "HardSigmoid":
		alpha, beta := float64(n.Attrs.Float("alpha", 0.2)), float64(n.Attrs.Float("beta", 0.5))
		return func(x float32) float32 { return float32(max(0, min(1, alpha*float64(x)+beta))) }
	case "HardSwish":
		return func(x float32) float32 { return float32(float64(x) * max(0, min(1, float64(x)/6+0.5))) }
	case "Gelu":
		if n.Attrs.String("approximate", "none") == "tanh" {
			c := math.Sqrt(2 / math.Pi)
			return func(x float32) float32 {
				v := float64(x)
				return float32(0.5 * v * (1 + math.Tanh(c*(v+0.044715*v*v*v))))
			}
		}
		return func(x float32) float32 {
			v := float64(x)
			return float32(0.5 * v * (1 + math.Erf(v/math.Sqrt2)))
		}
	}
	return nil
}

func checkGelu(n *Node) error {
	if a := n.Attrs.String("approximate", "none"); a != "none" && a != "tanh" {
		return unsupportedAttr(n, "approximate=%q", a)
	}
	return nil
}

// evalUnary applies a unary operator element by element; integer inputs of
// Neg, Abs and Relu stay integers, others are converted to float32.
func evalUnary(n *Node, in []*Tensor) ([]*Tensor, error) {
	x := in[0]
	if x.IsInt() && (n.Op == "Neg" || n.Op == "Abs" || n.Op == "Relu") {
		out := &Tensor{Shape: clone(x.Shape), Ints: make([]int64, len(x.Ints))}
		for i, v := range x.Ints {
			switch {
			case n.Op == "Neg":
				v = -v
			case v < 0 && n.Op == "Abs":
				v = -v
			case v < 0: // Relu
				v = 0
			}
			out.Ints[i] = v
		}
		return []*Tensor{out}, nil
	}
	f := unaryFunc(n)
	if f == nil {
		return nil, fmt.Errorf("not a unary operator")
	}
	xs := x.Floats()
	out := &Tensor{Shape: clone(x.Shape), Data: make([]float32, len(xs))}
	for i, v := range xs {
		out.Data[i] = f(v)
	}
	return []*Tensor{out}, nil
}

// clipBounds returns Clip's bounds: float attributes "min"/"max" (opset < 11
// and the normalized form) or the optional scalar inputs 1 and 2.
func clipBounds(n *Node, in []*Tensor) (lo, hi float32, err error) {
	lo = n.Attrs.Float("min", float32(math.Inf(-1)))
	hi = n.Attrs.Float("max", float32(math.Inf(1)))
	for i, p := range []*float32{&lo, &hi} {
		t := tensorAt(in, i+1)
		if t == nil {
			continue
		}
		if t.Len() != 1 {
			return 0, 0, fmt.Errorf("clip bound has shape %v, want a scalar", t.Shape)
		}
		*p = t.Floats()[0]
	}
	return lo, hi, nil
}

// evalClip computes y = min(max(x, min), max).
func evalClip(n *Node, in []*Tensor) ([]*Tensor, error) {
	lo, hi, err := clipBounds(n, in)
	if err != nil {
		return nil, err
	}
	x := in[0]
	if x.IsInt() {
		out := &Tensor{Shape: clone(x.Shape), Ints: make([]int64, len(x.Ints))}
		for i, v := range x.Ints {
			out.Ints[i] = int64(math.Min(math.Max(float64(v), float64(lo)), float64(hi)))
		}
		return []*Tensor{out}, nil
	}
	out := &Tensor{Shape: clone(x.Shape), Data: make([]float32, len(x.Data))}
	for i, v := range x.Data {
		if v < lo {
			v = lo
		}
		if v > hi {
			v = hi
		}
		out.Data[i] = v
	}
	return []*Tensor{out}, nil
}
