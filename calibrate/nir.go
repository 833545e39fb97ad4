package calibrate

import (
	"context"
	"fmt"
	"math"
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
// at or below a: the reset-by-subtraction quantiser of Uniform keeps
// the residue and rounds, this one discards it.
//
// The search is MSEOptimal's, for the quantiser ResetZero{T}.
type ResetZeroMSE struct{ T int }

var _ Norm = ResetZeroMSE{}

// search returns the MSEOptimal search for ResetZero{T}.
func (r ResetZeroMSE) search() MSEOptimal { return MSEOptimal{T: r.T, Q: ResetZero{T: r.T}} }

// Threshold returns the minimising θ for the activations a.
func (r ResetZeroMSE) Threshold(a []float32) float32 { return r.search().Threshold(a) }

// HistThreshold returns the minimising θ for the values h summarises.
func (r ResetZeroMSE) HistThreshold(h *Hist) float32 { return r.search().HistThreshold(h) }

// histThreshold is HistThreshold that checks ctx (see ctxNorm).
func (r ResetZeroMSE) histThreshold(ctx context.Context, h *Hist) (float32, error) {
	return r.search().histThreshold(ctx, h)
}

// String names the norm in .snn metadata ("zerominerr16" for T = 16).
func (r ResetZeroMSE) String() string { return fmt.Sprintf("zerominerr%d", r.T) }

// ResetZero is the Quantiser of ResetZeroMSE's neuron (reset to zero,
// v0 = 0, at most one spike per step, T steps), with λ = θ: the output
// θ·m/T, m = ⌊T/k⌋, k = ⌈θ/a⌉, takes the distinct values m of ⌊T/k⌋ for
// k = T, …, 1, and level m starts where k reaches its largest value with
// that m, ⌊T/m⌋: at a/θ = 1/⌊T/m⌋ (ResetZeroQuant is the same map).
// T < 1 counts as 1.
type ResetZero struct{ T int }

var _ Quantiser = ResetZero{}

// Steps returns y = 0 and m/T, b = 0 and 1/⌊T/m⌋ for the distinct
// m = ⌊T/k⌋, k = T, …, 1, in increasing order.
func (r ResetZero) Steps() (y, b []float64) {
	t := max(r.T, 1)
	y, b = []float64{0}, []float64{0}
	last := 0
	for k := t; k >= 1; k-- {
		if m := t / k; m > last {
			y = append(y, float64(m)/float64(t))
			b = append(b, 1/float64(t/m))
			last = m
		}
	}
	return y, b
}

// String returns "resetzero" followed by T.
func (r ResetZero) String() string { return fmt.Sprintf("resetzero%d", max(r.T, 1)) }

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
