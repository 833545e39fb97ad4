package nir

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/ann2snn/ann2snn/snnrt"
)

// readbackModel is conv0 (3 output channels, 3×3, padding 1, bias) → if1
// (θ = 0.5, 1, 2 per channel) → linear2 (48 → 4, bias) → if3 (θ = 1.5) →
// linear4 (4 → 2, bias), on a 2×4×4 input, with reset to zero and V0 = 0
// so that the export loses nothing. Weights and biases are small distinct
// fractions.
func readbackModel(t *testing.T) *snnrt.Model {
	t.Helper()
	vals := func(n, seed int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32((i*7+seed)%23-11) / 16
		}
		return v
	}
	neuron := func(theta ...float32) snnrt.IF {
		return snnrt.IF{Theta: theta, Reset: snnrt.ResetToZero}
	}
	m := &snnrt.Model{Input: snnrt.Shape{C: 2, H: 4, W: 4}}
	for _, l := range []snnrt.Layer{
		{Name: "conv", Kind: snnrt.KindConv, Inputs: []int{snnrt.InputIndex},
			Conv: snnrt.ConvGeom{C: 2, H: 4, W: 4, K: 3, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
			W:    vals(3*2*9, 1), B: []float32{0.25, -0.5, 0.125}},
		{Name: "if1", Kind: snnrt.KindIF, Inputs: []int{0}, IF: neuron(0.5, 1, 2)},
		{Name: "fc", Kind: snnrt.KindLinear, Inputs: []int{1}, W: vals(4*48, 3), B: []float32{0.5, -0.25, 0, 1}},
		{Name: "if3", Kind: snnrt.KindIF, Inputs: []int{2}, IF: neuron(1.5)},
		{Name: "out", Kind: snnrt.KindLinear, Inputs: []int{3}, W: vals(2*4, 5), B: []float32{-0.75, 0.375}},
	} {
		if _, err := m.Append(l); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// TestNIRFileReadBack writes readbackModel as a NIR file, reads the file
// back with h5read_test.go's reader (written from the HDF5 specification,
// not from internal/hdf5), and checks
//
//   - that the file holds exactly the graph FromModel built: version,
//     metadata, node types, every parameter bit for bit, edges in order;
//   - every weight, bias and threshold against the model, by the fold the
//     package documents: spikes are worth θ in snnrt and 1 in NIR, so the
//     weights reading an IF layer are multiplied by its θ (per input
//     channel); a per-channel θ is folded into the output channels of the
//     layer in front of the IF (weight and bias divided by θ[k], threshold
//     1), a layer-wide θ stays the IF's v_threshold. Here: conv0 weight
//     W[k]/θ1[k], bias b[k]/θ1[k]; linear2 weight W[o][j]·θ1[c(j)], bias b;
//     linear4 weight W·θ3, bias b; if1 v_threshold 1, if3 v_threshold 1.5;
//     r = 1 and v_reset = 0 everywhere (to float32 rounding of the
//     products: 1e-6 relative);
//   - that ToModel of the graph read from the file is Semantics(m).
func TestNIRFileReadBack(t *testing.T) {
	m := readbackModel(t)
	g, losses, err := FromModel(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(losses) != 0 {
		t.Fatalf("losses %v, want none (reset to zero, V0 = 0)", losses)
	}
	path := filepath.Join(t.TempDir(), "model.nir")
	if err := g.Save(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	back, err := readGraph(data)
	if err != nil {
		t.Fatal(err)
	}

	// The file holds the graph.
	if back.Version != Version || !reflect.DeepEqual(back.Metadata, map[string]string{MetaDT: "1"}) {
		t.Errorf("version %q metadata %v", back.Version, back.Metadata)
	}
	if !slices.Equal(back.Edges, g.Edges) {
		t.Errorf("edges %v\nwant  %v", back.Edges, g.Edges)
	}
	if len(back.Nodes) != len(g.Nodes) {
		t.Fatalf("%d nodes in the file, %d in the graph", len(back.Nodes), len(g.Nodes))
	}
	for _, n := range g.Nodes {
		bn := back.Node(n.Name)
		if bn == nil || bn.Type != n.Type || len(bn.Params) != len(n.Params) {
			t.Errorf("node %s: file has %+v, want type %s with %d parameters", n.Name, bn, n.Type, len(n.Params))
			continue
		}
		for _, p := range n.Params {
			bp := bn.Param(p.Name)
			if bp == nil || !slices.Equal(bp.Shape, p.Shape) || !slices.Equal(bp.I64, p.I64) ||
				!slices.Equal(f32bits(bp.F32), f32bits(p.F32)) {
				t.Errorf("node %s parameter %s: file %+v, graph %+v", n.Name, p.Name, bp, p)
			}
		}
	}

	// Every weight, bias and θ against the model.
	theta1, theta3 := m.Layers[1].IF.Theta, m.Layers[3].IF.Theta[0]
	check := func(node, param string, want []float32) {
		t.Helper()
		n := back.Node(node)
		if n == nil {
			t.Errorf("no node %s in the file", node)
			return
		}
		p := n.Param(param)
		if p == nil || len(p.F32) != len(want) {
			t.Errorf("%s/%s: %+v, want %d values", node, param, p, len(want))
			return
		}
		for i, w := range want {
			if d := math.Abs(float64(p.F32[i] - w)); d > 1e-6*math.Max(1, math.Abs(float64(w))) {
				t.Errorf("%s/%s[%d] = %v, want %v", node, param, i, p.F32[i], w)
				return
			}
		}
	}
	conv, fc, out := &m.Layers[0], &m.Layers[2], &m.Layers[4]
	w0 := make([]float32, len(conv.W))
	for i, v := range conv.W {
		w0[i] = v / theta1[i/18] // [3,2,3,3]: output channel i/18
	}
	b0 := make([]float32, 3)
	for k := range b0 {
		b0[k] = conv.B[k] / theta1[k]
	}
	check("conv0", "weight", w0)
	check("conv0", "bias", b0)
	w2 := make([]float32, len(fc.W))
	for i, v := range fc.W {
		w2[i] = v * theta1[(i%48)/16] // input j = c·16 + position
	}
	check("linear2", "weight", w2)
	check("linear2", "bias", fc.B)
	w4 := make([]float32, len(out.W))
	for i, v := range out.W {
		w4[i] = v * theta3
	}
	check("linear4", "weight", w4)
	check("linear4", "bias", out.B)
	for _, node := range []struct {
		name      string
		size      int
		threshold float32
	}{{"if1", 48, 1}, {"if3", 4, theta3}} {
		check(node.name, "r", fill(node.size, 1))
		check(node.name, "v_threshold", fill(node.size, node.threshold))
		check(node.name, "v_reset", fill(node.size, 0))
	}

	// The graph read from the file describes Semantics(m).
	got, err := ToModel(back)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := Semantics(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Layers) != len(want.Layers) {
		t.Fatalf("ToModel(file): %d layers, Semantics: %d", len(got.Layers), len(want.Layers))
	}
	for i := range want.Layers {
		a, b := &got.Layers[i], &want.Layers[i]
		if a.Kind != b.Kind || !slices.Equal(f32bits(a.W), f32bits(b.W)) || !slices.Equal(f32bits(a.B), f32bits(b.B)) ||
			!slices.Equal(f32bits(a.IF.Theta), f32bits(b.IF.Theta)) {
			t.Errorf("layer %d (%s): ToModel(file) differs from Semantics", i, b.Name)
		}
	}
}

func f32bits(v []float32) []uint32 {
	out := make([]uint32, len(v))
	for i, x := range v {
		out[i] = math.Float32bits(x)
	}
	return out
}
