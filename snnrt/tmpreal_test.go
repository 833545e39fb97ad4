package snnrt

import (
	"os"
	"slices"
	"testing"

	"github.com/ann2snn/ann2snn/dataset"
)

func TestTmpReal(t *testing.T) {
	path := os.Getenv("SNN_MODEL")
	if path == "" {
		t.Skip()
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
	cfg.Dense = true
	sd, _ := NewSimulator(m, cfg)
	rd, _ := sd.Run(x, n)
	cfg.Dense = false
	se, _ := NewSimulator(m, cfg)
	re, _ := se.Run(x, n)
	t.Logf("dense bit-identical: %v, stats equal: %v", slices.Equal(ref.acc, rd.acc), slices.Equal(ref.Layers, rd.Layers))
	t.Logf("event: rel diff %g, preds equal %v, stats equal %v", maxRelDiff(ref.acc, re.acc), slices.Equal(ref.Predictions(4), re.Predictions(4)), slices.Equal(ref.Layers, re.Layers))
}
