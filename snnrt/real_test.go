package snnrt

import (
	"os"
	"slices"
	"testing"

	"github.com/ann2snn/ann2snn/dataset"
)

// TestRealModel is an opt-in check on a converted CIFAR-10 model:
//
//	SNNRT_MODEL=/tmp/vgg16h.snn go test -run RealModel -v ./snnrt
//
// It simulates the first 16 test images with Run and with the Simulator
// (dense and event-driven) and requires the dense Simulator to be
// bit-identical to Run, and the event path to give the same predictions and
// logits within 1e-3 relative.
func TestRealModel(t *testing.T) {
	path := os.Getenv("SNNRT_MODEL")
	if path == "" {
		t.Skip("set SNNRT_MODEL to a converted CIFAR-10 .snn")
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dataset.Open("cifar10", dataset.Test)
	if err != nil {
		t.Fatal(err)
	}
	pre, _, _ := dataset.PreprocessFromMeta(m.Metadata)
	const n = 16
	x := make([]float32, n*m.Input.Len())
	if _, err := ds.Batch(x, 0, n, pre); err != nil {
		t.Fatal(err)
	}
	cfg := Config{T: 4}
	ref, err := Run(m, x, n, cfg)
	if err != nil {
		t.Fatal(err)
	}
	run := func(dense bool) *Result {
		cfg.Dense = dense
		s, err := NewSimulator(m, cfg)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Run(x, n)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	rd, re := run(true), run(false)
	if !slices.Equal(ref.acc, rd.acc) || !slices.Equal(ref.Layers, rd.Layers) {
		t.Error("dense Simulator differs from Run")
	}
	d := maxRelDiff(ref.acc, re.acc)
	t.Logf("event path: logits rel diff %g, spike statistics equal: %v", d, slices.Equal(ref.Layers, re.Layers))
	if d > 1e-3 || !slices.Equal(ref.Predictions(4), re.Predictions(4)) {
		t.Errorf("event path: rel diff %g, predictions %v, Run %v", d, re.Predictions(4), ref.Predictions(4))
	}
}
