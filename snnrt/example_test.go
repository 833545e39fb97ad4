package snnrt_test

import (
	"fmt"

	"github.com/ann2snn/ann2snn/snnrt"
)

// tinyModel is linear → IF → linear read-out on two inputs: three hidden
// units h = (x0, x1, (x0+x1)/2) with θ = 1 and V0 = 0.5, and two outputs
// y = (h0 − h1, h1 − h0).
func tinyModel() *snnrt.Model {
	m := &snnrt.Model{Input: snnrt.Shape{C: 2, H: 1, W: 1}}
	h := m.MustAppend(snnrt.Layer{Name: "fc1", Kind: snnrt.KindLinear, Inputs: []int{snnrt.InputIndex},
		W: []float32{1, 0, 0, 1, 0.5, 0.5}}) // 3 hidden units
	h = m.MustAppend(snnrt.Layer{Name: "if1", Kind: snnrt.KindIF, Inputs: []int{h},
		IF: snnrt.IF{Theta: []float32{1}, V0: []float32{0.5}}})
	m.MustAppend(snnrt.Layer{Name: "fc2", Kind: snnrt.KindLinear, Inputs: []int{h},
		W: []float32{1, -1, 0, -1, 1, 0}}) // 2 classes
	return m
}

// Example builds a two-layer SNN (linear → IF → linear read-out) by hand,
// simulates two images for 8 steps and prints the accumulated read-out, the predictions, the analog (ANN) logits, the
// firing rate and the synaptic operations. All follow by hand from the
// semantics in the package documentation and IF:
//
//   - the input is analog (Direct), so hidden unit j receives the constant
//     current z_j every step: image 0 (0.9, 0.2) gives z = (0.9, 0.2, 0.55),
//     image 1 (0.3, 0.7) gives z = (0.3, 0.7, 0.5);
//   - with θ = 1, V0 = 0.5, reset by subtraction and 0 ≤ z ≤ θ the membrane
//     stays in [0, θ) after each spike, so after T steps a unit has fired
//     n = ⌊V0 + T·z⌋ = ⌊0.5 + 8z⌋ times: (7, 2, 4) and (2, 6, 4);
//   - spikes carry θ = 1, so Logits(8) = W2·n = (n0 − n1, n1 − n0):
//     (5, −5) and (−4, 4), predictions 0 and 1;
//   - Analog replaces IF by clip(z, 0, θ): logits (0.7, −0.7), (−0.4, 0.4);
//   - 25 spikes over 3 units × 8 steps × 2 images: rate 25/48 = 0.521;
//     each spike drives the 2 synapses of fc2: 50 SOPs.
func Example() {
	m := tinyModel()
	x := []float32{
		0.9, 0.2, // image 0: class 0
		0.3, 0.7, // image 1: class 1
	}
	res, err := snnrt.Run(m, x, 2, snnrt.Config{T: 8})
	if err != nil {
		fmt.Println(err)
		return
	}
	ann, err := m.Analog(x, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("Logits(8) %v, predictions %v\n", res.Logits(8), res.Predictions(8))
	fmt.Printf("analog logits %.2f\n", ann)
	fmt.Printf("if1 rate %.3f, SOPs %d\n", res.Rate(1), res.SOPs(8))
	// Output:
	// Logits(8) [5 -5 -4 4], predictions [0 1]
	// analog logits [0.70 -0.70 -0.40 0.40]
	// if1 rate 0.521, SOPs 50
}

// ExampleSimulator prepares the fast runtime once and runs two batches
// with it. Its results are Run's (checked here), and the numbers follow by
// hand as in Example: the first batch is Example's; in the second, image 0
// (0.1, 0.8) gives z = (0.1, 0.8, 0.45) and n = ⌊0.5 + 8z⌋ = (1, 6, 4),
// Logits(8) = (−5, 5); image 1 (0.6, 0.5) gives z = (0.6, 0.5, 0.55),
// n = (5, 4, 4), Logits(8) = (1, −1); 24 spikes, 48 SOPs.
func ExampleSimulator() {
	m := tinyModel()
	sim, err := snnrt.NewSimulator(m, snnrt.Config{T: 8})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, x := range [][]float32{{0.9, 0.2, 0.3, 0.7}, {0.1, 0.8, 0.6, 0.5}} {
		res, err := sim.Run(x, 2)
		if err != nil {
			fmt.Println(err)
			return
		}
		ref, err := snnrt.Run(m, x, 2, snnrt.Config{T: 8})
		if err != nil {
			fmt.Println(err)
			return
		}
		same := fmt.Sprint(res.Logits(8), res.SOPs(8)) == fmt.Sprint(ref.Logits(8), ref.SOPs(8))
		fmt.Printf("Logits(8) %v, predictions %v, SOPs %d, same as Run: %v\n", res.Logits(8), res.Predictions(8), res.SOPs(8), same)
	}
	// Output:
	// Logits(8) [5 -5 -4 4], predictions [0 1], SOPs 50, same as Run: true
	// Logits(8) [-5 5 1 -1], predictions [1 0], SOPs 48, same as Run: true
}
