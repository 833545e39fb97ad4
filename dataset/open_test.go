package dataset

import (
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
)

func TestParseSplit(t *testing.T) {
	tests := []struct {
		in   string
		want Split
		err  string
	}{
		{"train", Train, ""},
		{"test", Test, ""},
		{" Test ", Test, ""},
		{"val", 0, "unknown split"},
		{"", 0, "unknown split"},
	}
	for _, tt := range tests {
		got, err := ParseSplit(tt.in)
		checkErr(t, err, tt.err)
		if err == nil && (got != tt.want || got.String() != tt.want.String()) {
			t.Errorf("ParseSplit(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if s := Split(7).String(); s != "Split(7)" {
		t.Errorf("Split(7).String() = %q", s)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		spec  string
		split Split
		err   string
	}{
		{"imagenet", Test, "unknown data set"},
		{"mnist", Split(5), "invalid split"},
		{"cifar10:", Test, "empty path"},
		{"npy:", Test, "empty path"},
		{"npy:a,b,c", Test, "want npy:IMAGES,LABELS"},
		{"idx:a", Test, "want idx:IMAGES,LABELS"},
		{"mnist:/nonexistent", Test, "neither"},
		{"fashion-mnist:/nonexistent", Train, "neither"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			_, err := Open(tt.spec, tt.split)
			checkErr(t, err, tt.err)
		})
	}
}

// TestOpenOverrides checks the environment overrides and explicit
// directories with a tiny MNIST-style directory.
func TestOpenOverrides(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "t10k-images-idx3-ubyte", idxBytes([]uint32{2, 2, 2}, seq(8)))
	writeFile(t, dir, "t10k-labels-idx1-ubyte.gz", gz(t, idxBytes([]uint32{2}, []byte{3, 4})))
	cdir := t.TempDir()
	writeFile(t, cdir, "test_batch.bin", cifarRecords(6))
	tests := []struct {
		spec, env, val string
		n              int
	}{
		{"mnist", EnvMNISTDir, dir, 2},
		{"fashion-mnist", EnvFashionMNISTDir, dir, 2},
		{"mnist:" + dir, "", "", 2},
		{"idx:" + filepath.Join(dir, "t10k-images-idx3-ubyte") + "," + filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"), "", "", 2},
		{"cifar10", EnvCIFAR10Dir, cdir, 1},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv(tt.env, tt.val)
			}
			d, err := Open(tt.spec, Test)
			if err != nil {
				t.Fatal(err)
			}
			if d.Len() != tt.n {
				t.Errorf("%d images, want %d", d.Len(), tt.n)
			}
		})
	}
	t.Setenv(EnvMNISTDir, filepath.Join(dir, "none"))
	if _, err := Open("mnist", Test); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing override dir: error %v, want fs.ErrNotExist", err)
	}
}

// TestMNISTDir checks that the GoMNIST module is found both through the go
// command and by scanning the module cache.
func TestMNISTDir(t *testing.T) {
	d, err := mnistDir()
	if err != nil {
		t.Skip(err)
	}
	if _, err := findFile(d, "t10k-images-idx3-ubyte"); err != nil {
		t.Errorf("mnistDir() = %s without MNIST files: %v", d, err)
	}
	// Without the go command, the module cache scan must find it too.
	t.Setenv("PATH", "")
	t.Setenv("GOMODCACHE", filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(d)))))
	d2, err := mnistDir()
	if err != nil {
		t.Fatalf("cache scan: %v", err)
	}
	if d2 != d {
		t.Errorf("go list gave %s, cache scan %s", d, d2)
	}
}
