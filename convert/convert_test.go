package convert

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ann2snn/ann2snn/calibrate"
	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/snnrt"
)

func TestClipBalance(t *testing.T) {
	tests := []struct {
		name         string
		lambda, data []float32
		want         []float32
	}{
		{"data below λ", []float32{6}, []float32{1.5}, []float32{1.5}},
		{"data above λ", []float32{6}, []float32{7}, []float32{6}},
		{"per-channel data, one λ", []float32{6}, []float32{0.5, 6, 9, 2}, []float32{0.5, 6, 6, 2}},
		{"silent channel keeps λ", []float32{6}, []float32{0, 3}, []float32{6, 3}},
		{"per-channel λ, one data value", []float32{1, 4}, []float32{2}, []float32{1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := clipBalance(tc.lambda, tc.data)
			if !slices.Equal(got, tc.want) {
				t.Errorf("clipBalance(%v, %v) = %v, want %v", tc.lambda, tc.data, got, tc.want)
			}
		})
	}
}

// tinyGraph is y = W2·relu(W1·x + b1) + b2 on two inputs, three hidden
// units and two outputs:
//
//	h0 = x0, h1 = x1, h2 = x0 − x1 + 0.1
//	y0 = h0 + h1 − h2 + 0.5, y1 = −h0 + 2·h2 − 0.25
func tinyGraph() *importer.Graph {
	return &importer.Graph{
		Inputs:  []importer.Value{{Name: "x", Shape: []int{-1, 2}}},
		Outputs: []string{"y"},
		Opset:   13,
		Consts: map[string]*importer.Tensor{
			"w1": {Shape: []int{3, 2}, Data: []float32{1, 0, 0, 1, 1, -1}},
			"b1": {Shape: []int{3}, Data: []float32{0, 0, 0.1}},
			"w2": {Shape: []int{2, 3}, Data: []float32{1, 1, -1, -1, 0, 2}},
			"b2": {Shape: []int{2}, Data: []float32{0.5, -0.25}},
		},
		Nodes: []*importer.Node{
			{Name: "fc1", Op: "Gemm", Inputs: []string{"x", "w1", "b1"}, Outputs: []string{"a"}, Attrs: importer.Attrs{"transB": int64(1)}},
			{Name: "relu", Op: "Relu", Inputs: []string{"a"}, Outputs: []string{"h"}, Attrs: importer.Attrs{}},
			{Name: "fc2", Op: "Gemm", Inputs: []string{"h", "w2", "b2"}, Outputs: []string{"y"}, Attrs: importer.Attrs{"transB": int64(1)}},
		},
	}
}

// TestConvertTinyNetwork converts tinyGraph with the Max norm and checks
// the SNN's output per image and class against values derived by hand
// from the IF neuron's definition (snnrt.IF), not from the simulator.
//
// Calibration on the three images below gives the hidden activations
// h = (0.3, 0.8, 0), (0.65, 0.1, 0.65), (1, 0.45, 0.65), so Max sets
// λ = 1 and, with the default two spikes per step, θ = λ/2 = 0.5 and
// V0 = θ/2 = 0.25. A hidden unit under constant current z ∈ [0, λ] fires,
// after T steps, n = ⌊(V0 + T·z)/θ⌋ spikes (its membrane stays in [0, θ)
// and never needs more than two spikes in a step); for T = 8 that is
// n = ⌊0.5 + 16z⌋: z = 0.3 → 5, 0.8 → 13, 0.65 → 10, 0.1 → 2, 1 → 16,
// 0.45 → 7, and a negative current (h2 of image 0, z = −0.4) never fires.
// Each spike carries θ, and fc2's bias is added at every step, so
// Logits(8)/8 = W2·(θ·n/8) + b2 = W2·(n/16) + b2:
//
//	image 0: n = (5, 13, 0):   y0 = 18/16 + 0.5 = 1.625,  y1 = −5/16 − 0.25 = −0.5625
//	image 1: n = (10, 2, 10):  y0 = 2/16 + 0.5 = 0.625,   y1 = 10/16 − 0.25 = 0.375
//	image 2: n = (16, 7, 10):  y0 = 13/16 + 0.5 = 1.3125, y1 = 4/16 − 0.25 = 0
//
// (The ANN gives y0 = 1.6 for image 0: the SNN's 1.625 is its rounding
// quantiser at T = 8, which is what is checked.)
func TestConvertTinyNetwork(t *testing.T) {
	x := []float32{0.3, 0.8, 0.65, 0.1, 1, 0.45}
	const n, steps = 3, 8
	m, err := Convert(tinyGraph(), x, n, Options{T: steps, Norm: calibrate.Max{}, PerLayer: true})
	if err != nil {
		t.Fatal(err)
	}
	var theta []float32
	ifLayer := -1
	for i, l := range m.Layers {
		if l.Kind == snnrt.KindIF {
			theta, ifLayer = l.IF.Theta, i
			if !slices.Equal(l.IF.Theta, []float32{0.5}) || !slices.Equal(l.IF.V0, []float32{0.25}) || l.IF.MaxSpikes != 2 {
				t.Errorf("IF layer %s: θ %v, V0 %v, MaxSpikes %d; want θ [0.5], V0 [0.25], 2", l.Name, l.IF.Theta, l.IF.V0, l.IF.MaxSpikes)
			}
		}
	}
	if theta == nil {
		t.Fatal("no IF layer")
	}
	want := []float64{1.625, -0.5625, 0.625, 0.375, 1.3125, 0}
	for _, run := range []struct {
		name string
		run  func() (*snnrt.Result, error)
	}{
		{"Run", func() (*snnrt.Result, error) { return snnrt.Run(m, x, n, snnrt.Config{T: steps}) }},
		{"Simulator", func() (*snnrt.Result, error) {
			sim, err := snnrt.NewSimulator(m, snnrt.Config{T: steps})
			if err != nil {
				return nil, err
			}
			return sim.Run(x, n)
		}},
	} {
		res, err := run.run()
		if err != nil {
			t.Fatalf("%s: %v", run.name, err)
		}
		got := res.Logits(steps)
		if len(got) != len(want) {
			t.Fatalf("%s: %d outputs, want %d", run.name, len(got), len(want))
		}
		for i, w := range want {
			if g := float64(got[i]) / steps; math.Abs(g-w) > 1e-6 {
				t.Errorf("%s: image %d output %d: Logits(8)/8 = %.7f, want %.7f", run.name, i/2, i%2, g, w)
			}
		}
	}
	for _, k := range []string{"convert.t", "convert.norm", SourceKey(ifLayer)} {
		if m.Metadata[k] == "" {
			t.Errorf("metadata %q missing", k)
		}
	}
}

// TestActivationErrorChain: a quantiser-like chain that is not an affine
// map (a constant divided by the activation) is refused with a
// *ConvertError naming the node, reachable with errors.As through Lower
// and Convert.
func TestActivationErrorChain(t *testing.T) {
	g := tinyGraph()
	g.Outputs = []string{"z"}
	g.Consts["step"] = &importer.Tensor{Data: []float32{0.25}}
	g.Consts["half"] = &importer.Tensor{Data: []float32{0.5}}
	g.Nodes = []*importer.Node{
		g.Nodes[0], // fc1: a
		{Name: "div", Op: "Div", Inputs: []string{"step", "a"}, Outputs: []string{"b"}, Attrs: importer.Attrs{}},
		{Name: "add", Op: "Add", Inputs: []string{"b", "half"}, Outputs: []string{"d"}, Attrs: importer.Attrs{}},
		{Name: "floor", Op: "Floor", Inputs: []string{"d"}, Outputs: []string{"e"}, Attrs: importer.Attrs{}},
		{Name: "clip", Op: "Clip", Inputs: []string{"e"}, Outputs: []string{"f"}, Attrs: importer.Attrs{"min": float32(0), "max": float32(4)}},
		{Name: "mul", Op: "Mul", Inputs: []string{"f", "step"}, Outputs: []string{"z"}, Attrs: importer.Attrs{}},
	}
	for _, tc := range []struct {
		name string
		run  func() error
	}{
		{"Lower", func() error { _, err := Lower(Clone(g)); return err }},
		{"Convert", func() error { _, err := Convert(g, []float32{0.3, 0.8}, 1, Options{}); return err }},
	} {
		err := tc.run()
		var ce *ConvertError
		if !errors.As(err, &ce) || ce.Node != "div" || ce.Op != "Div" {
			t.Errorf("%s: got %v, want a *ConvertError naming node div (Div)", tc.name, err)
			continue
		}
		if !strings.Contains(err.Error(), "not an affine map") || !strings.HasPrefix(err.Error(), "convert: ") {
			t.Errorf("%s: message %q", tc.name, err)
		}
	}
}
