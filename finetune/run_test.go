package finetune

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/snnrt"
)

// sameParams reports whether a and b have equal weights, biases and
// thresholds in every layer.
func sameParams(a, b *snnrt.Model) bool {
	if len(a.Layers) != len(b.Layers) {
		return false
	}
	for i := range a.Layers {
		la, lb := &a.Layers[i], &b.Layers[i]
		if !slices.Equal(la.W, lb.W) || !slices.Equal(la.B, lb.B) || !slices.Equal(la.IF.Theta, lb.IF.Theta) {
			return false
		}
	}
	return true
}

// TestSplitVal checks the validation split: the sizes asked for, no image
// in both parts, every image in one of them without a subset, the same
// split for the same seed, another for another seed, and the same
// validation images whatever the subset (they are drawn first).
func TestSplitVal(t *testing.T) {
	ds := toyData(t, 100, 7)
	for _, tc := range []struct {
		name                string
		val, subset, wantTr int
	}{
		{"val only", 30, 0, 70},
		{"val and subset", 30, 40, 40},
		{"subset larger than the rest", 30, 90, 70},
		{"one validation image", 1, 0, 99},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, va, err := splitIndices(ds, tc.val, tc.subset, 5)
			if err != nil {
				t.Fatal(err)
			}
			if len(va) != tc.val || len(tr) != tc.wantTr {
				t.Fatalf("%d validation and %d training images, want %d and %d", len(va), len(tr), tc.val, tc.wantTr)
			}
			seen := map[int]bool{}
			for _, i := range append(slices.Clone(va), tr...) {
				if i < 0 || i >= ds.Len() || seen[i] {
					t.Fatalf("index %d out of range or in both parts", i)
				}
				seen[i] = true
			}
			if tc.subset == 0 && len(seen) != ds.Len() {
				t.Fatalf("%d of %d images used", len(seen), ds.Len())
			}
			tr2, va2, _ := splitIndices(ds, tc.val, tc.subset, 5)
			if !slices.Equal(tr, tr2) || !slices.Equal(va, va2) {
				t.Fatal("same seed, different split")
			}
			if _, va0, _ := splitIndices(ds, tc.val, 0, 5); !slices.Equal(va, va0) {
				t.Fatal("the subset changed the validation images")
			}
			if _, va3, _ := splitIndices(ds, tc.val, tc.subset, 6); tc.val > 1 && slices.Equal(va, va3) {
				t.Fatal("seeds 5 and 6 drew the same validation images")
			}
		})
	}
	if _, _, err := splitIndices(ds, 100, 0, 1); err == nil {
		t.Fatal("holding out every image: no error")
	}
}

// runJob runs job with GOMAXPROCS procs and returns the report and the
// bytes of the written model.
func runJob(t *testing.T, job Job, procs int) (*Report, []byte) {
	t.Helper()
	old := runtime.GOMAXPROCS(procs)
	defer runtime.GOMAXPROCS(old)
	rep, err := Run(context.Background(), &job, Events{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(job.Out)
	if err != nil {
		t.Fatal(err)
	}
	return rep, b
}

// valSet returns the validation images of ds as Config{Val, Seed}
// selects them.
func valSet(t *testing.T, ds *dataset.Dataset, val int, seed uint64) *dataset.Dataset {
	t.Helper()
	_, idx, err := splitIndices(ds, val, 0, seed)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ds.Subset(idx)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestRunKeepsBest drives Run without flags: without validation it writes
// the last parameters; with it, the first point of highest validation
// accuracy, which is the starting model when a ruinous learning rate makes
// every later point worse. Curves and files do not depend on GOMAXPROCS.
func TestRunKeepsBest(t *testing.T) {
	ds := toyData(t, 96, 1)
	test := toyData(t, 48, 11)
	raw := smallNet(t, 31, false, snnrt.IF{V0: []float32{0.5}})
	// A model that already classifies well: the starting point that a
	// learning rate of 10 can only spoil.
	good, err := Train(context.Background(), raw, ds, toyPre, Config{T: 3, Batch: 16, Epochs: 4, LR: 3e-3, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		m         *snnrt.Model
		cfg       Config
		wantStart bool // the starting model must be kept
	}{
		{"no validation", raw, Config{T: 3, Batch: 16, Epochs: 2, LR: 3e-3, Seed: 5}, false},
		{"validation", raw, Config{T: 3, Batch: 16, Epochs: 3, LR: 3e-3, Seed: 5, Val: 32}, false},
		{"validation every 2 steps", raw, Config{T: 3, Batch: 16, Epochs: 3, LR: 3e-3, Seed: 5, Val: 32, ValEvery: 2}, false},
		{"ruinous learning rate", good, Config{T: 3, Batch: 16, Epochs: 2, LR: 10, Seed: 5, Val: 32}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := Job{Config: tc.cfg, Model: tc.m, Train: ds, Pre: toyPre, Test: test,
				Out: filepath.Join(t.TempDir(), "out.snn")}
			rep, file := runJob(t, job, 1)
			rep2, file2 := runJob(t, job, 2)
			if !bytes.Equal(file, file2) || !slices.Equal(rep.Val, rep2.Val) {
				t.Fatal("GOMAXPROCS 1 and 2 wrote different models or validation curves")
			}
			out, err := snnrt.Load(job.Out)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Epochs) != tc.cfg.Epochs {
				t.Fatalf("%d epoch records, want %d", len(rep.Epochs), tc.cfg.Epochs)
			}
			spe := (96 - tc.cfg.Val) / 16
			if rep.TrainImages != 96-tc.cfg.Val || rep.ValImages != tc.cfg.Val || rep.StepsPerEpoch != spe {
				t.Fatalf("report %d training, %d validation images, %d steps per epoch; want %d, %d, %d",
					rep.TrainImages, rep.ValImages, rep.StepsPerEpoch, 96-tc.cfg.Val, tc.cfg.Val, spe)
			}
			if tc.cfg.Val == 0 {
				if rep.Kept != nil || rep.Val != nil {
					t.Fatalf("no validation, but kept %+v, curve %v", rep.Kept, rep.Val)
				}
				if _, err := os.Stat(job.Out + StateSuffix); err != nil {
					t.Fatalf("the checkpoint's state: %v", err)
				}
				return
			}
			// Points: the start, every ValEvery steps, every epoch end.
			total := spe * tc.cfg.Epochs
			want := []int{0}
			for g := 1; g <= total; g++ {
				if g%spe == 0 || tc.cfg.ValEvery > 0 && g%tc.cfg.ValEvery == 0 {
					want = append(want, g)
				}
			}
			var got []int
			best := 0
			for i, p := range rep.Val {
				got = append(got, p.Steps)
				if p.Accuracy > rep.Val[best].Accuracy {
					best = i
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("validated after steps %v, want %v", got, want)
			}
			if rep.Kept == nil || *rep.Kept != rep.Val[best] {
				t.Fatalf("kept %+v, want the first best point %+v", rep.Kept, rep.Val[best])
			}
			// The written model is the kept one: its accuracy on the
			// validation images, measured here, is the kept point's.
			acc, err := Evaluate(context.Background(), out, valSet(t, ds, tc.cfg.Val, tc.cfg.Seed), toyPre, tc.cfg.T, 7, 0)
			if err != nil {
				t.Fatal(err)
			}
			if acc != rep.Kept.Accuracy {
				t.Fatalf("the written model scores %v on the validation images, the kept point %v", acc, rep.Kept.Accuracy)
			}
			for _, p := range []string{StateSuffix, BestSuffix} {
				if _, err := os.Stat(job.Out + p); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("finished run left %s (%v)", p, err)
				}
			}
			if !tc.wantStart {
				if rep.Kept.Steps == 0 {
					t.Fatalf("training never improved the validation accuracy: %v", rep.Val)
				}
				return
			}
			for _, p := range rep.Val[1:] {
				if p.Accuracy >= rep.Val[0].Accuracy {
					t.Fatalf("the case is not ruinous: %v", rep.Val)
				}
			}
			if rep.Kept.Steps != 0 || !sameParams(out, tc.m) {
				t.Fatalf("kept %+v; want the starting model, parameters unchanged", rep.Kept)
			}
		})
	}
}

// TestRunResumeWithVal interrupts a Run with validation (every 3 steps
// and after every epoch) at several steps, resumes it and requires the
// written model and the validation curve to equal an uninterrupted run's.
func TestRunResumeWithVal(t *testing.T) {
	ds := toyData(t, 96, 1)
	m := smallNet(t, 32, true, snnrt.IF{})
	cfg := Config{T: 2, Batch: 16, Epochs: 3, LR: 1e-2, Seed: 3, Val: 16, Subset: 64, ValEvery: 3, Augment: true}
	dir := t.TempDir()
	ref := Job{Config: cfg, Model: m, Train: ds, Pre: toyPre, Out: filepath.Join(dir, "ref.snn")}
	want, wantFile := runJob(t, ref, 2)
	// 4 steps per epoch: cancel before step 3 of epoch 1 (a validation
	// point: 3 steps), mid-epoch, and at an epoch end.
	for _, stop := range []int{2, 3, 5, 8} {
		job := ref
		job.Out = filepath.Join(dir, "ck.snn")
		ctx, cancel := context.WithCancel(context.Background())
		_, err := Run(ctx, &job, Events{Step: func(s StepStats) {
			if s.Epoch*4+s.Step+1 == stop {
				cancel()
			}
		}})
		cancel()
		var ie *InterruptedError
		if !errors.As(err, &ie) || !errors.Is(err, context.Canceled) {
			t.Fatalf("stop after %d steps: %v, want *InterruptedError", stop, err)
		}
		if ie.Epoch*4+ie.Step != stop {
			t.Fatalf("interrupted at epoch %d step %d, want after %d steps", ie.Epoch, ie.Step, stop)
		}
		job.Resume = true
		got, gotFile := runJob(t, job, 1)
		if !slices.Equal(got.Val, want.Val) || *got.Kept != *want.Kept {
			t.Fatalf("stop after %d: resumed curve %v kept %+v; want %v kept %+v", stop, got.Val, *got.Kept, want.Val, *want.Kept)
		}
		if !bytes.Equal(gotFile, wantFile) {
			t.Fatalf("stop after %d: resumed run wrote another model", stop)
		}
	}
}
