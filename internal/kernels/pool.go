package kernels

import "fmt"

// PoolGeom describes a 2-D pooling over C channels of an H×W image, with
// ONNX semantics. Zero StrideH/StrideW mean 1.
type PoolGeom struct {
	C, H, W                int // channels, input height and width
	KH, KW                 int // window height and width
	StrideH, StrideW       int
	PadT, PadL, PadB, PadR int // implicit padding: top, left, bottom, right
	// CeilMode rounds the output size up instead of down; a window that
	// would start in the bottom or right padding is dropped.
	CeilMode bool
	// CountIncludePad makes AvgPool divide by the window size clipped to
	// the padded image, instead of by the number of input pixels it covers.
	CountIncludePad bool
}

// OutH returns the output height: ⌊(H+PadT+PadB-KH)/StrideH⌋+1, or with
// CeilMode ⌈(H+PadT+PadB-KH)/StrideH⌉+1, less one if the last window
// would start at or beyond H+PadT (in the bottom padding).
func (p PoolGeom) OutH() int { return poolOut(p.H, p.KH, one(p.StrideH), p.PadT, p.PadB, p.CeilMode) }

// OutW returns the output width, as OutH does for the width.
func (p PoolGeom) OutW() int { return poolOut(p.W, p.KW, one(p.StrideW), p.PadL, p.PadR, p.CeilMode) }

func poolOut(in, k, s, pb, pe int, ceil bool) int {
	span := in + pb + pe - k
	if span < 0 {
		return 0
	}
	if !ceil {
		return span/s + 1
	}
	o := ceilDiv(span, s) + 1
	if (o-1)*s >= in+pb {
		o--
	}
	return o
}

// Validate reports whether p describes a pooling the kernels can run:
// positive sizes, non-negative strides and padding, and a window no larger
// than the padded input.
func (p PoolGeom) Validate() error {
	switch {
	case p.C <= 0 || p.H <= 0 || p.W <= 0 || p.KH <= 0 || p.KW <= 0:
		return fmt.Errorf("kernels: pool geometry %+v: sizes must be positive", p)
	case p.StrideH < 0 || p.StrideW < 0 || p.PadT < 0 || p.PadL < 0 || p.PadB < 0 || p.PadR < 0:
		return fmt.Errorf("kernels: pool geometry %+v: negative stride or padding", p)
	case p.OutH() <= 0 || p.OutW() <= 0:
		return fmt.Errorf("kernels: pool geometry %+v: window larger than padded input", p)
	}
	return nil
}

// poolWindow returns the input rows [lo, hi) that output row o reads and
// the window size clipped to the padded input, for one axis.
func poolWindow(o, in, k, s, pb, pe int) (lo, hi, padded int) {
	start := o*s - pb
	end := min(start+k, in+pe)
	return max(start, 0), min(end, in), end - start
}

// checkPool panics if p is invalid or a slice is too short for n images.
func checkPool(name string, dst, x []float32, n int, p PoolGeom) {
	if err := p.Validate(); err != nil {
		panic(err.Error())
	}
	if n < 0 || len(x) < n*p.C*p.H*p.W || len(dst) < n*p.C*p.OutH()*p.OutW() {
		panic("kernels: " + name + ": short slice")
	}
}

// AvgPool computes, for n NCHW images x [n, C, H, W], the window means
// dst[i,c,oy,ox] = Σ x[i,c,iy,ix] / d over the input pixels of the window
// rows oy·sH-PadT .. +KH-1 and columns ox·sW-PadL .. +KW-1. The divisor d
// is the number of those input pixels, or with CountIncludePad the window
// area clipped to the padded image [-PadT, H+PadB)×[-PadL, W+PadR). A
// window with d == 0 gives 0. dst is [n, C, OutH, OutW]. The sum runs in
// row-major window order. It panics on an invalid geometry or short slices.
func AvgPool(dst, x []float32, n int, p PoolGeom) {
	checkPool("AvgPool", dst, x, n, p)
	sh, sw := one(p.StrideH), one(p.StrideW)
	oh, ow := p.OutH(), p.OutW()
	if p.KH == 2 && p.KW == 2 && sh == 2 && sw == 2 && p.PadT == 0 && p.PadL == 0 &&
		p.PadB == 0 && p.PadR == 0 && p.H == 2*oh && p.W == 2*ow {
		avgPool2x2(dst, x, n*p.C, p.W, oh, ow)
		return
	}
	for plane := 0; plane < n*p.C; plane++ {
		xs := x[plane*p.H*p.W : (plane+1)*p.H*p.W]
		d := dst[plane*oh*ow : (plane+1)*oh*ow]
		for oy := 0; oy < oh; oy++ {
			y0, y1, ph := poolWindow(oy, p.H, p.KH, sh, p.PadT, p.PadB)
			for ox := 0; ox < ow; ox++ {
				x0, x1, pw := poolWindow(ox, p.W, p.KW, sw, p.PadL, p.PadR)
				var s float32
				for iy := y0; iy < y1; iy++ {
					for _, v := range xs[iy*p.W+x0 : iy*p.W+x1] {
						s += v
					}
				}
				div := max(0, y1-y0) * max(0, x1-x0)
				if p.CountIncludePad {
					div = ph * pw
				}
				if div > 0 {
					s /= float32(div)
				}
				d[oy*ow+ox] = s
			}
		}
	}
}

// avgPool2x2 is AvgPool for 2×2 windows with stride 2 that tile the planes
// exactly: the same sums in the same order, (x00 + x01 + x10 + x11) / 4.
// It multiplies by 0.25 instead of dividing by 4: both round the exact
// quotient, a power-of-two scaling, so the results are the same bits.
//
// With AVX-512 it runs avgPool2x2AVX512, 16 outputs per step with the same
// four additions and multiplication per output (TestAvgPool2x2Kernels);
// the scalar loop spent more time on bounds and loads than on the sums.
func avgPool2x2(dst, x []float32, planes, w, oh, ow int) {
	rows := planes * oh
	if rows <= 0 || ow <= 0 {
		return
	}
	if haveAVX512Kernel() {
		_ = x[(2*rows-1)*w+2*ow-1]
		_ = dst[rows*ow-1]
		// Masks of the last ow mod 16 outputs of a row: their 2·rem
		// inputs per input row span the first and maybe the second
		// 16-float load, and rem lanes are stored.
		rem := ow % 16
		lo, hi := uint64(1)<<min(2*rem, 16)-1, uint64(1)<<max(2*rem-16, 0)-1
		avgPool2x2AVX512(&dst[0], &x[0], rows, w, ow, int(lo), int(hi), 1<<rem-1)
		return
	}
	avgPool2x2Go(dst, x, rows, w, ow)
}

// avgPool2x2Go is avgPool2x2's portable loop over rows output rows; keep
// in sync with avgPool2x2AVX512 in pool_amd64.s.
func avgPool2x2Go(dst, x []float32, rows, w, ow int) {
	for r := 0; r < rows; r++ {
		top := x[2*r*w : 2*r*w+2*ow]
		bot := x[(2*r+1)*w : (2*r+1)*w+2*ow]
		d := dst[r*ow : r*ow+ow]
		for i := range d {
			t := top[2*i : 2*i+2 : 2*i+2]
			b := bot[2*i : 2*i+2 : 2*i+2]
			s := float32(0) + t[0]
			s += t[1]
			s += b[0]
			s += b[1]
			d[i] = s * 0.25
		}
	}
}

// MaxPool computes, for n NCHW images x [n, C, H, W], the window maxima
// dst[i,c,oy,ox] = max x[i,c,iy,ix] over the input pixels of the window
// rows oy·sH-PadT .. +KH-1 and columns ox·sW-PadL .. +KW-1: padding never
// wins, and a window that covers no input pixel gives 0. dst is
// [n, C, OutH, OutW]. A NaN input propagates only if it is the first
// element of its window. It panics on an invalid geometry or short slices.
func MaxPool(dst, x []float32, n int, p PoolGeom) {
	checkPool("MaxPool", dst, x, n, p)
	sh, sw := one(p.StrideH), one(p.StrideW)
	oh, ow := p.OutH(), p.OutW()
	for plane := 0; plane < n*p.C; plane++ {
		xs := x[plane*p.H*p.W : (plane+1)*p.H*p.W]
		d := dst[plane*oh*ow : (plane+1)*oh*ow]
		for oy := 0; oy < oh; oy++ {
			y0, y1, _ := poolWindow(oy, p.H, p.KH, sh, p.PadT, p.PadB)
			for ox := 0; ox < ow; ox++ {
				x0, x1, _ := poolWindow(ox, p.W, p.KW, sw, p.PadL, p.PadR)
				var m float32
				if y0 < y1 && x0 < x1 {
					m = xs[y0*p.W+x0]
					for iy := y0; iy < y1; iy++ {
						for _, v := range xs[iy*p.W+x0 : iy*p.W+x1] {
							if v > m {
								m = v
							}
						}
					}
				}
				d[oy*ow+ox] = m
			}
		}
	}
}

// GlobalAvgPool computes dst[i·c+ch] = (1/hw)·Σ_j x[(i·c+ch)·hw+j] for n
// images of c channels of hw pixels each, summing in float64 in index
// order. It panics if hw <= 0 or a slice is too short.
func GlobalAvgPool(dst, x []float32, n, c, hw int) {
	if hw <= 0 || n < 0 || c < 0 || len(x) < n*c*hw || len(dst) < n*c {
		panic("kernels: GlobalAvgPool: bad size or short slice")
	}
	for plane := 0; plane < n*c; plane++ {
		var s float64
		for _, v := range x[plane*hw : (plane+1)*hw] {
			s += float64(v)
		}
		dst[plane] = float32(s / float64(hw))
	}
}
