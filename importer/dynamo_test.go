package importer_test

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/ann"
)

// TestDynamo loads the dynamo-style models of testdata/gen_dynamo.py (opset
// 18 op forms, external data, opset 20 Gelu), runs them with RunRef and,
// when they have one runtime input with a dynamic batch, with the ANN
// executor, and compares with the outputs onnxruntime computed (rtol 1e-4,
// atol 1e-5). Shape arithmetic on known shapes must fold away: only the
// listed operators may remain after Load.
func TestDynamo(t *testing.T) {
	cases := []struct {
		name string
		ops  []string // operators allowed to remain after Load
		ann  bool     // also run internal/ann's Executor
	}{
		{"dynamo_resnet", []string{"Conv", "BatchNormalization", "Relu", "Add", "ReduceMean", "Cast", "MatMul"}, true},
		{"dynamo_shapes", []string{"LayerNormalization", "Split", "Sigmoid", "Mul", "Where", "Reshape"}, false},
		{"dynamo_elementwise", []string{"Pow", "Add", "Sqrt", "HardSwish", "HardSigmoid", "Erf", "Sum", "Max", "Min", "ReduceMax", "ReduceSum", "ReduceMin", "Sub"}, false},
		{"dynamo_resize", []string{"Resize", "Add", "Reshape", "Concat"}, false},
		{"gelu_opset20", []string{"Gelu", "Add"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := importer.Load(filepath.Join("testdata", c.name+".onnx"))
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range g.Nodes {
				if !slices.Contains(c.ops, n.Op) {
					t.Errorf("node %s left after Load; want only %v", n, c.ops)
				}
			}
			x := readPB(t, c.name+".in.pb")
			want := readPB(t, c.name+".out.pb")
			env, err := g.RunRef(x)
			if err != nil {
				t.Fatal(err)
			}
			checkClose(t, "RunRef", env[g.Outputs[0]], want)
			if !c.ann {
				return
			}
			e, err := ann.New(g)
			if err != nil {
				t.Fatal(err)
			}
			y, err := e.Run(x.Data, x.Shape[0])
			if err != nil {
				t.Fatal(err)
			}
			checkClose(t, "ann.Executor", &importer.Tensor{Shape: want.Shape, Data: y}, want)
		})
	}
}

func readPB(t *testing.T, name string) *importer.Tensor {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	x, _, err := importer.DecodeTensor(b)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// checkClose reports elements of got farther than 1e-5 + 1e-4·|want| from want.
func checkClose(t *testing.T, what string, got, want *importer.Tensor) {
	t.Helper()
	if got == nil || !slices.Equal(got.Shape, want.Shape) || len(got.Floats()) != len(want.Data) {
		t.Fatalf("%s: got %v, want shape %v", what, got, want.Shape)
	}
	g := got.Floats()
	bad := 0
	for i, w := range want.Data {
		if d := math.Abs(float64(g[i] - w)); !(d <= 1e-5+1e-4*math.Abs(float64(w))) {
			if bad++; bad <= 5 {
				t.Errorf("%s: element %d = %g, want %g", what, i, g[i], w)
			}
		}
	}
}
