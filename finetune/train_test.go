package finetune

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/snnrt"
)

// toyData returns n 2x8x8 images in 3 classes: class c has a bright
// horizontal band in rows 2c..2c+2, plus noise.
func toyData(t testing.TB, n int, seed uint64) *dataset.Dataset {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 9))
	pix := make([]uint8, n*2*8*8)
	labels := make([]int, n)
	for i := range labels {
		c := r.IntN(3)
		labels[i] = c
		img := pix[i*128 : (i+1)*128]
		for j := range img {
			img[j] = uint8(r.IntN(60))
		}
		for ch := 0; ch < 2; ch++ {
			for y := 2 * c; y < 2*c+3; y++ {
				for x := 0; x < 8; x++ {
					img[ch*64+y*8+x] = uint8(150 + r.IntN(100))
				}
			}
		}
	}
	ds, err := dataset.FromUint8(2, 8, 8, pix, labels)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

var toyPre = dataset.Preprocess{Scale: 1.0 / 255}

// curve trains for cfg.Epochs epochs and returns every step's loss. With
// Config.Val it validates wherever due (before the first step and after
// every epoch).
func curve(t *testing.T, tr *Trainer) []float64 {
	t.Helper()
	var losses []float64
	for {
		validateIfDue(t, tr)
		if tr.Done() {
			return losses
		}
		if _, err := tr.RunEpoch(context.Background(), func(s StepStats) { losses = append(losses, s.Loss) }); err != nil {
			t.Fatal(err)
		}
	}
}

func validateIfDue(t *testing.T, tr *Trainer) {
	t.Helper()
	if tr.ValDue() {
		if _, err := tr.Validate(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTrainingLowersLossAndIsDeterministic(t *testing.T) {
	m := smallNet(t, 31, false, snnrt.IF{V0: []float32{0.5}})
	ds := toyData(t, 96, 1)
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"adam-mean", Config{T: 3, Batch: 16, Epochs: 4, LR: 3e-3, Seed: 5}},
		{"sgd-tet", Config{T: 2, Batch: 16, Epochs: 4, LR: 2e-2, Optimizer: SGD, Loss: LossTET,
			WeightDecay: 1e-4, RateReg: 0.01, Surrogate: Triangle{1}, Seed: 6}},
		{"adam-t1-anneal-autowidth-memreg", Config{T: 1, Batch: 16, Epochs: 4, LR: 3e-3, Seed: 7,
			WidthAnneal: 4, AutoWidth: true, MemReg: 0.1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var curves [][]float64
			for _, procs := range []int{1, 2} {
				old := runtime.GOMAXPROCS(procs)
				tr, err := New(m, ds, toyPre, tc.cfg)
				if err != nil {
					t.Fatal(err)
				}
				curves = append(curves, curve(t, tr))
				runtime.GOMAXPROCS(old)
			}
			if !slices.Equal(curves[0], curves[1]) {
				t.Fatalf("same seed, different loss curves:\n%v\n%v", curves[0], curves[1])
			}
			c := curves[0]
			if len(c) != 4*(96/16) {
				t.Fatalf("%d steps, want %d", len(c), 4*(96/16))
			}
			first, last := mean(c[:6]), mean(c[len(c)-6:])
			if !(last < 0.8*first) {
				t.Fatalf("loss did not fall: first epoch %.4f, last epoch %.4f", first, last)
			}
		})
	}
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// TestResumeContinuesExactly interrupts training in the middle of an
// epoch, resumes from the checkpoint and checks that the loss curve and the
// final model equal those of an uninterrupted run.
func TestResumeContinuesExactly(t *testing.T) {
	m := smallNet(t, 32, true, snnrt.IF{})
	ds := toyData(t, 64, 2)
	for _, tc := range []struct {
		name        string
		opt         Optimizer
		anneal      float32
		auto        bool
		subset, val int
	}{{"adam", Adam, 0, false, 48, 0}, {"sgd", SGD, 0, false, 48, 0}, {"adam-anneal-autowidth", Adam, 3, true, 48, 0},
		{"adam-val", Adam, 0, false, 48, 16}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{T: 2, Batch: 16, Epochs: 3, Optimizer: tc.opt, LR: 1e-2, Augment: true, Subset: tc.subset, Seed: 3,
				WidthAnneal: tc.anneal, AutoWidth: tc.auto, Val: tc.val}
			ref, err := New(m, ds, toyPre, cfg)
			if err != nil {
				t.Fatal(err)
			}
			want := curve(t, ref)

			path := filepath.Join(t.TempDir(), "ck.snn")
			tr, err := New(m, ds, toyPre, cfg)
			if err != nil {
				t.Fatal(err)
			}
			var got []float64
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for !tr.Done() {
				validateIfDue(t, tr)
				_, err := tr.RunEpoch(ctx, func(s StepStats) {
					got = append(got, s.Loss)
					if s.Epoch == 1 && s.Step == 1 {
						cancel()
					}
				})
				if errors.Is(err, context.Canceled) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := tr.SaveCheckpoint(path); err != nil {
					t.Fatal(err)
				}
			}
			if e, s := tr.Position(); e != 1 || s != 2 {
				t.Fatalf("stopped at epoch %d step %d, want 1 2", e, s)
			}
			if err := tr.SaveCheckpoint(path); err != nil {
				t.Fatal(err)
			}
			tr2, err := Resume(path, ds, toyPre, cfg)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, curve(t, tr2)...)
			if !slices.Equal(got, want) {
				t.Fatalf("resumed curve differs:\n got %v\nwant %v", got, want)
			}
			a, b := ref.Model(), tr2.Model()
			for i := range a.Layers {
				if !slices.Equal(a.Layers[i].W, b.Layers[i].W) || !slices.Equal(a.Layers[i].IF.Theta, b.Layers[i].IF.Theta) {
					t.Fatalf("layer %d parameters differ after resume", i)
				}
			}
			// The validation curve (1 + Epochs points) and the kept
			// parameters survive the checkpoint.
			if got, want := tr2.ValCurve(), ref.ValCurve(); !slices.Equal(got, want) || tc.val > 0 && len(want) != 1+cfg.Epochs {
				t.Fatalf("validation curve after resume %v, want %v (%d points)", got, want, 1+cfg.Epochs)
			}
			if tc.val > 0 {
				a, pa, _ := ref.Best()
				b, pb, ok := tr2.Best()
				if !ok || pa != pb || !sameParams(a, b) {
					t.Fatalf("kept point after resume %+v (ok %v), want %+v with the same parameters", pb, ok, pa)
				}
			}
			// The checkpoint is a normal model.
			if _, err := snnrt.Load(path); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestResumeRejectsMismatch(t *testing.T) {
	m := smallNet(t, 33, false, snnrt.IF{})
	ds := toyData(t, 32, 3)
	cfg := Config{T: 2, Batch: 16, Epochs: 2, Seed: 1}
	tr, err := New(m, ds, toyPre, cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ck.snn")
	if _, err := tr.RunEpoch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := tr.SaveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path + StateSuffix)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		cfg   Config
		state []byte
	}{
		{"seed", Config{T: 2, Batch: 16, Epochs: 2, Seed: 2}, raw},
		{"timesteps", Config{T: 3, Batch: 16, Epochs: 2, Seed: 1}, raw},
		{"optimizer", Config{T: 2, Batch: 16, Epochs: 2, Seed: 1, Optimizer: SGD}, raw},
		{"damaged", cfg, append(append([]byte(nil), raw[:len(raw)-9]...), 1, 2, 3, 4, 5, 6, 7, 8, 9)},
		{"truncated", cfg, raw[:20]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(path+StateSuffix, tc.state, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Resume(path, ds, toyPre, tc.cfg)
			var ce *CheckpointError
			if !errors.As(err, &ce) {
				t.Fatalf("Resume: %v, want *CheckpointError", err)
			}
		})
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	m := smallNet(t, 34, false, snnrt.IF{})
	signedZero := smallNet(t, 34, false, snnrt.IF{Signed: true, Reset: snnrt.ResetToZero})
	ds := toyData(t, 16, 4)
	wrong, _ := dataset.FromUint8(1, 8, 8, make([]uint8, 64), []int{0})
	for _, tc := range []struct {
		name string
		m    *snnrt.Model
		ds   *dataset.Dataset
		cfg  Config
	}{
		{"no T", m, ds, Config{}},
		{"signed reset to zero", signedZero, ds, Config{T: 2}},
		{"shape", m, wrong, Config{T: 2}},
		{"momentum", m, ds, Config{T: 2, Optimizer: SGD, Momentum: 1}},
		{"width anneal below 1", m, ds, Config{T: 2, WidthAnneal: 0.5}},
		{"negative membrane regulariser", m, ds, Config{T: 2, MemReg: -1}},
		{"membrane regulariser with reset to zero", smallNet(t, 35, false, snnrt.IF{Reset: snnrt.ResetToZero}), ds, Config{T: 2, MemReg: 0.1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.m, tc.ds, toyPre, tc.cfg); err == nil {
				t.Fatal("New succeeded, want an error")
			}
		})
	}
	_, err := New(signedZero, ds, toyPre, Config{T: 2})
	var ue *UnsupportedError
	if !errors.As(err, &ue) {
		t.Fatalf("signed neurons resetting to zero: %v, want *UnsupportedError", err)
	}
}

func TestAugmentFlipAndCrop(t *testing.T) {
	// A 1x2x3 image: with the flip and no shift the rows reverse; the pad
	// value fills shifted-in pixels.
	x := []float32{1, 2, 3, 4, 5, 6}
	pad := []float32{-9}
	seen := map[string]bool{}
	for seed := uint64(0); seed < 2000; seed++ {
		y := append([]float32(nil), x...)
		augment(y, make([]float32, 6), 1, 2, 3, pad, rand.New(rand.NewPCG(seed, 0)))
		for _, v := range y {
			if v != -9 && (v < 1 || v > 6) {
				t.Fatalf("augmented value %v is neither a pixel nor the pad", v)
			}
		}
		switch {
		case slices.Equal(y, x):
			seen["identity"] = true
		case slices.Equal(y, []float32{3, 2, 1, 6, 5, 4}):
			seen["flip"] = true
		}
	}
	if !seen["identity"] || !seen["flip"] {
		t.Fatalf("2000 draws never gave %v", seen)
	}
	if got := padValues(dataset.Preprocess{Mean: []float32{0.5}, Std: []float32{0.25}}, 2); !slices.Equal(got, []float32{-2, -2}) {
		t.Fatalf("padValues = %v, want [-2 -2]", got)
	}
}

func TestCosineLR(t *testing.T) {
	for _, tc := range []struct {
		s, total int
		want     float64
	}{{0, 10, 1}, {5, 10, 0.5}, {10, 10, 0}, {3, 0, 1}} {
		if got := cosineLR(1, tc.s, tc.total); got < tc.want-1e-12 || got > tc.want+1e-12 {
			t.Errorf("cosineLR(1, %d, %d) = %v, want %v", tc.s, tc.total, got, tc.want)
		}
	}
	// Warm-up over 4 steps of 8: the cosine factor (1 + cos(πs/8))/2 times
	// (s+1)/4 until s = 3, then the cosine alone.
	for _, tc := range []struct {
		s, warmup int
		want      float64
	}{
		{0, 4, 0.25}, {1, 4, 0.5 * (1 + math.Cos(math.Pi/8)) / 2}, {3, 4, (1 + math.Cos(3*math.Pi/8)) / 2},
		{4, 4, 0.5}, {0, 0, 1}, {0, 1, 1},
	} {
		if got := scheduleLR(1, tc.s, 8, tc.warmup); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("scheduleLR(1, %d, 8, %d) = %v, want %v", tc.s, tc.warmup, got, tc.want)
		}
	}
}
