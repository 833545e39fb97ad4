package snnrt_test

import (
	"context"
	"fmt"

	"github.com/ann2snn/ann2snn/snnrt"
)

// images is an snnrt.Batches over images held in memory.
type images struct {
	x      []float32 // [n, per]
	labels []int
	per    int
}

func (s images) Len() int { return len(s.labels) }

func (s images) Batch(dst []float32, labels []int, start, n int) error {
	copy(dst, s.x[start*s.per:(start+n)*s.per])
	copy(labels, s.labels[start:start+n])
	return nil
}

// The output of a single Linear layer 3 → 2 is the same at every step:
// image (1, 0.5, 0) gives (2.5, −0.75), class 0; image (0, 0.25, 2) gives
// (1, 1.5), class 1. Each step costs 3·2 multiply-accumulates per image on
// the analog input and no synaptic operations.
func ExampleEvaluate() {
	m := &snnrt.Model{Input: snnrt.Shape{C: 1, H: 1, W: 3}}
	m.MustAppend(snnrt.Layer{Name: "fc", Kind: snnrt.KindLinear, Inputs: []int{snnrt.InputIndex},
		W: []float32{1, 2, 0, 0, -1, 1}, B: []float32{0.5, -0.25}})
	src := images{x: []float32{1, 0.5, 0, 0, 0.25, 2}, labels: []int{0, 0}, per: 3}
	rep, err := snnrt.Evaluate(context.Background(), m, src, snnrt.EvalConfig{Timesteps: []int{1, 4}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, t := range rep.Timesteps {
		fmt.Printf("T=%d: %d of %d correct, %d SOPs, %d MACs\n", t, rep.Correct[i], rep.Images, rep.SOPs[i], rep.MACs[i])
	}
	// Output:
	// T=1: 1 of 2 correct, 0 SOPs, 12 MACs
	// T=4: 1 of 2 correct, 0 SOPs, 48 MACs
}
