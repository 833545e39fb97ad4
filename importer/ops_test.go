package importer

import (
	"errors"
	"math"
	"testing"
)

func ft(shape []int, v ...float32) *Tensor { return &Tensor{Shape: shape, Data: v} }
func it(shape []int, v ...int64) *Tensor   { return &Tensor{Shape: shape, Ints: v} }

func TestEval(t *testing.T) {
	x4 := ft([]int{1, 1, 2, 2}, 1, 2, 3, 4)
	tests := []struct {
		name  string
		node  *Node
		in    []*Tensor
		want  *Tensor
		isErr bool
	}{
		{"add broadcast", &Node{Op: "Add"}, []*Tensor{ft([]int{2, 2}, 1, 2, 3, 4), ft([]int{2}, 10, 20)}, ft([]int{2, 2}, 11, 22, 13, 24), false},
		{"sub scalar", &Node{Op: "Sub"}, []*Tensor{ft([]int{2}, 1, 2), ft([]int{}, 1)}, ft([]int{2}, 0, 1), false},
		{"mul column", &Node{Op: "Mul"}, []*Tensor{ft([]int{2, 1}, 2, 3), ft([]int{1, 3}, 1, 2, 3)}, ft([]int{2, 3}, 2, 4, 6, 3, 6, 9), false},
		{"div ints", &Node{Op: "Div"}, []*Tensor{it([]int{2}, 7, -7), it([]int{}, 2)}, it([]int{2}, 3, -3), false},
		{"add legacy axis", &Node{Op: "Add", Attrs: Attrs{"broadcast": int64(1), "axis": int64(1)}}, []*Tensor{ft([]int{1, 2, 2}, 1, 2, 3, 4), ft([]int{2}, 10, 20)}, ft([]int{1, 2, 2}, 11, 12, 23, 24), false},
		{"bad broadcast", &Node{Op: "Add"}, []*Tensor{ft([]int{2}, 1, 2), ft([]int{3}, 1, 2, 3)}, nil, true},
		{"relu", &Node{Op: "Relu"}, []*Tensor{ft([]int{3}, -1, 0, 2)}, ft([]int{3}, 0, 0, 2), false},
		{"leaky", &Node{Op: "LeakyRelu", Attrs: Attrs{"alpha": float32(0.5)}}, []*Tensor{ft([]int{2}, -2, 2)}, ft([]int{2}, -1, 2), false},
		{"clip attrs", &Node{Op: "Clip", Attrs: Attrs{"min": float32(0), "max": float32(1)}}, []*Tensor{ft([]int{3}, -1, 0.5, 2)}, ft([]int{3}, 0, 0.5, 1), false},
		{"clip inputs", &Node{Op: "Clip", Inputs: []string{"x", "", "hi"}}, []*Tensor{ft([]int{3}, -1, 0.5, 2), nil, ft([]int{}, 1)}, ft([]int{3}, -1, 0.5, 1), false},
		{"floor", &Node{Op: "Floor"}, []*Tensor{ft([]int{2}, -0.5, 1.5)}, ft([]int{2}, -1, 1), false},
		{"conv same_upper", &Node{Op: "Conv", Attrs: Attrs{"auto_pad": "SAME_UPPER"}}, []*Tensor{x4, ft([]int{1, 1, 2, 2}, 1, 1, 1, 1)}, ft([]int{1, 1, 2, 2}, 10, 6, 7, 4), false},
		{"conv depthwise", &Node{Op: "Conv", Attrs: Attrs{"group": int64(2)}}, []*Tensor{ft([]int{1, 2, 1, 1}, 3, 4), ft([]int{2, 1, 1, 1}, 2, 10), ft([]int{2}, 1, 1)}, ft([]int{1, 2, 1, 1}, 7, 41), false},
		{"conv bad group", &Node{Op: "Conv", Attrs: Attrs{"group": int64(3)}}, []*Tensor{x4, ft([]int{1, 1, 1, 1}, 1)}, nil, true},
		{"gemm transB C", &Node{Op: "Gemm", Attrs: Attrs{"transB": int64(1), "alpha": float32(2), "beta": float32(1)}}, []*Tensor{ft([]int{1, 2}, 1, 2), ft([]int{2, 2}, 1, 0, 0, 1), ft([]int{2}, 1, 1)}, ft([]int{1, 2}, 3, 5), false},
		{"matmul batched", &Node{Op: "MatMul"}, []*Tensor{ft([]int{2, 1, 2}, 1, 2, 3, 4), ft([]int{2, 1}, 1, 1)}, ft([]int{2, 1, 1}, 3, 7), false},
		{"maxpool ceil", &Node{Op: "MaxPool", Attrs: Attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}, "ceil_mode": int64(1)}}, []*Tensor{ft([]int{1, 1, 3, 3}, 1, 2, 3, 4, 5, 6, 7, 8, 9)}, ft([]int{1, 1, 2, 2}, 5, 6, 8, 9), false},
		{"avgpool pads excl", &Node{Op: "AveragePool", Attrs: Attrs{"kernel_shape": []int64{2, 2}, "pads": []int64{1, 1, 0, 0}}}, []*Tensor{x4}, ft([]int{1, 1, 2, 2}, 1, 1.5, 2, 2.5), false},
		{"avgpool pads incl", &Node{Op: "AveragePool", Attrs: Attrs{"kernel_shape": []int64{2, 2}, "pads": []int64{1, 1, 0, 0}, "count_include_pad": int64(1)}}, []*Tensor{x4}, ft([]int{1, 1, 2, 2}, 0.25, 0.75, 1, 2.5), false},
		{"global avg", &Node{Op: "GlobalAveragePool"}, []*Tensor{x4}, ft([]int{1, 1, 1, 1}, 2.5), false},
		{"batchnorm", &Node{Op: "BatchNormalization", Attrs: Attrs{"epsilon": float32(0)}}, []*Tensor{ft([]int{1, 1, 2}, 1, 3), ft([]int{1}, 2), ft([]int{1}, 1), ft([]int{1}, 1), ft([]int{1}, 4)}, ft([]int{1, 1, 2}, 1, 3), false},
		{"flatten", &Node{Op: "Flatten"}, []*Tensor{x4}, ft([]int{1, 4}, 1, 2, 3, 4), false},
		{"reshape 0 -1", &Node{Op: "Reshape", Attrs: Attrs{"shape": []int64{0, -1}}}, []*Tensor{x4}, ft([]int{1, 4}, 1, 2, 3, 4), false},
		{"reshape allowzero", &Node{Op: "Reshape", Inputs: []string{"x", "s"}, Attrs: Attrs{"allowzero": int64(1)}}, []*Tensor{ft([]int{0, 2}), it([]int{2}, 2, 0)}, ft([]int{2, 0}), false},
		{"reshape bad", &Node{Op: "Reshape", Attrs: Attrs{"shape": []int64{3, -1}}}, []*Tensor{x4}, nil, true},
		{"transpose", &Node{Op: "Transpose", Attrs: Attrs{"perm": []int64{1, 0}}}, []*Tensor{ft([]int{2, 3}, 1, 2, 3, 4, 5, 6)}, ft([]int{3, 2}, 1, 4, 2, 5, 3, 6), false},
		{"concat ints", &Node{Op: "Concat", Attrs: Attrs{"axis": int64(0)}}, []*Tensor{it([]int{1}, 1), it([]int{2}, 2, 3)}, it([]int{3}, 1, 2, 3), false},
		{"pad", &Node{Op: "Pad", Attrs: Attrs{"pads": []int64{1, 0}, "value": float32(9)}}, []*Tensor{ft([]int{1}, 5)}, ft([]int{2}, 9, 5), false},
		{"softmax", &Node{Op: "Softmax"}, []*Tensor{ft([]int{1, 2}, 0, 0)}, ft([]int{1, 2}, 0.5, 0.5), false},
		{"squeeze", &Node{Op: "Squeeze", Attrs: Attrs{"axes": []int64{-1}}}, []*Tensor{ft([]int{2, 1}, 1, 2)}, ft([]int{2}, 1, 2), false},
		{"unsqueeze", &Node{Op: "Unsqueeze", Attrs: Attrs{"axes": []int64{0, 2}}}, []*Tensor{ft([]int{2}, 1, 2)}, ft([]int{1, 2, 1}, 1, 2), false},
		{"shape", &Node{Op: "Shape"}, []*Tensor{x4}, it([]int{4}, 1, 1, 2, 2), false},
		{"gather neg", &Node{Op: "Gather"}, []*Tensor{it([]int{3}, 5, 6, 7), it([]int{}, -1)}, it([]int{}, 7), false},
		{"gather oob", &Node{Op: "Gather"}, []*Tensor{it([]int{3}, 5, 6, 7), it([]int{}, 3)}, nil, true},
		{"slice step", &Node{Op: "Slice", Attrs: Attrs{"starts": []int64{-1}, "ends": []int64{math.MinInt64}, "steps": []int64{-2}}}, []*Tensor{ft([]int{5}, 1, 2, 3, 4, 5)}, ft([]int{3}, 5, 3, 1), false},
		{"huge pad", &Node{Op: "Pad", Attrs: Attrs{"pads": []int64{1 << 40, 0}}}, []*Tensor{ft([]int{1}, 5)}, nil, true},
		{"unknown op", &Node{Op: "Foo"}, []*Tensor{x4}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.node.Inputs == nil {
				for range tc.in {
					tc.node.Inputs = append(tc.node.Inputs, "x")
				}
			}
			if tc.node.Attrs == nil {
				tc.node.Attrs = Attrs{}
			}
			tc.node.Outputs = []string{"y"}
			out, err := Eval(tc.node, tc.in)
			if tc.isErr {
				if err == nil {
					t.Fatalf("got %v, want an error", out[0])
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := compareTensors(out[0], tc.want); err != nil || out[0].IsInt() != tc.want.IsInt() {
				t.Errorf("got %v %v %v, want %v: %v", out[0].Shape, out[0].Data, out[0].Ints, tc.want, err)
			}
		})
	}
}

func TestErrorTypes(t *testing.T) {
	_, err := Eval(&Node{Name: "n", Op: "Foo", Inputs: []string{"x"}}, []*Tensor{ft([]int{1}, 1)})
	var uo *UnsupportedOpError
	if !errors.As(err, &uo) || uo.Op != "Foo" || len(uo.Supported) == 0 {
		t.Errorf("unknown op: %v", err)
	}
	_, err = Eval(&Node{Name: "p", Op: "Pad", Inputs: []string{"x"}, Attrs: Attrs{"mode": "reflect", "pads": []int64{1, 1}}}, []*Tensor{ft([]int{1}, 1)})
	if !errors.As(err, &uo) || uo.Detail == "" {
		t.Errorf("reflect pad: %v", err)
	}
	_, err = Eval(&Node{Name: "r", Op: "Reshape", Inputs: []string{"x"}, Attrs: Attrs{"shape": []int64{3}}}, []*Tensor{ft([]int{2}, 1, 2)})
	var ne *NodeError
	if !errors.As(err, &ne) || ne.Node != "r" || ne.Unwrap() == nil {
		t.Errorf("bad reshape: %v", err)
	}
	for _, data := range [][]byte{nil, []byte("not a model"), {0x3a, 0x05, 0x0a}} {
		_, err := Parse(data, "")
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("Parse(%q): got %v, want a *FormatError", data, err)
		}
	}
	// A float tensor claiming 2^40 elements with 4 bytes of data.
	bad := []byte{0x0a, 0x06, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x10, 0x01, 0x4a, 0x04, 0, 0, 0, 0}
	if _, _, err := DecodeTensor(bad); err == nil {
		t.Error("DecodeTensor accepted a 2^40-element tensor with 4 bytes")
	}
}

func TestHalfToFloat(t *testing.T) {
	for _, tc := range []struct {
		h    uint16
		want float32
	}{{0x3c00, 1}, {0xc000, -2}, {0x0001, 5.9604645e-8}, {0x7bff, 65504}, {0x0000, 0}} {
		if got := halfToFloat(tc.h); got != tc.want {
			t.Errorf("halfToFloat(%#x) = %g, want %g", tc.h, got, tc.want)
		}
	}
	if !math.IsInf(float64(halfToFloat(0x7c00)), 1) || !math.IsNaN(float64(halfToFloat(0x7e00))) {
		t.Error("inf/nan")
	}
}

func TestSupportedOps(t *testing.T) {
	ops := SupportedOps()
	for _, want := range []string{"Conv", "Gemm", "MatMul", "Add", "Relu", "Clip", "MaxPool", "AveragePool", "BatchNormalization", "Softmax", "Slice", "Gather"} {
		found := false
		for _, op := range ops {
			found = found || op == want
		}
		if !found {
			t.Errorf("%s not supported", want)
		}
	}
}
