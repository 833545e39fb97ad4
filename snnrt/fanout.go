package snnrt

import "github.com/ann2snn/ann2snn/internal/kernels"

// This file counts synapses for the SOP statistics.
//
// A "source" is a layer whose output travels to other layers as events or
// as dense analog values: the model input, IF and MaxPool layers (spikes)
// and Conv and Linear layers (analog, when not followed by neurons).
// Routing layers (pooling, add, concat, flatten) are transparent: an
// event-driven runtime forwards a spike through them to the synaptic layers
// behind, so the fan-out of a source position is the number of synapses of
// the next synaptic layer(s) that its value reaches, summed over all routing
// paths. IF and MaxPool consumers add no synapses (they are sources
// themselves); the read-out of the output layer adds none.

// fanouts returns, for every layer i, fan[i+1][j] = the number of synapses
// that output position j of one image of layer i drives; fan[0] is for the
// model input.
func fanouts(m *Model) [][]int64 {
	fan := make([][]int64, len(m.Layers)+1)
	fan[0] = make([]int64, m.Input.Len())
	for i := range m.Layers {
		fan[i+1] = make([]int64, m.Layers[i].Shape.Len())
	}
	for ci := len(m.Layers) - 1; ci >= 0; ci-- {
		c := &m.Layers[ci]
		cf := fan[ci+1]
		off := 0 // channel offset for concat
		for _, src := range c.Inputs {
			sf := fan[src+1]
			s := m.shapeOf(src)
			switch c.Kind {
			case KindConv:
				convFan(sf, c.Conv)
			case KindLinear:
				for j := range sf {
					sf[j] += int64(c.Shape.C)
				}
			case KindAvgPool:
				p := c.Pool
				ow := c.Shape.W
				for ch := 0; ch < p.C; ch++ {
					sp := sf[ch*p.H*p.W:]
					op := cf[ch*c.Shape.H*ow:]
					forEachWindow(p, func(oy, ox, y0, y1, x0, x1 int) {
						for y := y0; y < y1; y++ {
							for x := x0; x < x1; x++ {
								sp[y*p.W+x] += op[oy*ow+ox]
							}
						}
					})
				}
			case KindGlobalAvgPool:
				hw := s.H * s.W
				for j := range sf {
					sf[j] += cf[j/hw]
				}
			case KindAdd, KindFlatten:
				for j := range sf {
					sf[j] += cf[j]
				}
			case KindConcat:
				hw := s.H * s.W
				for j := range sf {
					sf[j] += cf[off*hw+j]
				}
				off += s.C
			}
		}
	}
	return fan
}

// convFan adds to f (one input image, [C,H,W]) the number of weights that
// read each input position: K/Group output channels, times the number of
// (output row, kernel row) pairs landing on the row, times the same for the
// column.
func convFan(f []int64, g kernels.ConvGeom) {
	rows := axisFan(g.H, g.OutH(), g.KH, one(g.StrideH), g.PadT, one(g.DilH))
	cols := axisFan(g.W, g.OutW(), g.KW, one(g.StrideW), g.PadL, one(g.DilW))
	k := int64(g.K / one(g.Group))
	for c := 0; c < g.C; c++ {
		for y := 0; y < g.H; y++ {
			for x := 0; x < g.W; x++ {
				f[(c*g.H+y)*g.W+x] += k * rows[y] * cols[x]
			}
		}
	}
}

// axisFan returns, for each input coordinate, how many (output, kernel tap)
// pairs read it along one axis.
func axisFan(in, out, k, s, p, d int) []int64 {
	r := make([]int64, in)
	for o := 0; o < out; o++ {
		for t := 0; t < k; t++ {
			if i := o*s - p + t*d; i >= 0 && i < in {
				r[i]++
			}
		}
	}
	return r
}

// spikingOutputs reports, for every layer (index i+1; 0 = input), whether
// its output is a spike train; poisson says whether the input is.
func spikingOutputs(m *Model, poisson bool) []bool {
	sp := make([]bool, len(m.Layers)+1)
	sp[0] = poisson
	for i := range m.Layers {
		l := &m.Layers[i]
		switch l.Kind {
		case KindIF:
			sp[i+1] = true
		case KindConv, KindLinear:
			sp[i+1] = false
		default:
			all := true
			for _, src := range l.Inputs {
				all = all && sp[src+1]
			}
			sp[i+1] = all
		}
	}
	return sp
}
