package main

import (
	"context"
	"math"
	"sort"

	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/internal/progress"
	"github.com/ann2snn/ann2snn/snnrt"
)

// The offline evaluation of exit policies behind calibrate-exit and
// eval --adaptive's curves (docs/adaptive.md).

// trace keeps the accumulated outputs of a fixed-T run after every step,
// [image][t][class], and the labels, so that exit policies can be
// evaluated offline: an adaptive run gives each image exactly the fixed
// run's logits at its exit step (snnrt.ExitPolicy.Steps).
type trace struct {
	T, classes int
	acc        []float32
	labels     []int
}

// add appends the images of r (a fixed run of tr.T steps) with their labels.
func (tr *trace) add(r *snnrt.Result, labels []int) {
	for i := range r.N {
		for t := 1; t <= tr.T; t++ {
			tr.acc = append(tr.acc, r.Logits(t)[i*tr.classes:(i+1)*tr.classes]...)
		}
	}
	tr.labels = append(tr.labels, labels...)
}

func (tr *trace) images() int { return len(tr.labels) }

// row returns image i's accumulated output after step t (1-based).
func (tr *trace) row(i, t int) []float32 {
	o := (i*tr.T + t - 1) * tr.classes
	return tr.acc[o : o+tr.classes]
}

// fixedCorrect returns the images correct after a fixed T steps.
func (tr *trace) fixedCorrect(T int) int {
	c := 0
	for i, l := range tr.labels {
		if argmax(tr.row(i, T)) == l {
			c++
		}
	}
	return c
}

// exitOutcome is how an exit policy does on a trace.
type exitOutcome struct {
	Policy  string  `json:"policy"`
	Correct int     `json:"-"`
	Acc     float64 `json:"accuracy"`
	MeanT   float64 `json:"mean_t"`
	// Agreement is, from calibrate-exit --criterion agreement, the
	// fraction of images whose answer is the fixed reference run's.
	Agreement float64 `json:"agreement,omitempty"`
	steps     []int   // per image
}

// evaluate applies p on the trace (the T cap included).
func (tr *trace) evaluate(p snnrt.ExitPolicy, keepSteps bool) exitOutcome {
	o := exitOutcome{Policy: p.String()}
	var sum int64
	if keepSteps {
		o.steps = make([]int, tr.images())
	}
	for i, l := range tr.labels {
		var st snnrt.ExitState
		t := 1
		for ; t < tr.T; t++ {
			if st.Update(&p, tr.row(i, t), t) {
				break
			}
		}
		sum += int64(t)
		if argmax(tr.row(i, t)) == l {
			o.Correct++
		}
		if keepSteps {
			o.steps[i] = t
		}
	}
	n := float64(tr.images())
	o.Acc, o.MeanT = ratio(float64(o.Correct), n), ratio(float64(sum), n)
	return o
}

// sweepPoint is the outcome of one threshold of a policy family on a
// trace: the exit steps summed over images and the correct images.
type sweepPoint struct {
	threshold float64
	correct   int
	steps     int64
}

// sweep evaluates every threshold of the family fam (its Signal, MinT and
// Stable; its Threshold is ignored) exactly. An image exits after the
// first step t < T at which the conditions hold and its signal v(t) ≥ θ,
// that is the first t whose running maximum M(t) of the signal (−∞ where
// the conditions fail) reaches θ; so as θ falls through the values of
// M(t), images move to earlier exit steps one breakpoint at a time. The
// points come in decreasing threshold, one per distinct breakpoint value,
// after the point θ = +∞ (every image runs T steps).
func (tr *trace) sweep(fam snnrt.ExitPolicy) []sweepPoint {
	type event struct {
		v    float64
		img  int
		step int
	}
	cond := snnrt.ExitPolicy{MinT: fam.MinT, Stable: fam.Stable}
	var evs []event
	cur := make([]int, tr.images())
	pt := sweepPoint{threshold: math.Inf(1), steps: int64(tr.T) * int64(tr.images())}
	for i, l := range tr.labels {
		cur[i] = tr.T
		if argmax(tr.row(i, tr.T)) == l {
			pt.correct++
		}
		var st snnrt.ExitState
		best := math.Inf(-1)
		for t := 1; t < tr.T; t++ {
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

// families returns the policy families calibrate-exit sweeps: margin and
// confidence with a minimum T of 1..3 and an arg-max stability of 1..3
// steps.
func families() []snnrt.ExitPolicy {
	var ps []snnrt.ExitPolicy
	for _, sig := range []snnrt.ExitSignal{snnrt.ExitMargin, snnrt.ExitConfidence} {
		for minT := 1; minT <= 3; minT++ {
			for stable := 1; stable <= 3; stable++ {
				ps = append(ps, snnrt.ExitPolicy{Signal: sig, MinT: minT, Stable: stable})
			}
		}
	}
	return ps
}

// outcomes returns the sweep of every family as policy outcomes (the
// point θ = +∞ left out), and the policies "arg-max stable for k steps"
// for k = 2..8.
func (tr *trace) outcomes() []exitOutcome {
	n := float64(tr.images())
	var outs []exitOutcome
	for _, fam := range families() {
		for _, pt := range tr.sweep(fam)[1:] {
			p := fam
			p.Threshold = pt.threshold
			if p.Signal == snnrt.ExitConfidence && !(p.Threshold > 0) {
				continue // not a valid confidence threshold (never needed: confidence > 0)
			}
			outs = append(outs, exitOutcome{Policy: p.String(), Correct: pt.correct, Acc: float64(pt.correct) / n, MeanT: float64(pt.steps) / n})
		}
	}
	for k := 2; k <= 8; k++ {
		outs = append(outs, tr.evaluate(snnrt.ExitPolicy{Stable: k}, false))
	}
	return outs
}

// curve returns at most k points of fam's sweep, evenly spread over
// its mean T range, as outcomes.
func (tr *trace) curve(fam snnrt.ExitPolicy, k int) []exitOutcome {
	pts := tr.sweep(fam)
	n := float64(tr.images())
	var outs []exitOutcome
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
		outs = append(outs, exitOutcome{Policy: p.String(), Correct: pt.correct, Acc: float64(pt.correct) / n, MeanT: mt})
	}
	return outs
}

// choose returns the outcome with the smallest mean T among those whose
// correct count is at least need (ties: more correct, then the earlier
// candidate), and false if none qualifies.
func choose(outs []exitOutcome, need int) (exitOutcome, bool) {
	best, ok := exitOutcome{}, false
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

// relabeled returns tr with the fixed T-step answers as labels.
func (tr *trace) relabeled(T int) *trace {
	r := *tr
	r.labels = make([]int, tr.images())
	for i := range r.labels {
		r.labels[i] = argmax(tr.row(i, T))
	}
	return &r
}

// reevaluate returns o with the accuracy on tr's labels (its policy
// applied again).
func (tr *trace) reevaluate(o exitOutcome) exitOutcome {
	p, err := snnrt.ParseExitPolicy(o.Policy)
	if err != nil { // cannot happen: o.Policy is ExitPolicy.String()
		return o
	}
	return tr.evaluate(p, false)
}

// agreement returns o's agreement with the reference answers when crit
// counts them (o was evaluated on the relabeled trace target), else 0.
func agreement(target *trace, o exitOutcome, crit exitCriterion) float64 {
	if crit != criterionAgreement {
		return 0
	}
	return ratio(float64(o.Correct), float64(target.images()))
}

// collectTrace runs the fixed simulation of T steps on every image of ds
// and returns its trace.
func collectTrace(ctx context.Context, m *snnrt.Model, ds *dataset.Dataset, pre dataset.Preprocess, batch, T int, bar *progress.Bar) (*trace, error) {
	sim, err := snnrt.NewSimulator(m, snnrt.Config{T: T, MaxBytes: memoryBudget()})
	if err != nil {
		return nil, badInput(err)
	}
	tr := &trace{T: T, classes: m.Layers[m.Output].Shape.Len()}
	per := m.Input.Len()
	buf := make([]float32, batch*per)
	labels := make([]int, batch)
	for start := 0; start < ds.Len(); start += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := min(batch, ds.Len()-start)
		if _, err := ds.Batch(buf[:n*per], start, n, pre); err != nil {
			return nil, badInput(err)
		}
		r, err := sim.RunContext(ctx, buf[:n*per], n)
		if err != nil {
			return nil, err
		}
		for j := range n {
			labels[j] = ds.Label(start + j)
		}
		tr.add(r, labels[:n])
		bar.Add(n)
	}
	bar.Done()
	return tr, nil
}
