package ann

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/kernels"
)

// winoGraph is a 16×6×7 → Conv(16, 3×3, pad 1, bias) → BatchNormalization
// → Relu → Conv(5, 3×3, pad 1, no bias) → Clip(−1, 1) graph: both
// convolutions qualify for Winograd (C = 16, continuous chains).
func winoGraph() *importer.Graph {
	r := rand.New(rand.NewPCG(11, 12))
	rnd := func(shape ...int) *importer.Tensor {
		t := importer.NewTensor(shape...)
		for i := range t.Data {
			t.Data[i] = 2*r.Float32() - 1
		}
		return t
	}
	pos := rnd(16)
	for i := range pos.Data {
		pos.Data[i] = 0.5 + float32(math.Abs(float64(pos.Data[i])))
	}
	pads := importer.Attrs{"pads": []int64{1, 1, 1, 1}, "kernel_shape": []int64{3, 3}}
	return &importer.Graph{
		Inputs:  []importer.Value{{Name: "x", Shape: []int{-1, 16, 6, 7}}},
		Outputs: []string{"y"},
		Opset:   13,
		Consts: map[string]*importer.Tensor{
			"w1": rnd(16, 16, 3, 3), "b1": rnd(16), "scale": rnd(16), "bias": rnd(16), "mean": rnd(16), "var": pos,
			"w2": rnd(5, 16, 3, 3),
		},
		Nodes: []*importer.Node{
			{Name: "conv1", Op: "Conv", Inputs: []string{"x", "w1", "b1"}, Outputs: []string{"c0"}, Attrs: pads},
			{Name: "bn", Op: "BatchNormalization", Inputs: []string{"c0", "scale", "bias", "mean", "var"}, Outputs: []string{"c1"},
				Attrs: importer.Attrs{"epsilon": float32(1e-3)}},
			{Name: "relu", Op: "Relu", Inputs: []string{"c1"}, Outputs: []string{"c2"}},
			{Name: "conv2", Op: "Conv", Inputs: []string{"c2", "w2"}, Outputs: []string{"c3"}, Attrs: pads},
			{Name: "clip", Op: "Clip", Inputs: []string{"c3"}, Outputs: []string{"y"},
				Attrs: importer.Attrs{"min": float32(-1), "max": float32(1)}},
		},
	}
}

// whereGraph is winoGraph followed by z = Where(a > 0, y, 0): on the data
// (a = y), which can flip on a rounding difference, or on a constant (a =
// the constant t, which the plan folds).
func whereGraph(onConst bool) *importer.Graph {
	g := winoGraph()
	t := importer.NewTensor(1)
	t.Data[0] = 0
	g.Consts["t"] = t
	a := "y"
	if onConst {
		a = "t"
	}
	g.Nodes = append(g.Nodes,
		&importer.Node{Name: "gt", Op: "Greater", Inputs: []string{a, "t"}, Outputs: []string{"cond"}},
		&importer.Node{Name: "where", Op: "Where", Inputs: []string{"cond", "y", "t"}, Outputs: []string{"z"}})
	g.Outputs = []string{"z"}
	return g
}

// TestEnableWinograd checks which convolutions EnableWinograd switches
// (none in graphs with a Floor: those stay bit-identical to importer.Eval)
// and that the switched plan's outputs stay within 1e-4 of the largest
// output of the node-by-node reference, with the same top class per image
// for the classifiers.
func TestEnableWinograd(t *testing.T) {
	tests := []struct {
		name  string
		graph func(t *testing.T) *importer.Graph
		n     int
		want  int // convolutions switched
	}{
		{"synthetic", func(*testing.T) *importer.Graph { return winoGraph() }, 5, 2},
		{"chain with Floor", func(*testing.T) *importer.Graph { return chainGraph() }, 3, 0},
		{"Greater and Where on data", func(*testing.T) *importer.Graph { return whereGraph(false) }, 3, 0},
		{"Greater and Where on constants", func(*testing.T) *importer.Graph { return whereGraph(true) }, 3, 2},
		{"vgg16h_cifar10_relu", func(t *testing.T) *importer.Graph { return sharedGraph(t, "vgg16h_cifar10_relu.onnx") }, 3, 12},
		{"vgg_small_cifar10_relu", func(t *testing.T) *importer.Graph { return sharedGraph(t, "vgg_small_cifar10_relu.onnx") }, 3, 7},
		{"vgg16h_cifar10_qcfs", func(t *testing.T) *importer.Graph { return sharedGraph(t, "vgg16h_cifar10_qcfs.onnx") }, 2, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.graph(t)
			fast, err := New(g)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := newExecutor(g, false)
			if err != nil {
				t.Fatal(err)
			}
			got := fast.EnableWinograd()
			if tc.want >= 0 && got != tc.want {
				t.Fatalf("EnableWinograd switched %d convolutions, want %d", got, tc.want)
			}
			if tc.want < 0 && got == 0 {
				t.Fatal("EnableWinograd switched no convolution")
			}
			wino := 0
			for _, s := range fast.steps {
				if _, ok := s.conv.(*kernels.Winograd); ok {
					wino++
				}
			}
			if wino != got {
				t.Fatalf("%d Winograd steps in the plan, EnableWinograd said %d", wino, got)
			}
			x := randInput(fast, tc.n)
			y, err := fast.Run(x, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ref.Run(x, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			top := 0.0
			for _, v := range want {
				top = max(top, math.Abs(float64(v)))
			}
			worst := 0.0
			for i := range want {
				d := math.Abs(float64(y[i]) - float64(want[i]))
				if got == 0 && math.Float32bits(y[i]) != math.Float32bits(want[i]) {
					t.Fatalf("output %d: %v, want %v bit for bit (nothing switched)", i, y[i], want[i])
				}
				if !(d <= 1e-4*top) {
					t.Fatalf("output %d: %v, want %v (largest |output| %v)", i, y[i], want[i], top)
				}
				worst = max(worst, d)
			}
			if per := len(want) / tc.n; per >= 10 && got > 0 {
				for i := 0; i < tc.n; i++ {
					if a, b := argmax(y[i*per:(i+1)*per]), argmax(want[i*per:(i+1)*per]); a != b {
						t.Errorf("image %d: top class %d, reference %d", i, a, b)
					}
				}
			}
			t.Logf("%d convolutions switched; largest difference %.2g of largest |output| %.3g", got, worst, top)
		})
	}
}

// argmax returns the index of the largest value of v.
func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// TestWinogradImageIndependent checks that a Winograd plan computes every
// image's outputs bit for bit the same whether the image runs alone or in
// a batch that spans several chunks and tile blocks: Winograd tiles span
// images, and a result that depended on its neighbours would change with
// the batch size and the number of workers.
func TestWinogradImageIndependent(t *testing.T) {
	e, err := New(sharedGraph(t, "vgg_small_cifar10_relu.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if e.EnableWinograd() == 0 {
		t.Fatal("EnableWinograd switched no convolution")
	}
	const n = 70
	x := randInput(e, n)
	y, err := e.Run(x, n)
	if err != nil {
		t.Fatal(err)
	}
	in, out := len(x)/n, len(y)/n
	for _, i := range []int{0, 3, 64, n - 1} {
		alone, err := e.Run(x[i*in:(i+1)*in], 1)
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range alone {
			if w := y[i*out+j]; math.Float32bits(v) != math.Float32bits(w) {
				t.Fatalf("image %d, output %d: %v alone, %v in a batch of %d", i, j, v, w, n)
			}
		}
	}
}
