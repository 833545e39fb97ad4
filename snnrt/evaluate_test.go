package snnrt

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// sliceSource is a Batches over images held in memory; err, if set, is
// returned for any batch that reaches image failAt.
type sliceSource struct {
	x      []float32
	labels []int
	per    int
	err    error
	failAt int
}

func (s *sliceSource) Len() int { return len(s.labels) }

func (s *sliceSource) Batch(dst []float32, labels []int, start, n int) error {
	if s.err != nil && start+n > s.failAt {
		return s.err
	}
	copy(dst, s.x[start*s.per:(start+n)*s.per])
	copy(labels, s.labels[start:start+n])
	return nil
}

// testImages returns n random images for m and labels in 0..classes−1,
// every fifth image unlabeled (−1).
func testImages(m *Model, n int, seed uint64) *sliceSource {
	r := rand.New(rand.NewPCG(seed, 5))
	s := &sliceSource{x: randVec(r, n*m.Input.Len(), -0.2, 1.2), per: m.Input.Len()}
	classes := m.Layers[m.Output].Shape.Len()
	for i := range n {
		l := r.IntN(classes)
		if i%5 == 4 {
			l = -1
		}
		s.labels = append(s.labels, l)
	}
	return s
}

// countCorrect returns the images whose prediction equals their label.
func countCorrect(pred, labels []int) int64 {
	var c int64
	for i, p := range pred {
		if p == labels[i] {
			c++
		}
	}
	return c
}

// TestEvaluateMatchesRun checks Evaluate's counts against the reference
// Run of all images at once: correct predictions, SOPs and MACs at every
// read-out T, spikes per layer, the analog network's correct predictions
// and the logits, whatever the batch size.
func TestEvaluateMatchesRun(t *testing.T) {
	const n = 13
	ts := []int{1, 3, 6}
	for _, tc := range simNets(t)[:6] {
		src := testImages(tc.m, n, 11)
		T := ts[len(ts)-1]
		ref, err := Run(tc.m, src.x, n, Config{T: T})
		if err != nil {
			t.Fatal(err)
		}
		y, err := tc.m.Analog(src.x, n)
		if err != nil {
			t.Fatal(err)
		}
		classes := ref.Classes
		var analog int64
		for i := range n {
			if argmax(y[i*classes:(i+1)*classes]) == src.labels[i] {
				analog++
			}
		}
		for _, batch := range []int{0, 1, 4, n} {
			var seen int
			rep, err := Evaluate(context.Background(), tc.m, src, EvalConfig{Timesteps: ts, Batch: batch, Analog: true, Logits: true,
				Progress: func(k int) { seen += k }})
			if err != nil {
				t.Fatalf("%s batch %d: %v", tc.name, batch, err)
			}
			if rep.Images != n || seen != n {
				t.Fatalf("%s batch %d: %d images, progress %d; want %d", tc.name, batch, rep.Images, seen, n)
			}
			for i, tt := range ts {
				if want := countCorrect(ref.Predictions(tt), src.labels); rep.Correct[i] != want {
					t.Errorf("%s batch %d: T=%d: %d correct, Run says %d", tc.name, batch, tt, rep.Correct[i], want)
				}
				if rep.SOPs[i] != ref.SOPs(tt) || rep.MACs[i] != ref.MACs(tt) {
					t.Errorf("%s batch %d: T=%d: SOPs, MACs %d, %d; Run %d, %d", tc.name, batch, tt, rep.SOPs[i], rep.MACs[i], ref.SOPs(tt), ref.MACs(tt))
				}
			}
			for i, l := range ref.Layers {
				if rep.Spikes[i] != l.Spikes {
					t.Errorf("%s batch %d: layer %d: %d spikes, Run %d", tc.name, batch, i, rep.Spikes[i], l.Spikes)
				}
			}
			if rep.AnalogCorrect != analog {
				t.Errorf("%s batch %d: analog correct %d, want %d", tc.name, batch, rep.AnalogCorrect, analog)
			}
			if d := maxRelDiff(ref.Logits(T), rep.Logits); len(rep.Logits) != n*classes || d > 1e-5 {
				t.Errorf("%s batch %d: %d logits, rel diff %g from Run's", tc.name, batch, len(rep.Logits), d)
			}
			if rep.Adaptive != nil || rep.Trace != nil || rep.Busy <= 0 {
				t.Errorf("%s batch %d: adaptive %v, trace %v, busy %v", tc.name, batch, rep.Adaptive, rep.Trace, rep.Busy)
			}
		}
	}
}

// TestEvaluateAdaptive checks the adaptive counts of Evaluate against the
// definition of an exit policy (ExitPolicy.Steps of the reference Run):
// each image's answer and cost are the fixed run's at its exit step. The
// trace must give the same answers.
func TestEvaluateAdaptive(t *testing.T) {
	const n, T = 10, 6
	for _, tc := range simNets(t)[:6] {
		src := testImages(tc.m, n, 12)
		ref, err := Run(tc.m, src.x, n, Config{T: T})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []ExitPolicy{{Stable: 2}, {Signal: ExitMargin, Threshold: medianMargin(ref, 2), MinT: 2}, {Signal: ExitConfidence, Threshold: 0.5}} {
			steps := p.Steps(ref)
			hist := make([]int64, T)
			var correct, sops, macs int64
			var sum int
			for i, s := range steps {
				hist[s-1]++
				sum += s
				// Image i alone, for its cost over its first s steps.
				one, err := Run(tc.m, src.x[i*src.per:(i+1)*src.per], 1, Config{T: T})
				if err != nil {
					t.Fatal(err)
				}
				sops += one.SOPs(s)
				macs += one.MACs(s)
				if ref.Predictions(s)[i] == src.labels[i] {
					correct++
				}
			}
			rep, err := Evaluate(context.Background(), tc.m, src, EvalConfig{Timesteps: []int{2, T}, Batch: 3, Exit: &p})
			if err != nil {
				t.Fatal(err)
			}
			a := rep.Adaptive
			if a == nil || rep.Trace == nil {
				t.Fatalf("%s %v: no adaptive counts or trace", tc.name, p)
			}
			if a.Images != n || a.MaxT != T || a.Policy != p || a.Correct != correct || !slices.Equal(a.Steps, hist) {
				t.Errorf("%s %v: adaptive %d images, max T %d, %d correct, histogram %v; want %d, %d, %d, %v", tc.name, p, a.Images, a.MaxT, a.Correct, a.Steps, n, T, correct, hist)
			}
			if a.SOPs != sops || a.MACs != macs {
				t.Errorf("%s %v: adaptive SOPs, MACs %d, %d; want %d, %d", tc.name, p, a.SOPs, a.MACs, sops, macs)
			}
			if want := float64(sum) / n; a.MeanT() != want {
				t.Errorf("%s %v: mean T %v, want %v", tc.name, p, a.MeanT(), want)
			}
			if o := rep.Trace.Evaluate(p); int64(o.Correct) != correct || o.MeanT != float64(sum)/n {
				t.Errorf("%s %v: trace evaluates to %d correct at mean T %v; want %d, %v", tc.name, p, o.Correct, o.MeanT, correct, float64(sum)/n)
			}
			for tt := 1; tt <= T; tt++ {
				if got, want := rep.Trace.FixedCorrect(tt), countCorrect(ref.Predictions(tt), src.labels); int64(got) != want {
					t.Errorf("%s: trace: %d correct at T=%d, Run %d", tc.name, got, tt, want)
				}
			}
		}
	}
}

func TestEvaluateErrors(t *testing.T) {
	m := smallNet(t, 1, false, IF{})
	src := testImages(m, 6, 1)
	bad := &Model{Input: Shape{1, 1, 1}} // no layers
	dataErr := errors.New("image 3: unreadable")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	p := ExitPolicy{Signal: ExitConfidence, Threshold: 2}
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		m     *Model
		src   Batches
		cfg   EvalConfig
		setup bool  // want a *SetupError
		is    error // want errors.Is(err, is)
	}{
		{"decreasing T", context.Background(), m, src, EvalConfig{Timesteps: []int{4, 2}}, true, nil},
		{"T 0", context.Background(), m, src, EvalConfig{Timesteps: []int{0}}, true, nil},
		{"empty T", context.Background(), m, src, EvalConfig{Timesteps: []int{}}, true, nil},
		{"batch", context.Background(), m, src, EvalConfig{Batch: -1}, true, nil},
		{"model", context.Background(), bad, src, EvalConfig{}, true, nil},
		{"policy", context.Background(), m, src, EvalConfig{Exit: &p}, true, nil},
		{"data", context.Background(), m, &sliceSource{x: src.x, labels: src.labels, per: src.per, err: dataErr, failAt: 3}, EvalConfig{Timesteps: []int{2}, Batch: 2}, false, dataErr},
		{"canceled", canceled, m, src, EvalConfig{Timesteps: []int{2}}, false, context.Canceled},
	} {
		_, err := Evaluate(tc.ctx, tc.m, tc.src, tc.cfg)
		checkErrorKind(t, tc.name, err, tc.setup, tc.is)
		var src *SourceError
		if tc.is == dataErr && (!errors.As(err, &src) || src.Start != 2 || src.N != 2) {
			t.Errorf("%s: %#v, want a SourceError for images 2..3", tc.name, err)
		}
	}
}

// checkErrorKind reports an error unless err is not nil, is a *SetupError
// exactly when setup, and (if is is not nil) wraps is.
func checkErrorKind(t *testing.T, name string, err error, setup bool, is error) {
	t.Helper()
	var se *SetupError
	switch {
	case err == nil:
		t.Errorf("%s: no error", name)
	case setup != errors.As(err, &se):
		t.Errorf("%s: %v: setup error %v, want %v", name, err, !setup, setup)
	case is != nil && !errors.Is(err, is):
		t.Errorf("%s: %v, want %v", name, err, is)
	}
}
