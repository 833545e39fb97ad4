package dataset

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// numpyCase is one entry of testdata/npy/numpy/manifest.json, written by
// testdata/gen_npy.py from what numpy reads back from the file it wrote.
type numpyCase struct {
	DType  string    `json:"dtype"`
	Shape  []int     `json:"shape"`
	Values []float64 `json:"values"`
	Refuse string    `json:"refuse"`
}

func numpyManifest(t *testing.T) map[string]numpyCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "npy", "numpy", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]numpyCase
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestReadNPYNumpyFiles reads every file numpy wrote (float32, float64,
// uint8 and signed integers; N-d, 0-d and empty shapes; format 2.0) and
// compares dtype, shape and every value exactly with what numpy read back,
// and checks that Fortran order, big-endian data and float16 are refused
// with an *UnsupportedError that says why.
func TestReadNPYNumpyFiles(t *testing.T) {
	m := numpyManifest(t)
	if len(m) < 13 {
		t.Fatalf("manifest lists %d files, want 13 (rerun testdata/gen_npy.py)", len(m))
	}
	for name, tc := range m {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "npy", "numpy", name+".npy")
			a, err := ReadNPYFile(path)
			if tc.Refuse != "" {
				var ue *UnsupportedError
				if !errors.As(err, &ue) {
					t.Fatalf("got %v, want an *UnsupportedError (%s)", err, tc.Refuse)
				}
				if !strings.Contains(err.Error(), tc.Refuse) || !strings.Contains(err.Error(), path) {
					t.Errorf("message %q does not name %q and the file", err, tc.Refuse)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := "<" + a.DType.String(); got != tc.DType && "|"+a.DType.String() != tc.DType {
				t.Errorf("dtype %s, numpy %s", a.DType, tc.DType)
			}
			if !slices.Equal(a.Shape, tc.Shape) || a.Len() != len(tc.Values) {
				t.Fatalf("shape %v (%d values), numpy %v (%d values)", a.Shape, a.Len(), tc.Shape, len(tc.Values))
			}
			for i, want := range tc.Values {
				var got float64
				switch {
				case a.Float32 != nil:
					got = float64(a.Float32[i])
				case a.Float64 != nil:
					got = a.Float64[i]
				case a.Uint8 != nil:
					got = float64(a.Uint8[i])
				case a.Int64 != nil:
					got = float64(a.Int64[i])
				}
				if got != want {
					t.Errorf("value %d: %v, numpy %v", i, got, want)
				}
			}
		})
	}
}

// TestLoadNPYNumpyFiles loads numpy-written files as data sets: [N,C,H,W]
// float32, [N,H,W] float64 (one channel, converted to float32) and [N,D]
// uint8 images with [N,1] int32 labels; a 0-d array is refused, and an
// empty [0,3] array is a set of zero images of shape 1×1×3.
func TestLoadNPYNumpyFiles(t *testing.T) {
	m := numpyManifest(t)
	dir := filepath.Join("testdata", "npy", "numpy")
	tests := []struct {
		images, labels string
		shape          [3]int
		n              int
		wantLabels     []int
	}{
		{"f32_nchw", "", [3]int{3, 2, 2}, 2, nil},
		{"f64_nhw", "", [3]int{1, 2, 4}, 3, nil},
		{"u8_nd", "labels_i32_col", [3]int{1, 1, 5}, 4, []int{1, 2, 0, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.images, func(t *testing.T) {
			lp := ""
			if tc.labels != "" {
				lp = filepath.Join(dir, tc.labels+".npy")
			}
			d, err := LoadNPY(filepath.Join(dir, tc.images+".npy"), lp)
			if err != nil {
				t.Fatal(err)
			}
			if d.Shape() != tc.shape || d.Len() != tc.n {
				t.Fatalf("shape %v, %d images; want %v, %d", d.Shape(), d.Len(), tc.shape, tc.n)
			}
			for i := range tc.n {
				want := -1
				if tc.wantLabels != nil {
					want = tc.wantLabels[i]
				}
				if d.Label(i) != want {
					t.Errorf("label %d: %d, want %d", i, d.Label(i), want)
				}
			}
			x, err := d.Batch(make([]float32, d.Len()*d.ImageSize()), 0, d.Len(), Preprocess{})
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range m[tc.images].Values {
				// float64 files are converted to float32.
				if x[i] != float32(v) {
					t.Fatalf("value %d: %v, numpy %v", i, x[i], float32(v))
				}
			}
		})
	}
	if _, err := LoadNPY(filepath.Join(dir, "f32_scalar.npy"), ""); err == nil {
		t.Error("LoadNPY of a 0-d array: no error")
	} else if !strings.Contains(err.Error(), "f32_scalar") {
		t.Errorf("LoadNPY of a 0-d array: message %q does not name the file", err)
	}
	if d, err := LoadNPY(filepath.Join(dir, "f32_empty.npy"), ""); err != nil {
		t.Errorf("LoadNPY of [0,3]: %v", err)
	} else if d.Len() != 0 || d.Shape() != [3]int{1, 1, 3} {
		t.Errorf("LoadNPY of [0,3]: %d images of shape %v, want 0 of [1 1 3]", d.Len(), d.Shape())
	}
}
