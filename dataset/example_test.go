package dataset_test

import (
	"fmt"
	"log"
	"slices"

	"github.com/ann2snn/ann2snn/dataset"
)

// Example loads the MNIST test set and builds a normalized batch as a model
// whose ONNX metadata asks for inputs in [0,1] would consume it.
func Example() {
	d, err := dataset.Open("mnist", dataset.Test)
	if err != nil {
		log.Fatal(err)
	}
	meta := map[string]string{dataset.MetaScale: "0.00392156862745098"}
	pre, _, err := dataset.PreprocessFromMeta(meta)
	if err != nil {
		log.Fatal(err)
	}
	const n = 5
	batch := make([]float32, n*d.ImageSize()) // reuse across batches
	x, err := d.Batch(batch, 0, n, pre)
	if err != nil {
		log.Fatal(err)
	}
	hi := float32(0)
	for _, v := range x {
		hi = max(hi, v)
	}
	fmt.Println(d.Len(), d.Shape(), len(x), hi)
	for i := 0; i < n; i++ {
		fmt.Print(d.Label(i), " ")
	}
	fmt.Println()
	// Output:
	// 10000 [1 28 28] 3920 1
	// 7 2 1 0 4
}

// ExampleDataset_Sample draws a reproducible calibration subset.
func ExampleDataset_Sample() {
	pix := make([]uint8, 10*4) // ten 1x2x2 images
	d, err := dataset.FromUint8(1, 2, 2, pix, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	if err != nil {
		log.Fatal(err)
	}
	idx := d.Sample(3, 7)
	calib, err := d.Subset(idx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(calib.Len(), slices.Equal(idx, d.Sample(3, 7)))
	// Output:
	// 3 true
}

// ExamplePreprocess shows the formula on one CIFAR-10 style value.
func ExamplePreprocess() {
	pre := dataset.Preprocess{
		Scale: 1.0 / 255,
		Mean:  []float32{0.5, 0.5, 0.5},
		Std:   []float32{0.25},
	}
	d, _ := dataset.FromUint8(3, 1, 1, []uint8{255, 0, 51}, nil)
	x, _ := d.Batch(make([]float32, 3), 0, 1, pre)
	fmt.Printf("%.1f\n", x)
	// Output:
	// [2.0 -2.0 -1.2]
}
