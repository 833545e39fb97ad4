package plots

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestLines(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		series []Series
		ok     bool
	}{
		{"two.png", []Series{{"a", []float64{0, 1, 2}, []float64{.5, .6, .7}}, {"b", []float64{0, 2}, []float64{.1, .2}}}, true},
		{"none.png", nil, false},
		{"mismatch.png", []Series{{"a", []float64{0, 1}, []float64{1}}}, false},
	}
	for _, tc := range tests {
		path := filepath.Join(dir, tc.name)
		err := Lines(path, "t", "x", "y", tc.series)
		if (err == nil) != tc.ok {
			t.Fatalf("%s: err = %v, want ok %v", tc.name, err, tc.ok)
		}
		b, rerr := os.ReadFile(path)
		if tc.ok && (rerr != nil || !bytes.HasPrefix(b, []byte("\x89PNG"))) {
			t.Errorf("%s: not a PNG (%v)", tc.name, rerr)
		}
		if !tc.ok && rerr == nil {
			t.Errorf("%s: a file was written for bad input", tc.name)
		}
	}
}
