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
