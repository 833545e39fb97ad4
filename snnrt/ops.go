package snnrt

import "github.com/ann2snn/ann2snn/internal/kernels"

// prepareConvs returns the prepared kernels.Conv of every conv layer of m
// (nil for other layers) and the workspace length they need for nimg
// images.
func prepareConvs(m *Model, nimg int) ([]*kernels.Conv, int) {
	convs := make([]*kernels.Conv, len(m.Layers))
	ws := 0
	for i := range m.Layers {
		if l := &m.Layers[i]; l.Kind == KindConv {
			convs[i] = kernels.NewConv(l.Conv, l.W, l.B)
			ws = max(ws, convs[i].WorkspaceLen(nimg))
		}
	}
	return convs, ws
}

// denseForward evaluates a stateless layer (conv, linear, pooling, add,
// concat, flatten) on nimg images: dst = l(ins...). ins[j] holds input j
// with per-image shape in[j]. These layers are linear (affine with a bias),
// so the same code serves the SNN at every step and the analog model.
// conv is the prepared convolution of a conv layer (nil: use the slow
// kernels.ConvRef) and ws its workspace.
func denseForward(l *Layer, conv *kernels.Conv, ws []float32, dst []float32, ins [][]float32, in []Shape, nimg int) {
	out := l.Shape.Len()
	switch l.Kind {
	case KindConv:
		if conv != nil {
			conv.Forward(dst, ins[0], nimg, ws)
		} else {
			kernels.ConvRef(dst, ins[0], nimg, l.W, l.B, l.Conv)
		}
	case KindLinear:
		k := in[0].Len()
		kernels.Sgemm(false, true, nimg, out, k, 1, ins[0], k, l.W, k, 0, dst, out)
		if l.B != nil {
			for i := 0; i < nimg; i++ {
				row := dst[i*out : (i+1)*out]
				for o, b := range l.B {
					row[o] += b
				}
			}
		}
	case KindAvgPool:
		kernels.AvgPool(dst, ins[0], nimg, l.Pool)
	case KindGlobalAvgPool:
		kernels.GlobalAvgPool(dst, ins[0], nimg, in[0].C, in[0].H*in[0].W)
	case KindAdd:
		copy(dst[:nimg*out], ins[0])
		for _, x := range ins[1:] {
			for j, v := range x[:nimg*out] {
				dst[j] += v
			}
		}
	case KindConcat:
		off := 0
		for i := 0; i < nimg; i++ {
			for j, x := range ins {
				n := in[j].Len()
				copy(dst[off:off+n], x[i*n:(i+1)*n])
				off += n
			}
		}
	case KindFlatten:
		copy(dst[:nimg*out], ins[0])
	default:
		panic("snnrt: denseForward on stateful layer " + l.Kind.String())
	}
}
