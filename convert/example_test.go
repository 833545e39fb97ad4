package convert_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/ann2snn/ann2snn/convert"
	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/snnrt"
)

// Example converts the bundled LeNet with a few calibration images (real
// use takes ~1000 from the training set) and lists its spiking layers.
func Example() {
	g, err := importer.Load("../models/lenet_mnist.onnx")
	if err != nil {
		panic(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	const n = 16
	x := make([]float32, n*28*28)
	for i := range x {
		x[i] = r.Float32()
	}
	m, err := convert.Convert(g, x, n, convert.Options{T: 4})
	if err != nil {
		panic(err)
	}
	for _, l := range m.Layers {
		if l.Kind == snnrt.KindIF {
			fmt.Printf("%s: %d IF neurons, signed %v, up to %d spikes per step\n", l.Name, l.Shape.Len(), l.IF.Signed, l.IF.MaxSpikes)
		}
	}
	// Output:
	// /1/Relu: 9216 IF neurons, signed true, up to 2 spikes per step
	// /4/Relu: 2048 IF neurons, signed true, up to 2 spikes per step
	// /8/Relu: 128 IF neurons, signed true, up to 2 spikes per step
}
