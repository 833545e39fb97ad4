package snnrt

import (
	"context"
	"fmt"
	"time"
)

// Batches is the source of images that Evaluate, CalibrateExit and Bench
// read: the narrow view of a data set they need. The cmd/ann2snn data sets
// (a dataset.Dataset with its preprocessing) satisfy it through a two-line
// adapter; tests use a slice.
type Batches interface {
	// Len returns the number of images.
	Len() int
	// Batch writes images [start, start+n) into dst (n·Model.Input.Len()
	// values, NCHW, preprocessed as the model expects) and their labels
	// into labels (len n; −1 for an unlabeled image, which no prediction
	// matches). 0 ≤ start, start+n ≤ Len().
	Batch(dst []float32, labels []int, start, n int) error
}

// DefaultBatch is the number of images a simulation runs at once when a
// config's Batch is 0.
const DefaultBatch = 64

// DefaultEvalTimesteps returns the read-out time steps Evaluate uses when
// EvalConfig.Timesteps is nil: 1, 2, 4, 8, 16, 32 (a new slice).
func DefaultEvalTimesteps() []int { return []int{1, 2, 4, 8, 16, 32} }

// EvalConfig controls Evaluate. The zero value evaluates at
// DefaultEvalTimesteps, DefaultBatch images at a time, within
// DefaultMaxBytes.
type EvalConfig struct {
	// Timesteps are the T at which accuracy and cost are read out,
	// increasing, each in 1..MaxT; one simulation of the largest gives
	// all of them. nil means DefaultEvalTimesteps().
	Timesteps []int
	// Batch is the number of images simulated at once; 0 means
	// DefaultBatch. Results do not depend on it.
	Batch int
	// MaxBytes is the Simulator's Config.MaxBytes (0: DefaultMaxBytes).
	MaxBytes int64
	// Analog also counts the correct predictions of m's analog network
	// (Model.Analog) in EvalReport.AnalogCorrect.
	Analog bool
	// Logits keeps every image's output summed over the largest T in
	// EvalReport.Logits.
	Logits bool
	// Exit, if not nil, also runs every batch adaptively with this policy
	// (EvalReport.Adaptive) and keeps the fixed run's trace
	// (EvalReport.Trace) for offline policy curves.
	Exit *ExitPolicy
	// ExitMaxT is the largest T of the adaptive run; 0 means the largest
	// of Timesteps.
	ExitMaxT int
	// Progress, if not nil, is called after every batch with the number
	// of images it held.
	Progress func(images int)
}

// EvalReport holds the exact counts of an evaluation, from which a caller
// computes accuracies, costs and firing rates; the counts of disjoint
// image sets add up. Per-T slices follow Timesteps.
type EvalReport struct {
	// Timesteps are the read-out T (EvalConfig.Timesteps or the default).
	Timesteps []int
	// Images is the number of images evaluated.
	Images int
	// Correct is, per T, the images whose prediction equals their label.
	Correct []int64
	// SOPs and MACs are, per T, the synaptic operations and dense
	// multiply-accumulates of steps 1..T, summed over images.
	SOPs, MACs []int64
	// Spikes is, per layer of the model (indexed like Model.Layers, 0 for
	// layers without neurons), the spikes over the largest T, all images.
	Spikes []int64
	// AnalogCorrect is the analog network's correct predictions
	// (EvalConfig.Analog; 0 otherwise).
	AnalogCorrect int64
	// Busy is the time spent in the fixed-T simulator alone (data
	// preparation and the analog network excluded).
	Busy time.Duration
	// Logits is, with EvalConfig.Logits, the output summed over the
	// largest T, row-major images × classes; nil otherwise.
	Logits []float32
	// Adaptive is the adaptive run's counts (EvalConfig.Exit); nil
	// otherwise.
	Adaptive *AdaptiveCounts
	// Trace is the fixed run's accumulated output after every step up to
	// the largest T, for offline exit-policy curves (EvalConfig.Exit);
	// nil otherwise.
	Trace *ExitTrace
}

// AdaptiveCounts are the exact counts of an adaptive run (Config.Exit).
type AdaptiveCounts struct {
	// Policy is the exit policy and MaxT the largest number of steps.
	Policy ExitPolicy
	MaxT   int
	// Images is the number of images, Correct those whose answer equals
	// their label.
	Images  int
	Correct int64
	// Steps is the histogram of exit steps: Steps[t−1] images stopped
	// after t steps, t = 1..MaxT.
	Steps []int64
	// SOPs and MACs are summed over all images and simulated steps.
	SOPs, MACs int64
	// Busy is the time spent in the adaptive simulator alone.
	Busy time.Duration
}

// MeanT returns the mean number of steps per image (0 for no images).
func (a *AdaptiveCounts) MeanT() float64 {
	if a.Images == 0 {
		return 0
	}
	var s int64
	for t, c := range a.Steps {
		s += int64(t+1) * c
	}
	return float64(s) / float64(a.Images)
}

// SetupError reports that Evaluate, CalibrateExit or Bench refused its
// model or configuration before simulating anything: the caller's input
// is at fault, not the run.
type SetupError struct{ Err error }

// Error returns the underlying error's message.
func (e *SetupError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *SetupError) Unwrap() error { return e.Err }

// SourceError reports an error of a Batches source while reading images
// Start..Start+N−1: the data are at fault.
type SourceError struct {
	Start, N int
	Err      error
}

// Error returns the underlying error's message (it names the file or
// image where the source knows it).
func (e *SourceError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *SourceError) Unwrap() error { return e.Err }

// checkTimesteps reports whether ts is a non-empty increasing list in
// 1..MaxT.
func checkTimesteps(ts []int) error {
	if len(ts) == 0 {
		return fmt.Errorf("no time steps")
	}
	for i, t := range ts {
		if t < 1 || t > MaxT {
			return fmt.Errorf("time step %d: want 1..%d", t, MaxT)
		}
		if i > 0 && t <= ts[i-1] {
			return fmt.Errorf("time steps must increase: %v", ts)
		}
	}
	return nil
}

// Evaluate simulates every image of src on m with a Simulator for the
// largest of cfg.Timesteps steps, Batch images at a time, and returns the
// counts at every read-out T (see EvalReport): the definition of
// "ann2snn eval" on an SNN. With cfg.Exit every batch is also run
// adaptively. It stops with ctx's error when ctx is done.
//
// Errors: an invalid model or config, a source error (wrapped with the
// image range), a simulator error.
func Evaluate(ctx context.Context, m *Model, src Batches, cfg EvalConfig) (*EvalReport, error) {
	ts := cfg.Timesteps
	if ts == nil {
		ts = DefaultEvalTimesteps()
	}
	if err := checkTimesteps(ts); err != nil {
		return nil, &SetupError{fmt.Errorf("snnrt: Evaluate: %w", err)}
	}
	batch := cfg.Batch
	if batch == 0 {
		batch = DefaultBatch
	}
	if batch < 0 {
		return nil, &SetupError{fmt.Errorf("snnrt: Evaluate: batch %d, want ≥ 0", batch)}
	}
	T := ts[len(ts)-1]
	fixed, err := NewSimulator(m, Config{T: T, MaxBytes: cfg.MaxBytes})
	if err != nil {
		return nil, &SetupError{err}
	}
	rep := &EvalReport{Timesteps: ts, Correct: make([]int64, len(ts)), SOPs: make([]int64, len(ts)),
		MACs: make([]int64, len(ts)), Spikes: make([]int64, len(m.Layers))}
	classes := m.Layers[m.Output].Shape.Len()
	var adaptive *Simulator
	if cfg.Exit != nil {
		adT := cfg.ExitMaxT
		if adT == 0 {
			adT = T
		}
		p := *cfg.Exit
		if adaptive, err = NewSimulator(m, Config{T: adT, MaxBytes: cfg.MaxBytes, Exit: &p}); err != nil {
			return nil, &SetupError{err}
		}
		rep.Adaptive = &AdaptiveCounts{Policy: p, MaxT: adT, Steps: make([]int64, adT)}
		rep.Trace = NewExitTrace(T, classes)
	}
	if cfg.Logits {
		rep.Logits = make([]float32, 0, src.Len()*classes)
	}
	err = forBatches(ctx, m, src, batch, func(x []float32, labels []int) error {
		n := len(labels)
		t0 := time.Now()
		r, err := fixed.RunContext(ctx, x, n)
		rep.Busy += time.Since(t0)
		if err != nil {
			return err
		}
		rep.addFixed(r, labels)
		if cfg.Logits {
			rep.Logits = append(rep.Logits, r.Logits(T)...)
		}
		if adaptive != nil {
			rep.Trace.Add(r, labels)
			if err := rep.Adaptive.add(ctx, adaptive, x, labels); err != nil {
				return err
			}
		}
		if cfg.Analog {
			y, err := m.Analog(x, n)
			if err != nil {
				return err
			}
			for j, l := range labels {
				if argmax(y[j*classes:(j+1)*classes]) == l {
					rep.AnalogCorrect++
				}
			}
		}
		if cfg.Progress != nil {
			cfg.Progress(n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// addFixed adds a fixed run's counts at every read-out T.
func (rep *EvalReport) addFixed(r *Result, labels []int) {
	rep.Images += r.N
	for i, t := range rep.Timesteps {
		for j, p := range r.Predictions(t) {
			if p == labels[j] {
				rep.Correct[i]++
			}
		}
		rep.SOPs[i] += r.SOPs(t)
		rep.MACs[i] += r.MACs(t)
	}
	for i, l := range r.Layers {
		rep.Spikes[i] += l.Spikes
	}
}

// add runs the images x adaptively on s and adds their counts.
func (a *AdaptiveCounts) add(ctx context.Context, s *Simulator, x []float32, labels []int) error {
	t0 := time.Now()
	r, err := s.RunContext(ctx, x, len(labels))
	a.Busy += time.Since(t0)
	if err != nil {
		return err
	}
	a.Images += r.N
	for j, p := range r.Predictions(a.MaxT) {
		if p == labels[j] {
			a.Correct++
		}
		a.Steps[r.Steps[j]-1]++
	}
	a.SOPs += r.SOPs(a.MaxT)
	a.MACs += r.MACs(a.MaxT)
	return nil
}

// forBatches reads src batch images at a time (the last batch may be
// shorter) and calls fn with each batch's images and labels; the slices
// are reused between calls. It stops with ctx's error when ctx is done,
// and at the first error of src or fn.
func forBatches(ctx context.Context, m *Model, src Batches, batch int, fn func(x []float32, labels []int) error) error {
	N, per := src.Len(), m.Input.Len()
	batch = min(batch, max(N, 1))
	buf := make([]float32, batch*per)
	labels := make([]int, batch)
	for start := 0; start < N; start += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(batch, N-start)
		if err := src.Batch(buf[:n*per], labels[:n], start, n); err != nil {
			return &SourceError{Start: start, N: n, Err: err}
		}
		if err := fn(buf[:n*per], labels[:n]); err != nil {
			return err
		}
	}
	return nil
}

// argmax returns the index of the largest value, the first on ties (as
// Result.Predictions).
func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
