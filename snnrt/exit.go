package snnrt

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ExitSignal is the confidence signal of an ExitPolicy, computed after
// step t from the accumulated output a (Result.Logits(t) of one image).
type ExitSignal uint8

const (
	// ExitNone uses no confidence signal: only ExitPolicy.MinT and
	// ExitPolicy.Stable decide.
	ExitNone ExitSignal = iota
	// ExitMargin is (a₁ − a₂)/t, the difference between the largest and
	// the second largest accumulated outputs divided by t: the margin of
	// the rate estimate of the ANN's logits, in logit units.
	ExitMargin
	// ExitConfidence is max softmax(a/t) = 1 / Σⱼ exp((aⱼ − a₁)/t), the
	// softmax confidence of the mean output, in (0, 1].
	ExitConfidence
)

// String returns "none", "margin" or "confidence".
func (s ExitSignal) String() string {
	switch s {
	case ExitNone:
		return "none"
	case ExitMargin:
		return "margin"
	case ExitConfidence:
		return "confidence"
	}
	return fmt.Sprintf("ExitSignal(%d)", int(s))
}

// ExitPolicy decides, after every step and for every image on its own,
// whether the image's answer is settled; a settled image stops (see
// Config.Exit). An image exits after step t (1-based) when all of
//
//   - t ≥ MinT;
//   - the arg-max of the accumulated output has been the same for the
//     last Stable steps (t−Stable+1 .. t; Stable ≤ 1 means no condition);
//   - Signal (if not ExitNone) is at least Threshold
//
// hold, or when t ≥ MinT and Patience ≥ 2 and the arg-max has been the
// same for the last Patience steps, whatever the signal; and in any case
// after step Config.T. Arg-max ties go to the first
// index, as in Result.Predictions. The zero value exits every image after
// step 1.
type ExitPolicy struct {
	Signal    ExitSignal
	Threshold float64
	// MinT is the earliest step at which an image may exit; 0 means 1.
	MinT int
	// Stable is the number of consecutive steps over which the arg-max
	// must not have changed; 0 and 1 mean no condition.
	Stable int
	// Patience, when at least 2, also lets an image exit once its arg-max
	// has been the same for Patience consecutive steps, however low its
	// signal: the images whose margin or confidence never reaches the
	// threshold (a network is less sure of its test images than of the
	// training images a threshold is calibrated on) then stop once their
	// answer has settled instead of running to Config.T. 0 means off.
	Patience int
}

// Validate reports whether p is usable: a known signal, a finite
// threshold (in (0, 1] for ExitConfidence, ≥ 0 for ExitMargin), and
// MinT, Stable in 0..MaxT, and Patience 0 or 2..MaxT.
func (p ExitPolicy) Validate() error {
	switch p.Signal {
	case ExitNone:
	case ExitMargin:
		if !(p.Threshold >= 0) || math.IsInf(p.Threshold, 0) {
			return fmt.Errorf("exit policy: margin threshold %v, want a finite value ≥ 0", p.Threshold)
		}
	case ExitConfidence:
		if !(p.Threshold > 0 && p.Threshold <= 1) {
			return fmt.Errorf("exit policy: confidence threshold %v, want (0, 1]", p.Threshold)
		}
	default:
		return fmt.Errorf("exit policy: unknown signal %d", int(p.Signal))
	}
	if p.MinT < 0 || p.MinT > MaxT || p.Stable < 0 || p.Stable > MaxT {
		return fmt.Errorf("exit policy: min T %d, stable %d: want 0..%d", p.MinT, p.Stable, MaxT)
	}
	if p.Patience != 0 && (p.Patience < 2 || p.Patience > MaxT) {
		return fmt.Errorf("exit policy: patience %d: want 0 (off) or 2..%d", p.Patience, MaxT)
	}
	return nil
}

// String formats p as ParseExitPolicy reads it, e.g. "margin:0.75,min=2,stable=2"
// ("none" for the signal-free policy, with its options).
func (p ExitPolicy) String() string {
	var b strings.Builder
	b.WriteString(p.Signal.String())
	if p.Signal != ExitNone {
		b.WriteString(":" + strconv.FormatFloat(p.Threshold, 'g', -1, 64))
	}
	if p.MinT > 1 {
		fmt.Fprintf(&b, ",min=%d", p.MinT)
	}
	if p.Stable > 1 {
		fmt.Fprintf(&b, ",stable=%d", p.Stable)
	}
	if p.Patience > 0 {
		fmt.Fprintf(&b, ",patience=%d", p.Patience)
	}
	return b.String()
}

// ParseExitPolicy parses "SIGNAL[:THRESHOLD][,min=N][,stable=K][,patience=P]" with
// SIGNAL margin, confidence or none (the threshold is required for margin
// and confidence, absent for none), as ExitPolicy.String writes it, and
// validates the result.
func ParseExitPolicy(s string) (ExitPolicy, error) {
	var p ExitPolicy
	parts := strings.Split(strings.TrimSpace(s), ",")
	name, thr, hasThr := strings.Cut(parts[0], ":")
	switch name {
	case "none":
		if hasThr {
			return p, fmt.Errorf("exit policy %q: signal none takes no threshold", s)
		}
	case "margin", "confidence":
		p.Signal = ExitMargin
		if name == "confidence" {
			p.Signal = ExitConfidence
		}
		if !hasThr {
			return p, fmt.Errorf("exit policy %q: %s needs a threshold (%s:X)", s, name, name)
		}
		v, err := strconv.ParseFloat(thr, 64)
		if err != nil {
			return p, fmt.Errorf("exit policy %q: bad threshold %q", s, thr)
		}
		p.Threshold = v
	default:
		return p, fmt.Errorf("exit policy %q: unknown signal %q (want margin, confidence or none)", s, name)
	}
	for _, o := range parts[1:] {
		k, v, _ := strings.Cut(o, "=")
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, fmt.Errorf("exit policy %q: bad option %q (want min=N, stable=K or patience=P)", s, o)
		}
		switch k {
		case "min":
			p.MinT = n
		case "stable":
			p.Stable = n
		case "patience":
			p.Patience = n
		default:
			return p, fmt.Errorf("exit policy %q: unknown option %q (want min=N, stable=K or patience=P)", s, k)
		}
	}
	if err := p.Validate(); err != nil {
		return p, err
	}
	return p, nil
}

// Value returns the policy's signal (see ExitSignal) for the accumulated
// output a after step t ≥ 1; 0 for ExitNone. With a single class the
// answer is settled: the margin is +Inf, the confidence 1.
func (p ExitPolicy) Value(a []float32, t int) float64 {
	best, second := top2(a)
	switch p.Signal {
	case ExitMargin:
		if second < 0 {
			return math.Inf(1)
		}
		return (float64(a[best]) - float64(a[second])) / float64(t)
	case ExitConfidence:
		top, inv := float64(a[best]), 1/float64(t)
		var sum float64
		for _, v := range a {
			sum += math.Exp((float64(v) - top) * inv)
		}
		return 1 / sum
	}
	return 0
}

// top2 returns the index of the largest value of a (the first on ties)
// and of the largest of the others (−1 if a has one element).
func top2(a []float32) (best, second int) {
	best, second = 0, -1
	for j := 1; j < len(a); j++ {
		switch {
		case a[j] > a[best]:
			best, second = j, best
		case second < 0 || a[j] > a[second]:
			second = j
		}
	}
	return best, second
}

// ExitState is the per-image state of an ExitPolicy: the current arg-max
// and for how many consecutive steps it has held. The zero value is the
// state before step 1.
type ExitState struct {
	arg, run int32
}

// Update records the accumulated output a after step t (1-based; call it
// for t = 1, 2, … in order) and reports whether p makes the image exit
// after step t (the Config.T cap aside). It does not allocate.
func (e *ExitState) Update(p *ExitPolicy, a []float32, t int) bool {
	arg, _ := top2(a)
	if t == 1 || int32(arg) != e.arg {
		e.arg, e.run = int32(arg), 1
	} else {
		e.run++
	}
	if t < p.MinT {
		return false
	}
	if p.Patience >= 2 && int(e.run) >= p.Patience {
		return true
	}
	if int(e.run) < p.Stable {
		return false
	}
	return p.Signal == ExitNone || p.Value(a, t) >= p.Threshold
}

// Steps returns, for every image of r, the step after which p makes it
// exit when r is a fixed-T run (Config.Exit nil): the first t that
// satisfies p, else r.T. It defines the Simulator's adaptive runs: an
// image that exits after step t has the logits of r at step t and costs
// what its first t steps cost. The returned slice is new.
func (p ExitPolicy) Steps(r *Result) []int {
	steps := make([]int, r.N)
	tr := make([]ExitState, r.N)
	for i := range steps {
		steps[i] = r.T
	}
	for t := 1; t <= r.T; t++ {
		l := r.Logits(t)
		for i := range steps {
			if steps[i] < r.T || t == r.T {
				continue
			}
			if tr[i].Update(&p, l[i*r.Classes:(i+1)*r.Classes], t) {
				steps[i] = t
			}
		}
	}
	return steps
}

// Metadata keys of an exit policy recorded in a Model (ann2snn
// calibrate-exit; docs/format.md).
const (
	// MetaExitPolicy holds ExitPolicy.String() of the calibrated policy.
	MetaExitPolicy = "ann2snn.exit_policy"
	// MetaExitMaxT holds the largest T (decimal) it was calibrated for.
	MetaExitMaxT = "ann2snn.exit_max_t"
	// MetaExitCalibration says, for people, how it was chosen.
	MetaExitCalibration = "ann2snn.exit_calibration"
)

// RecordedExit returns the exit policy and max T recorded in metadata
// meta (MetaExitPolicy, MetaExitMaxT; maxT is 0 when absent); ok is
// false when no policy is recorded. A malformed record is an error.
func RecordedExit(meta map[string]string) (p ExitPolicy, maxT int, ok bool, err error) {
	s, has := meta[MetaExitPolicy]
	if !has {
		return p, 0, false, nil
	}
	if p, err = ParseExitPolicy(s); err != nil {
		return p, 0, false, fmt.Errorf("metadata %s: %w", MetaExitPolicy, err)
	}
	if v, has := meta[MetaExitMaxT]; has {
		if maxT, err = strconv.Atoi(v); err != nil || maxT < 1 || maxT > MaxT {
			return p, 0, false, fmt.Errorf("metadata %s = %q: want 1..%d", MetaExitMaxT, v, MaxT)
		}
	}
	return p, maxT, true, nil
}
