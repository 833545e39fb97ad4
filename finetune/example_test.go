package finetune_test

import (
	"context"
	"fmt"

	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/finetune"
	"github.com/ann2snn/ann2snn/snnrt"
)

func ExampleParseSurrogate() {
	s, err := finetune.ParseSurrogate("atan:2")
	if err != nil {
		panic(err)
	}
	fmt.Printf("%v: g(0) = %.2f, Primitive(0) = %.2f\n", s, s.Grad(0), s.Primitive(0))
	// Output: atan:2: g(0) = 1.00, Primitive(0) = 0.50
}

// Example fine-tunes a one-layer spiking classifier of two-pixel images:
// class 0 is bright on the left, class 1 on the right.
func Example() {
	m := &snnrt.Model{Input: snnrt.Shape{C: 1, H: 1, W: 2}}
	h := m.MustAppend(snnrt.Layer{Kind: snnrt.KindLinear, Inputs: []int{snnrt.InputIndex},
		W: []float32{0.3, 0.2, 0.2, 0.3}, B: []float32{0, 0}})
	h = m.MustAppend(snnrt.Layer{Kind: snnrt.KindIF, Inputs: []int{h}, IF: snnrt.IF{Theta: []float32{0.5}}})
	m.MustAppend(snnrt.Layer{Kind: snnrt.KindLinear, Inputs: []int{h}, W: []float32{1, 0.5, 0.5, 1}})

	pix := []uint8{}
	labels := []int{}
	for i := 0; i < 64; i++ {
		a, b := uint8(200+i%50), uint8(40+i%30)
		if i%2 == 1 {
			a, b = b, a
		}
		pix = append(pix, a, b)
		labels = append(labels, i%2)
	}
	train, _ := dataset.FromUint8(1, 1, 2, pix, labels)
	pre := dataset.Preprocess{Scale: 1.0 / 255}

	tr, err := finetune.New(m, train, pre, finetune.Config{T: 4, Batch: 16, Epochs: 10, LR: 0.05, Seed: 1})
	if err != nil {
		panic(err)
	}
	var first, last finetune.EpochStats
	for !tr.Done() {
		es, err := tr.RunEpoch(context.Background(), nil)
		if err != nil {
			panic(err)
		}
		if es.Epoch == 0 {
			first = es
		}
		last = es
	}
	acc, _ := finetune.Evaluate(context.Background(), tr.Model(), train, pre, 4, 64, 0)
	fmt.Printf("loss fell: %v, accuracy %.0f%%\n", last.Loss < first.Loss, 100*acc)
	// Output: loss fell: true, accuracy 100%
}

// ExampleTrain fine-tunes the same kind of tiny classifier in one call.
func ExampleTrain() {
	m := &snnrt.Model{Input: snnrt.Shape{C: 1, H: 1, W: 2}}
	h := m.MustAppend(snnrt.Layer{Kind: snnrt.KindLinear, Inputs: []int{snnrt.InputIndex},
		W: []float32{0.3, 0.2, 0.2, 0.3}, B: []float32{0, 0}})
	h = m.MustAppend(snnrt.Layer{Kind: snnrt.KindIF, Inputs: []int{h}, IF: snnrt.IF{Theta: []float32{0.5}}})
	m.MustAppend(snnrt.Layer{Kind: snnrt.KindLinear, Inputs: []int{h}, W: []float32{1, 0.5, 0.5, 1}})
	var pix []uint8
	var labels []int
	for i := 0; i < 64; i++ {
		a, b := uint8(200+i%50), uint8(40+i%30)
		if i%2 == 1 {
			a, b = b, a
		}
		pix = append(pix, a, b)
		labels = append(labels, i%2)
	}
	train, _ := dataset.FromUint8(1, 1, 2, pix, labels)
	pre := dataset.Preprocess{Scale: 1.0 / 255}
	tuned, err := finetune.Train(context.Background(), m, train, pre, finetune.Config{T: 4, Batch: 16, Epochs: 10, LR: 0.05, Seed: 1})
	if err != nil {
		panic(err)
	}
	acc, err := finetune.Evaluate(context.Background(), tuned, train, pre, 4, 64, 0)
	if err != nil {
		panic(err)
	}
	fmt.Printf("accuracy after fine-tuning: %.2f\n", acc)
	// Output: accuracy after fine-tuning: 1.00
}
