package nir

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
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
			[]string{"input:Input", "conv0:Conv2d", "if1:IF", "conv2:Conv2d", "if4_in1:Conv2d", "if4:IF",
				"globalavgpool5:AvgPool2d", "linear6_flatten:Flatten", "linear6:Affine", "integrator:I", "output:Output"},
			[]string{"input>conv0", "conv0>if1", "if1>conv2", "if1>if4_in1", "conv2>if4", "if4_in1>if4",
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

// residualUniform: conv → IF(θ = 2) → conv → (+ skip) → IF(θ = 1) →
// linear: the skip's spike value 2 is folded into conv2's weights and
// bias (×1/2) and if4's threshold (1/2), so no node is added.
func residualUniform() *snnrt.Model {
	rng := rand.New(rand.NewPCG(9, 10))
	m := &snnrt.Model{Input: snnrt.Shape{C: 2, H: 3, W: 3}}
	a := m.MustAppend(conv(snnrt.InputIndex, 2, 3, 3, 2, rng))
	a = m.MustAppend(ifl(a, 2))
	b := m.MustAppend(conv(a, 2, 3, 3, 2, rng))
	s := m.MustAppend(snnrt.Layer{Kind: snnrt.KindAdd, Inputs: []int{b, a}})
	s = m.MustAppend(ifl(s, 1))
	m.MustAppend(snnrt.Layer{Kind: snnrt.KindLinear, Inputs: []int{s}, W: randW(rng, 3*18), B: randW(rng, 3)})
	return m
}

// scaled returns v[i]·f(i).
func scaled(v []float32, f func(i int) float32) []float32 {
	out := make([]float32, len(v))
	for i := range v {
		out[i] = v[i] * f(i)
	}
	return out
}

func constant(n int, v float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// TestFolding checks every weight, bias and IF parameter of the exported
// graphs against the model's, with the folding derived by hand: θ of an
// IF scales the input columns of the next synaptic layer; a per-channel
// θ divides the output rows and bias of the layer before it and leaves
// v_threshold = 1; a per-layer θ stays in v_threshold; SumPool2d's 1/4
// goes into the next layer's columns; a residual skip's spike value goes
// into the other branch's rows and bias and into the next threshold.
// Every IF has r = 1, and no Scale node remains.
func TestFolding(t *testing.T) {
	cnnM, resM, uniM := cnn(), residual(), residualUniform()
	theta1 := []float32{0.5, 1, 2}
	tests := []struct {
		name   string
		m      *snnrt.Model
		opt    Options
		vreset bool
		want   map[string][]float32 // "node/param" → its values
	}{
		{"cnn", cnnM, Options{}, true, map[string][]float32{
			"conv0/weight":    scaled(cnnM.Layers[0].W, func(i int) float32 { return 1 / theta1[i/18] }),
			"conv0/bias":      scaled(cnnM.Layers[0].B, func(i int) float32 { return 1 / theta1[i] }),
			"if1/v_threshold": constant(48, 1),
			"if1/r":           constant(48, 1),
			"conv3/weight":    scaled(cnnM.Layers[3].W, func(i int) float32 { return theta1[i/9%3] }),
			"conv3/bias":      cnnM.Layers[3].B,
			"if4/v_threshold": constant(16, 0.25),
			"linear6/weight":  scaled(cnnM.Layers[6].W, func(int) float32 { return 0.25 }),
			"linear6/bias":    cnnM.Layers[6].B,
			"if4/v_reset":     constant(16, 0),
		}},
		{"cnn sumpool", cnnM, Options{SumPool: true}, true, map[string][]float32{
			"conv0/weight":    scaled(cnnM.Layers[0].W, func(i int) float32 { return 1 / theta1[i/18] }),
			"conv3/weight":    scaled(cnnM.Layers[3].W, func(i int) float32 { return theta1[i/9%3] / 4 }),
			"conv3/bias":      cnnM.Layers[3].B,
			"if4/v_threshold": constant(16, 0.25),
		}},
		{"cnn nir 1.0.5", cnnM, Options{NIRVersion: "1.0.5"}, false, map[string][]float32{
			"if1/v_threshold": constant(48, 1),
			"if4/v_threshold": constant(16, 0.25),
		}},
		{"residual, per-channel skip", resM, Options{}, true, map[string][]float32{
			"conv0/weight":    scaled(resM.Layers[0].W, func(i int) float32 { return []float32{2, 0.5}[i/18] }),
			"conv0/bias":      scaled(resM.Layers[0].B, func(i int) float32 { return []float32{2, 0.5}[i] }),
			"if1/v_threshold": constant(18, 1),
			"conv2/weight":    scaled(resM.Layers[2].W, func(i int) float32 { return []float32{0.5, 2}[i/9%2] }),
			"conv2/bias":      resM.Layers[2].B,
			// the skip's (0.5, 2) over if4's θ = 1, on the diagonal
			"if4_in1/weight":  {0.5, 0, 0, 2},
			"if4_in1/bias":    {0, 0},
			"if4/v_threshold": constant(18, 1),
			"linear6/weight":  resM.Layers[6].W,
		}},
		{"residual, per-layer skip", uniM, Options{}, true, map[string][]float32{
			"conv0/weight":    scaled(uniM.Layers[0].W, func(int) float32 { return 1 }),
			"if1/v_threshold": constant(18, 2),
			"conv2/weight":    scaled(uniM.Layers[2].W, func(int) float32 { return 2.0 / 2 }), // ·θ1 = 2 in, ·1/2 out
			"conv2/bias":      scaled(uniM.Layers[2].B, func(int) float32 { return 0.5 }),
			"if4/v_threshold": constant(18, 0.5),
			"linear5/weight":  uniM.Layers[5].W, // if4's spikes are worth θ = 1
			"linear5/bias":    uniM.Layers[5].B,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, _, err := FromModel(tc.m, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range tc.want {
				node, param, _ := strings.Cut(k, "/")
				n := g.Node(node)
				if n == nil {
					t.Errorf("no node %s", node)
					continue
				}
				if p := n.Param(param); p == nil || !slices.Equal(p.F32, want) {
					t.Errorf("%s = %v\nwant %v", k, p, want)
				}
			}
			for _, n := range g.Nodes {
				switch n.Type {
				case TypeScale:
					t.Errorf("node %s: Scale node left in the graph", n.Name)
				case TypeIF:
					if r := n.Param("r"); slices.ContainsFunc(r.F32, func(v float32) bool { return v != 1 }) {
						t.Errorf("node %s: r = %v, want 1", n.Name, r.F32)
					}
					if th := n.Param("v_threshold").F32; slices.ContainsFunc(th, func(v float32) bool { return v != th[0] }) {
						t.Errorf("node %s: several thresholds %v", n.Name, th)
					}
					if (n.Param("v_reset") != nil) != tc.vreset {
						t.Errorf("node %s: v_reset present %v, want %v (NIR %q)", n.Name, n.Param("v_reset") != nil, tc.vreset, tc.opt.NIRVersion)
					}
				case TypeAvgPool2d, TypeSumPool2d:
					if (n.Type == TypeSumPool2d) != tc.opt.SumPool {
						t.Errorf("node %s: type %s with SumPool %v", n.Name, n.Type, tc.opt.SumPool)
					}
				}
			}
			if g.Metadata[MetaDT] != "1" {
				t.Errorf("metadata %v: no %s = 1", g.Metadata, MetaDT)
			}
		})
	}
	g, _, err := FromModel(cnnM, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f := g.Node("flatten5"); !slices.Equal(f.Param("input_type").I64, []int64{4, 2, 2}) ||
		f.Param("start_dim").I64[0] != 0 || f.Param("end_dim").I64[0] != -1 {
		t.Errorf("flatten5 params %+v", f.Params)
	}
	if c0 := g.Node("conv0"); !slices.Equal(c0.Param("padding").I64, []int64{1, 1}) ||
		!slices.Equal(c0.Param("input_shape").I64, []int64{4, 4}) || c0.Param("groups").Shape != nil {
		t.Errorf("conv0 params %+v", c0.Params)
	}
	if g.Metadata["ann2snn.dataset"] != cnnM.Metadata["ann2snn.dataset"] {
		t.Errorf("metadata %v, want %v", g.Metadata, cnnM.Metadata)
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
// membranes normalised to one threshold per layer) against the original
// model with the same lossy changes made directly (NIR >= 1.0.6: reset to
// zero, V0 = 0; NIR 1.0.5: reset by subtraction, V0 = 0): with
// power-of-two thresholds both must give identical logits at every step,
// so the spikes of every IF layer are the same.
func TestSemantics(t *testing.T) {
	zero := cnn()
	for i := range zero.Layers {
		zero.Layers[i].IF.Reset = snnrt.ResetToZero
	}
	for _, tc := range []struct {
		name   string
		m      *snnrt.Model
		opt    Options
		lossy  bool
		legacy bool
	}{
		{"cnn", cnn(), Options{}, true, false},
		{"cnn sumpool", cnn(), Options{SumPool: true}, true, false},
		{"cnn 1.0.5", cnn(), Options{NIRVersion: "1.0.5"}, false, true},
		{"cnn reset to zero", zero, Options{}, false, false},
		{"cnn reset to zero 1.0.5", zero, Options{NIRVersion: "1.0.5"}, true, true},
		{"residual", residual(), Options{Integrate: true}, true, false},
		{"residual 1.0.5", residual(), Options{NIRVersion: "1.0.5"}, true, true},
		{"residual per-layer θ", residualUniform(), Options{}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, losses, err := FromModel(tc.m, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			s, err := ToModel(g)
			if err != nil {
				t.Fatal(err)
			}
			if (len(losses) > 0) != tc.lossy {
				t.Errorf("losses %v, want some: %v", losses, tc.lossy)
			}
			ref := *tc.m
			ref.Layers = slices.Clone(ref.Layers)
			for i := range ref.Layers {
				if l := &ref.Layers[i]; l.Kind == snnrt.KindIF {
					l.IF.Reset, l.IF.V0 = snnrt.ResetToZero, nil
					if tc.legacy {
						l.IF.Reset = snnrt.ResetBySubtraction
					}
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
		{"unknown node type", mod(func(g *Graph) { g.Node("avgpool2").Type = "MaxPool2d" })},
		{"v_reset in a 1.0.5 graph", mod(func(g *Graph) { g.Version = "1.0.5" })},
		{"no v_reset in a 1.0.6 graph", mod(func(g *Graph) {
			g.Version = "1.0.6"
			n := g.Node("if1")
			n.Params = slices.DeleteFunc(n.Params, func(p Param) bool { return p.Name == "v_reset" })
		})},
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

// TestSumPoolRefused checks that SumPool2d is refused where its 1/(kh·kw)
// cannot go into one synaptic layer: pooling read by an IF, by two
// layers, or by the read-out.
func TestSumPoolRefused(t *testing.T) {
	pool := snnrt.Layer{Kind: snnrt.KindAvgPool, Pool: snnrt.PoolGeom{C: 2, H: 4, W: 4, KH: 2, KW: 2, StrideH: 2, StrideW: 2}}
	build := func(f func(m *snnrt.Model, p int)) *snnrt.Model {
		m := &snnrt.Model{Input: snnrt.Shape{C: 2, H: 4, W: 4}}
		i := m.MustAppend(ifl(snnrt.InputIndex, 1))
		l := pool
		l.Inputs = []int{i}
		f(m, m.MustAppend(l))
		return m
	}
	rng := rand.New(rand.NewPCG(11, 12))
	tests := []struct {
		name string
		m    *snnrt.Model
		ok   bool
	}{
		{"conv reads the pool", build(func(m *snnrt.Model, p int) { m.MustAppend(conv(p, 2, 2, 2, 2, rng)) }), true},
		{"flatten and linear", build(func(m *snnrt.Model, p int) {
			f := m.MustAppend(snnrt.Layer{Kind: snnrt.KindFlatten, Inputs: []int{p}})
			m.MustAppend(snnrt.Layer{Kind: snnrt.KindLinear, Inputs: []int{f}, W: randW(rng, 3*8)})
		}), true},
		{"IF reads the pool", build(func(m *snnrt.Model, p int) {
			m.MustAppend(conv(m.MustAppend(ifl(p, 1)), 2, 2, 2, 2, rng))
		}), false},
		{"read-out", build(func(*snnrt.Model, int) {}), false},
		{"two readers", build(func(m *snnrt.Model, p int) {
			a := m.MustAppend(conv(p, 2, 2, 2, 2, rng))
			m.MustAppend(snnrt.Layer{Kind: snnrt.KindAdd, Inputs: []int{a, p}})
		}), false},
	}
	for _, tc := range tests {
		_, _, err := FromModel(tc.m, Options{SumPool: true})
		var ue *UnsupportedError
		if tc.ok && err != nil || !tc.ok && (!errors.As(err, &ue) || ue.Layer != 1) {
			t.Errorf("%s: error %v, want ok %v (else *UnsupportedError for the pool, layer 1)", tc.name, err, tc.ok)
		}
		if _, _, err := FromModel(tc.m, Options{}); err != nil {
			t.Errorf("%s: AvgPool2d export: %v", tc.name, err)
		}
	}
}

func TestCheckVersion(t *testing.T) {
	for _, tc := range []struct {
		v  string
		ok bool
	}{{"1.0.5", true}, {"1.0.7", true}, {"1.2.0", true}, {"2.0.0", false}, {"1.0", false}, {"1.0.x", false}, {"", false}, {"1.0.-1", false}} {
		if err := CheckVersion(tc.v); (err == nil) != tc.ok {
			t.Errorf("CheckVersion(%q) = %v, want ok %v", tc.v, err, tc.ok)
		}
	}
}

// TestBurst: unsigned burst neurons export only with Options.Burst and a
// NIR version before 1.0.6 (sinabs's IF), each reported as LossBurst;
// signed burst neurons never.
func TestBurst(t *testing.T) {
	model := func(signed bool) *snnrt.Model {
		m := &snnrt.Model{Input: snnrt.Shape{C: 2, H: 4, W: 4}}
		rng := rand.New(rand.NewPCG(7, 8))
		m.MustAppend(conv(snnrt.InputIndex, 2, 4, 4, 2, rng))
		m.MustAppend(snnrt.Layer{Kind: snnrt.KindIF, Inputs: []int{0}, IF: snnrt.IF{Theta: []float32{0.5}, MaxSpikes: 3, Signed: signed}})
		m.MustAppend(snnrt.Layer{Kind: snnrt.KindFlatten, Inputs: []int{1}})
		return m
	}
	tests := []struct {
		name    string
		signed  bool
		opt     Options
		exports bool
	}{
		{"1.0.5 with Burst", false, Options{NIRVersion: "1.0.5", Burst: true}, true},
		{"1.0.5 without Burst", false, Options{NIRVersion: "1.0.5"}, false},
		{"1.0.7 with Burst", false, Options{NIRVersion: "1.0.7", Burst: true}, false},
		{"signed, 1.0.5 with Burst", true, Options{NIRVersion: "1.0.5", Burst: true}, false},
	}
	for _, tc := range tests {
		g, losses, err := FromModel(model(tc.signed), tc.opt)
		if !tc.exports {
			var ue *UnsupportedError
			if !errors.As(err, &ue) || ue.Layer != 1 {
				t.Errorf("%s: error %v, want *UnsupportedError for layer 1", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(losses) != 1 || losses[0].Kind != LossBurst || losses[0].Layer != 1 {
			t.Errorf("%s: losses %v, want one LossBurst for layer 1", tc.name, losses)
		}
		if n := g.Node("if1"); n == nil || n.Type != TypeIF || n.Param("v_reset") != nil {
			t.Errorf("%s: node if1 %+v, want an IF without v_reset", tc.name, n)
		}
		if _, _, err := FromModel(model(false), Options{NIRVersion: "1.0.5", Burst: true, Strict: true}); err == nil {
			t.Errorf("%s: Strict exported a lossy graph", tc.name)
		}
	}
}
