package ann

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/sharedtest"
)

// chainGraph is a 3×5×5 → Conv(4, 3×3, pad 1) graph followed by every kind
// of fusable elementwise node, each with a hand-picked constant, and a
// second output-free branch: y = Relu(c − BN((Conv(x) − 0.25) / d)) with d
// per channel, then Clip(−1, 2), Floor, and Mul by 0.5.
func chainGraph() *importer.Graph {
	r := rand.New(rand.NewPCG(3, 4))
	rnd := func(shape ...int) *importer.Tensor {
		t := importer.NewTensor(shape...)
		for i := range t.Data {
			t.Data[i] = 2*r.Float32() - 1
		}
		return t
	}
	scalar := func(v float32) *importer.Tensor { return &importer.Tensor{Shape: []int{}, Data: []float32{v}} }
	pos := rnd(4)
	for i := range pos.Data {
		pos.Data[i] = 0.5 + float32(math.Abs(float64(pos.Data[i])))
	}
	d := rnd(1, 4, 1, 1)
	for i := range d.Data {
		d.Data[i] += 3
	}
	return &importer.Graph{
		Inputs:  []importer.Value{{Name: "x", Shape: []int{-1, 3, 5, 5}}},
		Outputs: []string{"y"},
		Opset:   13,
		Consts: map[string]*importer.Tensor{
			"w": rnd(4, 3, 3, 3), "b": rnd(4), "q": scalar(0.25), "d": d,
			"scale": rnd(4), "bias": rnd(4), "mean": rnd(4), "var": pos, "c": scalar(0.125), "h": scalar(0.5),
		},
		Nodes: []*importer.Node{
			{Name: "conv", Op: "Conv", Inputs: []string{"x", "w", "b"}, Outputs: []string{"c0"},
				Attrs: importer.Attrs{"pads": []int64{1, 1, 1, 1}, "kernel_shape": []int64{3, 3}}},
			{Name: "sub", Op: "Sub", Inputs: []string{"c0", "q"}, Outputs: []string{"c1"}},
			{Name: "div", Op: "Div", Inputs: []string{"c1", "d"}, Outputs: []string{"c2"}},
			{Name: "bn", Op: "BatchNormalization", Inputs: []string{"c2", "scale", "bias", "mean", "var"}, Outputs: []string{"c3"},
				Attrs: importer.Attrs{"epsilon": float32(1e-3)}},
			{Name: "rsub", Op: "Sub", Inputs: []string{"c", "c3"}, Outputs: []string{"c4"}},
			{Name: "relu", Op: "Relu", Inputs: []string{"c4"}, Outputs: []string{"c5"}},
			{Name: "clip", Op: "Clip", Inputs: []string{"c5"}, Outputs: []string{"c6"},
				Attrs: importer.Attrs{"min": float32(-1), "max": float32(2)}},
			{Name: "floor", Op: "Floor", Inputs: []string{"c6"}, Outputs: []string{"c7"}},
			{Name: "mul", Op: "Mul", Inputs: []string{"h", "c7"}, Outputs: []string{"y"}},
		},
	}
}

// denseGraph is a 2×6×6 → Conv(3, 3×3) → Relu → Flatten → Gemm(300,
// transB, bias [300]) → Sub(per-feature constant) → Relu → Gemm(7, alpha
// 0.5, bias [1, 7]) → Clip(−1, 1) graph: both Gemms run as kernels.Dense,
// the first reading through the Flatten with a per-feature chain, the
// second over a depth of 300 (two k blocks) with W not transposed.
func denseGraph() *importer.Graph {
	r := rand.New(rand.NewPCG(7, 8))
	rnd := func(shape ...int) *importer.Tensor {
		t := importer.NewTensor(shape...)
		for i := range t.Data {
			t.Data[i] = 2*r.Float32() - 1
		}
		return t
	}
	return &importer.Graph{
		Inputs:  []importer.Value{{Name: "x", Shape: []int{-1, 2, 6, 6}}},
		Outputs: []string{"y"},
		Opset:   13,
		Consts: map[string]*importer.Tensor{
			"w": rnd(3, 2, 3, 3), "b": rnd(3), "w1": rnd(300, 48), "b1": rnd(300), "s": rnd(300),
			"w2": rnd(300, 7), "b2": rnd(1, 7),
		},
		Nodes: []*importer.Node{
			{Name: "conv", Op: "Conv", Inputs: []string{"x", "w", "b"}, Outputs: []string{"c0"},
				Attrs: importer.Attrs{"kernel_shape": []int64{3, 3}}},
			{Name: "relu0", Op: "Relu", Inputs: []string{"c0"}, Outputs: []string{"c1"}},
			{Name: "flat", Op: "Flatten", Inputs: []string{"c1"}, Outputs: []string{"f"}, Attrs: importer.Attrs{"axis": int64(1)}},
			{Name: "fc1", Op: "Gemm", Inputs: []string{"f", "w1", "b1"}, Outputs: []string{"g1"}, Attrs: importer.Attrs{"transB": int64(1)}},
			{Name: "sub", Op: "Sub", Inputs: []string{"g1", "s"}, Outputs: []string{"g2"}},
			{Name: "relu1", Op: "Relu", Inputs: []string{"g2"}, Outputs: []string{"g3"}},
			{Name: "fc2", Op: "Gemm", Inputs: []string{"g3", "w2", "b2"}, Outputs: []string{"g4"}, Attrs: importer.Attrs{"alpha": float32(0.5)}},
			{Name: "clip", Op: "Clip", Inputs: []string{"g4"}, Outputs: []string{"y"},
				Attrs: importer.Attrs{"min": float32(-1), "max": float32(1)}},
		},
	}
}

// sharedGraph loads a model of ../shared/models, skipping when it is absent.
func sharedGraph(t testing.TB, file string) *importer.Graph {
	t.Helper()
	g, err := importer.Load(sharedtest.Path(t, "models", file))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// randInput returns n images of the executor's input shape, uniform in
// [-2, 2) from a fixed seed.
func randInput(e *Executor, n int) []float32 {
	r := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, n*importer.NumElements(e.inShape))
	for i := range x {
		x[i] = 4*r.Float32() - 2
	}
	return x
}

// TestFusedMatchesUnfused checks that the fused plan (constant folding,
// prepared convolutions and Gemms, Flattens folded into Gemms, elementwise
// chains in the store) is bit-identical to running every node with
// importer.Eval, and that the expected chains were fused and layers
// prepared, so that the comparison tests the fusion.
func TestFusedMatchesUnfused(t *testing.T) {
	tests := []struct {
		name      string
		graph     func(t *testing.T) *importer.Graph
		n         int
		wantChain []string // ops of the first fused step
		wantQCFS  bool     // a chain takes the one-pass QCFS path
		wantPool  bool     // an AveragePool runs as kernels.AvgPool
		wantDense []string // ops of the prepared Gemm steps, in order
	}{
		{"chain", func(*testing.T) *importer.Graph { return chainGraph() }, 3,
			[]string{"Conv", "Sub", "Div", "BatchNormalization", "Sub", "Relu", "Clip", "Floor", "Mul"}, false, false, nil},
		{"dense", func(*testing.T) *importer.Graph { return denseGraph() }, 5,
			[]string{"Conv", "Relu"}, false, false, []string{"Flatten+Gemm+Sub+Relu", "Gemm+Clip"}},
		{"lenet_mnist", func(t *testing.T) *importer.Graph { return loadLeNet(t) }, 4, []string{"Conv", "Relu", "AveragePool"}, false, true,
			[]string{"Flatten+Gemm+Relu", "Gemm"}},
		{"vgg16h_cifar10_relu", func(t *testing.T) *importer.Graph { return sharedGraph(t, "vgg16h_cifar10_relu.onnx") }, 1,
			[]string{"Conv", "Relu"}, false, true, []string{"Flatten+Gemm"}},
		{"vgg16h_cifar10_qcfs", func(t *testing.T) *importer.Graph { return sharedGraph(t, "vgg16h_cifar10_qcfs.onnx") }, 2,
			[]string{"Conv", "Mul", "Add", "Floor", "Clip", "Mul"}, true, true, []string{"Flatten+Gemm"}},
		{"resnet20_cifar10_qcfs", func(t *testing.T) *importer.Graph { return sharedGraph(t, "resnet20_cifar10_qcfs.onnx") }, 2,
			[]string{"Conv", "Mul", "Add", "Floor", "Clip", "Mul"}, true, false, []string{"Flatten+Gemm"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.graph(t)
			fused, ref := fusedAndRef(t, g)
			var first *step
			qcfs, pool := false, false
			var dense []string
			keep := []string{}
			for i := range fused.steps {
				s := &fused.steps[i]
				if s.ep != nil && first == nil {
					first = s
				}
				qcfs = qcfs || (s.ep != nil && s.ep.qcfs)
				pool = pool || s.pool != nil || s.post != nil
				if s.dense != nil {
					dense = append(dense, strings.Join(s.ops, "+"))
					if len(s.inner) > 0 && len(dense) == 1 {
						// The first prepared Gemm with an inner value also
						// runs unfused below.
						keep = append(keep, s.inner[len(s.inner)-1])
					}
				}
			}
			if pool != tc.wantPool {
				t.Fatalf("prepared AveragePool: %v, want %v", pool, tc.wantPool)
			}
			if !slices.Equal(dense, tc.wantDense) {
				t.Fatalf("prepared Gemm steps %q, want %q", dense, tc.wantDense)
			}
			if first == nil || first.conv == nil || !slices.Equal(first.ops, tc.wantChain) {
				t.Fatalf("first fused step %+v, want a prepared conv with ops %v", first, tc.wantChain)
			}
			if qcfs != tc.wantQCFS {
				t.Fatalf("QCFS one-pass chain used: %v, want %v", qcfs, tc.wantQCFS)
			}
			x := randInput(fused, tc.n)
			// Keep the value inside the first chain (and inside the first
			// prepared Gemm): those steps run unfused, the others fused.
			keep = append(keep, first.inner[len(first.inner)-1])
			got, kept, err := fused.Forward(x, tc.n, keep)
			if err != nil {
				t.Fatal(err)
			}
			want, wantKept, err := ref.Forward(x, tc.n, keep)
			if err != nil {
				t.Fatal(err)
			}
			gotAll, err := fused.Run(x, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			pairs := map[string][2][]float32{
				"output":            {got, want},
				"output, all fused": {gotAll, want},
			}
			for _, k := range keep {
				pairs["kept inner value "+k] = [2][]float32{kept[k].Data, wantKept[k].Data}
			}
			for name, pair := range pairs {
				a, b := pair[0], pair[1]
				if len(a) != len(b) {
					t.Fatalf("%s: %d values, unfused %d", name, len(a), len(b))
				}
				for i := range a {
					if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
						t.Fatalf("%s[%d] = %v, unfused %v", name, i, a[i], b[i])
					}
				}
			}
		})
	}
}

// TestChannelConst checks which constant shapes fuse as per-channel values.
func TestChannelConst(t *testing.T) {
	out := []int{1, 3, 4, 4}
	tests := []struct {
		shape []int
		want  int // number of values, 0: not fusable
	}{
		{[]int{}, 1},
		{[]int{1}, 1},
		{[]int{1, 1, 1, 1}, 1},
		{[]int{3, 1, 1}, 3},
		{[]int{1, 3, 1, 1}, 3},
		{[]int{3}, 0},       // broadcasts along the width
		{[]int{1, 1, 4}, 0}, // along the width
		{[]int{2, 3, 1, 1}, 0},
		{[]int{1, 1, 3, 1, 1}, 0}, // would add a dimension
	}
	for _, tc := range tests {
		c := importer.NewTensor(tc.shape...)
		vals, ok := channelConst(c, out)
		if got := len(vals); (tc.want == 0) == ok || (ok && got != tc.want) {
			t.Errorf("shape %v: %d values, ok %v; want %d", tc.shape, got, ok, tc.want)
		}
	}
}

// poolChainGraph is x [N, 16, 12, 12] → Conv(32, 3×3, pad 1) → Relu →
// AveragePool(2×2) → Mul by a per-channel constant → Sub a scalar: a
// chain after the fused pool (step.postEp).
func poolChainGraph() *importer.Graph {
	r := rand.New(rand.NewPCG(21, 22))
	rnd := func(shape ...int) *importer.Tensor {
		t := importer.NewTensor(shape...)
		for i := range t.Data {
			t.Data[i] = 2*r.Float32() - 1
		}
		return t
	}
	return &importer.Graph{
		Inputs:  []importer.Value{{Name: "x", Shape: []int{-1, 16, 12, 12}}},
		Outputs: []string{"y"},
		Opset:   13,
		Consts:  map[string]*importer.Tensor{"w": rnd(32, 16, 3, 3), "b": rnd(32), "s": rnd(1, 32, 1, 1), "c": rnd(1)},
		Nodes: []*importer.Node{
			{Name: "conv", Op: "Conv", Inputs: []string{"x", "w", "b"}, Outputs: []string{"c0"},
				Attrs: importer.Attrs{"pads": []int64{1, 1, 1, 1}, "kernel_shape": []int64{3, 3}}},
			{Name: "relu", Op: "Relu", Inputs: []string{"c0"}, Outputs: []string{"c1"}},
			{Name: "pool", Op: "AveragePool", Inputs: []string{"c1"}, Outputs: []string{"p"},
				Attrs: importer.Attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}}},
			{Name: "mul", Op: "Mul", Inputs: []string{"p", "s"}, Outputs: []string{"m"}},
			{Name: "sub", Op: "Sub", Inputs: []string{"m", "c"}, Outputs: []string{"y"}},
		},
	}
}

// TestConvPoolFused checks the AveragePool fused after a convolution's
// chain (fusePool) on LeNet, vgg_small and a graph with a chain after the
// pool: the steps exist, and the fused output is bit-identical to the
// unfused graph for batches that split into several scratch-sized groups
// of images with a ragged last one, and for one image.
func TestConvPoolFused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		graph func(t *testing.T) *importer.Graph
		ops   string // the ops of the fused steps
		steps int    // how many
	}{
		{"lenet_mnist", loadLeNet, "Conv+Relu+AveragePool", 2},
		{"vgg_small_cifar10_relu", func(t *testing.T) *importer.Graph { return sharedGraph(t, "vgg_small_cifar10_relu.onnx") },
			"Conv+Relu+AveragePool", 5},
		{"chain after the pool", func(*testing.T) *importer.Graph { return poolChainGraph() }, "Conv+Relu+AveragePool+Mul+Sub", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.graph(t)
			fused, ref := fusedAndRef(t, g)
			got := 0
			for i := range fused.steps {
				s := &fused.steps[i]
				if s.post != nil && s.conv != nil && strings.Join(s.ops, "+") == tc.ops {
					got++
					if per := s.conv.Geom().K * s.conv.Geom().OutH() * s.conv.Geom().OutW(); poolScratch/per >= 37 {
						t.Errorf("step %s: %d images per scratch group, the test batch does not split", s.layer, poolScratch/per)
					}
				}
			}
			if got != tc.steps {
				t.Fatalf("%d fused %s steps, want %d", got, tc.ops, tc.steps)
			}
			for _, n := range []int{37, 1} {
				x := randInput(fused, n)
				a, err := fused.Run(x, n)
				if err != nil {
					t.Fatal(err)
				}
				b, _, err := ref.Forward(x, n, nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(a) != len(b) {
					t.Fatalf("n %d: %d outputs, unfused %d", n, len(a), len(b))
				}
				for i := range a {
					if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
						t.Fatalf("n %d: output[%d] = %v, unfused %v", n, i, a[i], b[i])
					}
				}
			}
		})
	}
}

// fusedAndRef returns the fused plan of g and the node-by-node reference
// executor the tests compare it with.
func fusedAndRef(t *testing.T, g *importer.Graph) (fused, ref *Executor) {
	t.Helper()
	fused, err := newExecutor(g, true)
	if err != nil {
		t.Fatal(err)
	}
	if ref, err = newExecutor(g, false); err != nil {
		t.Fatal(err)
	}
	return fused, ref
}
