package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ann2snn/ann2snn/internal/sharedtest"
)

// cifarRecords builds n CIFAR-10 records; record i has label labels[i] and
// pixels i+j mod 256.
func cifarRecords(labels ...byte) []byte {
	var b []byte
	for i, l := range labels {
		b = append(b, l)
		for j := 0; j < cifarPixels; j++ {
			b = append(b, byte(i+j))
		}
	}
	return b
}

func TestReadCIFAR10(t *testing.T) {
	three := cifarRecords(3, 0, 9)
	tests := []struct {
		name   string
		in     []byte
		labels []int
		want   string // see checkErr
	}{
		{"plain", three, []int{3, 0, 9}, ""},
		{"gz", gz(t, three), []int{3, 0, 9}, ""},
		{"one", cifarRecords(5), []int{5}, ""},
		{"empty", nil, nil, "no records"},
		{"empty gz", gz(t, nil), nil, "no records"},
		{"truncated", three[:len(three)-1], nil, "whole number"},
		{"extra byte", append(slices.Clone(three), 1), nil, "whole number"},
		{"bad label", cifarRecords(1, 10), nil, "label 10"},
		{"truncated gz", gz(t, three)[:100], nil, "format"},
		{"corrupt gz", append(gz(t, three)[:20], make([]byte, 100)...), nil, "format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ReadCIFAR10(bytes.NewReader(tt.in))
			checkErr(t, err, tt.want)
			if err != nil {
				return
			}
			if d.Len() != len(tt.labels) || d.Shape() != [3]int{3, 32, 32} {
				t.Fatalf("got %d images %v", d.Len(), d.Shape())
			}
			x, err := d.Batch(make([]float32, d.Len()*cifarPixels), 0, d.Len(), Preprocess{})
			if err != nil {
				t.Fatal(err)
			}
			for i, l := range tt.labels {
				if d.Label(i) != l {
					t.Errorf("label %d = %d, want %d", i, d.Label(i), l)
				}
				for _, j := range []int{0, 1023, 1024, 3071} {
					if got := x[i*cifarPixels+j]; got != float32(byte(i+j)) {
						t.Errorf("image %d pixel %d = %v, want %d", i, j, got, byte(i+j))
					}
				}
			}
		})
	}
}

func TestLoadCIFAR10Dir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "data_batch_1.bin", cifarRecords(1, 2))
	writeFile(t, dir, "data_batch_2.bin.gz", gz(t, cifarRecords(3)))
	writeFile(t, dir, "data_batch_4.bin", cifarRecords(4, 4, 4))
	writeFile(t, dir, "test_batch.bin.gz", gz(t, cifarRecords(7, 8)))
	bad := t.TempDir()
	writeFile(t, bad, "test_batch.bin", cifarRecords(1)[:100])
	tests := []struct {
		dir    string
		split  Split
		labels []int
		want   string
	}{
		{dir, Train, []int{1, 2, 3, 4, 4, 4}, ""},
		{dir, Test, []int{7, 8}, ""},
		{bad, Test, nil, "whole number"},
		{bad, Train, nil, "no CIFAR-10 train batch"},
		{filepath.Join(dir, "none"), Test, nil, "no CIFAR-10 test batch"},
	}
	for _, tt := range tests {
		t.Run(tt.split.String(), func(t *testing.T) {
			d, err := Open("cifar10:"+tt.dir, tt.split)
			checkErr(t, err, tt.want)
			if err != nil {
				return
			}
			got := make([]int, d.Len())
			for i := range got {
				got[i] = d.Label(i)
			}
			if !slices.Equal(got, tt.labels) {
				t.Errorf("labels %v, want %v", got, tt.labels)
			}
		})
	}
}

// manifestLabels reads the label column of a CIFAR-10 manifest.
func manifestLabels(t *testing.T, path string) []int {
	t.Helper()
	f, err := os.Open(sharedtest.Require(t, path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(zr).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var labels []int
	for _, r := range rows[1:] {
		l, err := strconv.Atoi(r[1])
		if err != nil {
			t.Fatal(err)
		}
		labels = append(labels, l)
	}
	return labels
}

// TestRealCIFAR10 loads the shared CIFAR-10 copy (../shared/datasets/cifar10,
// see internal/sharedtest) and checks every label against the manifests
// and the class balance of the test set.
func TestRealCIFAR10(t *testing.T) {
	dir := sharedtest.Path(t, "datasets", "cifar10")
	tests := []struct {
		split    Split
		n        int
		manifest string
	}{
		{Test, 10000, "test_manifest.csv.gz"},
		{Train, 20000, "train_manifest.csv.gz"},
	}
	for _, tt := range tests {
		t.Run(tt.split.String(), func(t *testing.T) {
			start := time.Now()
			d, err := Open("cifar10:"+dir, tt.split)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("loaded %d images in %v", d.Len(), time.Since(start))
			if d.Len() != tt.n || d.Shape() != [3]int{3, 32, 32} {
				t.Fatalf("got %d images %v", d.Len(), d.Shape())
			}
			want := manifestLabels(t, filepath.Join(dir, tt.manifest))
			if len(want) < tt.n {
				t.Fatalf("manifest has %d rows", len(want))
			}
			counts := make([]int, 10)
			for i := 0; i < d.Len(); i++ {
				if d.Label(i) != want[i] {
					t.Fatalf("label %d = %d, manifest says %d", i, d.Label(i), want[i])
				}
				counts[d.Label(i)]++
			}
			if tt.split == Test {
				for c, n := range counts {
					if n != 1000 {
						t.Errorf("class %s: %d images, want 1000", CIFAR10Classes()[c], n)
					}
				}
			}
		})
	}
}

// TestCIFAR10Dir checks where the bare cifar10 spec looks: the environment
// variable, else ann2snn/cifar10 in the per-user cache directory, and that a
// missing directory is an fs.ErrNotExist error that says where to put the
// files.
func TestCIFAR10Dir(t *testing.T) {
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Skip(err)
	}
	env := t.TempDir()
	writeFile(t, env, "test_batch.bin", cifarRecords(7))
	tests := []struct {
		env, want string
	}{
		{env, env},
		{"", filepath.Join(cache, "ann2snn", "cifar10")},
	}
	for _, tt := range tests {
		t.Setenv(EnvCIFAR10Dir, tt.env)
		if got, err := CIFAR10Dir(); err != nil || got != tt.want {
			t.Errorf("%s=%q: CIFAR10Dir() = %q, %v; want %q", EnvCIFAR10Dir, tt.env, got, err, tt.want)
		}
	}
	t.Setenv(EnvCIFAR10Dir, env)
	if d, err := Open("cifar10", Test); err != nil || d.Len() != 1 || d.Label(0) != 7 {
		t.Errorf("Open(cifar10) with %s set: %v", EnvCIFAR10Dir, err)
	}
	missing := filepath.Join(t.TempDir(), "none")
	t.Setenv(EnvCIFAR10Dir, missing)
	_, err = Open("cifar10", Test)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing directory: error %v, want fs.ErrNotExist", err)
	}
	for _, s := range []string{missing, "test_batch.bin", EnvCIFAR10Dir, "cifar10:DIR"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}
