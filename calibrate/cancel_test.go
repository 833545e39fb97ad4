package calibrate

import (
	"context"
	"errors"
	"testing"
)

// cancellingImages are synthImages that cancel a context when batch
// number after (counting from 1) is read, and count the reads.
type cancellingImages struct {
	synthImages
	after  int
	cancel context.CancelFunc
	reads  int
}

func (c *cancellingImages) Read(dst []float32, start, n int) error {
	c.reads++
	if c.reads == c.after {
		c.cancel()
	}
	return c.synthImages.Read(dst, start, n)
}

// TestCancel: every loop of the package stops when its context is
// cancelled — before it starts (after 0), after the k-th of several
// batches (fewer batches are read than there are), or while its only
// batch is being processed (between ANN passes, images and simulation
// steps) — and returns an error that wraps context.Canceled.
func TestCancel(t *testing.T) {
	const n = 40 // images of 2×1×2 values: 1 + 1 per channel, see ifNet
	loops := []struct {
		name string
		run  func(ctx context.Context, src Images, batch int) error
	}{
		{"Collect", func(ctx context.Context, src Images, batch int) error {
			_, err := Collect(ctx, reluNet(t, 2, 1, 2), src, []string{"r"}, CollectOptions{Batch: batch, PerChannel: true})
			return err
		}},
		{"ClippedMeans", func(ctx context.Context, src Images, batch int) error {
			_, err := ClippedMeans(ctx, reluNet(t, 2, 1, 2), src, batch, []string{"r"}, [][]float32{{1}})
			return err
		}},
		{"SNNMeans", func(ctx context.Context, src Images, batch int) error {
			_, err := SNNMeans(ctx, ifNet(t), src, batch, 8, []int{0})
			return err
		}},
		{"CorrectBias", func(ctx context.Context, src Images, batch int) error {
			return CorrectBias(ctx, ifNet(t), src, batch, 8, []Target{{Layer: 0, Mean: []float64{0.5, 0.5}}}, false)
		}},
	}
	cases := []struct {
		name         string
		batch, after int
		wantReads    int
	}{
		{"before the call", 4, 0, 0},
		{"after 3 of 10 batches", 4, 3, 3},
		{"during the only batch", n, 1, 1},
	}
	for _, l := range loops {
		for _, tc := range cases {
			t.Run(l.name+"/"+tc.name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				src := &cancellingImages{synthImages: synthImages{n: n, per: 4}, after: tc.after, cancel: cancel}
				if tc.after == 0 {
					cancel()
				}
				err := l.run(ctx, src, tc.batch)
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("error %v, want one wrapping context.Canceled", err)
				}
				if src.reads != tc.wantReads {
					t.Errorf("%d batches read, want %d (of %d)", src.reads, tc.wantReads, (n+tc.batch-1)/tc.batch)
				}
			})
		}
	}
}

// TestThresholdCancel: the threshold search of a collected sample stops
// on a cancelled context, per layer and per channel, and still answers on
// a live one.
func TestThresholdCancel(t *testing.T) {
	got, err := Collect(t.Context(), reluNet(t, 2, 1, 2), synthImages{n: 8, per: 4}, []string{"r"}, CollectOptions{PerChannel: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, perChannel := range []bool{false, true} {
		if _, err := got["r"].Threshold(ctx, MSEOptimal{T: 8}, perChannel); !errors.Is(err, context.Canceled) {
			t.Errorf("per channel %v: error %v, want one wrapping context.Canceled", perChannel, err)
		}
		if th, err := got["r"].Threshold(t.Context(), MSEOptimal{T: 8}, perChannel); err != nil || len(th) == 0 {
			t.Errorf("per channel %v, live context: %v, %v", perChannel, th, err)
		}
	}
}

// countdownCtx is a context that reports itself cancelled from its left-th
// Err call on, and counts the calls: a cancellation part way through a
// loop, at a fixed point, without timing.
type countdownCtx struct {
	context.Context
	left, calls int
}

func (c *countdownCtx) Err() error {
	c.calls++
	if c.calls >= c.left {
		return context.Canceled
	}
	return nil
}

// TestMinErrorSearchCancel: MSEOptimal's search over a binned histogram
// checks the context before every one of its 41 candidates, so a context
// cancelled at the 5th check stops it there.
func TestMinErrorSearchCancel(t *testing.T) {
	h := NewHist(LayerBits, 4)
	a := make([]float32, 1000)
	for i := range a {
		a[i] = float32(i+1) / 100
	}
	h.Add(a)
	if h.Exact() {
		t.Fatal("histogram still exact: the test needs bins")
	}
	ctx := &countdownCtx{Context: context.Background(), left: 5}
	if _, err := h.threshold(ctx, MSEOptimal{T: 8}); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if ctx.calls != 5 {
		t.Errorf("%d checks of the context, want 5 (stop at the first cancelled one)", ctx.calls)
	}
	live := &countdownCtx{Context: context.Background(), left: 1 << 30}
	got, err := h.threshold(live, MSEOptimal{T: 8})
	if want := h.Threshold(MSEOptimal{T: 8}); err != nil || got != want {
		t.Errorf("live context: θ %v, %v; want %v as without one", got, err, want)
	}
	if live.calls < 41 {
		t.Errorf("%d checks of the context over 41 candidates", live.calls)
	}
}
