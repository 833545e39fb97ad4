package snnrt_test

import (
	"os"
	"slices"
	"testing"

	"github.com/ann2snn/ann2snn/convert"
	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/sharedtest"
	"github.com/ann2snn/ann2snn/snnrt"
)

// realModel returns a converted CIFAR-10 model and its first n test images,
// preprocessed. By default it converts ../shared/models/vgg_small_cifar10_relu.onnx
// (found through internal/sharedtest; missing data skips, or fails under CI)
// at T = 4, calibrated on those n images with the preprocessing of
// ../shared/models/README.md. SNNRT_MODEL=FILE.snn tests that converted
// model instead, preprocessed as its metadata says:
//
//	SNNRT_MODEL=/tmp/vgg16h.snn go test -run RealModel -v ./snnrt
func realModel(t *testing.T, n int) (*snnrt.Model, []float32) {
	t.Helper()
	ds, err := dataset.Open("cifar10:"+sharedtest.Path(t, "datasets", "cifar10"), dataset.Test)
	if err != nil {
		t.Fatal(err)
	}
	if path := os.Getenv("SNNRT_MODEL"); path != "" {
		m, err := snnrt.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		pre, _, err := dataset.PreprocessFromMeta(m.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		x, err := ds.Batch(make([]float32, n*ds.ImageSize()), 0, n, pre)
		if err != nil {
			t.Fatal(err)
		}
		return m, x
	}
	pre := dataset.Preprocess{
		Scale: 1.0 / 255,
		Mean:  []float32{0.4914, 0.4822, 0.4465},
		Std:   []float32{0.2470, 0.2435, 0.2616},
	}
	x, err := ds.Batch(make([]float32, n*ds.ImageSize()), 0, n, pre)
	if err != nil {
		t.Fatal(err)
	}
	g, err := importer.Load(sharedtest.Path(t, "models", "vgg_small_cifar10_relu.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := convert.Convert(g, x, n, convert.Options{T: 4})
	if err != nil {
		t.Fatal(err)
	}
	return m, x
}

// TestRealModel simulates a converted CIFAR-10 network (see realModel) on
// 16 test images with Run and with the Simulator (dense and event-driven):
// the dense Simulator must be bit-identical to Run, and the event path must
// give the same predictions and logits within 1e-3 relative at every step.
func TestRealModel(t *testing.T) {
	const n, T = 16, 4
	m, x := realModel(t, n)
	cfg := snnrt.Config{T: T}
	ref, err := snnrt.Run(m, x, n, cfg)
	if err != nil {
		t.Fatal(err)
	}
	run := func(dense bool) *snnrt.Result {
		cfg.Dense = dense
		s, err := snnrt.NewSimulator(m, cfg)
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
	if !slices.Equal(ref.Layers, rd.Layers) {
		t.Error("dense Simulator: spike statistics differ from Run")
	}
	for step := 1; step <= T; step++ {
		if !slices.Equal(ref.Logits(step), rd.Logits(step)) {
			t.Errorf("step %d: dense Simulator logits differ from Run", step)
		}
		d := snnrt.MaxRelDiff(ref.Logits(step), re.Logits(step))
		t.Logf("step %d: event path logits rel diff %.3g", step, d)
		if d > 1e-3 || !slices.Equal(ref.Predictions(step), re.Predictions(step)) {
			t.Errorf("step %d: event path rel diff %g, predictions %v, Run %v", step, d, re.Predictions(step), ref.Predictions(step))
		}
	}
	t.Logf("spike statistics of the event path equal Run's: %v", slices.Equal(ref.Layers, re.Layers))
}
