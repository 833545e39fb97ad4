package convert

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ann2snn/ann2snn/importer"
)

func randTensor(r *rand.Rand, shape ...int) *importer.Tensor {
	t := importer.NewTensor(shape...)
	for i := range t.Data {
		t.Data[i] = float32(r.NormFloat64())
	}
	return t
}

func constTensor(v ...float32) *importer.Tensor {
	return &importer.Tensor{Shape: []int{len(v)}, Data: v}
}

func scalar(v float32) *importer.Tensor { return &importer.Tensor{Data: []float32{v}} }

// convBNGraph is x -> Conv -> BatchNormalization -> Relu -> Flatten -> Gemm.
func convBNGraph(r *rand.Rand) *importer.Graph {
	var1 := randTensor(r, 4)
	for i := range var1.Data {
		var1.Data[i] = float32(math.Abs(float64(var1.Data[i]))) + 0.1
	}
	return &importer.Graph{
		Inputs:  []importer.Value{{Name: "x", Shape: []int{-1, 2, 5, 5}}},
		Outputs: []string{"y"},
		Consts: map[string]*importer.Tensor{
			"w": randTensor(r, 4, 2, 3, 3), "b": randTensor(r, 4),
			"s": randTensor(r, 4), "o": randTensor(r, 4), "m": randTensor(r, 4), "v": var1,
			"fw": randTensor(r, 3, 36), "fb": randTensor(r, 3),
		},
		Nodes: []*importer.Node{
			{Name: "conv", Op: "Conv", Inputs: []string{"x", "w", "b"}, Outputs: []string{"c"}, Attrs: importer.Attrs{"pads": []int64{0, 0, 0, 0}}},
			{Name: "bn", Op: "BatchNormalization", Inputs: []string{"c", "s", "o", "m", "v"}, Outputs: []string{"n"}, Attrs: importer.Attrs{"epsilon": float32(1e-3)}},
			{Name: "relu", Op: "Relu", Inputs: []string{"n"}, Outputs: []string{"r"}, Attrs: importer.Attrs{}},
			{Name: "flat", Op: "Flatten", Inputs: []string{"r"}, Outputs: []string{"f"}, Attrs: importer.Attrs{}},
			{Name: "fc", Op: "Gemm", Inputs: []string{"f", "fw", "fb"}, Outputs: []string{"y"}, Attrs: importer.Attrs{"transB": int64(1)}},
		},
	}
}

func TestFoldBatchNormPreservesOutput(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	g := convBNGraph(r)
	x := randTensor(r, 3, 2, 5, 5)
	before, err := g.RunRef(x)
	if err != nil {
		t.Fatal(err)
	}
	folded := Clone(g)
	if err := FoldBatchNorm(folded); err != nil {
		t.Fatal(err)
	}
	for _, n := range folded.Nodes {
		if n.Op == "BatchNormalization" {
			t.Fatal("BatchNormalization left after folding")
		}
	}
	if len(g.Nodes) != 5 {
		t.Fatal("FoldBatchNorm on a clone changed the original graph")
	}
	after, err := folded.RunRef(x)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range before["y"].Data {
		if d := math.Abs(float64(v - after["y"].Data[i])); d > 1e-4*(1+math.Abs(float64(v))) {
			t.Fatalf("output %d: %v before folding, %v after", i, v, after["y"].Data[i])
		}
	}
}

func TestMatchActivation(t *testing.T) {
	lam := float32(2)
	tests := []struct {
		name   string
		chain  []*importer.Node
		consts map[string]*importer.Tensor
		kind   ActKind
		max    float32
		shift  float32
		none   bool
	}{
		{name: "relu", chain: []*importer.Node{{Op: "Relu", Inputs: []string{"a"}, Outputs: []string{"z"}}}, kind: ActReLU},
		{name: "clip", chain: []*importer.Node{{Op: "Clip", Inputs: []string{"a"}, Outputs: []string{"z"}, Attrs: importer.Attrs{"min": float32(0), "max": float32(6)}}}, kind: ActClip, max: 6},
		{name: "qcfs", chain: []*importer.Node{
			{Op: "Mul", Inputs: []string{"a", "inv"}, Outputs: []string{"b"}},
			{Op: "Mul", Inputs: []string{"b", "L"}, Outputs: []string{"c"}},
			{Op: "Add", Inputs: []string{"c", "half"}, Outputs: []string{"d"}},
			{Op: "Floor", Inputs: []string{"d"}, Outputs: []string{"e"}},
			{Op: "Clip", Inputs: []string{"e"}, Outputs: []string{"f"}, Attrs: importer.Attrs{"min": float32(0), "max": float32(4)}},
			{Op: "Mul", Inputs: []string{"f", "step"}, Outputs: []string{"z"}},
		}, consts: map[string]*importer.Tensor{"inv": scalar(1 / lam), "L": scalar(4), "half": scalar(0.5), "step": scalar(lam / 4)},
			kind: ActQuant, max: lam, shift: 0.5},
		{name: "qcfs-div", chain: []*importer.Node{
			{Op: "Div", Inputs: []string{"a", "step"}, Outputs: []string{"b"}},
			{Op: "Add", Inputs: []string{"b", "half"}, Outputs: []string{"d"}},
			{Op: "Floor", Inputs: []string{"d"}, Outputs: []string{"e"}},
			{Op: "Clip", Inputs: []string{"e"}, Outputs: []string{"f"}, Attrs: importer.Attrs{"min": float32(0), "max": float32(4)}},
			{Op: "Mul", Inputs: []string{"f", "step"}, Outputs: []string{"z"}},
		}, consts: map[string]*importer.Tensor{"half": scalar(0.5), "step": scalar(lam / 4)},
			kind: ActQuant, max: lam, shift: 0.5},
		{name: "affine only", chain: []*importer.Node{{Op: "Mul", Inputs: []string{"a", "k"}, Outputs: []string{"z"}}},
			consts: map[string]*importer.Tensor{"k": scalar(2)}, none: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := &importer.Graph{Consts: map[string]*importer.Tensor{}, Outputs: []string{"out"}}
			for k, v := range tc.consts {
				g.Consts[k] = v
			}
			for _, n := range tc.chain {
				if n.Attrs == nil {
					n.Attrs = importer.Attrs{}
				}
				g.Nodes = append(g.Nodes, n)
			}
			g.Nodes = append(g.Nodes, &importer.Node{Op: "Flatten", Inputs: []string{"z"}, Outputs: []string{"out"}})
			act, err := matchActivation(g, "a")
			if err != nil {
				t.Fatal(err)
			}
			if tc.none {
				if act != nil {
					t.Fatalf("matched %v, want no activation", act.Kind)
				}
				return
			}
			if act == nil || act.Kind != tc.kind || act.Output != "z" {
				t.Fatalf("got %+v, want kind %v ending at z", act, tc.kind)
			}
			if tc.max != 0 && math.Abs(float64(act.Max[0]-tc.max)) > 1e-6 {
				t.Errorf("max %v, want %v", act.Max, tc.max)
			}
			if act.Shift != tc.shift {
				t.Errorf("shift %v, want %v", act.Shift, tc.shift)
			}
		})
	}
}

func TestLowerRejectsUnconvertible(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	g := convBNGraph(r)
	g.Nodes[2].Op = "Sigmoid"
	if err := FoldBatchNorm(g); err != nil {
		t.Fatal(err)
	}
	_, err := Lower(g)
	var ce *ConvertError
	if !errors.As(err, &ce) || ce.Node != "relu" || ce.Op != "Sigmoid" {
		t.Fatalf("got %v, want a ConvertError naming node relu (Sigmoid)", err)
	}
	if !strings.Contains(err.Error(), "Sigmoid") {
		t.Errorf("message %q does not name the op", err)
	}
}
