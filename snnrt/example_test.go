package snnrt_test

import (
	"fmt"

	"github.com/ann2snn/ann2snn/snnrt"
)

// Example builds a two-layer SNN (linear → IF → linear read-out) by hand,
// simulates two images for 8 steps and prints the predictions after 1, 4
// and 8 steps, the analog (ANN) prediction, firing rate and SOPs.
func Example() {
	m := &snnrt.Model{Input: snnrt.Shape{C: 2, H: 1, W: 1}}
	h := m.MustAppend(snnrt.Layer{Name: "fc1", Kind: snnrt.KindLinear, Inputs: []int{snnrt.InputIndex},
		W: []float32{1, 0, 0, 1, 0.5, 0.5}}) // 3 hidden units
	h = m.MustAppend(snnrt.Layer{Name: "if1", Kind: snnrt.KindIF, Inputs: []int{h},
		IF: snnrt.IF{Theta: []float32{1}, V0: []float32{0.5}}})
	m.MustAppend(snnrt.Layer{Name: "fc2", Kind: snnrt.KindLinear, Inputs: []int{h},
		W: []float32{1, -1, 0, -1, 1, 0}}) // 2 classes
	x := []float32{
		0.9, 0.2, // image 0: class 0
		0.3, 0.7, // image 1: class 1
	}
	res, err := snnrt.Run(m, x, 2, snnrt.Config{T: 8})
	if err != nil {
		fmt.Println(err)
		return
	}
	ann, _ := m.Analog(x, 2)
	for _, t := range []int{1, 4, 8} {
		fmt.Printf("T=%d predictions %v\n", t, res.Predictions(t))
	}
	fmt.Printf("analog logits %.2f\n", ann)
	fmt.Printf("if1 rate %.3f, SOPs %d\n", res.Rate(1), res.SOPs(8))
	// Output:
	// T=1 predictions [0 1]
	// T=4 predictions [0 1]
	// T=8 predictions [0 1]
	// analog logits [0.70 -0.70 -0.40 0.40]
	// if1 rate 0.521, SOPs 50
}

// ExampleSimulator prepares the fast runtime once and runs two batches
// with it; its statistics and predictions match Run's, and Profile tells
// how many image·steps each synaptic layer ran event-driven (here half of
// them are dense enough for the dense kernel to be cheaper).
func ExampleSimulator() {
	m := &snnrt.Model{Input: snnrt.Shape{C: 2, H: 1, W: 1}}
	h := m.MustAppend(snnrt.Layer{Name: "fc1", Kind: snnrt.KindLinear, Inputs: []int{snnrt.InputIndex},
		W: []float32{1, 0, 0, 1, 0.5, 0.5}})
	h = m.MustAppend(snnrt.Layer{Name: "if1", Kind: snnrt.KindIF, Inputs: []int{h},
		IF: snnrt.IF{Theta: []float32{1}, V0: []float32{0.5}}})
	h = m.MustAppend(snnrt.Layer{Name: "fc2", Kind: snnrt.KindLinear, Inputs: []int{h},
		W: []float32{1, 0, 0.5, 0, 1, 0.5}})
	h = m.MustAppend(snnrt.Layer{Name: "if2", Kind: snnrt.KindIF, Inputs: []int{h},
		IF: snnrt.IF{Theta: []float32{1}, V0: []float32{0.5}}})
	// The output integrator (always dense).
	m.MustAppend(snnrt.Layer{Name: "fc3", Kind: snnrt.KindLinear, Inputs: []int{h},
		W: []float32{1, -1, -1, 1}})
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
		fmt.Printf("predictions %v, SOPs %d\n", res.Predictions(8), res.SOPs(8))
	}
	p := sim.Profile()[2]
	fmt.Printf("fc2: %d event-driven, %d dense image·steps\n", p.Event, p.Dense)
	// Output:
	// predictions [0 1], SOPs 98
	// predictions [1 0], SOPs 96
	// fc2: 16 event-driven, 16 dense image·steps
}
