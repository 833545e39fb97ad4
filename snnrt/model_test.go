package snnrt

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/ann2snn/ann2snn/internal/kernels"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(m *Model)
		wantErr string // substring; "" = valid
		layer   int    // expected LayerError.Layer, -1 = not a LayerError
	}{
		{"valid", func(m *Model) {}, "", -1},
		{"NaN weight", func(m *Model) { m.Layers[4].W[7] = float32(math.NaN()) }, "W[7]", 4},
		{"Inf bias", func(m *Model) { m.Layers[0].B[1] = float32(math.Inf(1)) }, "B[1]", 0},
		{"zero theta", func(m *Model) { m.Layers[1].IF.Theta[2] = 0 }, "Theta[2]", 1},
		{"NaN V0", func(m *Model) { m.Layers[5].IF.V0 = []float32{float32(math.NaN())} }, "V0", 5},
		{"forward input", func(m *Model) { m.Layers[2].Inputs = []int{3} }, "refers to layer 3", 2},
		{"bad input", func(m *Model) { m.Layers[2].Inputs = []int{-2} }, "refers to layer -2", 2},
		{"shape mismatch", func(m *Model) { m.Layers[3].Shape.C++ }, "stored shape", 3},
		{"short weights", func(m *Model) { m.Layers[6].W = m.Layers[6].W[1:] }, "len(W)", 6},
		{"conv geometry", func(m *Model) { m.Layers[0].Conv.C = 3 }, "geometry", 0},
		{"output IF", func(m *Model) { m.Output = 5 }, "output layer", 5},
		{"output range", func(m *Model) { m.Output = 7 }, "out of range", -1},
		{"arity", func(m *Model) { m.Layers[3].Inputs = []int{2, 2} }, "inputs", 3},
		{"unknown kind", func(m *Model) { m.Layers[3].Kind = 42 }, "unknown", 3},
		{"no layers", func(m *Model) { m.Layers = nil }, "no layers", -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := smallNet(t, 1, false, IF{})
			tc.edit(m)
			err := m.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			var le *LayerError
			if got := errors.As(err, &le); got != (tc.layer >= 0) || (got && le.Layer != tc.layer) {
				t.Fatalf("error %v: LayerError=%v, want layer %d", err, got, tc.layer)
			}
		})
	}
}

func TestAppendShapes(t *testing.T) {
	m := &Model{Input: Shape{3, 32, 32}}
	tests := []struct {
		l    Layer
		want Shape
	}{
		{Layer{Kind: KindConv, Inputs: []int{-1}, W: make([]float32, 8*3*9),
			Conv: kernels.ConvGeom{C: 3, H: 32, W: 32, K: 8, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1}},
			Shape{8, 16, 16}},
		{Layer{Kind: KindIF, Inputs: []int{0}, IF: IF{Theta: []float32{1}}}, Shape{8, 16, 16}},
		{Layer{Kind: KindMaxPool, Inputs: []int{1}, Pool: PoolGeom{C: 8, H: 16, W: 16, KH: 3, KW: 3, StrideH: 2, StrideW: 2, CeilMode: true}},
			Shape{8, 8, 8}},
		{Layer{Kind: KindAvgPool, Inputs: []int{1}, Pool: PoolGeom{C: 8, H: 16, W: 16, KH: 3, KW: 3, StrideH: 2, StrideW: 2}},
			Shape{8, 7, 7}},
		{Layer{Kind: KindConcat, Inputs: []int{1, 0, -1}}, Shape{}}, // spatial mismatch with the input
		{Layer{Kind: KindConcat, Inputs: []int{1, 0}}, Shape{16, 16, 16}},
		{Layer{Kind: KindAdd, Inputs: []int{0, 1}}, Shape{8, 16, 16}},
		{Layer{Kind: KindGlobalAvgPool, Inputs: []int{5}}, Shape{16, 1, 1}},
		{Layer{Kind: KindFlatten, Inputs: []int{2}}, Shape{512, 1, 1}},
		{Layer{Kind: KindLinear, Inputs: []int{7}, W: make([]float32, 16*10)}, Shape{10, 1, 1}},
	}
	for i, tc := range tests {
		idx, err := m.Append(tc.l)
		if tc.want == (Shape{}) {
			if err == nil {
				t.Fatalf("case %d: Append succeeded, want error", i)
			}
			m.Layers = append(m.Layers, Layer{Kind: KindFlatten, Inputs: []int{0}, Shape: Shape{8 * 16 * 16, 1, 1}}) // keep indices aligned
			continue
		}
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if got := m.Layers[idx].Shape; got != tc.want {
			t.Fatalf("case %d (%v): shape %v, want %v", i, tc.l.Kind, got, tc.want)
		}
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestKindNames(t *testing.T) {
	for k := KindConv; k <= KindIF; k++ {
		got, err := ParseKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k.String(), got, err)
		}
	}
	if _, err := ParseKind("relu"); err == nil {
		t.Error("ParseKind(relu) succeeded")
	}
}
