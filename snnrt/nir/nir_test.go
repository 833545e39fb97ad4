package nir

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/ann2snn/ann2snn/internal/kernels"
	"github.com/ann2snn/ann2snn/snnrt"
)

func randW(rng *rand.Rand, n int) []float32 {
	w := make([]float32, n)
	for i := range w {
		w[i] = float32(rng.NormFloat64()) * 0.5
	}
	return w
}

func conv(in, c, h, w, k int, rng *rand.Rand) snnrt.Layer {
	return snnrt.Layer{Kind: snnrt.KindConv, Inputs: []int{in},
		Conv: kernels.ConvGeom{C: c, H: h, W: w, K: k, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		W:    randW(rng, k*c*9), B: randW(rng, k)}
}

func ifl(in int, theta ...float32) snnrt.Layer {
	return snnrt.Layer{Kind: snnrt.KindIF, Inputs: []int{in}, IF: snnrt.IF{Theta: theta}}
}

// cnn: conv → IF → avgpool → conv → IF → flatten → linear. Thresholds
// are powers of two so that folding and normalising them is exact.
func cnn() *snnrt.Model {
	rng := rand.New(rand.NewPCG(1, 2))
	m := &snnrt.Model{Input: snnrt.Shape{C: 2, H: 4, W: 4}, Metadata: map[string]string{"ann2snn.dataset": "test"}}
	i := m.MustAppend(conv(snnrt.InputIndex, 2, 4, 4, 3, rng))
	i = m.MustAppend(ifl(i, 0.5, 1, 2))
	i = m.MustAppend(snnrt.Layer{Kind: snnrt.KindAvgPool, Inputs: []int{i},
		Pool: snnrt.PoolGeom{C: 3, H: 4, W: 4, KH: 2, KW: 2, StrideH: 2, StrideW: 2}})
	i = m.MustAppend(conv(i, 3, 2, 2, 4, rng))
	i = m.MustAppend(ifl(i, 0.25))
	i = m.MustAppend(snnrt.Layer{Kind: snnrt.KindFlatten, Inputs: []int{i}})
	m.MustAppend(snnrt.Layer{Kind: snnrt.KindLinear, Inputs: []int{i}, W: randW(rng, 5*16), B: randW(rng, 5)})
	return m
}

// residual: conv → IF(a) → conv → (+ a) → IF → GAP → linear (no flatten).
func residual() *snnrt.Model {
	rng := rand.New(rand.NewPCG(3, 4))
	m := &snnrt.Model{Input: snnrt.Shape{C: 2, H: 3, W: 3}}
	a := m.MustAppend(conv(snnrt.InputIndex, 2, 3, 3, 2, rng))
	a = m.MustAppend(ifl(a, 0.5, 2))
	b := m.MustAppend(conv(a, 2, 3, 3, 2, rng))
	s := m.MustAppend(snnrt.Layer{Kind: snnrt.KindAdd, Inputs: []int{b, a}})
	s = m.MustAppend(snnrt.Layer{Kind: snnrt.KindIF, Inputs: []int{s}, IF: snnrt.IF{Theta: []float32{1}, V0: []float32{0.5}}})
	s = m.MustAppend(snnrt.Layer{Kind: snnrt.KindGlobalAvgPool, Inputs: []int{s}})
	m.MustAppend(snnrt.Layer{Kind: snnrt.KindLinear, Inputs: []int{s}, W: randW(rng, 3*2)})
	return m
}

func names(g *Graph) (nodes []string, edges []string) {
	for _, n := range g.Nodes {
		nodes = append(nodes, n.Name+":"+n.Type)
	}
	for _, e := range g.Edges {
		edges = append(edges, e.Src+">"+e.Dst)
	}
	return nodes, edges
}

func TestFromModelStructure(t *testing.T) {
	tests := []struct {
		name   string
		model  *snnrt.Model
		opt    Options
		nodes  []string
		edges  []string
		losses []LossKind
	}{
		{"cnn", cnn(), Options{},
			[]string{"input:Input", "conv0:Conv2d", "if1:IF", "avgpool2:AvgPool2d", "conv3:Conv2d", "if4:IF",
				"flatten5:Flatten", "linear6:Affine", "output:Output"},
			[]string{"input>conv0", "conv0>if1", "if1>avgpool2", "avgpool2>conv3", "conv3>if4", "if4>flatten5",
				"flatten5>linear6", "linear6>output"},
			[]LossKind{LossReset, LossReset}},
		{"residual", residual(), Options{Integrate: true},
			[]string{"input:Input", "conv0:Conv2d", "if1:IF", "conv2:Conv2d", "add3_scale1:Scale", "if4:IF",
				"globalavgpool5:AvgPool2d", "linear6_flatten:Flatten", "linear6:Affine", "integrator:I", "output:Output"},
			[]string{"input>conv0", "conv0>if1", "if1>conv2", "if1>add3_scale1", "conv2>if4", "add3_scale1>if4",
				"if4>globalavgpool5", "globalavgpool5>linear6_flatten", "linear6_flatten>linear6",
				"linear6>integrator", "integrator>output"},
			[]LossKind{LossReset, LossReset, LossV0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, losses, err := FromModel(tc.model, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			nodes, edges := names(g)
			if !slices.Equal(nodes, tc.nodes) {
				t.Errorf("nodes %v\nwant  %v", nodes, tc.nodes)
			}
			if !slices.Equal(edges, tc.edges) {
				t.Errorf("edges %v\nwant  %v", edges, tc.edges)
			}
			var kinds []LossKind
			for _, l := range losses {
				kinds = append(kinds, l.Kind)
			}
			if !slices.Equal(kinds, tc.losses) {
				t.Errorf("losses %v, want %v", losses, tc.losses)
			}
			if _, _, err := FromModel(tc.model, Options{Strict: true}); !errors.As(err, new(*LossError)) {
				t.Errorf("strict export: error %v, want *LossError", err)
			}
		})
	}
}

// TestFolding checks the parameters of the cnn graph against the model:
// θ of if1 (per channel) scales the input channels of conv3, θ of if4
// (per layer) the columns of linear6, and IF nodes carry r, θ and 0.
func TestFolding(t *testing.T) {
	m := cnn()
	g, _, err := FromModel(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c3, l3 := g.Node("conv3").Param("weight"), m.Layers[3]
	if !slices.Equal(c3.Shape, []int{4, 3, 3, 3}) {
		t.Fatalf("conv3 weight shape %v", c3.Shape)
	}
	theta1 := []float32{0.5, 1, 2}
	for k := range 4 {
		for c := range 3 {
			for j := range 9 {
				i := (k*3+c)*9 + j
				if c3.F32[i] != l3.W[i]*theta1[c] {
					t.Fatalf("conv3 weight[%d] = %v, want %v·%v", i, c3.F32[i], l3.W[i], theta1[c])
				}
			}
		}
	}
	a6, l6 := g.Node("linear6").Param("weight"), m.Layers[6]
	for i := range l6.W {
		if a6.F32[i] != l6.W[i]*0.25 {
			t.Fatalf("linear6 weight[%d] = %v, want %v·0.25", i, a6.F32[i], l6.W[i])
		}
	}
	if1 := g.Node("if1")
	if th := if1.Param("v_threshold"); !slices.Equal(th.Shape, []int{3, 4, 4}) || th.F32[0] != 0.5 || th.F32[16] != 1 || th.F32[47] != 2 {
		t.Errorf("if1 v_threshold shape %v values %v", th.Shape, th.F32)
	}
	if r := if1.Param("r"); slices.ContainsFunc(r.F32, func(v float32) bool { return v != 1 }) {
		t.Errorf("if1 r = %v, want 1", r.F32)
	}
	if f := g.Node("flatten5"); !slices.Equal(f.Param("input_type").I64, []int64{4, 2, 2}) ||
		f.Param("start_dim").I64[0] != 0 || f.Param("end_dim").I64[0] != -1 {
		t.Errorf("flatten5 params %+v", f.Params)
	}
	if c0 := g.Node("conv0"); !slices.Equal(c0.Param("padding").I64, []int64{1, 1}) ||
		!slices.Equal(c0.Param("input_shape").I64, []int64{4, 4}) || c0.Param("groups").Shape != nil {
		t.Errorf("conv0 params %+v", c0.Params)
	}
	if !reflect.DeepEqual(g.Metadata, m.Metadata) {
		t.Errorf("metadata %v, want %v", g.Metadata, m.Metadata)
	}
}

func TestFromModelUnsupported(t *testing.T) {
	base := func(l snnrt.Layer) *snnrt.Model {
		m := &snnrt.Model{Input: snnrt.Shape{C: 2, H: 4, W: 4}}
		i := m.MustAppend(ifl(snnrt.InputIndex, 1))
		l.Inputs = []int{i}
		m.MustAppend(l)
		m.MustAppend(snnrt.Layer{Kind: snnrt.KindFlatten, Inputs: []int{len(m.Layers) - 1}})
		return m
	}
	rng := rand.New(rand.NewPCG(5, 6))
	asym := conv(0, 2, 4, 4, 2, rng)
	asym.Conv.PadB = 0
	exclPad := snnrt.Layer{Kind: snnrt.KindAvgPool, Pool: snnrt.PoolGeom{C: 2, H: 4, W: 4, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}}
	tests := []struct {
		name string
		m    *snnrt.Model
	}{
		{"maxpool", base(snnrt.Layer{Kind: snnrt.KindMaxPool, Pool: snnrt.PoolGeom{C: 2, H: 4, W: 4, KH: 2, KW: 2, StrideH: 2, StrideW: 2}})},
		{"concat", base(snnrt.Layer{Kind: snnrt.KindConcat})},
		{"burst", base(snnrt.Layer{Kind: snnrt.KindIF, IF: snnrt.IF{Theta: []float32{1}, MaxSpikes: 4}})},
		{"signed", base(snnrt.Layer{Kind: snnrt.KindIF, IF: snnrt.IF{Theta: []float32{1}, Signed: true}})},
		{"asymmetric padding", base(asym)},
		{"avgpool excluding padding", base(exclPad)},
	}
	for _, tc := range tests {
		_, _, err := FromModel(tc.m, Options{})
		var ue *UnsupportedError
		if !errors.As(err, &ue) || ue.Layer != 1 {
			t.Errorf("%s: error %v, want *UnsupportedError for layer 1", tc.name, err)
		}
	}
}

// TestSemantics runs the model that the NIR graph describes (θ folded,
// membranes normalised to threshold 1) against the original model with
// the same lossy changes made directly (reset to zero, V0 = 0): with
// power-of-two thresholds both must give identical logits at every step.
func TestSemantics(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    *snnrt.Model
	}{{"cnn", cnn()}, {"residual", residual()}} {
		t.Run(tc.name, func(t *testing.T) {
			s, losses, err := Semantics(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			if len(losses) == 0 {
				t.Error("no losses reported")
			}
			ref := *tc.m
			ref.Layers = slices.Clone(ref.Layers)
			for i := range ref.Layers {
				if l := &ref.Layers[i]; l.Kind == snnrt.KindIF {
					l.IF.Reset, l.IF.V0 = snnrt.ResetToZero, nil
				}
			}
			const n, T = 8, 16
			rng := rand.New(rand.NewPCG(7, 8))
			x := randW(rng, n*ref.Input.Len())
			for i := range x {
				x[i] *= 4
			}
			want, err := snnrt.Run(&ref, x, n, snnrt.Config{T: T})
			if err != nil {
				t.Fatal(err)
			}
			got, err := snnrt.Run(s, x, n, snnrt.Config{T: T})
			if err != nil {
				t.Fatal(err)
			}
			spikes := 0.0
			for i := range ref.Layers {
				if ref.Layers[i].Kind == snnrt.KindIF {
					spikes += want.Rate(i)
				}
			}
			if spikes == 0 {
				t.Fatal("reference model never spikes: the test proves nothing")
			}
			for step := 1; step <= T; step++ {
				a, b := want.Logits(step), got.Logits(step)
				for i := range a {
					if a[i] != b[i] {
						t.Fatalf("step %d logit %d: NIR semantics %v, reference %v", step, i, b[i], a[i])
					}
				}
			}
		})
	}
}

func TestGraphValidate(t *testing.T) {
	node := func(name string, p ...Param) Node { return Node{Name: name, Type: TypeScale, Params: p} }
	tests := []struct {
		name string
		g    Graph
		ok   bool
	}{
		{"ok", Graph{Nodes: []Node{node("a", floats("scale", []int{2}, []float32{1, 2})), node("b")},
			Edges: []Edge{{"a", "b"}}}, true},
		{"duplicate node", Graph{Nodes: []Node{node("a"), node("a")}}, false},
		{"slash in name", Graph{Nodes: []Node{node("a/b")}}, false},
		{"no type", Graph{Nodes: []Node{{Name: "a"}}}, false},
		{"edge to nowhere", Graph{Nodes: []Node{node("a")}, Edges: []Edge{{"a", "b"}}}, false},
		{"repeated edge", Graph{Nodes: []Node{node("a"), node("b")}, Edges: []Edge{{"a", "b"}, {"a", "b"}}}, false},
		{"short param", Graph{Nodes: []Node{node("a", floats("scale", []int{3}, []float32{1, 2}))}}, false},
		{"param named type", Graph{Nodes: []Node{node("a", scalar("type", 1))}}, false},
		{"param with both types", Graph{Nodes: []Node{node("a", Param{Name: "x", F32: []float32{1}, I64: []int64{1}})}}, false},
	}
	for _, tc := range tests {
		if err := tc.g.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

func TestToModelUnsupported(t *testing.T) {
	mod := func(f func(g *Graph)) *Graph {
		g, _, err := FromModel(cnn(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		f(g)
		return g
	}
	tests := []struct {
		name string
		g    *Graph
	}{
		{"v_reset", mod(func(g *Graph) { g.Node("if1").Param("v_reset").F32[0] = 0.1 })},
		{"threshold varies in a channel", mod(func(g *Graph) { g.Node("if1").Param("v_threshold").F32[1] = 3 })},
		{"cycle", mod(func(g *Graph) { g.Edges = append(g.Edges, Edge{"if4", "conv3"}) })},
		{"unknown node type", mod(func(g *Graph) { g.Node("avgpool2").Type = "SumPool2d" })},
		{"two outputs", mod(func(g *Graph) {
			g.Nodes = append(g.Nodes, Node{Name: "out2", Type: TypeOutput, Params: []Param{ints("shape", 5)}})
			g.Edges = append(g.Edges, Edge{"linear6", "out2"})
		})},
	}
	for _, tc := range tests {
		if m, err := ToModel(tc.g); err == nil {
			t.Errorf("%s: ToModel accepted the graph (%d layers)", tc.name, len(m.Layers))
		}
	}
}
