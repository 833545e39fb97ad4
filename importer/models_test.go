package importer

import (
	"slices"
	"strings"
	"testing"

	"github.com/ann2snn/ann2snn/internal/sharedtest"
)

// opString returns the operator sequence of g, space separated.
func opString(g *Graph) string {
	ops := make([]string, len(g.Nodes))
	for i, n := range g.Nodes {
		ops[i] = n.Op
	}
	return strings.Join(ops, " ")
}

// TestSharedModels imports every model of ../shared/models (see
// internal/sharedtest) and checks its normalized operator sequence. Their
// numbers are checked against onnxruntime by TestGoldenLogits.
func TestSharedModels(t *testing.T) {
	qcfs := "Mul Add Floor Clip Mul"
	tests := []struct {
		file  string
		input []int
		ops   string // expected operator sequence; "" to skip
		count map[string]int
	}{
		{"lenet_mnist.onnx", []int{1, 1, 28, 28}, "Conv Relu AveragePool Conv Relu AveragePool Flatten Gemm Relu Gemm", nil},
		{"vgg_small_cifar10_relu.onnx", []int{1, 3, 32, 32}, "", map[string]int{"Conv": 8, "Relu": 8, "AveragePool": 5, "Flatten": 1, "Gemm": 1}},
		{"vgg16h_cifar10_relu.onnx", []int{1, 3, 32, 32}, "", map[string]int{"Conv": 13, "Relu": 13, "AveragePool": 5, "Flatten": 1, "Gemm": 1}},
		{"vgg16h_cifar10_qcfs.onnx", []int{1, 3, 32, 32}, "", map[string]int{"Conv": 13, "Floor": 13, "Clip": 13, "AveragePool": 5, "Flatten": 1, "Gemm": 1}},
		{"resnet20_cifar10_qcfs.onnx", []int{1, 3, 32, 32}, "", map[string]int{"Conv": 21, "Floor": 19, "Clip": 19, "GlobalAveragePool": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			g, err := Load(sharedtest.Path(t, "models", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if err := g.Validate(); err != nil {
				t.Fatal(err)
			}
			if g.Opset != 13 || !strings.HasPrefix(g.Producer, "pytorch") {
				t.Errorf("opset %d producer %q", g.Opset, g.Producer)
			}
			shapes, err := g.InferShapes(tc.input)
			if err != nil {
				t.Fatal(err)
			}
			if s := shapes[g.Outputs[0]]; !slices.Equal(s, []int{1, 10}) {
				t.Errorf("output shape %v, want [1 10]", s)
			}
			if tc.ops != "" && opString(g) != tc.ops {
				t.Errorf("ops %q\nwant %q", opString(g), tc.ops)
			}
			got := map[string]int{}
			for _, n := range g.Nodes {
				got[n.Op]++
				switch n.Op {
				case "Constant", "Identity", "Dropout", "Reciprocal", "Shape", "Gather", "Pad":
					t.Errorf("node %s left after normalization", n)
				case "Mul", "Add", "Clip":
					if len(n.Inputs) > 1 {
						if _, ok := g.Consts[n.Inputs[1]]; !ok && n.Op != "Add" {
							t.Errorf("node %s has a non-constant operand", n)
						}
					}
					if n.Op == "Clip" && (len(n.Inputs) != 1 || n.Attrs["min"] == nil || n.Attrs["max"] == nil) {
						t.Errorf("Clip %s not normalized: inputs %q attrs %v", n, n.Inputs, n.Attrs)
					}
				}
			}
			for op, c := range tc.count {
				if got[op] != c {
					t.Errorf("%d %s nodes, want %d", got[op], op, c)
				}
			}
			if strings.Contains(tc.file, "qcfs") && strings.Count(opString(g), qcfs) != got["Floor"] {
				t.Errorf("QCFS activations are not all %q: %s", qcfs, opString(g))
			}
		})
	}
}
