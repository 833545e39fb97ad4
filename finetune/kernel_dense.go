package finetune

import (
	"github.com/ann2snn/ann2snn/internal/kernels"
	"github.com/ann2snn/ann2snn/snnrt"
)

// linearKernel is y = x·Wᵀ + b over n rows: x [n,in], W [out,in], b [out]
// (optional); output [n,out]. Forward is kernels.Sgemm as in snnrt.
type linearKernel struct {
	name            string
	n, in, out      int
	hasBias, inGrad bool
}

func (k *linearKernel) id() string { return k.name }

func (k *linearKernel) inLens() []int {
	l := []int{k.n * k.in, k.out * k.in}
	if k.hasBias {
		l = append(l, k.out)
	}
	return l
}

func (k *linearKernel) outLen() int { return k.n * k.out }

func (k *linearKernel) diff() []bool {
	d := []bool{k.inGrad, true}
	if k.hasBias {
		d = append(d, true)
	}
	return d
}

func (k *linearKernel) forward(out []float32, in [][]float32) {
	forEach(k.n, func(lo, hi int) {
		y := out[lo*k.out : hi*k.out]
		kernels.Sgemm(false, true, hi-lo, k.out, k.in, 1, in[0][lo*k.in:hi*k.in], k.in, in[1], k.in, 0, y, k.out)
		if k.hasBias {
			for i := 0; i < hi-lo; i++ {
				row := y[i*k.out : (i+1)*k.out]
				for o, b := range in[2] {
					row[o] += b
				}
			}
		}
	})
}

func (k *linearKernel) backward(gin [][]float32, in [][]float32, _, gout []float32) {
	if k.inGrad {
		forEach(k.n, func(lo, hi int) {
			kernels.Sgemm(false, false, hi-lo, k.in, k.out, 1, gout[lo*k.out:hi*k.out], k.out, in[1], k.in, 0, gin[0][lo*k.in:hi*k.in], k.in)
		})
	}
	kernels.Sgemm(true, false, k.out, k.in, k.n, 1, gout, k.out, in[0], k.in, 0, gin[1], k.in)
	if k.hasBias {
		for i := 0; i < k.n; i++ {
			for o, v := range gout[i*k.out : (i+1)*k.out] {
				gin[2][o] += v
			}
		}
	}
}

// avgPoolKernel is average pooling over n images (kernels.AvgPool) and its
// adjoint, which spreads each output gradient over its window divided by
// the same divisor.
type avgPoolKernel struct {
	name string
	p    snnrt.PoolGeom
	n    int
}

func (k *avgPoolKernel) id() string    { return k.name }
func (k *avgPoolKernel) inLens() []int { return []int{k.n * k.p.C * k.p.H * k.p.W} }
func (k *avgPoolKernel) outLen() int   { return k.n * k.p.C * k.p.OutH() * k.p.OutW() }
func (k *avgPoolKernel) diff() []bool  { return []bool{true} }

func (k *avgPoolKernel) forward(out []float32, in [][]float32) {
	ip, op := k.p.C*k.p.H*k.p.W, k.p.C*k.p.OutH()*k.p.OutW()
	forEach(k.n, func(lo, hi int) {
		kernels.AvgPool(out[lo*op:hi*op], in[0][lo*ip:hi*ip], hi-lo, k.p)
	})
}

func (k *avgPoolKernel) backward(gin [][]float32, _ [][]float32, _, gout []float32) {
	p := k.p
	oh, ow := p.OutH(), p.OutW()
	forEach(k.n*p.C, func(lo, hi int) {
		for plane := lo; plane < hi; plane++ {
			dx := gin[0][plane*p.H*p.W : (plane+1)*p.H*p.W]
			g := gout[plane*oh*ow : (plane+1)*oh*ow]
			for oy := 0; oy < oh; oy++ {
				y0, y1, ph := poolWindow(oy, p.H, p.KH, max(p.StrideH, 1), p.PadT, p.PadB)
				for ox := 0; ox < ow; ox++ {
					x0, x1, pw := poolWindow(ox, p.W, p.KW, max(p.StrideW, 1), p.PadL, p.PadR)
					div := max(0, y1-y0) * max(0, x1-x0)
					if p.CountIncludePad {
						div = ph * pw
					}
					if div == 0 {
						continue
					}
					v := g[oy*ow+ox] / float32(div)
					for iy := y0; iy < y1; iy++ {
						for ix := x0; ix < x1; ix++ {
							dx[iy*p.W+ix] += v
						}
					}
				}
			}
		}
	})
}

// poolWindow returns the input rows [lo, hi) that output row o reads and
// the window size clipped to the padded input, for one axis. Keep in sync
// with kernels.poolWindow (TestAvgPoolAdjoint checks the pair).
func poolWindow(o, in, k, s, pb, pe int) (lo, hi, padded int) {
	start := o*s - pb
	end := min(start+k, in+pe)
	return max(start, 0), min(end, in), end - start
}

// globalAvgPoolKernel is the mean over H×W per channel of n images.
type globalAvgPoolKernel struct {
	name     string
	n, c, hw int
}

func (k *globalAvgPoolKernel) id() string    { return k.name }
func (k *globalAvgPoolKernel) inLens() []int { return []int{k.n * k.c * k.hw} }
func (k *globalAvgPoolKernel) outLen() int   { return k.n * k.c }
func (k *globalAvgPoolKernel) diff() []bool  { return []bool{true} }

func (k *globalAvgPoolKernel) forward(out []float32, in [][]float32) {
	kernels.GlobalAvgPool(out, in[0], k.n, k.c, k.hw)
}

func (k *globalAvgPoolKernel) backward(gin [][]float32, _ [][]float32, _, gout []float32) {
	inv := 1 / float32(k.hw)
	for plane, g := range gout[:k.n*k.c] {
		v := g * inv
		for j := range gin[0][plane*k.hw : (plane+1)*k.hw] {
			gin[0][plane*k.hw+j] += v
		}
	}
}

// concatKernel concatenates n images of inputs [n,Ci,H,W] along channels.
type concatKernel struct {
	name string
	n    int
	per  []int // per-image length of each input
	dif  []bool
}

func (k *concatKernel) id() string { return k.name }

func (k *concatKernel) inLens() []int {
	l := make([]int, len(k.per))
	for i, p := range k.per {
		l[i] = k.n * p
	}
	return l
}

func (k *concatKernel) outLen() int {
	s := 0
	for _, p := range k.per {
		s += p
	}
	return k.n * s
}

func (k *concatKernel) diff() []bool { return k.dif }

func (k *concatKernel) forward(out []float32, in [][]float32) {
	off := 0
	for i := 0; i < k.n; i++ {
		for j, p := range k.per {
			off += copy(out[off:off+p], in[j][i*p:(i+1)*p])
		}
	}
}

func (k *concatKernel) backward(gin [][]float32, _ [][]float32, _, gout []float32) {
	off := 0
	for i := 0; i < k.n; i++ {
		for j, p := range k.per {
			if gin[j] != nil {
				copy(gin[j][i*p:(i+1)*p], gout[off:off+p])
			}
			off += p
		}
	}
}

// repeatKernel turns a time-independent value of n images [n·per] into a
// spike-train layout [T·n·per] (the same value at every step); its adjoint
// sums over the steps.
type repeatKernel struct {
	name     string
	t, n     int
	per      int
	inputDif bool
}

func (k *repeatKernel) id() string    { return k.name }
func (k *repeatKernel) inLens() []int { return []int{k.n * k.per} }
func (k *repeatKernel) outLen() int   { return k.t * k.n * k.per }
func (k *repeatKernel) diff() []bool  { return []bool{k.inputDif} }

func (k *repeatKernel) forward(out []float32, in [][]float32) {
	l := k.n * k.per
	for t := 0; t < k.t; t++ {
		copy(out[t*l:(t+1)*l], in[0])
	}
}

func (k *repeatKernel) backward(gin [][]float32, _ [][]float32, _, gout []float32) {
	l := k.n * k.per
	for t := 0; t < k.t; t++ {
		for j, v := range gout[t*l : (t+1)*l] {
			gin[0][j] += v
		}
	}
}
