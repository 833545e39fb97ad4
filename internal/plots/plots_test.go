package plots

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestPlotsWritePNG(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		draw func(path string) error
		ok   bool
	}{
		{"accuracy.png", func(p string) error {
			return AccuracyVsT(p, "acc", []int{1, 2, 4, 8}, []float64{.1, .5, .9, .95}, .96)
		}, true},
		{"rates.png", func(p string) error {
			return Bars(p, "rates", "spikes/neuron/step", []string{"a", "b"}, []float64{.1, .2})
		}, true},
		{"mismatch.png", func(p string) error { return AccuracyVsT(p, "x", []int{1}, nil, 0) }, false},
	}
	for _, tc := range tests {
		path := filepath.Join(dir, tc.name)
		err := tc.draw(path)
		if (err == nil) != tc.ok {
			t.Fatalf("%s: err = %v", tc.name, err)
		}
		if !tc.ok {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("%s: not a PNG (%v)", tc.name, err)
		}
	}
}
