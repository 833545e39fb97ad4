package calibrate

import (
	"context"
	"fmt"
	"math"
	"slices"
)

// ResetZeroMSE sets θ to the value that minimises the squared error of
// the quantiser of an IF neuron that resets to zero and starts from
// v = 0 (the neuron NIR ≥ 1.0.6 runs), over T steps:
//
//	q(a) = θ/T · ⌊T / ⌈θ/a⌉⌋   for a > 0,   q(a) = 0 otherwise.
//
// A constant input a charges the membrane by a per step; it fires on the
// first step k with k·a ≥ θ, k = ⌈θ/a⌉, loses the charge k·a − θ at the
// reset, and fires again k steps later: ⌊T/k⌋ spikes of θ in T steps. So
// q(a) = θ for a ≥ θ, and below θ it is a floor quantiser whose steps
// widen as a falls (θ/2 for θ/2 ≤ a < θ when T is even, ...), always
// at or below a: the reset-by-subtraction quantiser of MSEOptimal keeps
// the residue and rounds, this one discards it.
//
// The search tries the percentiles 50, 50.25, …, 100 of the positive
// values (a wider range than MSEOptimal's, because the best θ of a floor
// quantiser lies lower) and keeps the one of least error.
type ResetZeroMSE struct{ T int }

var _ Norm = ResetZeroMSE{}

// Threshold returns the minimising θ for the activations a.
func (r ResetZeroMSE) Threshold(a []float32) float32 {
	pos := positive(a)
	if len(pos) == 0 {
		return 0
	}
	slices.Sort(pos)
	sample := pos
	if len(pos) > 1<<16 {
		sample = make([]float32, 1<<16)
		step := float64(len(pos)) / float64(len(sample))
		for i := range sample {
			sample[i] = pos[int(float64(i)*step)]
		}
	}
	th, _ := r.search(context.Background(), pos[len(pos)-1], func(q float64) float32 { return quantile(pos, q) },
		func(th float32) float64 {
			var s float64
			for _, v := range sample {
				d := ResetZeroQuant(float64(v), float64(th), r.T) - float64(v)
				s += d * d
			}
			return s
		})
	return th
}

// HistThreshold searches the same percentiles of the values h summarises,
// each bin's count at its midpoint.
func (r ResetZeroMSE) HistThreshold(h *Hist) float32 {
	th, _ := r.histThreshold(context.Background(), h)
	return th
}

// histThreshold is HistThreshold that checks ctx before every candidate
// (see ctxNorm).
func (r ResetZeroMSE) histThreshold(ctx context.Context, h *Hist) (float32, error) {
	if h.N() == 0 {
		return 0, nil
	}
	return r.search(ctx, h.Max(), h.Quantile, func(th float32) float64 {
		var s float64
		h.bins(func(lo, hi float32, c uint64) bool {
			v := (float64(lo) + float64(hi)) / 2
			d := ResetZeroQuant(v, float64(th), r.T) - v
			s += float64(c) * d * d
			return true
		})
		return s
	})
}

// search returns the candidate θ = quantile(q), q = 0.5, 0.5025, …, 1,
// with the least err(θ); def if none is positive.
func (r ResetZeroMSE) search(ctx context.Context, def float32, quantile func(q float64) float32, err func(th float32) float64) (float32, error) {
	best, bestErr := def, math.Inf(1)
	for i := 0; i <= 200; i++ {
		if e := ctx.Err(); e != nil {
			return 0, e
		}
		th := quantile(0.5 + float64(i)*0.0025)
		if th <= 0 {
			continue
		}
		if e := err(th); e < bestErr {
			best, bestErr = th, e
		}
	}
	return best, nil
}

// String names the norm in .snn metadata ("zerominerr16" for T = 16).
func (r ResetZeroMSE) String() string { return fmt.Sprintf("zerominerr%d", r.T) }

// ResetZeroQuant returns the mean output per step, over t steps, of an
// IF neuron with threshold θ > 0 that starts at v = 0, resets to zero and
// fires when v ≥ θ, given the constant input a per step:
// θ/t·⌊t/⌈θ/a⌉⌋ for a > 0 and 0 for a ≤ 0 (see ResetZeroMSE).
func ResetZeroQuant(a, theta float64, t int) float64 {
	if !(a > 0) || t < 1 {
		return 0
	}
	if a >= theta {
		return theta
	}
	k := math.Ceil(theta / a)
	if k > float64(t) {
		return 0
	}
	return theta / float64(t) * math.Floor(float64(t)/k)
}
