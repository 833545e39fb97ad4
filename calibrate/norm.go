package calibrate

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Norm chooses a threshold from a sample of non-negative activations.
type Norm interface {
	// Threshold returns θ > 0 for the activations a (which it may reorder),
	// or 0 when a holds no positive value.
	Threshold(a []float32) float32
	// HistThreshold returns θ for the positive values h summarises, or 0
	// when it holds none. It is Threshold computed from h's bins: equal
	// to it up to h's resolution (see Hist.Quantile).
	HistThreshold(h *Hist) float32
	// String names the norm as the --norm flag spells it.
	String() string
}

// Max sets θ to the largest activation.
type Max struct{}

// Threshold returns max(a).
func (Max) Threshold(a []float32) float32 {
	var m float32
	for _, v := range a {
		m = max(m, v)
	}
	return m
}

// HistThreshold returns the exact maximum of h.
func (Max) HistThreshold(h *Hist) float32 { return h.Max() }

func (Max) String() string { return "max" }

// Percentile sets θ to the given percentile (0 < p ≤ 100) of the positive
// activations.
type Percentile float64

// Threshold returns the p-th percentile of the positive values of a, by
// linear interpolation between order statistics.
func (p Percentile) Threshold(a []float32) float32 {
	pos := positive(a)
	if len(pos) == 0 {
		return 0
	}
	slices.Sort(pos)
	return quantile(pos, float64(p)/100)
}

// HistThreshold returns the p-th percentile of the values h summarises.
func (p Percentile) HistThreshold(h *Hist) float32 { return h.Quantile(float64(p) / 100) }

func (p Percentile) String() string { return "p" + strconv.FormatFloat(float64(p), 'g', -1, 64) }

// MSEOptimal sets θ to the value that minimises the squared error of the
// T-step rounding quantiser q(a) = θ/T·clip(round(a·T/θ), 0, T) over the
// activations, searching the percentiles 90..100 of the positive values.
type MSEOptimal struct{ T int }

// Threshold returns the minimising θ.
func (m MSEOptimal) Threshold(a []float32) float32 {
	pos := positive(a)
	if len(pos) == 0 {
		return 0
	}
	slices.Sort(pos)
	// Subsample for speed: the error is a mean, 1<<16 samples estimate it
	// well; zeros contribute no error for any θ and are left out.
	sample := pos
	if len(pos) > 1<<16 {
		sample = make([]float32, 1<<16)
		step := float64(len(pos)) / float64(len(sample))
		for i := range sample {
			sample[i] = pos[int(float64(i)*step)]
		}
	}
	th, _ := m.search(context.Background(), pos[len(pos)-1], func(q float64) float32 { return quantile(pos, q) },
		func(th float32) float64 { return quantError(sample, th, m.T) })
	return th
}

// HistThreshold searches the same percentiles of the values h summarises;
// the error is summed over h's bins, each bin's count at its midpoint
// (the in-memory Threshold uses 65,536 evenly spaced order statistics
// instead: both estimate the same mean error).
func (m MSEOptimal) HistThreshold(h *Hist) float32 {
	th, _ := m.histThreshold(context.Background(), h)
	return th
}

// histThreshold is HistThreshold that checks ctx before every candidate θ
// and returns ctx.Err() once it is done (see ctxNorm).
func (m MSEOptimal) histThreshold(ctx context.Context, h *Hist) (float32, error) {
	if h.N() == 0 {
		return 0, nil
	}
	return m.search(ctx, h.Max(), h.Quantile, func(th float32) float64 {
		step := float64(th) / float64(m.T)
		var s float64
		h.bins(func(lo, hi float32, c uint64) bool {
			v := (float64(lo) + float64(hi)) / 2
			k := math.Min(math.Max(math.Round(v/step), 0), float64(m.T))
			d := k*step - v
			s += float64(c) * d * d
			return true
		})
		return s
	})
}

// search returns the candidate θ = quantile(q), q = 0.90, 0.9025, …, 1,
// with the least err(θ); def if none is positive. It checks ctx before
// every candidate and returns ctx.Err() once it is done.
func (m MSEOptimal) search(ctx context.Context, def float32, quantile func(q float64) float32, err func(th float32) float64) (float32, error) {
	best, bestErr := def, math.Inf(1)
	for q := 0.90; q <= 1.0000001; q += 0.0025 {
		if e := ctx.Err(); e != nil {
			return 0, e
		}
		th := quantile(min(q, 1))
		if th <= 0 {
			continue
		}
		if e := err(th); e < bestErr {
			best, bestErr = th, e
		}
	}
	return best, nil
}

// ctxNorm is a Norm whose histogram search can be cancelled part way
// (MSEOptimal, the one that searches); Hist.threshold uses it when the norm
// has it.
type ctxNorm interface {
	histThreshold(ctx context.Context, h *Hist) (float32, error)
}

func (m MSEOptimal) String() string { return fmt.Sprintf("minerr%d", m.T) }

// quantError is Σ (q(a) − a)² for the T-step rounding quantiser with step θ/T.
func quantError(a []float32, theta float32, t int) float64 {
	step := float64(theta) / float64(t)
	var s float64
	for _, v := range a {
		k := math.Min(math.Max(math.Round(float64(v)/step), 0), float64(t))
		d := k*step - float64(v)
		s += d * d
	}
	return s
}

func positive(a []float32) []float32 {
	pos := make([]float32, 0, len(a))
	for _, v := range a {
		if v > 0 {
			pos = append(pos, v)
		}
	}
	return pos
}

// quantile returns the q-quantile (0 ≤ q ≤ 1) of sorted s by linear
// interpolation.
func quantile(s []float32, q float64) float32 {
	if len(s) == 1 {
		return s[0]
	}
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	f := float32(pos - float64(i))
	return s[i] + f*(s[i+1]-s[i])
}

// ParseNorm parses the --norm flag: "max", "pP" (e.g. p99.9, p99.99) or
// "minerr" (MSEOptimal for timesteps t).
func ParseNorm(s string, t int) (Norm, error) {
	switch {
	case s == "max":
		return Max{}, nil
	case s == "minerr":
		if t < 1 {
			return nil, fmt.Errorf("norm minerr needs the target number of time steps (got %d)", t)
		}
		return MSEOptimal{T: t}, nil
	case strings.HasPrefix(s, "p"):
		p, err := strconv.ParseFloat(s[1:], 64)
		if err != nil || !(p > 0 && p <= 100) {
			return nil, fmt.Errorf("norm %q: percentile must be in (0, 100]", s)
		}
		return Percentile(p), nil
	}
	return nil, fmt.Errorf("unknown norm %q (want max, p99.9, p99.99, minerr)", s)
}
