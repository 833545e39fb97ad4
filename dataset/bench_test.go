package dataset

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/ann2snn/ann2snn/internal/sharedtest"
)

// BenchmarkLoadCIFAR10Test measures decoding the gzip-compressed CIFAR-10
// test batch (target: under 1 s).
func BenchmarkLoadCIFAR10Test(b *testing.B) {
	dir := sharedtest.Path(b, "datasets", "cifar10")
	for b.Loop() {
		if _, err := LoadCIFAR10(dir, Test); err != nil {
			b.Skip(err)
		}
	}
}

// BenchmarkLoadMNISTTest measures loading the MNIST test set, including
// locating the GoMNIST module.
func BenchmarkLoadMNISTTest(b *testing.B) {
	for b.Loop() {
		if _, err := Open("mnist", Test); err != nil {
			b.Skip(err)
		}
	}
}

// BenchmarkBatch measures converting 128 CIFAR-sized images with
// per-channel normalization.
func BenchmarkBatch(b *testing.B) {
	const n = 128
	d, err := FromUint8(3, 32, 32, make([]uint8, n*3072), make([]int, n))
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]float32, n*3072)
	pre := Preprocess{Scale: 1.0 / 255, Mean: []float32{0.49, 0.48, 0.45}, Std: []float32{0.25, 0.24, 0.26}}
	b.SetBytes(n * 3072)
	for b.Loop() {
		if _, err := d.Batch(dst, 0, n, pre); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImageFolderBatch measures Batch over an image folder of 8
// ImageNet-sized JPEG files (500×375, 4:2:0): read, decode, RGB, resize
// 256, crop 224, normalise. ns/op / 8 is the cost of one image.
func BenchmarkImageFolderBatch(b *testing.B) {
	const n = 8
	dir := filepath.Join(b.TempDir(), "c")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, 500, 375))
	for i := range img.Pix {
		img.Pix[i] = uint8(i*7 + i/2000)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		writeFile(b, dir, fmt.Sprintf("%d.jpg", i), buf.Bytes())
	}
	d, err := LoadImageFolder(filepath.Dir(dir), ImageOptions{Resize: 256, Crop: 224})
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]float32, n*d.ImageSize())
	pre := Preprocess{Scale: 1.0 / 255, Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}}
	for b.Loop() {
		if _, err := d.Batch(dst, 0, n, pre); err != nil {
			b.Fatal(err)
		}
	}
}
