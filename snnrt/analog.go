package snnrt

import (
	"fmt"

	"github.com/ann2snn/ann2snn/internal/kernels"
)

// Analog evaluates the ANN that m approximates on n images x ([n, Input]):
// the same layers with every IF layer replaced by clip(x, 0, θ·M) (M =
// max(MaxSpikes,1)) and every MaxPool by an ordinary max. It returns the
// output layer's values, [n, Classes], in a new slice. As T → ∞ the SNN's
// accumulated output divided by T approaches it (exactly so for networks
// whose neurons never saturate or go negative).
func (m *Model) Analog(x []float32, n int) ([]float32, error) {
	outs, err := m.AnalogLayers(x, n)
	if err != nil {
		return nil, err
	}
	return outs[m.Output], nil
}

// AnalogLayers is Analog returning every layer's output: element i is
// layer i's output for all n images, [n, Layers[i].Shape], in new slices.
func (m *Model) AnalogLayers(x []float32, n int) ([][]float32, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if err := checkInput(m, x, n); err != nil {
		return nil, fmt.Errorf("snnrt: Analog: %w", err)
	}
	outs := make([][]float32, len(m.Layers))
	convs, wsLen := prepareConvs(m, n)
	ws := make([]float32, wsLen)
	var ins [][]float32
	var in []Shape
	for i := range m.Layers {
		l := &m.Layers[i]
		ins, in = ins[:0], in[:0]
		for _, src := range l.Inputs {
			if src == InputIndex {
				ins = append(ins, x)
			} else {
				ins = append(ins, outs[src])
			}
			in = append(in, m.shapeOf(src))
		}
		dst := make([]float32, n*l.Shape.Len())
		switch l.Kind {
		case KindIF:
			l.IF.analog(dst, ins[0], l.Shape, n)
		case KindMaxPool:
			kernels.MaxPool(dst, ins[0], n, l.Pool)
		default:
			denseForward(l, convs[i], ws, dst, ins, in, n)
		}
		outs[i] = dst
	}
	return outs, nil
}
