package snnrt

import (
	"fmt"
	"math"
)

// ResetMode says what an IF neuron does to its membrane after it fires.
// The zero value is ResetBySubtraction.
type ResetMode uint8

const (
	// ResetBySubtraction subtracts s·θ after s spikes: the residue is kept,
	// so no charge is lost and the rate converges to the ANN activation.
	ResetBySubtraction ResetMode = iota
	// ResetToZero sets the membrane to 0 after a spike, discarding the
	// residue (the classic, lossy IF neuron).
	ResetToZero
)

// String returns "subtract" or "zero" (the names used in .snn files).
func (r ResetMode) String() string {
	switch r {
	case ResetBySubtraction:
		return "subtract"
	case ResetToZero:
		return "zero"
	}
	return fmt.Sprintf("ResetMode(%d)", int(r))
}

// ParseResetMode returns the ResetMode named s ("subtract" or "zero").
func ParseResetMode(s string) (ResetMode, error) {
	switch s {
	case "subtract":
		return ResetBySubtraction, nil
	case "zero":
		return ResetToZero, nil
	}
	return 0, fmt.Errorf("snnrt: unknown reset mode %q", s)
}

// maxBurst bounds IF.MaxSpikes.
const maxBurst = 1 << 10

// IF holds the parameters of a layer of integrate-and-fire neurons. One
// time step of neuron j (channel c) computes, with θ = Theta[c]:
//
//	v += x                                  charge
//	s  = fire(v)                            integer spike count
//	v -= s·θ  (ResetBySubtraction)          reset
//	v  = 0 if s ≠ 0  (ResetToZero)
//	out = s·θ
//
// where, with M = max(MaxSpikes, 1),
//
//	fire(v) = min(⌊v/θ⌋, M)                 if v ≥ θ
//	        = −min(⌈−v/θ⌉, M, n)            if Signed, v < 0 and n > 0
//	        = 0                             otherwise
//
// and n is the neuron's running spike count (positive minus negative
// spikes so far). Spikes carry θ as their value, so the layers behind are
// plain linear maps; a faster runtime may fold θ into the next weights.
//
// The signed ("take-back") neuron follows the signed neuron with memory of
// Wang et al. 2022: a negative spike cancels an earlier positive one when
// the membrane falls below the level reached after a spike, so over-firing
// in early steps is corrected. The negative condition is v < 0 (not v ≤ −θ):
// with it a signed neuron under subtraction keeps v ∈ [0, θ) whenever
// n > 0 and the per-step limit M is not hit, so n = ⌊(V0 + Σx)/θ⌋ clipped
// at 0 exactly; with V0 = θ/2 that is the rounding quantiser of QCFS.
//
// The analog counterpart (Model.Analog) of an IF neuron is clip(x, 0, θ·M).
type IF struct {
	// Theta is the firing threshold θ > 0: one value for the layer or one
	// per channel.
	Theta []float32
	// V0 is the initial membrane potential (absolute, not a fraction of
	// θ): nil (0), one value or one per channel. Calibration typically sets
	// θ/2 ("threshold shift").
	V0 []float32
	// Reset is the reset mode; the zero value is ResetBySubtraction.
	Reset ResetMode
	// MaxSpikes > 1 makes the neuron a burst neuron that may emit up to
	// MaxSpikes spikes in one step (output s·θ). 0 and 1 mean one spike.
	MaxSpikes int
	// Signed enables negative spikes (−θ) that take back earlier positive
	// ones; the running count never goes below 0.
	Signed bool
}

func (n *IF) check(c int) error {
	if len(n.Theta) != 1 && len(n.Theta) != c {
		return fmt.Errorf("len(Theta) = %d, want 1 or %d", len(n.Theta), c)
	}
	for i, t := range n.Theta {
		if !(t > 0) || math.IsInf(float64(t), 0) {
			return fmt.Errorf("Theta[%d] = %v, want finite θ > 0", i, t)
		}
	}
	if len(n.V0) > 1 && len(n.V0) != c {
		return fmt.Errorf("len(V0) = %d, want 0, 1 or %d", len(n.V0), c)
	}
	if err := finite("V0", n.V0); err != nil {
		return err
	}
	if n.Reset != ResetBySubtraction && n.Reset != ResetToZero {
		return fmt.Errorf("unknown reset mode %d", int(n.Reset))
	}
	if n.MaxSpikes < 0 || n.MaxSpikes > maxBurst {
		return fmt.Errorf("MaxSpikes = %d, want 0..%d", n.MaxSpikes, maxBurst)
	}
	return nil
}

// maxSpikes returns M = max(MaxSpikes, 1).
func (n *IF) maxSpikes() int {
	if n.MaxSpikes < 1 {
		return 1
	}
	return n.MaxSpikes
}

// theta returns θ of channel c.
func (n *IF) theta(c int) float32 {
	if len(n.Theta) == 1 {
		return n.Theta[0]
	}
	return n.Theta[c]
}

// v0 returns the initial potential of channel c.
func (n *IF) v0(c int) float32 {
	switch len(n.V0) {
	case 0:
		return 0
	case 1:
		return n.V0[0]
	}
	return n.V0[c]
}

// init sets the membranes v of nimg images of shape s to V0 and the counts
// to 0.
func (n *IF) init(v []float32, cnt []int32, s Shape, nimg int) {
	hw := s.H * s.W
	for i := 0; i < nimg; i++ {
		for c := 0; c < s.C; c++ {
			v0 := n.v0(c)
			p := v[(i*s.C+c)*hw : (i*s.C+c+1)*hw]
			for j := range p {
				p[j] = v0
			}
		}
	}
	clear(cnt[:nimg*s.Len()])
}

// step runs one time step for nimg images of shape s: it charges v with x,
// fires, resets, and writes s·θ to dst. cnt holds the running spike counts.
// fan, if not nil, is the per-image fan-out of each neuron ([s.Len()]).
// It returns the number of spikes (|s| summed) and of synaptic operations
// (|s|·fan summed). dst may alias x.
func (n *IF) step(dst, v []float32, cnt []int32, x []float32, s Shape, nimg int, fan []int64) (spikes, sops int64) {
	hw := s.H * s.W
	m := n.maxSpikes()
	fm := float32(m)
	for i := 0; i < nimg; i++ {
		for c := 0; c < s.C; c++ {
			th := n.theta(c)
			off := (i*s.C + c) * hw
			vv, xx, dd, nn := v[off:off+hw], x[off:off+hw], dst[off:off+hw], cnt[off:off+hw]
			var ff []int64
			if fan != nil {
				ff = fan[c*hw : (c+1)*hw]
			}
			for j := range vv {
				u := vv[j] + xx[j]
				k := n.fire(u, th, m, fm, nn[j])
				if k != 0 {
					if n.Reset == ResetToZero {
						u = 0
					} else {
						u -= float32(k) * th
					}
					nn[j] += int32(k)
					a := int64(k)
					if a < 0 {
						a = -a
					}
					spikes += a
					if ff != nil {
						sops += a * ff[j]
					}
				}
				vv[j] = u
				dd[j] = float32(k) * th
			}
		}
	}
	return spikes, sops
}

// Fire returns the signed number of spikes fire(u) that a neuron of n with
// threshold th, charged membrane u and running spike count cnt emits (see
// the package documentation). It is the spike function of every simulator
// of this project (snnrt's and finetune's).
func (n *IF) Fire(u, th float32, cnt int32) int {
	m := n.maxSpikes()
	return n.fire(u, th, m, float32(m), cnt)
}

// fire returns the signed spike count fire(u) of a neuron with membrane u
// (after charging), threshold th, running count cnt, M = m = fm (see IF).
// Both simulators call it, so they fire identically.
//
// The count is floor(u/θ) (positive side) or ceil(−u/θ) (take-back side),
// capped at M, with u/θ rounded to float32 once. For M = 2, the default
// burst, no division is needed: θ > 0 is a normal float, so the rounded
// quotient is ≥ 2 exactly when u ≥ 2θ (2θ is exact, and the nearest float
// below 2θ divided by θ lies more than half an ulp below 2), and ≤ 1
// exactly when −u ≤ θ (for −u > θ the quotient exceeds 1 by more than half
// an ulp of 1). A take-back is one spike at least, even where −u/θ
// underflows to 0. TestFireWithoutDivision checks this against the quotient.
func (n *IF) fire(u, th float32, m int, fm float32, cnt int32) int {
	k := 0
	if u >= th {
		switch {
		case m == 1:
			k = 1
		case m == 2:
			k = 1
			if u >= 2*th {
				k = 2
			}
		default:
			if q := u / th; q >= fm {
				k = m
			} else {
				k = int(q)
			}
		}
	} else if n.Signed && u < 0 && cnt > 0 {
		k = 1
		switch {
		case m == 2:
			if -u > th {
				k = 2
			}
		case m > 2:
			q := -u / th
			if q >= fm {
				k = m
			} else if k = int(q); float32(k) < q {
				k++
			}
			k = max(k, 1) // −u/θ may underflow to 0
		}
		k = -min(k, int(cnt))
	}
	return k
}

// analog writes clip(x, 0, θ·M) for nimg images of shape s to dst, the
// ANN activation the layer approximates. dst may alias x.
func (n *IF) analog(dst, x []float32, s Shape, nimg int) {
	hw := s.H * s.W
	fm := float32(n.maxSpikes())
	for i := 0; i < nimg; i++ {
		for c := 0; c < s.C; c++ {
			hi := n.theta(c) * fm
			off := (i*s.C + c) * hw
			for j, u := range x[off : off+hw] {
				dst[off+j] = min(max(u, 0), hi)
			}
		}
	}
}
