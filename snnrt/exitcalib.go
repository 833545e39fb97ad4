package snnrt

import (
	"context"
	"fmt"
	"math"
)

// ExitCriterion is what CalibrateExitConfig.Tolerance bounds.
type ExitCriterion uint8

const (
	// ExitAgreement bounds the images whose adaptive answer differs from
	// the fixed reference run's (which bounds the accuracy lost on any
	// labels, and does not trust the calibration labels' ease).
	ExitAgreement ExitCriterion = iota
	// ExitAccuracy bounds the accuracy lost on the labels.
	ExitAccuracy
)

// String returns "agreement" or "accuracy".
func (c ExitCriterion) String() string {
	switch c {
	case ExitAgreement:
		return "agreement"
	case ExitAccuracy:
		return "accuracy"
	}
	return fmt.Sprintf("ExitCriterion(%d)", int(c))
}

// ParseExitCriterion parses "agreement" or "accuracy".
func ParseExitCriterion(s string) (ExitCriterion, error) {
	switch s {
	case "agreement":
		return ExitAgreement, nil
	case "accuracy":
		return ExitAccuracy, nil
	}
	return 0, fmt.Errorf("%q: want agreement or accuracy", s)
}

// CalibrateExitConfig controls CalibrateExit. The zero value calibrates
// for max T 32 against fixed T = 16 with no loss allowed on the agreement
// criterion, DefaultBatch images at a time.
type CalibrateExitConfig struct {
	// MaxT is the largest T of the adaptive runs (every image stops by
	// then); 0 means 32.
	MaxT int
	// Reference is the fixed T whose answers (or accuracy) the policy
	// must keep, 1..MaxT; 0 means min(16, MaxT).
	Reference int
	// Tolerance is what the policy may lose against the reference, in
	// percentage points of the images (see Criterion); 0 means nothing.
	Tolerance float64
	// Criterion is what Tolerance bounds; the zero value is ExitAgreement.
	Criterion ExitCriterion
	// Batch is the number of images simulated at once (0: DefaultBatch);
	// MaxBytes the Simulator's Config.MaxBytes (0: DefaultMaxBytes).
	Batch    int
	MaxBytes int64
	// Progress, if not nil, is called after every batch with the number
	// of images it held.
	Progress func(images int)
}

// CalibrateExitReport is the outcome of CalibrateExit.
type CalibrateExitReport struct {
	// MaxT and Reference are the settings used (defaults applied).
	MaxT, Reference int
	// Images is the number of calibration images.
	Images int
	// ReferenceCorrect is the images right at fixed T = Reference, and
	// ReferenceAccuracy that over Images.
	ReferenceCorrect  int
	ReferenceAccuracy float64
	// Chosen is the policy with the smallest mean T that meets the
	// target, with its accuracy on the labels (and, for ExitAgreement,
	// its agreement with the reference run).
	Chosen ExitOutcome
	// Best is the best policy of each family that meets the target, in
	// the order margin, confidence, none (a family without one is left
	// out).
	Best []ExitOutcome
}

// NoExitPolicyError reports that no candidate policy meets the target of
// CalibrateExit, not even running every image to MaxT.
type NoExitPolicyError struct {
	Criterion       ExitCriterion
	Reference, MaxT int
	Tolerance       float64
	// ReferenceAccuracy is the accuracy at fixed T = Reference;
	// MaxTAgreement the fraction of images whose answer at fixed T = MaxT
	// is the reference run's.
	ReferenceAccuracy, MaxTAgreement float64
}

// Error says which target was missed.
func (e *NoExitPolicyError) Error() string {
	if e.Criterion == ExitAgreement {
		return fmt.Sprintf("snnrt: CalibrateExit: no exit policy keeps the answers of fixed T=%d on all but %g%% of the images (fixed T=%d differs on %.2f%%)",
			e.Reference, e.Tolerance, e.MaxT, 100-100*e.MaxTAgreement)
	}
	return fmt.Sprintf("snnrt: CalibrateExit: no exit policy keeps the accuracy within %g points of fixed T=%d (%.2f%%), not even stopping every image at T=%d",
		e.Tolerance, e.Reference, 100*e.ReferenceAccuracy, e.MaxT)
}

// CalibrateExit chooses an exit policy for m on the labeled images of
// src: it simulates them for cfg.MaxT fixed steps, keeping the trace, and
// among the Candidates on that trace picks the one with the smallest mean
// T (ChooseExit) whose correct count is at least
//
//	need = ⌈base − Tolerance/100 · N⌉
//
// where N is the number of images and, for ExitAccuracy, base is the
// images right at fixed T = Reference on the labels; for ExitAgreement the
// trace is relabeled with the reference run's answers and base = N. The
// chosen policy and the best of each family are then evaluated again on
// the labels (from their String form, as they are recorded). A target no
// candidate meets gives *NoExitPolicyError.
//
// Errors: a bad config or model (*SetupError), an unlabeled image, a
// source or simulator error, *NoExitPolicyError.
func CalibrateExit(ctx context.Context, m *Model, src Batches, cfg CalibrateExitConfig) (*CalibrateExitReport, error) {
	if cfg.MaxT == 0 {
		cfg.MaxT = 32
	}
	if cfg.Reference == 0 {
		cfg.Reference = min(16, cfg.MaxT)
	}
	if cfg.Batch == 0 {
		cfg.Batch = DefaultBatch
	}
	switch {
	case cfg.MaxT < 1 || cfg.MaxT > MaxT:
		return nil, &SetupError{fmt.Errorf("snnrt: CalibrateExit: max T %d, want 1..%d", cfg.MaxT, MaxT)}
	case cfg.Reference < 1 || cfg.Reference > cfg.MaxT:
		return nil, &SetupError{fmt.Errorf("snnrt: CalibrateExit: reference T %d, want 1..%d", cfg.Reference, cfg.MaxT)}
	case !(cfg.Tolerance >= 0) || math.IsInf(cfg.Tolerance, 0):
		return nil, &SetupError{fmt.Errorf("snnrt: CalibrateExit: tolerance %v, want a finite value ≥ 0", cfg.Tolerance)}
	case cfg.Criterion != ExitAgreement && cfg.Criterion != ExitAccuracy:
		return nil, &SetupError{fmt.Errorf("snnrt: CalibrateExit: unknown criterion %d", int(cfg.Criterion))}
	case cfg.Batch < 0:
		return nil, &SetupError{fmt.Errorf("snnrt: CalibrateExit: batch %d, want ≥ 0", cfg.Batch)}
	}
	tr, err := traceRun(ctx, m, src, cfg.MaxT, cfg.Batch, cfg.MaxBytes, cfg.Progress)
	if err != nil {
		return nil, err
	}
	N := tr.Images()
	if N == 0 {
		return nil, &SetupError{fmt.Errorf("snnrt: CalibrateExit: no images")}
	}
	for i, l := range tr.labels {
		if l < 0 {
			return nil, &SetupError{fmt.Errorf("snnrt: CalibrateExit: image %d has no label", i)}
		}
	}
	rep := &CalibrateExitReport{MaxT: cfg.MaxT, Reference: cfg.Reference, Images: N, ReferenceCorrect: tr.FixedCorrect(cfg.Reference)}
	rep.ReferenceAccuracy = float64(rep.ReferenceCorrect) / float64(N)
	target, base := tr, rep.ReferenceCorrect
	if cfg.Criterion == ExitAgreement {
		target, base = tr.Relabeled(cfg.Reference), N
	}
	need := int(math.Ceil(float64(base) - cfg.Tolerance/100*float64(N) - 1e-9))
	outs := target.Candidates()
	chosen, ok := ChooseExit(outs, need)
	if !ok {
		return nil, &NoExitPolicyError{Criterion: cfg.Criterion, Reference: cfg.Reference, MaxT: cfg.MaxT, Tolerance: cfg.Tolerance,
			ReferenceAccuracy: rep.ReferenceAccuracy, MaxTAgreement: float64(tr.Relabeled(cfg.Reference).FixedCorrect(cfg.MaxT)) / float64(N)}
	}
	// onLabels evaluates o's policy again on the labels, as recorded.
	onLabels := func(o ExitOutcome) ExitOutcome {
		r := o
		if p, err := ParseExitPolicy(o.Policy.String()); err == nil { // always: o.Policy is valid
			r = tr.Evaluate(p)
		}
		if cfg.Criterion == ExitAgreement {
			r.Agreement = float64(o.Correct) / float64(N)
		}
		return r
	}
	rep.Chosen = onLabels(chosen)
	for _, sig := range []ExitSignal{ExitMargin, ExitConfidence, ExitNone} {
		var sub []ExitOutcome
		for _, o := range outs {
			if o.Policy.Signal == sig {
				sub = append(sub, o)
			}
		}
		if b, ok := ChooseExit(sub, need); ok {
			rep.Best = append(rep.Best, onLabels(b))
		}
	}
	return rep, nil
}

// traceRun simulates every image of src for T fixed steps and returns the
// trace.
func traceRun(ctx context.Context, m *Model, src Batches, T, batch int, maxBytes int64, progress func(int)) (*ExitTrace, error) {
	sim, err := NewSimulator(m, Config{T: T, MaxBytes: maxBytes})
	if err != nil {
		return nil, &SetupError{err}
	}
	tr := NewExitTrace(T, m.Layers[m.Output].Shape.Len())
	err = forBatches(ctx, m, src, batch, func(x []float32, labels []int) error {
		r, err := sim.RunContext(ctx, x, len(labels))
		if err != nil {
			return err
		}
		tr.Add(r, labels)
		if progress != nil {
			progress(len(labels))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return tr, nil
}
