package importer_test

import (
	"fmt"
	"log"

	"github.com/ann2snn/ann2snn/importer"
)

func ExampleLoad() {
	g, err := importer.Load("testdata/qcfs_chain.onnx")
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range g.Nodes {
		fmt.Println(n.Op, n.Inputs)
	}
	shapes, err := g.InferShapes([]int{1, 3, 4, 4})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("output", g.Outputs[0], shapes[g.Outputs[0]])

	x := importer.NewTensor(1, 3, 4, 4)
	x.Data[0] = 1
	env, err := g.RunRef(x)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(env[g.Outputs[0]].Data[:2])
	// Output:
	// Mul [x r]
	// Mul [a L]
	// Add [b half]
	// Floor [c]
	// Clip [d]
	// Mul [e s]
	// output y [1 3 4 4]
	// [1.25 0]
}
