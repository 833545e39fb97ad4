package calibrate

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
)

// Quantiser is the rate code of a layer of IF neurons: the output q(a; λ)
// that a neuron fed the ANN activation a ≥ 0 (as a constant input current)
// produces over the run, as a step function that scales with the clip
// level λ (the largest output, θ times the spikes a neuron may fire per
// step):
//
//	q(a; λ) = λ·y[k]  for a/λ ∈ [b[k], b[k+1]),  b[len(y)] = +∞.
//
// Every IF neuron whose initial potential is a fixed fraction of θ is
// such a quantiser. MSEOptimal searches λ for one; Uniform is the
// converter's default neuron.
type Quantiser interface {
	// Steps returns the levels y and the lower bounds b of their input
	// intervals (fractions of λ): len(b) == len(y) ≥ 2, y[0] == b[0] == 0,
	// both strictly increasing. The caller does not modify them.
	Steps() (y, b []float64)
	// String names the quantiser (it appears in MSEOptimal's name and so
	// in the .snn metadata).
	String() string
}

// Uniform is the quantiser of an IF neuron with reset by subtraction that
// runs T steps and may fire up to M spikes per step (signed or not),
// Levels = T·M, with initial potential θ/2 (the threshold shift) or 0
// (Floor):
//
//	q(a; λ) = λ/L·clip(⌊a·L/λ + 1/2⌋, 0, L)   (Floor: ⌊a·L/λ⌋),  L = Levels,
//
// the spike count ⌊(V0 + T·a)/θ⌋, clipped at 0 and T·M, times θ/T with
// θ = λ/M (snnrt.IF). Levels < 1 counts as 1.
type Uniform struct {
	Levels int
	Floor  bool
}

var _ Quantiser = Uniform{}

// Steps returns y[k] = k/L, b[k] = (k − 1/2)/L (k/L when Floor), k = 0..L,
// with b[0] = 0.
func (u Uniform) Steps() (y, b []float64) {
	l := max(u.Levels, 1)
	y, b = make([]float64, l+1), make([]float64, l+1)
	off := 0.5
	if u.Floor {
		off = 0
	}
	for k := 1; k <= l; k++ {
		y[k] = float64(k) / float64(l)
		b[k] = (float64(k) - off) / float64(l)
	}
	return y, b
}

// String returns "round" or "floor" followed by the number of levels.
func (u Uniform) String() string {
	if u.Floor {
		return fmt.Sprintf("floor%d", max(u.Levels, 1))
	}
	return fmt.Sprintf("round%d", max(u.Levels, 1))
}

// checkSteps returns the steps of q, or an error saying how they break the
// Quantiser contract.
func checkSteps(q Quantiser) (y, b []float64, err error) {
	y, b = q.Steps()
	if len(y) < 2 || len(b) != len(y) || y[0] != 0 || b[0] != 0 {
		return nil, nil, fmt.Errorf("calibrate: quantiser %v: want ≥ 2 levels from 0 and as many bounds from 0, got %d levels, %d bounds", q, len(y), len(b))
	}
	for k := 1; k < len(y); k++ {
		if !(y[k] > y[k-1]) || !(b[k] > b[k-1]) || math.IsInf(b[k], 0) || math.IsInf(y[k], 0) {
			return nil, nil, fmt.Errorf("calibrate: quantiser %v: levels and bounds must be finite and strictly increasing (step %d: y %v, b %v)", q, k, y[k], b[k])
		}
	}
	return y, b, nil
}

// support is a weighted sample of positive values in increasing order,
// with prefix sums of the weights w, w·v and w·v² (index i: the first i
// values), so that the error of a quantiser costs O(levels · log n).
type support struct {
	v         []float64
	n, s1, s2 []float64
	lo, hi    float64 // smallest and largest value
}

// newSupport returns the support of the values v (increasing, positive)
// with weights w; nil when there are none.
func newSupport(v, w []float64) *support {
	if len(v) == 0 {
		return nil
	}
	s := &support{v: v, n: make([]float64, len(v)+1), s1: make([]float64, len(v)+1), s2: make([]float64, len(v)+1)}
	for i, x := range v {
		s.n[i+1] = s.n[i] + w[i]
		s.s1[i+1] = s.s1[i] + w[i]*x
		s.s2[i+1] = s.s2[i] + w[i]*x*x
	}
	s.lo, s.hi = v[0], v[len(v)-1]
	return s
}

// valuesSupport returns the support of the positive values of a, each of
// weight 1 (equal values merged).
func valuesSupport(a []float32) *support {
	pos := positive(a)
	slices.Sort(pos)
	var v, w []float64
	for _, x := range pos {
		if n := len(v); n > 0 && v[n-1] == float64(x) {
			w[n-1]++
			continue
		}
		v, w = append(v, float64(x)), append(w, 1)
	}
	return newSupport(v, w)
}

// histSupport returns the support of a binned Hist: every bin's count at
// the midpoint of its range (clamped to the exact minimum and maximum).
// The largest value is the exact maximum's bin midpoint, so the searched
// range still ends at h.Max().
func histSupport(h *Hist) *support {
	var v, w []float64
	h.bins(func(lo, hi float32, c uint64) bool {
		v = append(v, (float64(lo)+float64(hi))/2)
		w = append(w, float64(c))
		return true
	})
	return newSupport(v, w)
}

// at returns the index of the first value ≥ x.
func (s *support) at(x float64) int { return sort.SearchFloat64s(s.v, x) }

// sqErr returns Σ w·(q(v; λ) − v)² for the quantiser with steps y, b.
func (s *support) sqErr(lam float64, y, b []float64) float64 {
	e := s.s2[len(s.v)]
	lo := s.at(lam * b[1])
	for k := 1; k < len(y); k++ {
		hi := len(s.v)
		if k+1 < len(y) {
			hi = s.at(lam * b[k+1])
		}
		q := lam * y[k]
		e += q*q*(s.n[hi]-s.n[lo]) - 2*q*(s.s1[hi]-s.s1[lo])
		lo = hi
	}
	return max(e, 0)
}

// gridPerOctave is the density of the log grid of MSEOptimal's scan:
// neighbouring candidates differ by 2^(1/64) ≈ 1.1 %.
const gridPerOctave = 64

// gridOctaves bounds the scanned range below the maximum.
const gridOctaves = 24

// refineBrackets is how many of the best local minima of the scan are
// refined exactly.
const refineBrackets = 8

// minimise returns the λ in [max(smallest, largest·2^-24), largest] that
// minimises the squared error of the quantiser with steps y, b over s,
// and that error. The error is continuous or not, piecewise quadratic in
// λ between the breakpoints λ = v/b[k], and not unimodal; the search
//
//  1. scans a log grid of 64 points per octave (each point costs
//     O(len(y) · log n) with the prefix sums), checking ctx before each;
//  2. refines the brackets around the 8 best local minima of the scan
//     exactly: it sorts the breakpoints inside the bracket and, sweeping λ
//     upward, keeps the quadratic E(λ) = A·λ² − 2B·λ + C of the current
//     piece (a value crossing a bound moves one level down), whose
//     minimum on the piece is at B/A clamped to it.
//
// The result is the best float32 λ at or next to the best piece minimum,
// by the error computed directly.
func (s *support) minimise(ctx context.Context, y, b []float64) (float32, float64, error) {
	hi := s.hi
	lo := max(s.lo, math.Ldexp(hi, -gridOctaves))
	g := 1
	if hi > lo {
		g = int(math.Ceil(gridPerOctave*math.Log2(hi/lo))) + 1
	}
	lams, errs := make([]float64, g), make([]float64, g)
	for i := range lams {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		lams[i] = hi
		if i < g-1 {
			lams[i] = lo * math.Pow(hi/lo, float64(i)/float64(g-1))
		}
		errs[i] = s.sqErr(lams[i], y, b)
	}
	var minima []int
	for i := range errs {
		if (i == 0 || errs[i] <= errs[i-1]) && (i == g-1 || errs[i] <= errs[i+1]) {
			minima = append(minima, i)
		}
	}
	slices.SortStableFunc(minima, func(i, j int) int { return cmp.Compare(errs[i], errs[j]) })
	best, bestErr := lams[minima[0]], errs[minima[0]]
	for _, i := range minima[:min(len(minima), refineBrackets)] {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		l, e := s.sweep(lams[max(i-1, 0)], lams[min(i+1, g-1)], y, b)
		if e < bestErr {
			best, bestErr = l, e
		}
	}
	// The answer is a float32: the best of the float32 values at and
	// next to the piece minimum, by the error itself (a piece minimum at
	// a bound where the error jumps is a limit, not a value).
	th := float32(best)
	out, outErr := float32(0), math.Inf(1)
	for _, c := range []float32{math.Nextafter32(th, 0), th, math.Nextafter32(th, float32(math.Inf(1)))} {
		if c <= 0 || float64(c) > hi {
			continue
		}
		if e := s.sqErr(float64(c), y, b); e < outErr {
			out, outErr = c, e
		}
	}
	if outErr == math.Inf(1) {
		out = float32(hi)
		outErr = s.sqErr(hi, y, b)
	}
	return out, outErr, nil
}

// sweep returns the λ in [lo, hi] with the least error over s, found
// exactly (see minimise), and that error as the piece's quadratic gives it.
func (s *support) sweep(lo, hi float64, y, b []float64) (float64, float64) {
	type event struct {
		beta float64
		i, k int32
	}
	var ev []event
	for k := 1; k < len(y); k++ {
		// v/λ crosses b[k] for λ = v/b[k] ∈ [lo, hi): v ∈ [lo·b[k], hi·b[k]).
		for i := s.at(lo * b[k]); i < len(s.v) && s.v[i] < hi*b[k]; i++ {
			if beta := s.v[i] / b[k]; beta >= lo && beta < hi {
				ev = append(ev, event{beta, int32(i), int32(k)})
			}
		}
	}
	slices.SortFunc(ev, func(p, q event) int {
		return cmp.Or(cmp.Compare(p.beta, q.beta), cmp.Compare(p.i, q.i), cmp.Compare(p.k, q.k))
	})
	// The quadratic at λ = lo: levels as sqErr assigns them.
	c := s.s2[len(s.v)]
	var a, bb float64
	first := s.at(lo * b[1])
	for k := 1; k < len(y); k++ {
		last := len(s.v)
		if k+1 < len(y) {
			last = s.at(lo * b[k+1])
		}
		a += y[k] * y[k] * (s.n[last] - s.n[first])
		bb += y[k] * (s.s1[last] - s.s1[first])
		first = last
	}
	best, bestErr := lo, math.Inf(1)
	piece := func(p, q float64) {
		l := q
		if a > 0 {
			l = min(max(bb/a, p), q)
		}
		if e := a*l*l - 2*bb*l + c; e < bestErr {
			best, bestErr = l, e
		}
	}
	prev := lo
	for j := 0; j < len(ev); {
		beta := ev[j].beta
		piece(prev, beta)
		for ; j < len(ev) && ev[j].beta == beta; j++ {
			i, k := ev[j].i, ev[j].k
			w := s.n[i+1] - s.n[i]
			a += w * (y[k-1]*y[k-1] - y[k]*y[k])
			bb += w * s.v[i] * (y[k-1] - y[k])
		}
		prev = beta
	}
	piece(prev, hi)
	return best, max(bestErr, 0)
}
