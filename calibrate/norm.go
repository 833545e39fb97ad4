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

// MSEOptimal sets θ to the clip level λ that minimises the squared error
// Σ (q(a; λ) − a)² over the positive activations a, for the quantiser q of
// the neurons the converter builds (Q; nil means Uniform{Levels: T}, the
// T-step rounding quantiser λ/T·clip(round(a·T/λ), 0, T)). λ is searched
// continuously over [max(min a, max a·2^-24), max a]: a dense log scan,
// then an exact sweep of the error's quadratic pieces around the best
// local minima (see Quantiser). The result is the optimum of the sampled
// error unless a narrower dip than the scan's 1.1 % spacing beats the 8
// best scanned minima by more than their brackets' own optimum.
type MSEOptimal struct {
	// T is the number of levels of the default quantiser.
	T int
	// Q is the neurons' quantiser; nil means Uniform{Levels: T}.
	Q Quantiser
}

// quantiser returns m.Q, or the default Uniform{Levels: T}.
func (m MSEOptimal) quantiser() Quantiser {
	if m.Q == nil {
		return Uniform{Levels: m.T}
	}
	return m.Q
}

// Threshold returns the minimising λ for the values a (0 when none is
// positive, or when Q breaks the Quantiser contract).
func (m MSEOptimal) Threshold(a []float32) float32 {
	th, _ := m.threshold(context.Background(), valuesSupport(a))
	return th
}

// HistThreshold returns the minimising λ for the values h summarises: its
// exact values while it holds them, else every bin's count at the bin's
// midpoint.
func (m MSEOptimal) HistThreshold(h *Hist) float32 {
	th, _ := m.histThreshold(context.Background(), h)
	return th
}

// histThreshold is HistThreshold that checks ctx before every scanned
// candidate and returns ctx.Err() once it is done (see ctxNorm).
func (m MSEOptimal) histThreshold(ctx context.Context, h *Hist) (float32, error) {
	if h.N() == 0 {
		return 0, nil
	}
	if h.Exact() {
		return m.threshold(ctx, valuesSupport(h.exact))
	}
	return m.threshold(ctx, histSupport(h))
}

// threshold minimises the error over s (nil: no values, θ = 0).
func (m MSEOptimal) threshold(ctx context.Context, s *support) (float32, error) {
	if s == nil {
		return 0, nil
	}
	y, b, err := checkSteps(m.quantiser())
	if err != nil {
		return 0, err
	}
	th, _, err := s.minimise(ctx, y, b)
	return th, err
}

// ctxNorm is a Norm whose histogram search can be cancelled part way
// (MSEOptimal, the one that searches); Hist.threshold uses it when the norm
// has it.
type ctxNorm interface {
	histThreshold(ctx context.Context, h *Hist) (float32, error)
}

// String returns "minerr" and T for the default quantiser, else
// "minerr:" and the quantiser's name.
func (m MSEOptimal) String() string {
	if m.Q == nil {
		return fmt.Sprintf("minerr%d", m.T)
	}
	return "minerr:" + m.Q.String()
}

// quantError is Σ (q(a) − a)² for the T-step rounding quantiser with step
// θ/T, computed directly (the tests' reference).
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
