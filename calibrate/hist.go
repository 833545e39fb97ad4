package calibrate

import (
	"context"
	"math"
	"slices"
)

// Resolutions of the histograms Collect keeps: mantissa bits per octave.
// A bin of a Hist with b bits spans [v, v·(1+2^-b)) at most, so an order
// statistic read from it is off by less than that relative width.
const (
	// LayerBits is the resolution of a layer's histogram (2^-12 ≈ 0.024 %).
	LayerBits = 12
	// ChannelBits is the resolution of a channel's histogram (2^-8 ≈ 0.4 %).
	ChannelBits = 8
	// LayerExact is how many positive values a layer's Hist keeps exactly
	// before it switches to bins (below it the norms see the values
	// themselves).
	LayerExact = 1 << 16
	// ChannelExact is LayerExact for a channel's Hist.
	ChannelExact = 1 << 12
)

// Hist summarises the positive values of a distribution in bounded memory:
// up to a set number of values it keeps them, beyond that a histogram over the
// float32 bit pattern truncated to the exponent and the top Bits mantissa
// bits (bins of equal relative width, allocated one octave at a time on
// first use), with the exact count, minimum and maximum. Memory is
// O(octaves · 2^Bits), independent of the number of values; the counts do
// not depend on the order values are added in, so a Hist is the same for
// any batch size or worker count.
type Hist struct {
	bits     uint
	cap      int // values kept exactly before the switch to bins
	n        uint64
	min, max float32
	exact    []float32  // the values while n ≤ cap; nil after
	rows     [][]uint64 // [exponent][mantissa prefix]; nil until the first switch
}

// NewHist returns an empty Hist that keeps up to exact values themselves
// and beyond that bins of 2^-bits relative width. It panics unless
// 1 ≤ bits ≤ 23.
func NewHist(bits, exact int) *Hist {
	if bits < 1 || bits > 23 {
		panic("calibrate: NewHist: bits out of range")
	}
	return &Hist{bits: uint(bits), cap: max(exact, 0)}
}

// N returns the number of positive values added.
func (h *Hist) N() uint64 { return h.n }

// Max returns the largest value added (0 if none).
func (h *Hist) Max() float32 { return h.max }

// Exact reports whether h still holds its values themselves.
func (h *Hist) Exact() bool { return h.rows == nil }

// Bytes returns the memory h holds, for reports and tests.
func (h *Hist) Bytes() int {
	b := 4 * cap(h.exact)
	for _, r := range h.rows {
		b += 8 * len(r)
	}
	return b + 24*len(h.rows)
}

// Add adds the positive values of a; others are ignored.
func (h *Hist) Add(a []float32) {
	for _, v := range a {
		if v > 0 {
			h.add(v)
		}
	}
}

func (h *Hist) add(v float32) {
	if h.n == 0 || v < h.min {
		h.min = v
	}
	h.max = max(h.max, v)
	h.n++
	if h.rows == nil {
		h.exact = append(h.exact, v)
		if len(h.exact) > h.cap {
			h.spill()
		}
		return
	}
	h.bin(v)
}

func (h *Hist) spill() {
	h.rows = make([][]uint64, 256)
	for _, v := range h.exact {
		h.bin(v)
	}
	h.exact = nil
}

func (h *Hist) bin(v float32) {
	b := math.Float32bits(v)
	e, m := b>>23, (b&(1<<23-1))>>(23-h.bits)
	r := h.rows[e]
	if r == nil {
		r = make([]uint64, 1<<h.bits)
		h.rows[e] = r
	}
	r[m]++
}

// Merge adds the values summarised by o, which must have h's resolution.
func (h *Hist) Merge(o *Hist) {
	if o.bits != h.bits {
		panic("calibrate: Hist.Merge: resolutions differ")
	}
	if o.n == 0 {
		return
	}
	if o.rows == nil {
		for _, v := range o.exact {
			h.add(v)
		}
		return
	}
	if h.rows == nil {
		h.spill()
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	for e, r := range o.rows {
		if r == nil {
			continue
		}
		if h.rows[e] == nil {
			h.rows[e] = make([]uint64, len(r))
		}
		for i, c := range r {
			h.rows[e][i] += c
		}
	}
}

// binBounds returns the value range [lo, hi) of bin m of octave e.
func (h *Hist) binBounds(e, m int) (lo, hi float32) {
	key := uint32(e)<<h.bits | uint32(m)
	shift := 23 - h.bits
	return math.Float32frombits(key << shift), math.Float32frombits((key + 1) << shift)
}

// bins calls f for every non-empty bin in increasing order with its value
// range, clamped to [min, max], and its count.
func (h *Hist) bins(f func(lo, hi float32, c uint64) bool) {
	for e, r := range h.rows {
		for m, c := range r {
			if c == 0 {
				continue
			}
			lo, hi := h.binBounds(e, m)
			if !f(max(lo, h.min), min(hi, h.max), c) {
				return
			}
		}
	}
}

// order returns the estimated r-th smallest value (0-based, r < n): the
// exact minimum and maximum at the ends, else the value r would have if
// the values of its bin were spread evenly over the bin.
func (h *Hist) order(r uint64) float32 {
	if r == 0 {
		return h.min
	}
	if r >= h.n-1 {
		return h.max
	}
	var v float32
	var before uint64
	h.bins(func(lo, hi float32, c uint64) bool {
		if r >= before+c {
			before += c
			return true
		}
		f := (float64(r-before) + 0.5) / float64(c)
		v = lo + float32(f)*(hi-lo)
		return false
	})
	return v
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of the positive values, by
// linear interpolation between order statistics as Percentile does, or 0
// if there are none. Exact while h is; otherwise each order statistic is
// within one bin (relative 2^-bits) of the true one.
func (h *Hist) Quantile(q float64) float32 {
	if h.n == 0 {
		return 0
	}
	if h.rows == nil {
		s := slices.Clone(h.exact)
		slices.Sort(s)
		return quantile(s, q)
	}
	pos := q * float64(h.n-1)
	i := uint64(pos)
	if i >= h.n-1 {
		return h.max
	}
	a, b := h.order(i), h.order(i+1)
	return a + float32(pos-float64(i))*(b-a)
}

// Threshold returns norm's θ for the values h summarises: norm.Threshold
// of the values themselves while h is exact, else norm.HistThreshold.
func (h *Hist) Threshold(norm Norm) float32 {
	if h.rows == nil {
		return norm.Threshold(slices.Clone(h.exact))
	}
	return norm.HistThreshold(h)
}

// threshold is Threshold that stops part way through a cancellable search
// (ctxNorm) when ctx is done, returning ctx.Err().
func (h *Hist) threshold(ctx context.Context, norm Norm) (float32, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if c, ok := norm.(ctxNorm); ok && h.rows != nil {
		return c.histThreshold(ctx, h)
	}
	return h.Threshold(norm), nil
}
