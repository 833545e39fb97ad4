package snnrt

import (
	"fmt"

	"github.com/ann2snn/ann2snn/internal/kernels"
)

// PoolGeom describes a 2-D pooling window over one C×H×W image
// (kernels.PoolGeom; zero strides mean 1). Padding positions never win a
// max; for average pooling they count in the divisor only when
// CountIncludePad. With CeilMode the output size rounds up, but a window
// must start inside the input or its top/left padding (the PyTorch and ONNX
// rule). snnrt additionally requires padding smaller than the window, so
// that every window covers at least one input pixel.
type PoolGeom = kernels.PoolGeom

// window returns the input rows [lo,hi) covered by output row o and the
// divisor span of average pooling (rows including padding, clipped at the
// padded border). The same function serves columns. Keep in sync with
// kernels.poolWindow (TestPoolWindowsMatchKernels compares them).
func window(o, in, k, s, p0, p1 int) (lo, hi, span int) {
	lo = o*one(s) - p0
	hi = min(lo+k, in+p1)
	span = hi - lo
	return max(lo, 0), min(hi, in), span
}

// forEachWindow calls f for every output position (oy, ox) of p with its
// clipped input window [y0,y1)×[x0,x1).
func forEachWindow(p PoolGeom, f func(oy, ox, y0, y1, x0, x1 int)) {
	oh, ow := p.OutH(), p.OutW()
	for oy := 0; oy < oh; oy++ {
		y0, y1, _ := window(oy, p.H, p.KH, p.StrideH, p.PadT, p.PadB)
		for ox := 0; ox < ow; ox++ {
			x0, x1, _ := window(ox, p.W, p.KW, p.StrideW, p.PadL, p.PadR)
			f(oy, ox, y0, y1, x0, x1)
		}
	}
}

// MaxPoolMode selects how a KindMaxPool layer pools spike trains.
// The zero value is MaxPoolCumulative.
type MaxPoolMode uint8

const (
	// MaxPoolCumulative outputs, at step t, max over the window of the
	// input's cumulative sum up to t minus the same max up to t−1. The
	// output's cumulative sum is therefore exactly the max of the inputs'
	// cumulative sums: with θ-valued spike inputs its spike count equals
	// the largest input count, i.e. the exact max of rates, and each step's
	// output is 0, θ or (rarely, when the winner changes) another multiple
	// of θ.
	MaxPoolCumulative MaxPoolMode = iota
	// MaxPoolGate passes the current input of the window position with the
	// highest cumulative input so far (including this step; ties go to the
	// first position in row-major order), the gating of Rueckauer et al.
	// 2017. Its output is always one of its inputs, but the count only
	// approximates the max once the rates have separated.
	MaxPoolGate
)

// String returns "cumulative" or "gate" (the names used in .snn files).
func (p MaxPoolMode) String() string {
	switch p {
	case MaxPoolCumulative:
		return "cumulative"
	case MaxPoolGate:
		return "gate"
	}
	return fmt.Sprintf("MaxPoolMode(%d)", int(p))
}

// ParseMaxPoolMode returns the MaxPoolMode named s.
func ParseMaxPoolMode(s string) (MaxPoolMode, error) {
	switch s {
	case "cumulative":
		return MaxPoolCumulative, nil
	case "gate":
		return MaxPoolGate, nil
	}
	return 0, fmt.Errorf("snnrt: unknown max-pool mode %q", s)
}

// maxPoolStep runs one step of spiking max pooling for nimg images: cum
// (input-shaped) accumulates x; prev (output-shaped) holds the previous
// window maxima for MaxPoolCumulative. It returns the number of non-zero
// outputs (the layer's events).
func maxPoolStep(dst, x, cum, prev []float32, nimg int, p PoolGeom, mode MaxPoolMode) (events int64) {
	hw := p.H * p.W
	for j := range x[:nimg*p.C*hw] {
		cum[j] += x[j]
	}
	oh, ow := p.OutH(), p.OutW()
	for i := 0; i < nimg*p.C; i++ {
		cs, xs := cum[i*hw:(i+1)*hw], x[i*hw:(i+1)*hw]
		out := dst[i*oh*ow : (i+1)*oh*ow]
		pv := prev[i*oh*ow : (i+1)*oh*ow]
		forEachWindow(p, func(oy, ox, y0, y1, x0, x1 int) {
			best := y0*p.W + x0
			for y := y0; y < y1; y++ {
				for xx := x0; xx < x1; xx++ {
					if cs[y*p.W+xx] > cs[best] {
						best = y*p.W + xx
					}
				}
			}
			o := oy*ow + ox
			var v float32
			if mode == MaxPoolGate {
				v = xs[best]
			} else {
				v = cs[best] - pv[o]
				pv[o] = cs[best]
			}
			out[o] = v
			if v != 0 {
				events++
			}
		})
	}
	return events
}
