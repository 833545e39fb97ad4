package convert

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/snnrt"
)

// graphBuilder assembles small importer graphs for the pattern tests.
type graphBuilder struct {
	r *rand.Rand
	g *importer.Graph
}

func newGraph(seed uint64, input ...int) *graphBuilder {
	return &graphBuilder{
		r: rand.New(rand.NewPCG(seed, 7)),
		g: &importer.Graph{
			Inputs: []importer.Value{{Name: "x", Shape: append([]int{-1}, input...)}},
			Consts: map[string]*importer.Tensor{},
		},
	}
}

// node appends a node with output out (several outputs: comma-separated).
func (b *graphBuilder) node(op, out string, attrs importer.Attrs, in ...string) {
	if attrs == nil {
		attrs = importer.Attrs{}
	}
	b.g.Nodes = append(b.g.Nodes, &importer.Node{Name: "/" + out + "/" + op, Op: op, Inputs: in, Outputs: strings.Split(out, ","), Attrs: attrs})
}

// rand adds a constant of normal random values times scale.
func (b *graphBuilder) rand(name string, scale float32, shape ...int) string {
	t := randTensor(b.r, shape...)
	for i := range t.Data {
		t.Data[i] *= scale
	}
	b.g.Consts[name] = t
	return name
}

func (b *graphBuilder) ints(name string, v ...int64) string {
	b.g.Consts[name] = &importer.Tensor{Shape: []int{len(v)}, Ints: v}
	return name
}

// conv adds a Conv from in with k output channels, kernel kh×kh, pads p.
func (b *graphBuilder) conv(out, in string, c, k, kh, p, group int) {
	w := b.rand(out+".w", 0.5, k, c/group, kh, kh)
	bias := b.rand(out+".b", 0.2, k)
	b.node("Conv", out, importer.Attrs{"pads": []int64{int64(p), int64(p), int64(p), int64(p)}, "group": int64(group)}, in, w, bias)
}

// head adds Flatten → Gemm(classes) reading in of f features, as output y.
func (b *graphBuilder) head(in string, f, classes int) *importer.Graph {
	b.node("Flatten", "flat", nil, in)
	b.node("Gemm", "y", importer.Attrs{"transB": int64(1)}, "flat", b.rand("fc.w", 0.3, classes, f), b.rand("fc.b", 0.1, classes))
	b.g.Outputs = []string{"y"}
	return b.g
}

// bn adds an inference BatchNormalization of c channels with non-trivial
// statistics.
func (b *graphBuilder) bn(out, in string, c int) {
	v := randTensor(b.r, c)
	for i := range v.Data {
		v.Data[i] = 0.5 + v.Data[i]*v.Data[i]
	}
	b.g.Consts[out+".var"] = v
	b.node("BatchNormalization", out, importer.Attrs{"epsilon": float32(1e-5)}, in,
		b.rand(out+".scale", 1, c), b.rand(out+".bias", 0.3, c), b.rand(out+".mean", 0.3, c), out+".var")
}

// The lowering tests: each graph's lowered model, with ReLU thresholds
// out of reach, must compute the reference output (importer.RunRef) to
// 1e-5 relative; the layer counts check that the pattern took the
// intended route.
func TestLowerPatterns(t *testing.T) {
	tests := []struct {
		name  string
		build func() *importer.Graph
		in    []int              // per image; one image when the graph's batch is fixed to 1
		kinds map[snnrt.Kind]int // expected counts of some kinds
	}{
		{"bn after concat (DenseNet)", func() *importer.Graph {
			b := newGraph(1, 3, 6, 6)
			b.conv("a", "x", 3, 4, 3, 1, 1)
			b.node("Relu", "ar", nil, "a")
			b.conv("c", "ar", 4, 2, 3, 1, 1)
			b.node("Concat", "cat", importer.Attrs{"axis": int64(1)}, "ar", "c")
			b.bn("n", "cat", 6)
			b.node("Relu", "nr", nil, "n")
			b.conv("d", "nr", 6, 3, 1, 0, 1)
			b.bn("n2", "cat", 6) // a second reader of the concat (next dense layer)
			b.node("Relu", "n2r", nil, "n2")
			b.node("Concat", "cat2", importer.Attrs{"axis": int64(1)}, "d", "n2r")
			return b.head("cat2", 9*36, 5)
		}, []int{3, 6, 6}, map[snnrt.Kind]int{snnrt.KindConv: 5, snnrt.KindIF: 3}},
		{"channel shuffle + split (ShuffleNet)", func() *importer.Graph {
			b := newGraph(2, 3, 4, 4)
			b.conv("a", "x", 3, 4, 3, 1, 1)
			b.node("Relu", "ar", nil, "a")
			b.conv("c", "x", 3, 4, 3, 1, 1)
			b.node("Relu", "cr", nil, "c")
			b.node("Concat", "cat", importer.Attrs{"axis": int64(1)}, "ar", "cr")
			// The batch size comes from a Shape chain, as torch exports
			// x.view(batchsize, groups, c/groups, h, w).
			b.node("Shape", "shape", nil, "cat")
			b.node("Gather", "bs", importer.Attrs{"axis": int64(0)}, "shape", b.ints("zero", 0))
			b.node("Concat", "s5", importer.Attrs{"axis": int64(0)}, "bs", b.ints("rest5", 2, 4, 4, 4))
			b.node("Reshape", "r5", nil, "cat", "s5")
			b.node("Transpose", "tr", importer.Attrs{"perm": []int64{0, 2, 1, 3, 4}}, "r5")
			b.node("Reshape", "sh", nil, "tr", b.ints("s4", -1, 8, 4, 4))
			b.node("Split", "x1,x2", importer.Attrs{"axis": int64(1)}, "sh", b.ints("split", 3, 5))
			b.conv("e", "x2", 5, 3, 1, 0, 1)
			b.node("Relu", "er", nil, "e")
			b.node("Concat", "out", importer.Attrs{"axis": int64(1)}, "x1", "er")
			return b.head("out", 6*16, 4)
		}, []int{3, 4, 4}, map[snnrt.Kind]int{snnrt.KindConv: 5, snnrt.KindIF: 3}},
		{"channel shuffle in a graph for one image only", func() *importer.Graph {
			b := newGraph(12, 4, 3, 3)
			b.g.Inputs[0].Shape[0] = 1
			b.conv("a", "x", 4, 4, 3, 1, 1)
			b.node("Relu", "ar", nil, "a")
			b.node("Reshape", "r5", nil, "ar", b.ints("s5", 1, 2, 2, 3, 3))
			b.node("Transpose", "tr", importer.Attrs{"perm": []int64{0, 2, 1, 3, 4}}, "r5")
			b.node("Reshape", "sh", nil, "tr", b.ints("s4", 1, 4, 3, 3))
			b.conv("c", "sh", 4, 2, 3, 1, 1)
			return b.head("c", 18, 3)
		}, []int{4, 3, 3}, map[snnrt.Kind]int{snnrt.KindConv: 3, snnrt.KindIF: 1}},
		{"slice of channels, identity reshape", func() *importer.Graph {
			b := newGraph(3, 4, 3, 3)
			b.node("Slice", "s", importer.Attrs{"starts": []int64{1}, "ends": []int64{3}, "axes": []int64{1}}, "x")
			b.node("Reshape", "same", nil, "s", b.ints("shp", -1, 2, 3, 3))
			b.conv("a", "same", 2, 3, 3, 1, 1)
			b.node("Relu", "ar", nil, "a")
			return b.head("ar", 27, 3)
		}, []int{4, 3, 3}, map[snnrt.Kind]int{snnrt.KindConv: 2, snnrt.KindIF: 1}},
		{"gather of channels with repeats, unsqueeze round trip", func() *importer.Graph {
			b := newGraph(10, 3, 3, 3)
			b.conv("a", "x", 3, 4, 3, 1, 1)
			b.node("Relu", "ar", nil, "a")
			b.node("Gather", "gt", importer.Attrs{"axis": int64(1)}, "ar", b.ints("pick", 2, 0, 2, 3))
			b.node("Unsqueeze", "u", importer.Attrs{"axes": []int64{0}}, "gt")
			b.node("Squeeze", "sq", importer.Attrs{"axes": []int64{0}}, "u")
			b.conv("c", "sq", 4, 2, 3, 1, 1)
			return b.head("c", 18, 3)
		}, []int{3, 3, 3}, map[snnrt.Kind]int{snnrt.KindConv: 3, snnrt.KindIF: 1}},
		{"ReLU6 (MobileNetV2)", func() *importer.Graph {
			b := newGraph(4, 3, 5, 5)
			b.conv("a", "x", 3, 6, 3, 1, 1)
			for i := range b.g.Consts["a.w"].Data {
				b.g.Consts["a.w"].Data[i] *= 8 // drive some inputs beyond 6
			}
			b.node("Clip", "ar", importer.Attrs{"min": float32(0), "max": float32(6)}, "a")
			b.conv("dw", "ar", 6, 6, 3, 1, 6) // depthwise
			b.node("Clip", "dr", importer.Attrs{"min": float32(0), "max": float32(6)}, "dw")
			return b.head("dr", 150, 3)
		}, []int{3, 5, 5}, map[snnrt.Kind]int{snnrt.KindConv: 2, snnrt.KindIF: 2}},
		{"ceil-mode pools (SqueezeNet, GoogLeNet)", func() *importer.Graph {
			b := newGraph(5, 2, 7, 7)
			b.conv("a", "x", 2, 4, 3, 1, 1)
			b.node("Relu", "ar", nil, "a")
			b.node("MaxPool", "mp", importer.Attrs{"kernel_shape": []int64{3, 3}, "strides": []int64{2, 2}, "ceil_mode": int64(1)}, "ar")
			b.node("AveragePool", "ap", importer.Attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}, "ceil_mode": int64(1)}, "mp")
			return b.head("ap", 4*2*2, 3) // 7 → 3 (ceil) → 2 (ceil)
		}, []int{2, 7, 7}, map[snnrt.Kind]int{snnrt.KindMaxPool: 1, snnrt.KindAvgPool: 1}},
		{"grouped conv (ResNeXt, RegNet)", func() *importer.Graph {
			b := newGraph(6, 4, 5, 5)
			b.conv("a", "x", 4, 8, 3, 1, 2)
			b.bn("an", "a", 8)
			b.node("Relu", "ar", nil, "an")
			b.conv("g", "ar", 8, 8, 3, 1, 4)
			b.bn("gn", "g", 8)
			b.node("Relu", "gr", nil, "gn")
			return b.head("gr", 200, 3)
		}, []int{4, 5, 5}, map[snnrt.Kind]int{snnrt.KindConv: 2, snnrt.KindIF: 2}},
		{"ReduceMean over H, W as classifier input", func() *importer.Graph {
			b := newGraph(7, 3, 4, 4)
			b.conv("a", "x", 3, 5, 3, 1, 1)
			b.node("Relu", "ar", nil, "a")
			b.node("ReduceMean", "m", importer.Attrs{"axes": []int64{2, 3}, "keepdims": int64(0)}, "ar")
			b.node("Gemm", "y", importer.Attrs{"transB": int64(1)}, "m", b.rand("fc.w", 0.3, 3, 5), b.rand("fc.b", 0.1, 3))
			b.g.Outputs = []string{"y"}
			return b.g
		}, []int{3, 4, 4}, map[snnrt.Kind]int{snnrt.KindGlobalAvgPool: 1, snnrt.KindLinear: 1}},
		{"conv classifier ending in ReLU → GAP → Flatten (SqueezeNet)", func() *importer.Graph {
			b := newGraph(8, 3, 4, 4)
			b.conv("a", "x", 3, 5, 3, 1, 1)
			b.node("Relu", "ar", nil, "a")
			b.node("GlobalAveragePool", "gap", nil, "ar")
			b.node("Flatten", "y", nil, "gap")
			b.g.Outputs = []string{"y"}
			return b.g
		}, []int{3, 4, 4}, map[snnrt.Kind]int{snnrt.KindGlobalAvgPool: 1, snnrt.KindFlatten: 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.build()
			if err := g.Validate(); err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(11, 12))
			batch := 3
			if g.Inputs[0].Shape[0] == 1 {
				batch = 1
			}
			x := randTensor(r, append([]int{batch}, tc.in...)...)
			low := checkAnalogRef(t, g, x, 1e-5)
			got := countKinds(low.Model)
			for k, want := range tc.kinds {
				if got[k] != want {
					t.Errorf("%d %v layers, want %d (all: %v)", got[k], k, want, got)
				}
			}
		})
	}
}

// TestLowerRefusesNonIF checks that activations without an IF equivalent
// are refused with a *ConvertError that names the activation and the node
// that completes it, and that a data movement which is not a channel
// selection is refused rather than lowered wrongly.
func TestLowerRefusesNonIF(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *graphBuilder) string // adds nodes reading "a" (3×4×4), returns the value fed to the head
		node  string                       // the node the error must name
		what  string                       // text the error must contain
		noIF  bool                         // the error wraps ErrNoIFEquivalent
	}{
		{"SiLU", func(b *graphBuilder) string {
			b.node("Sigmoid", "s", nil, "a")
			b.node("Mul", "m", nil, "a", "s")
			return "m"
		}, "/m/Mul", "SiLU activation", true},
		{"HardSwish", func(b *graphBuilder) string {
			b.node("HardSwish", "h", nil, "a")
			return "h"
		}, "/h/HardSwish", "HardSwish activation", true},
		{"HardSwish decomposed", func(b *graphBuilder) string {
			b.node("HardSigmoid", "hs", importer.Attrs{"alpha": float32(1.0 / 6), "beta": float32(0.5)}, "a")
			b.node("Mul", "m", nil, "hs", "a")
			return "m"
		}, "/m/Mul", "HardSwish activation", true},
		{"GELU (erf form)", func(b *graphBuilder) string {
			b.g.Consts["sqrt2"], b.g.Consts["one"], b.g.Consts["half"] = scalar(1.4142135), scalar(1), scalar(0.5)
			b.node("Div", "d", nil, "a", "sqrt2")
			b.node("Erf", "e", nil, "d")
			b.node("Add", "p", nil, "e", "one")
			b.node("Mul", "m", nil, "a", "p")
			b.node("Mul", "h", nil, "m", "half")
			return "h"
		}, "/e/Erf", "GELU", true},
		{"sigmoid gate (squeeze-and-excitation)", func(b *graphBuilder) string {
			b.node("Relu", "ar", nil, "a")
			b.node("GlobalAveragePool", "gap", nil, "ar")
			b.conv("se", "gap", 3, 3, 1, 0, 1)
			b.node("Sigmoid", "s", nil, "se")
			b.node("Mul", "m", nil, "ar", "s")
			return "m"
		}, "/m/Mul", "sigmoid gate", true},
		{"LayerNorm", func(b *graphBuilder) string {
			b.node("LayerNormalization", "ln", importer.Attrs{"axis": int64(1)}, "a", b.rand("ln.s", 1, 3, 4, 4))
			return "ln"
		}, "/ln/LayerNormalization", "LayerNorm", true},
		{"LayerNorm decomposed (opset < 17)", func(b *graphBuilder) string {
			b.node("ReduceMean", "mu", importer.Attrs{"axes": []int64{1}, "keepdims": int64(1)}, "a")
			b.node("Sub", "d", nil, "a", "mu")
			return "d"
		}, "/mu/ReduceMean", "LayerNorm", true},
		{"product of two activations", func(b *graphBuilder) string {
			b.node("Relu", "ar", nil, "a")
			b.node("Mul", "sq", nil, "ar", "ar")
			return "sq"
		}, "/sq/Mul", "product of two activations", true},
		{"softmax inside", func(b *graphBuilder) string {
			b.node("Softmax", "sm", importer.Attrs{"axis": int64(1)}, "a")
			return "sm"
		}, "/sm/Softmax", "softmax inside", true},
		{"transpose of H and W", func(b *graphBuilder) string {
			b.node("Relu", "ar", nil, "a")
			b.node("Transpose", "tr", importer.Attrs{"perm": []int64{0, 1, 3, 2}}, "ar")
			b.conv("c", "tr", 3, 2, 1, 0, 1)
			return "c"
		}, "/tr/Transpose", "not a selection of channels", false},
		{"split along H", func(b *graphBuilder) string {
			b.node("Relu", "ar", nil, "a")
			b.node("Split", "top,bottom", importer.Attrs{"axis": int64(2)}, "ar", b.ints("halves", 2, 2))
			b.node("Concat", "cat", importer.Attrs{"axis": int64(1)}, "top", "bottom")
			b.conv("c", "cat", 6, 4, 1, 0, 1)
			return "c"
		}, "/top,bottom/Split", "not a selection of channels", false},
		{"transpose of batch and channels", func(b *graphBuilder) string {
			b.node("Relu", "ar", nil, "a")
			b.node("Transpose", "tr", importer.Attrs{"perm": []int64{1, 0, 2, 3}}, "ar")
			b.node("Reshape", "back", nil, "tr", b.ints("nchw", -1, 3, 4, 4))
			b.conv("c", "back", 3, 2, 1, 0, 1)
			return "c"
		}, "/back/Reshape", "mixes the images", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newGraph(9, 2, 4, 4)
			b.conv("a", "x", 2, 3, 3, 1, 1)
			out := tc.build(b)
			f := 48
			if out == "c" {
				f = 32
			}
			g := b.head(out, f, 3)
			if err := g.Validate(); err != nil {
				t.Fatal(err)
			}
			// The graph itself must be valid and runnable: the refusal is
			// the converter's, not a malformed test graph's.
			if _, err := g.RunRef(randTensor(b.r, 1, 2, 4, 4)); err != nil {
				t.Fatal(err)
			}
			_, err := Lower(Clone(g))
			var ce *ConvertError
			if !errors.As(err, &ce) {
				t.Fatalf("got error %v, want a *ConvertError", err)
			}
			if ce.Node != tc.node || !strings.Contains(err.Error(), tc.what) || !strings.Contains(err.Error(), tc.node) {
				t.Errorf("error %q: want node %q and %q", err, tc.node, tc.what)
			}
			if errors.Is(err, ErrNoIFEquivalent) != tc.noIF {
				t.Errorf("error %q: wraps ErrNoIFEquivalent %v, want %v", err, !tc.noIF, tc.noIF)
			}
		})
	}
}
