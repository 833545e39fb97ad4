package snnrt

// evPool is an AvgPool layer fed by the events of an NHWC IF layer: it pools
// only the spikes and emits its non-zero outputs as events, instead of
// pooling the dense spike map.
//
// Semantics: kernels.AvgPool sums each window in row-major order and
// divides by the divisor. Events arrive in ascending input position, which
// is row-major order within every window, and adding the window's zeros
// changes no sum (spike values are never −0), so the sums and quotients
// are bit-identical to kernels.AvgPool's.
type evPool struct {
	c, inP, outP int
	outStart     []int32   // [inP+1]: outputs of input position p are outs[outStart[p]:outStart[p+1]]
	outs         []int32   // output positions, ascending
	div          []float32 // [outP] divisor of each output (0: none)
}

func newEvPool(p PoolGeom) *evPool {
	oh, ow := p.OutH(), p.OutW()
	e := &evPool{c: p.C, inP: p.H * p.W, outP: oh * ow, div: make([]float32, oh*ow)}
	lists := make([][]int32, e.inP)
	for oy := 0; oy < oh; oy++ {
		y0, y1, ph := window(oy, p.H, p.KH, p.StrideH, p.PadT, p.PadB)
		for ox := 0; ox < ow; ox++ {
			x0, x1, pw := window(ox, p.W, p.KW, p.StrideW, p.PadL, p.PadR)
			d := max(0, y1-y0) * max(0, x1-x0)
			if p.CountIncludePad {
				d = ph * pw
			}
			if d > 0 {
				e.div[oy*ow+ox] = float32(d)
			}
			for y := y0; y < y1; y++ {
				for x := x0; x < x1; x++ {
					lists[y*p.W+x] = append(lists[y*p.W+x], int32(oy*ow+ox))
				}
			}
		}
	}
	e.outStart = make([]int32, e.inP+1)
	for i, l := range lists {
		e.outs = append(e.outs, l...)
		e.outStart[i+1] = int32(len(e.outs))
	}
	return e
}

// step pools the events in of one image into acc ([outP][C] scratch) and
// sets out to the non-zero pooled values; d, if not nil, receives the
// pooled NCHW map.
func (e *evPool) step(out, in *events, acc, d []float32) {
	C := e.c
	acc = acc[:e.outP*C]
	clear(acc)
	for p := 0; p < e.inP; p++ {
		a, b := in.start[p], in.start[p+1]
		if a == b {
			continue
		}
		for _, o := range e.outs[e.outStart[p]:e.outStart[p+1]] {
			row := acc[int(o)*C : int(o+1)*C]
			for j := a; j < b; j++ {
				row[in.ch[j]] += in.val[j]
			}
		}
	}
	out.reset()
	if d != nil {
		clear(d)
	}
	for o := 0; o < e.outP; o++ {
		div := e.div[o]
		for c, v := range acc[o*C : (o+1)*C] {
			if v == 0 {
				continue
			}
			if div > 0 {
				v /= div
			}
			out.ch = append(out.ch, int32(c))
			out.val = append(out.val, v)
			if d != nil {
				d[c*e.outP+o] = v
			}
		}
		out.closePos(o)
	}
}
