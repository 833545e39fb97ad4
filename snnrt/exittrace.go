package snnrt

import (
	"fmt"
	"math"
	"sort"
)

// The offline evaluation of exit policies behind CalibrateExit and the
// accuracy-vs-mean-T curves of "ann2snn eval --adaptive"
// (docs/adaptive.md).

// ExitTrace keeps the accumulated output of a fixed-T run after every
// step, [image][t][class], with the labels, so that exit policies can be
// evaluated offline: an adaptive run gives each image exactly the fixed
// run's logits at its exit step (ExitPolicy.Steps). The zero value is not
// usable: make one with NewExitTrace.
type ExitTrace struct {
	// T is the number of steps of the traced runs, Classes the length of
	// one image's output.
	T, Classes int
	acc        []float32
	labels     []int
}

// NewExitTrace returns an empty trace of T-step runs with classes outputs
// per image.
func NewExitTrace(T, classes int) *ExitTrace { return &ExitTrace{T: T, Classes: classes} }

// Add appends the images of r (a fixed run of tr.T steps: r.T == tr.T,
// r.Classes == tr.Classes) with their labels (len r.N; −1: unlabeled). It
// panics if r does not fit the trace (programmer error).
func (tr *ExitTrace) Add(r *Result, labels []int) {
	if r.T != tr.T || r.Classes != tr.Classes || len(labels) != r.N {
		panic(fmt.Sprintf("snnrt: ExitTrace.Add: result T=%d, %d classes, %d images, %d labels; trace T=%d, %d classes",
			r.T, r.Classes, r.N, len(labels), tr.T, tr.Classes))
	}
	for i := range r.N {
		for t := 1; t <= tr.T; t++ {
			tr.acc = append(tr.acc, r.Logits(t)[i*tr.Classes:(i+1)*tr.Classes]...)
		}
	}
	tr.labels = append(tr.labels, labels...)
}

// Images returns the number of traced images.
func (tr *ExitTrace) Images() int { return len(tr.labels) }

// row returns image i's accumulated output after step t (1-based).
func (tr *ExitTrace) row(i, t int) []float32 {
	o := (i*tr.T + t - 1) * tr.Classes
	return tr.acc[o : o+tr.Classes]
}

// FixedCorrect returns the number of images whose answer after a fixed T
// steps (1 ≤ T ≤ tr.T) equals their label.
func (tr *ExitTrace) FixedCorrect(T int) int {
	c := 0
	for i, l := range tr.labels {
		if argmax(tr.row(i, T)) == l {
			c++
		}
	}
	return c
}

// Relabeled returns a trace with the same outputs whose labels are the
// answers after a fixed T steps: on it, Correct counts agreement with
// that fixed run.
func (tr *ExitTrace) Relabeled(T int) *ExitTrace {
	r := *tr
	r.labels = make([]int, tr.Images())
	for i := range r.labels {
		r.labels[i] = argmax(tr.row(i, T))
	}
	return &r
}

// ExitOutcome is how an exit policy does on a trace.
type ExitOutcome struct {
	Policy ExitPolicy
	// Correct is the number of images whose answer at their exit step
	// equals their label; Accuracy is Correct over the images.
	Correct  int
	Accuracy float64
	// MeanT is the mean exit step.
	MeanT float64
	// Agreement is, from CalibrateExit with ExitAgreement, the fraction
	// of images whose answer is the fixed reference run's; 0 otherwise.
	Agreement float64
}

// firstExit returns the step after which p makes image i exit: the first
// t < tr.T at which ExitState.Update says so, else tr.T.
func (tr *ExitTrace) firstExit(i int, p ExitPolicy) int {
	var st ExitState
	t := 1
	for ; t < tr.T; t++ {
		if st.Update(&p, tr.row(i, t), t) {
			break
		}
	}
	return t
}

// Evaluate applies p to every image of the trace (the cap at tr.T
// included): the image exits after the first step t < tr.T at which
// ExitState.Update says so, else after tr.T.
func (tr *ExitTrace) Evaluate(p ExitPolicy) ExitOutcome {
	o := ExitOutcome{Policy: p}
	var sum int64
	for i, l := range tr.labels {
		t := tr.firstExit(i, p)
		sum += int64(t)
		if argmax(tr.row(i, t)) == l {
			o.Correct++
		}
	}
	o.Accuracy, o.MeanT = ratio(float64(o.Correct), float64(tr.Images())), ratio(float64(sum), float64(tr.Images()))
	return o
}

// ratio returns a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// sweepPoint is the outcome of one threshold of a policy family on a
// trace: the exit steps summed over images and the correct images.
type sweepPoint struct {
	threshold float64
	correct   int
	steps     int64
}

// sweep evaluates every threshold of the family fam (its Signal, MinT,
// Stable and Patience; its Threshold is ignored) exactly. Without the
// signal an image exits after its patience step P (the first t < T at
// which ExitPolicy{MinT, Stable: Patience} holds; T when Patience is off
// or never met). With it, the image exits after the first step t < P at
// which the conditions hold and its signal v(t) ≥ θ, that is the first
// t < P whose running maximum M(t) of the signal (−∞ where the conditions
// fail) reaches θ, else after P; so as θ falls through the values of
// M(t), images move to earlier exit steps one breakpoint at a time. The
// points come in decreasing threshold, one per distinct breakpoint value,
// after the point θ = +∞ (every image runs to its patience step).
func (tr *ExitTrace) sweep(fam ExitPolicy) []sweepPoint {
	type event struct {
		v    float64
		img  int
		step int
	}
	cond := ExitPolicy{MinT: fam.MinT, Stable: fam.Stable}
	var evs []event
	cur := make([]int, tr.Images())
	pt := sweepPoint{threshold: math.Inf(1)}
	for i, l := range tr.labels {
		cur[i] = tr.T
		if fam.Patience >= 2 {
			cur[i] = tr.firstExit(i, ExitPolicy{MinT: fam.MinT, Stable: fam.Patience})
		}
		pt.steps += int64(cur[i])
		if argmax(tr.row(i, cur[i])) == l {
			pt.correct++
		}
		var st ExitState
		best := math.Inf(-1)
		for t := 1; t < cur[i]; t++ {
			row := tr.row(i, t)
			if !st.Update(&cond, row, t) {
				continue
			}
			if v := fam.Value(row, t); v > best && !math.IsNaN(v) {
				best = v
				evs = append(evs, event{v, i, t})
			}
		}
	}
	sort.Slice(evs, func(a, b int) bool { return evs[a].v > evs[b].v })
	pts := []sweepPoint{pt}
	for j := 0; j < len(evs); {
		th := evs[j].v
		for ; j < len(evs) && evs[j].v == th; j++ {
			e := evs[j]
			l := tr.labels[e.img]
			if argmax(tr.row(e.img, cur[e.img])) == l {
				pt.correct--
			}
			if argmax(tr.row(e.img, e.step)) == l {
				pt.correct++
			}
			pt.steps += int64(e.step - cur[e.img])
			cur[e.img] = e.step
		}
		pt.threshold = th
		pts = append(pts, pt)
	}
	return pts
}

// Sweep returns the outcome of every threshold of the family fam (its
// Signal, MinT, Stable and Patience; its Threshold is ignored) at which some image's
// exit step changes, in decreasing threshold, computed exactly in one
// pass over the trace: each outcome equals Evaluate of its policy.
// Thresholds that are not valid for the signal (a confidence ≤ 0) are
// left out.
func (tr *ExitTrace) Sweep(fam ExitPolicy) []ExitOutcome {
	n := float64(tr.Images())
	var outs []ExitOutcome
	for _, pt := range tr.sweep(fam)[1:] {
		p := fam
		p.Threshold = pt.threshold
		if p.Signal == ExitConfidence && !(p.Threshold > 0) {
			continue // not a valid confidence threshold (never needed: confidence > 0)
		}
		outs = append(outs, ExitOutcome{Policy: p, Correct: pt.correct, Accuracy: float64(pt.correct) / n, MeanT: float64(pt.steps) / n})
	}
	return outs
}

// ExitFamilies returns the policy families CalibrateExit sweeps: margin
// and confidence with a minimum T of 1..3, an arg-max stability of 1..3
// steps, and a patience of off or 2..4 steps where it exceeds the
// stability (a patience at most the stability would make the signal
// irrelevant) (thresholds 0).
func ExitFamilies() []ExitPolicy {
	var ps []ExitPolicy
	for _, sig := range []ExitSignal{ExitMargin, ExitConfidence} {
		for minT := 1; minT <= 3; minT++ {
			for stable := 1; stable <= 3; stable++ {
				for _, pat := range []int{0, 2, 3, 4} {
					if pat == 0 || pat > stable {
						ps = append(ps, ExitPolicy{Signal: sig, MinT: minT, Stable: stable, Patience: pat})
					}
				}
			}
		}
	}
	return ps
}

// Candidates returns the policies CalibrateExit chooses from, with their
// outcomes on tr: the Sweep of every ExitFamilies family, and the
// policies "arg-max stable for k steps" (ExitNone) for k = 2..8.
func (tr *ExitTrace) Candidates() []ExitOutcome {
	var outs []ExitOutcome
	for _, fam := range ExitFamilies() {
		outs = append(outs, tr.Sweep(fam)...)
	}
	for k := 2; k <= 8; k++ {
		outs = append(outs, tr.Evaluate(ExitPolicy{Stable: k}))
	}
	return outs
}

// Curve returns at most about k points of fam's Sweep, evenly spread over
// its mean T range (a point is kept when its mean T is at least
// (T−1)/k below the last kept one; the lowest threshold is always kept).
func (tr *ExitTrace) Curve(fam ExitPolicy, k int) []ExitOutcome {
	pts := tr.sweep(fam)
	n := float64(tr.Images())
	var outs []ExitOutcome
	lastT := math.Inf(1)
	step := float64(tr.T-1) / float64(k)
	for _, pt := range pts[1:] {
		mt := float64(pt.steps) / n
		if lastT-mt < step && pt.threshold != pts[len(pts)-1].threshold {
			continue
		}
		lastT = mt
		p := fam
		p.Threshold = pt.threshold
		outs = append(outs, ExitOutcome{Policy: p, Correct: pt.correct, Accuracy: float64(pt.correct) / n, MeanT: mt})
	}
	return outs
}

// ChooseExit returns the outcome with the smallest mean T among those
// whose Correct is at least need (ties: more correct, then the earlier
// one), and false if none qualifies.
func ChooseExit(outs []ExitOutcome, need int) (ExitOutcome, bool) {
	best, ok := ExitOutcome{}, false
	for _, o := range outs {
		if o.Correct < need {
			continue
		}
		if !ok || o.MeanT < best.MeanT || (o.MeanT == best.MeanT && o.Correct > best.Correct) {
			best, ok = o, true
		}
	}
	return best, ok
}
