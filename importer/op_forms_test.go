package importer

import (
	"errors"
	"math"
	"testing"
)

// TestEvalModernOps checks the operators that modern PyTorch exports need
// against hand-derived values, every output of multi-output nodes included.
func TestEvalModernOps(t *testing.T) {
	x22 := ft([]int{2, 2}, 1, 2, 3, 4)
	inf := float32(math.Inf(1))
	tests := []struct {
		name   string
		node   *Node
		in     []*Tensor
		want   []*Tensor
		inputs []string // node inputs when some are absent ("")
	}{
		{"reducemean attr axes", &Node{Op: "ReduceMean", Attrs: Attrs{"axes": []int64{1}, "keepdims": int64(0)}}, []*Tensor{x22}, []*Tensor{ft([]int{2}, 1.5, 3.5)}, nil},
		{"reducesum axes input", &Node{Op: "ReduceSum"}, []*Tensor{x22, it([]int{1}, 0)}, []*Tensor{ft([]int{1, 2}, 4, 6)}, nil},
		{"reducemax all", &Node{Op: "ReduceMax", Attrs: Attrs{"keepdims": int64(0)}}, []*Tensor{x22}, []*Tensor{ft([]int{}, 4)}, nil},
		{"reducemin negative axis", &Node{Op: "ReduceMin"}, []*Tensor{x22, it([]int{1}, -1)}, []*Tensor{ft([]int{2, 1}, 1, 3)}, nil},
		{"reducesum noop empty axes", &Node{Op: "ReduceSum", Attrs: Attrs{"noop_with_empty_axes": int64(1)}}, []*Tensor{x22, it([]int{0})}, []*Tensor{x22}, nil},
		{"reducesum empty axes all", &Node{Op: "ReduceSum", Attrs: Attrs{"keepdims": int64(0)}}, []*Tensor{x22, it([]int{0})}, []*Tensor{ft([]int{}, 10)}, nil},
		{"reducesum ints", &Node{Op: "ReduceSum", Attrs: Attrs{"axes": []int64{0}, "keepdims": int64(0)}}, []*Tensor{it([]int{2, 2}, 1, 2, 3, 4)}, []*Tensor{it([]int{2}, 4, 6)}, nil},
		{"cast float to int64", &Node{Op: "Cast", Attrs: Attrs{"to": int64(dtInt64)}}, []*Tensor{ft([]int{3}, 1.7, -1.7, 0)}, []*Tensor{it([]int{3}, 1, -1, 0)}, nil},
		{"cast int to float", &Node{Op: "Cast", Attrs: Attrs{"to": int64(dtFloat)}}, []*Tensor{it([]int{2}, 3, -4)}, []*Tensor{ft([]int{2}, 3, -4)}, nil},
		{"cast to bool", &Node{Op: "Cast", Attrs: Attrs{"to": int64(dtBool)}}, []*Tensor{ft([]int{3}, 0, 0.5, -2)}, []*Tensor{it([]int{3}, 0, 1, 1)}, nil},
		{"cast int32 wraps", &Node{Op: "Cast", Attrs: Attrs{"to": int64(dtInt32)}}, []*Tensor{it([]int{1}, 1<<32+5)}, []*Tensor{it([]int{1}, 5)}, nil},
		// 1+2^-11 is a tie between 1 and 1+2^-10: ties to even gives 1.
		{"cast to float16", &Node{Op: "Cast", Attrs: Attrs{"to": int64(dtFloat16)}}, []*Tensor{ft([]int{4}, 1+1.0/2048, 65519, 65520, 1e-8)}, []*Tensor{ft([]int{4}, 1, 65504, inf, 0)}, nil},
		{"split attr", &Node{Op: "Split", Attrs: Attrs{"split": []int64{1, 2}}}, []*Tensor{ft([]int{3}, 1, 2, 3)}, []*Tensor{ft([]int{1}, 1), ft([]int{2}, 2, 3)}, nil},
		{"split input axis 1", &Node{Op: "Split", Attrs: Attrs{"axis": int64(1)}}, []*Tensor{ft([]int{2, 3}, 1, 2, 3, 4, 5, 6), it([]int{2}, 2, 1)}, []*Tensor{ft([]int{2, 2}, 1, 2, 4, 5), ft([]int{2, 1}, 3, 6)}, nil},
		{"split num_outputs uneven", &Node{Op: "Split", Attrs: Attrs{"num_outputs": int64(2)}}, []*Tensor{ft([]int{5}, 1, 2, 3, 4, 5)}, []*Tensor{ft([]int{3}, 1, 2, 3), ft([]int{2}, 4, 5)}, nil},
		{"split equal", &Node{Op: "Split"}, []*Tensor{it([]int{4}, 1, 2, 3, 4)}, []*Tensor{it([]int{2}, 1, 2), it([]int{2}, 3, 4)}, nil},
		{"expand", &Node{Op: "Expand"}, []*Tensor{ft([]int{2, 1}, 1, 2), it([]int{3}, 1, 1, 3)}, []*Tensor{ft([]int{1, 2, 3}, 1, 1, 1, 2, 2, 2)}, nil},
		{"expand keeps larger", &Node{Op: "Expand"}, []*Tensor{ft([]int{2, 2}, 1, 2, 3, 4), it([]int{1}, 1)}, []*Tensor{x22}, nil},
		{"where", &Node{Op: "Where"}, []*Tensor{it([]int{2}, 1, 0), ft([]int{2, 1}, 1, 2), ft([]int{}, 9)}, []*Tensor{ft([]int{2, 2}, 1, 9, 2, 9)}, nil},
		{"where ints", &Node{Op: "Where"}, []*Tensor{it([]int{2}, 0, 1), it([]int{2}, 1, 2), it([]int{2}, 3, 4)}, []*Tensor{it([]int{2}, 3, 2)}, nil},
		{"equal ints", &Node{Op: "Equal"}, []*Tensor{it([]int{3}, 1, 2, 3), it([]int{}, 2)}, []*Tensor{it([]int{3}, 0, 1, 0)}, nil},
		{"less nan", &Node{Op: "Less"}, []*Tensor{ft([]int{3}, 1, float32(math.NaN()), 3), ft([]int{}, 2)}, []*Tensor{it([]int{3}, 1, 0, 0)}, nil},
		{"greaterorequal", &Node{Op: "GreaterOrEqual"}, []*Tensor{ft([]int{3}, 1, 2, 3), ft([]int{}, 2)}, []*Tensor{it([]int{3}, 0, 1, 1)}, nil},
		{"not", &Node{Op: "Not"}, []*Tensor{it([]int{2}, 0, 1)}, []*Tensor{it([]int{2}, 1, 0)}, nil},
		{"constantofshape default", &Node{Op: "ConstantOfShape"}, []*Tensor{it([]int{2}, 1, 2)}, []*Tensor{ft([]int{1, 2}, 0, 0)}, nil},
		{"constantofshape int", &Node{Op: "ConstantOfShape", Attrs: Attrs{"value": it([]int{1}, 7)}}, []*Tensor{it([]int{1}, 3)}, []*Tensor{it([]int{3}, 7, 7, 7)}, nil},
		{"range int negative", &Node{Op: "Range"}, []*Tensor{it([]int{}, 10), it([]int{}, 4), it([]int{}, -3)}, []*Tensor{it([]int{2}, 10, 7)}, nil},
		{"range float", &Node{Op: "Range"}, []*Tensor{ft([]int{}, 0), ft([]int{}, 1), ft([]int{}, 0.25)}, []*Tensor{ft([]int{4}, 0, 0.25, 0.5, 0.75)}, nil},
		{"range empty", &Node{Op: "Range"}, []*Tensor{it([]int{}, 5), it([]int{}, 1), it([]int{}, 1)}, []*Tensor{{Shape: []int{0}, Ints: []int64{}}}, nil},
		{"sum three broadcast", &Node{Op: "Sum"}, []*Tensor{ft([]int{2}, 1, 2), ft([]int{2, 1}, 10, 20), ft([]int{}, 100)}, []*Tensor{ft([]int{2, 2}, 111, 112, 121, 122)}, nil},
		{"max", &Node{Op: "Max"}, []*Tensor{ft([]int{3}, 1, 5, 3), ft([]int{3}, 4, 2, 6)}, []*Tensor{ft([]int{3}, 4, 5, 6)}, nil},
		{"min ints", &Node{Op: "Min"}, []*Tensor{it([]int{2}, 1, 5), it([]int{}, 3)}, []*Tensor{it([]int{2}, 1, 3)}, nil},
		{"mean", &Node{Op: "Mean"}, []*Tensor{ft([]int{1}, 1), ft([]int{1}, 2)}, []*Tensor{ft([]int{1}, 1.5)}, nil},
		{"pow float", &Node{Op: "Pow"}, []*Tensor{ft([]int{2}, 2, 9), ft([]int{2}, 3, 0.5)}, []*Tensor{ft([]int{2}, 8, 3)}, nil},
		{"pow int base", &Node{Op: "Pow"}, []*Tensor{it([]int{2}, 2, 3), ft([]int{}, 2)}, []*Tensor{it([]int{2}, 4, 9)}, nil},
		{"erf", &Node{Op: "Erf"}, []*Tensor{ft([]int{2}, 0, 1)}, []*Tensor{ft([]int{2}, 0, 0.8427008)}, nil},
		{"hardsigmoid", &Node{Op: "HardSigmoid", Attrs: Attrs{"alpha": float32(0.5), "beta": float32(0.5)}}, []*Tensor{ft([]int{3}, -2, 0, 2)}, []*Tensor{ft([]int{3}, 0, 0.5, 1)}, nil},
		{"hardswish", &Node{Op: "HardSwish"}, []*Tensor{ft([]int{4}, -3, 0, 1, 3)}, []*Tensor{ft([]int{4}, 0, 0, 2.0/3, 3)}, nil},
		// 0.5·(1+erf(1/√2)) and 0.5·(1+tanh(√(2/π)·1.044715)).
		{"gelu", &Node{Op: "Gelu"}, []*Tensor{ft([]int{2}, 0, 1)}, []*Tensor{ft([]int{2}, 0, 0.8413447)}, nil},
		{"gelu tanh", &Node{Op: "Gelu", Attrs: Attrs{"approximate": "tanh"}}, []*Tensor{ft([]int{2}, 0, 1)}, []*Tensor{ft([]int{2}, 0, 0.8411920)}, nil},
		// mean 2.5, variance 1.25, 1/sqrt(1.25) = 0.8944272.
		{"layernorm", &Node{Op: "LayerNormalization", Attrs: Attrs{"epsilon": float32(0)}}, []*Tensor{ft([]int{1, 4}, 1, 2, 3, 4), ft([]int{}, 2), ft([]int{4}, 1, 1, 1, 0)},
			[]*Tensor{ft([]int{1, 4}, -1.6832816, 0.1055728, 1.8944272, 2.6832816), ft([]int{1, 1}, 2.5), ft([]int{1, 1}, 0.8944272)}, nil},
		{"layernorm axis 0 no bias", &Node{Op: "LayerNormalization", Attrs: Attrs{"axis": int64(0), "epsilon": float32(0)}}, []*Tensor{ft([]int{2}, 1, 3), ft([]int{2}, 1, 1)}, []*Tensor{ft([]int{2}, -1, 1)}, nil},
		{"resize upsample asymmetric floor", &Node{Op: "Resize", Attrs: Attrs{"coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}},
			[]*Tensor{ft([]int{1, 1, 1, 2}, 1, 2), nil, ft([]int{4}, 1, 1, 2, 2)}, []*Tensor{ft([]int{1, 1, 2, 4}, 1, 1, 2, 2, 1, 1, 2, 2)}, []string{"x", "", "s"}},
		// half_pixel, round_prefer_floor, 3 -> 2: x = (o+0.5)·1.5 − 0.5 = 0.25, 1.75 -> 0, 2.
		{"resize sizes downsample", &Node{Op: "Resize"}, []*Tensor{ft([]int{3}, 1, 2, 3), nil, nil, it([]int{1}, 2)}, []*Tensor{ft([]int{2}, 1, 3)}, []string{"x", "", "", "s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.node.Inputs = tc.inputs
			if tc.node.Inputs == nil {
				for range tc.in {
					tc.node.Inputs = append(tc.node.Inputs, "x")
				}
			}
			if tc.node.Attrs == nil {
				tc.node.Attrs = Attrs{}
			}
			for i := range tc.want {
				tc.node.Outputs = append(tc.node.Outputs, "y"+string(rune('0'+i)))
			}
			out, err := Eval(tc.node, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != len(tc.want) {
				t.Fatalf("%d outputs, want %d", len(out), len(tc.want))
			}
			for i, w := range tc.want {
				if err := compareTensors(out[i], w); err != nil || out[i].IsInt() != w.IsInt() {
					t.Errorf("output %d: got %v %v %v, want %v %v %v: %v", i, out[i].Shape, out[i].Data, out[i].Ints, w.Shape, w.Data, w.Ints, err)
				}
			}
		})
	}
}

// TestModernOpRefusals checks that forms outside the supported set are
// refused with an *UnsupportedOpError and malformed ones with a *NodeError.
func TestModernOpRefusals(t *testing.T) {
	x := ft([]int{1, 1, 2, 2}, 1, 2, 3, 4)
	scales := ft([]int{4}, 1, 1, 2, 2)
	tests := []struct {
		name        string
		node        *Node
		in          []*Tensor
		unsupported bool // else a *NodeError
	}{
		{"cast to uint8", &Node{Op: "Cast", Inputs: []string{"x"}, Attrs: Attrs{"to": int64(dtUint8)}}, []*Tensor{x}, true},
		{"cast to bfloat16", &Node{Op: "Cast", Inputs: []string{"x"}, Attrs: Attrs{"to": int64(dtBfloat16)}}, []*Tensor{x}, true},
		{"resize linear", &Node{Op: "Resize", Inputs: []string{"x", "", "s"}, Attrs: Attrs{"mode": "linear"}}, []*Tensor{x, nil, scales}, true},
		{"resize tf_crop_and_resize", &Node{Op: "Resize", Inputs: []string{"x", "", "s"}, Attrs: Attrs{"coordinate_transformation_mode": "tf_crop_and_resize"}}, []*Tensor{x, nil, scales}, true},
		{"resize antialias", &Node{Op: "Resize", Inputs: []string{"x", "", "s"}, Attrs: Attrs{"antialias": int64(1)}}, []*Tensor{x, nil, scales}, true},
		{"resize opset 10", &Node{Op: "Resize", Inputs: []string{"x", "s"}, Attrs: Attrs{"opset10": int64(1)}}, []*Tensor{x, scales}, true},
		{"gelu approximation", &Node{Op: "Gelu", Inputs: []string{"x"}, Attrs: Attrs{"approximate": "erf"}}, []*Tensor{x}, true},
		{"cast nan to int", &Node{Op: "Cast", Inputs: []string{"x"}, Attrs: Attrs{"to": int64(dtInt64)}}, []*Tensor{ft([]int{1}, float32(math.NaN()))}, false},
		{"cast out of int32 range", &Node{Op: "Cast", Inputs: []string{"x"}, Attrs: Attrs{"to": int64(dtInt32)}}, []*Tensor{ft([]int{1}, 3e9)}, false},
		{"cast without to", &Node{Op: "Cast", Inputs: []string{"x"}}, []*Tensor{x}, false},
		{"split bad sum", &Node{Op: "Split", Inputs: []string{"x"}, Attrs: Attrs{"split": []int64{1, 1}}}, []*Tensor{ft([]int{3}, 1, 2, 3)}, false},
		{"split not divisible", &Node{Op: "Split", Inputs: []string{"x"}}, []*Tensor{ft([]int{3}, 1, 2, 3)}, false},
		{"resize scales and sizes", &Node{Op: "Resize", Inputs: []string{"x", "", "s", "z"}}, []*Tensor{x, nil, scales, it([]int{4}, 1, 1, 4, 4)}, false},
		{"resize neither", &Node{Op: "Resize", Inputs: []string{"x"}}, []*Tensor{x}, false},
		{"where float condition", &Node{Op: "Where", Inputs: []string{"c", "x", "y"}}, []*Tensor{ft([]int{1}, 1), x, x}, false},
		{"range delta 0", &Node{Op: "Range", Inputs: []string{"a", "b", "c"}}, []*Tensor{it([]int{}, 0), it([]int{}, 3), it([]int{}, 0)}, false},
		{"range mixed types", &Node{Op: "Range", Inputs: []string{"a", "b", "c"}}, []*Tensor{it([]int{}, 0), ft([]int{}, 3), it([]int{}, 1)}, false},
		{"expand incompatible", &Node{Op: "Expand", Inputs: []string{"x", "s"}}, []*Tensor{ft([]int{2}, 1, 2), it([]int{1}, 3)}, false},
		{"reduce repeated axis", &Node{Op: "ReduceSum", Inputs: []string{"x"}, Attrs: Attrs{"axes": []int64{1, -3}}}, []*Tensor{x}, false},
		{"layernorm bad scale", &Node{Op: "LayerNormalization", Inputs: []string{"x", "s"}}, []*Tensor{x, ft([]int{3}, 1, 1, 1)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.node.Name = "n"
			if tc.node.Attrs == nil {
				tc.node.Attrs = Attrs{}
			}
			if tc.node.Op == "Split" {
				tc.node.Outputs = []string{"a", "b"}
			} else {
				tc.node.Outputs = []string{"y"}
			}
			_, err := Eval(tc.node, tc.in)
			var uo *UnsupportedOpError
			var ne *NodeError
			switch {
			case tc.unsupported && (!errors.As(err, &uo) || uo.Detail == ""):
				t.Errorf("got %v, want an *UnsupportedOpError with a detail", err)
			case !tc.unsupported && !errors.As(err, &ne):
				t.Errorf("got %v, want a *NodeError", err)
			}
		})
	}
}
