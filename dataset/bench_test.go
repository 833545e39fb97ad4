package dataset

import "testing"

// BenchmarkLoadCIFAR10Test measures decoding the gzip-compressed CIFAR-10
// test batch (target: under 1 s).
func BenchmarkLoadCIFAR10Test(b *testing.B) {
	for b.Loop() {
		if _, err := LoadCIFAR10(cifar10SharedDir, Test); err != nil {
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
