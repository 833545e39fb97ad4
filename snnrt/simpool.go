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
	div          []float32 // [outP] divisor of each output (1 where the window is empty)
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
			e.div[oy*ow+ox] = float32(max(1, d))
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
// pooled NCHW map. With asm (and C%8 == 0) a vector kernel emits the
// outputs, left-packing them with lut.
func (e *evPool) step(out, in *events, acc, d []float32, lut *packLUT, asm bool) {
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
	chs, vals := out.ch[:cap(out.ch)], out.val[:cap(out.val)]
	var n int
	if asm && C%8 == 0 {
		n = emitNonzero(acc, e.div, C, e.outP, chs, vals, out.start, lut)
	} else {
		n = emitNonzeroGo(acc, e.div, C, e.outP, chs, vals, out.start)
	}
	out.ch, out.val = chs[:n], vals[:n]
	if d != nil {
		out.scatter(d, e.outP)
	}
}

// emitNonzeroGo is the portable twin of emitNonzero8 (simpool_amd64.s;
// keep in sync): for p positions of c channels of pooled sums acc
// ([p][c]), it stores the channels and values sum/div[q] of the non-zero
// sums at ch[n:], val[n:] (n from 0), with start[q+1] = n after position
// q, and returns n.
func emitNonzeroGo(acc, div []float32, c, p int, ch []int32, val []float32, start []int32) int {
	n := 0
	for q := 0; q < p; q++ {
		dq := div[q]
		for k, v := range acc[q*c : (q+1)*c] {
			if v != 0 {
				ch[n], val[n] = int32(k), v/dq
				n++
			}
		}
		start[q+1] = int32(n)
	}
	return n
}
