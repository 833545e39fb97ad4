package importer

import (
	"fmt"
	"math"
)

func checkBatchNorm(n *Node) error {
	if n.Attrs.Int("training_mode", 0) != 0 {
		return unsupportedAttr(n, "training_mode=1")
	}
	for _, o := range n.Outputs[min(1, len(n.Outputs)):] {
		if o != "" {
			return unsupportedAttr(n, "training outputs (running mean/var)")
		}
	}
	return nil
}

func shapeBatchNorm(n *Node, in []shapeVal) ([][]int, error) {
	x := in[0].shape
	if len(x) < 2 {
		return nil, fmt.Errorf("input %v: want [N,C,...]", x)
	}
	for i := 1; i < 5; i++ {
		if NumElements(in[i].shape) != x[1] {
			return nil, fmt.Errorf("parameter %d has shape %v, want [%d]", i, in[i].shape, x[1])
		}
	}
	return [][]int{clone(x)}, nil
}

// evalBatchNorm computes inference BatchNormalization:
// y = scale·(x − mean)/sqrt(var + epsilon) + bias per channel (dimension 1).
func evalBatchNorm(n *Node, in []*Tensor) ([]*Tensor, error) {
	x := in[0]
	eps := float64(n.Attrs.Float("epsilon", 1e-5))
	scale, bias, mean, vr := in[1].Floats(), in[2].Floats(), in[3].Floats(), in[4].Floats()
	C := x.Shape[1]
	sp := 1
	for _, d := range x.Shape[2:] {
		sp *= d
	}
	xs := x.Floats()
	out := NewTensor(x.Shape...)
	for p := 0; p < x.Shape[0]*C; p++ {
		c := p % C
		a := float32(float64(scale[c]) / math.Sqrt(float64(vr[c])+eps))
		b := bias[c] - a*mean[c]
		for i := p * sp; i < (p+1)*sp; i++ {
			out.Data[i] = a*xs[i] + b
		}
	}
	return []*Tensor{out}, nil
}

// evalSoftmax computes softmax along axis (default -1). With the attribute
// coerce2d=1 (set by the importer for opset < 13; default axis 1) the input
// is viewed as 2-D [prod(d[:axis]), prod(d[axis:])] and normalized over the
// second dimension.
func evalSoftmax(n *Node, in []*Tensor) ([]*Tensor, error) {
	x := in[0]
	r := len(x.Shape)
	legacy := n.Attrs.Int("coerce2d", 0) != 0
	def := int64(-1)
	if legacy {
		def = 1
	}
	axis, err := normAxis(n.Attrs.Int("axis", def), max(r, 1), false)
	if err != nil {
		return nil, err
	}
	outer, inner, size := 1, 1, 1
	for i, d := range x.Shape {
		switch {
		case i < axis:
			outer *= d
		case i == axis || (legacy && i > axis):
			size *= d
		default:
			inner *= d
		}
	}
	xs := x.Floats()
	out := NewTensor(x.Shape...)
	for o := 0; o < outer; o++ {
		for in := 0; in < inner; in++ {
			base := o*size*inner + in
			mx := float32(math.Inf(-1))
			for s := 0; s < size; s++ {
				mx = max(mx, xs[base+s*inner])
			}
			var sum float64
			for s := 0; s < size; s++ {
				e := math.Exp(float64(xs[base+s*inner] - mx))
				out.Data[base+s*inner] = float32(e)
				sum += e
			}
			for s := 0; s < size; s++ {
				out.Data[base+s*inner] = float32(float64(out.Data[base+s*inner]) / sum)
			}
		}
	}
	return []*Tensor{out}, nil
}

func shapeLayerNorm(n *Node, in []shapeVal) ([][]int, error) {
	x := in[0].shape
	if len(n.Outputs) > 3 {
		return nil, fmt.Errorf("%d outputs, want at most 3", len(n.Outputs))
	}
	axis, err := normAxis(n.Attrs.Int("axis", -1), len(x), false)
	if err != nil {
		return nil, err
	}
	norm := x[axis:]
	for i := 1; i < len(in); i++ {
		if in[i].absent {
			continue
		}
		if _, err := broadcastUni(in[i].shape, norm); err != nil {
			return nil, fmt.Errorf("parameter %d: %v", i, err)
		}
	}
	stat := clone(x)
	for i := axis; i < len(stat); i++ {
		stat[i] = 1
	}
	out := [][]int{clone(x)}
	for i := 1; i < len(n.Outputs); i++ {
		out = append(out, clone(stat))
	}
	return out, nil
}

// broadcastUni checks that shape s broadcasts to target without changing
// it (ONNX unidirectional broadcasting) and returns its strides in the
// target's index space.
func broadcastUni(s, target []int) ([]int, error) {
	b, err := broadcastShapes(target, s)
	if err != nil || len(b) != len(target) {
		return nil, fmt.Errorf("shape %v does not broadcast to %v", s, target)
	}
	for i := range b {
		if b[i] != target[i] {
			return nil, fmt.Errorf("shape %v does not broadcast to %v", s, target)
		}
	}
	return bcastStrides(s, target), nil
}

// evalLayerNorm computes LayerNormalization (opset 17) over the dimensions
// [axis, rank): with μ and σ² the mean and (biased) variance of each
// normalized group, Y = (X − μ)/sqrt(σ² + epsilon)·Scale + B; the optional
// outputs are μ and 1/sqrt(σ² + epsilon). Statistics are computed in
// float64 whatever stash_type says.
func evalLayerNorm(n *Node, in []*Tensor) ([]*Tensor, error) {
	x := in[0]
	axis, err := normAxis(n.Attrs.Int("axis", -1), len(x.Shape), false)
	if err != nil {
		return nil, err
	}
	eps := float64(n.Attrs.Float("epsilon", 1e-5))
	norm := x.Shape[axis:]
	size := NumElements(norm)
	groups := NumElements(x.Shape[:axis])
	var params [2][]float32
	var pst [2][]int
	for i := range params {
		t := tensorAt(in, i+1)
		if t == nil {
			continue
		}
		if pst[i], err = broadcastUni(t.Shape, norm); err != nil {
			return nil, err
		}
		params[i] = t.Floats()
	}
	// Flat index of each normalized position into the broadcast parameters.
	pidx := [2][]int{make([]int, size), make([]int, size)}
	for i := range params {
		if params[i] == nil {
			continue
		}
		for j := 0; j < size; j++ {
			off, r := 0, j
			for d := len(norm) - 1; d >= 0; d-- {
				off += (r % norm[d]) * pst[i][d]
				r /= norm[d]
			}
			pidx[i][j] = off
		}
	}
	xs := x.Floats()
	y := NewTensor(x.Shape...)
	stat := clone(x.Shape)
	for i := axis; i < len(stat); i++ {
		stat[i] = 1
	}
	mean, inv := NewTensor(stat...), NewTensor(stat...)
	for g := 0; g < groups; g++ {
		v := xs[g*size : (g+1)*size]
		var m, s2 float64
		for _, f := range v {
			m += float64(f)
		}
		m /= float64(max(size, 1))
		for _, f := range v {
			d := float64(f) - m
			s2 += d * d
		}
		s2 /= float64(max(size, 1))
		r := 1 / math.Sqrt(s2+eps)
		mean.Data[g], inv.Data[g] = float32(m), float32(r)
		for j, f := range v {
			o := (float64(f) - m) * r
			if params[0] != nil {
				o *= float64(params[0][pidx[0][j]])
			}
			if params[1] != nil {
				o += float64(params[1][pidx[1][j]])
			}
			y.Data[g*size+j] = float32(o)
		}
	}
	return []*Tensor{y, mean, inv}[:len(n.Outputs)], nil
}
