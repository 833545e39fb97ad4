package convert_test

import (
	"fmt"

	"github.com/ann2snn/ann2snn/calibrate"
	"github.com/ann2snn/ann2snn/convert"
	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/snnrt"
)

// Example converts a two-layer perceptron built by hand,
//
//	h = relu(W1·x + b1): h0 = x0, h1 = x1, h2 = x0 − x1 + 0.1
//	y = W2·h + b2:       y0 = h0 + h1 − h2 + 0.5, y1 = −h0 + 2·h2 − 0.25
//
// calibrating its thresholds on three images with the Max norm, and
// compares the SNN after 8 steps with the ANN. Every printed number
// follows by hand from the package and snnrt documentation:
//
//   - the hidden activations on the images are (0.3, 0.8, 0),
//     (0.65, 0.1, 0.65) and (1, 0.45, 0.65), so Max gives λ = 1; with the
//     default two spikes per step θ = λ/2 = 0.5, and the threshold shift
//     sets V0 = θ/2 = 0.25;
//   - a hidden unit under constant current z fires n = ⌊(V0 + 8z)/θ⌋ =
//     ⌊0.5 + 16z⌋ spikes in 8 steps: (5, 13, 0), (10, 2, 10), (16, 7, 10);
//   - each spike carries θ, so the read-out per step is W2·(n/16) + b2:
//     image 0 gives y0 = 18/16 + 0.5 = 1.625 and y1 = −5/16 − 0.25 =
//     −0.5625 (the ANN: 1.6 and −0.55), image 1 y0 = 2/16 + 0.5 = 0.625,
//     y1 = 10/16 − 0.25 = 0.375 (the ANN: 0.6, 0.4), image 2
//     y0 = 13/16 + 0.5 = 1.3125, y1 = 4/16 − 0.25 = 0 (the ANN: 1.3, 0.05).
func Example() {
	g := &importer.Graph{
		Inputs:  []importer.Value{{Name: "x", Shape: []int{-1, 2}}},
		Outputs: []string{"y"},
		Opset:   13,
		Consts: map[string]*importer.Tensor{
			"w1": {Shape: []int{3, 2}, Data: []float32{1, 0, 0, 1, 1, -1}},
			"b1": {Shape: []int{3}, Data: []float32{0, 0, 0.1}},
			"w2": {Shape: []int{2, 3}, Data: []float32{1, 1, -1, -1, 0, 2}},
			"b2": {Shape: []int{2}, Data: []float32{0.5, -0.25}},
		},
		Nodes: []*importer.Node{
			{Name: "fc1", Op: "Gemm", Inputs: []string{"x", "w1", "b1"}, Outputs: []string{"a"}, Attrs: importer.Attrs{"transB": int64(1)}},
			{Name: "relu", Op: "Relu", Inputs: []string{"a"}, Outputs: []string{"h"}, Attrs: importer.Attrs{}},
			{Name: "fc2", Op: "Gemm", Inputs: []string{"h", "w2", "b2"}, Outputs: []string{"y"}, Attrs: importer.Attrs{"transB": int64(1)}},
		},
	}
	x := []float32{0.3, 0.8, 0.65, 0.1, 1, 0.45}
	const n, steps = 3, 8
	m, err := convert.Convert(g, x, n, convert.Options{T: steps, Norm: calibrate.Max{}, PerLayer: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range m.Layers {
		if l.Kind == snnrt.KindIF {
			fmt.Printf("%s: θ %v, V0 %v, up to %d spikes per step\n", l.Name, l.IF.Theta, l.IF.V0, l.IF.MaxSpikes)
		}
	}
	res, err := snnrt.Run(m, x, n, snnrt.Config{T: steps})
	if err != nil {
		fmt.Println(err)
		return
	}
	env, err := g.RunRef(&importer.Tensor{Shape: []int{n, 2}, Data: x})
	if err != nil {
		fmt.Println(err)
		return
	}
	logits, ann := res.Logits(steps), env["y"].Data
	for i := range n {
		fmt.Printf("image %d: SNN %.4f %.4f, ANN %.4f %.4f\n", i,
			logits[2*i]/steps, logits[2*i+1]/steps, ann[2*i], ann[2*i+1])
	}
	// Output:
	// relu: θ [0.5], V0 [0.25], up to 2 spikes per step
	// image 0: SNN 1.6250 -0.5625, ANN 1.6000 -0.5500
	// image 1: SNN 0.6250 0.3750, ANN 0.6000 0.4000
	// image 2: SNN 1.3125 0.0000, ANN 1.3000 0.0500
}
