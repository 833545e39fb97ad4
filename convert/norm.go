package convert

import (
	"math"

	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/kernels"
	"github.com/ann2snn/ann2snn/snnrt"
)

// batchNorm lowers an inference-mode BatchNormalization that FoldBatchNorm
// could not fold (DenseNet's, after a Concat and before ReLU and Conv) to
// the per-channel affine map y = s·x + (β − s·mean), s = γ/√(var+ε): a
// depthwise 1×1 convolution with bias (one synapse per neuron, exact).
func (l *lowerer) batchNorm(n *importer.Node) error {
	src, err := l.input(n, n.Inputs[0])
	if err != nil {
		return err
	}
	scale, bias, mean, vr := constInput(l.g, n, 1), constInput(l.g, n, 2), constInput(l.g, n, 3), constInput(l.g, n, 4)
	if scale == nil || bias == nil || mean == nil || vr == nil {
		return nodeErr(n, "scale, bias, mean and variance must be constants")
	}
	shape := l.shapes[n.Inputs[0]]
	in, ok := perImage(shape)
	if !ok {
		return nodeErr(n, "input has shape %v; only [N,C,H,W] and [N,C] convert", shape)
	}
	c := in.C
	if scale.Len() != c || bias.Len() != c || mean.Len() != c || vr.Len() != c {
		return nodeErr(n, "parameters have %d, %d, %d, %d values for %d channels", scale.Len(), bias.Len(), mean.Len(), vr.Len(), c)
	}
	eps := float64(n.Attrs.Float("epsilon", 1e-5))
	sv, bv, mv, vv := scale.Floats(), bias.Floats(), mean.Floats(), vr.Floats()
	w, b := make([]float32, c), make([]float32, c)
	for i := range c {
		s := float64(sv[i]) / math.Sqrt(float64(vv[i])+eps)
		w[i] = float32(s)
		b[i] = float32(float64(bv[i]) - s*float64(mv[i]))
	}
	geom := kernels.ConvGeom{C: c, H: in.H, W: in.W, K: c, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Group: c}
	idx, err := l.add(n, n.Outputs[0], snnrt.Layer{Kind: snnrt.KindConv, Inputs: []int{src}, Conv: geom, W: w, B: b})
	if err != nil {
		return err
	}
	return l.activation(n.Outputs[0], idx)
}

// reduceMean lowers ReduceMean over H and W (ShuffleNet's and RegNet's
// x.mean([2, 3])) to global average pooling.
func (l *lowerer) reduceMean(n *importer.Node) error {
	shape := l.shapes[n.Inputs[0]]
	axes := n.Attrs.Ints("axes", nil)
	if len(n.Inputs) > 1 && n.Inputs[1] != "" {
		t, ok := l.known(l.views[0], n.Inputs[1])
		if !ok || !t.IsInt() {
			return nodeErr(n, "axes must be a constant integer tensor")
		}
		axes = t.Ints
	}
	spatial := len(shape) == 4 && len(axes) == 2
	for _, a := range axes {
		if a < 0 {
			a += int64(len(shape))
		}
		spatial = spatial && (a == 2 || a == 3)
	}
	if !spatial || axes[0] == axes[1] {
		return nodeErr(n, "mean over axes %v of a %v tensor; only the mean over H and W (global average pooling) converts", axes, shape)
	}
	src, err := l.input(n, n.Inputs[0])
	if err != nil {
		return err
	}
	idx, err := l.add(n, n.Outputs[0], snnrt.Layer{Kind: snnrt.KindGlobalAvgPool, Inputs: []int{src}})
	if err != nil {
		return err
	}
	return l.activation(n.Outputs[0], idx)
}
