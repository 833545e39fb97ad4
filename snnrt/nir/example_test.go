package nir_test

import (
	"bytes"
	"fmt"

	"github.com/ann2snn/ann2snn/snnrt"
	"github.com/ann2snn/ann2snn/snnrt/nir"
)

// Example exports a two-layer SNN (linear → IF → linear read-out) to NIR,
// prints its nodes, edges and losses, writes the HDF5 file, and builds the
// model that the NIR graph describes: the input (2×1×1, CHW) is flattened
// for the Affine node, θ = 2 is folded into fc2 and the membrane of if1 is
// normalised to threshold 1 by scaling fc1 by r/θ = 1/2.
func Example() {
	m := &snnrt.Model{Input: snnrt.Shape{C: 2, H: 1, W: 1}}
	h := m.MustAppend(snnrt.Layer{Name: "fc1", Kind: snnrt.KindLinear, Inputs: []int{snnrt.InputIndex},
		W: []float32{1, 0, 0, 1, 0.5, 0.5}})
	h = m.MustAppend(snnrt.Layer{Name: "if1", Kind: snnrt.KindIF, Inputs: []int{h},
		IF: snnrt.IF{Theta: []float32{2}, V0: []float32{1}}})
	m.MustAppend(snnrt.Layer{Name: "fc2", Kind: snnrt.KindLinear, Inputs: []int{h},
		W: []float32{1, -1, 0, -1, 1, 0}})

	g, losses, err := nir.FromModel(m, nir.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range g.Nodes {
		fmt.Println(n.Name, n.Type)
	}
	fmt.Println(g.Edges)
	fmt.Println("fc2 weights (θ = 2 folded):", g.Node("linear2").Param("weight").F32)
	for _, l := range losses {
		fmt.Println("loss:", l)
	}
	var buf bytes.Buffer
	if _, err := g.WriteTo(&buf); err != nil {
		fmt.Println(err)
		return
	}
	s, _, err := nir.Semantics(m)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range s.Layers {
		fmt.Printf("NIR semantics: %s %v θ=%v reset=%v W=%v\n", l.Name, l.Kind, l.IF.Theta, l.IF.Reset, l.W)
	}
	// Output:
	// input Input
	// linear0_flatten Flatten
	// linear0 Affine
	// if1 IF
	// linear2 Affine
	// output Output
	// [{input linear0_flatten} {linear0_flatten linear0} {linear0 if1} {if1 linear2} {linear2 output}]
	// fc2 weights (θ = 2 folded): [2 -2 0 -2 2 0]
	// loss: layer 1 "if1": reset by subtraction exported as reset to 0
	// loss: layer 1 "if1": initial potential V0 dropped (NIR starts from 0)
	// NIR semantics: linear0_flatten flatten θ=[] reset=subtract W=[]
	// NIR semantics: linear0 linear θ=[] reset=subtract W=[0.5 0 0 0.5 0.25 0.25]
	// NIR semantics: if1 if θ=[1] reset=zero W=[]
	// NIR semantics: linear2 linear θ=[] reset=subtract W=[2 -2 0 -2 2 0]
}
