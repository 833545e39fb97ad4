package importer

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// onnxModel encodes a minimal ModelProto (IR 7, opset 13) whose graph has
// one float input "x" [1,4], the given Relu nodes (name, input, output) and
// output out.
func onnxModel(out string, nodes ...[3]string) []byte {
	msg := func(field protowire.Number, body []byte) []byte {
		b := protowire.AppendTag(nil, field, protowire.BytesType)
		return protowire.AppendBytes(b, body)
	}
	str := func(field protowire.Number, s string) []byte { return msg(field, []byte(s)) }
	varint := func(field protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(nil, field, protowire.VarintType), v)
	}
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	valueInfo := func(name string) []byte {
		dims := cat(msg(1, varint(1, 1)), msg(1, varint(1, 4)))
		tensorType := cat(varint(1, 1), msg(2, dims))
		return cat(str(1, name), msg(2, msg(1, tensorType)))
	}
	var graph []byte
	for _, n := range nodes {
		graph = append(graph, msg(1, cat(str(1, n[1]), str(2, n[2]), str(3, n[0]), str(4, "Relu")))...)
	}
	graph = cat(graph, str(2, "g"), msg(11, valueInfo("x")), msg(12, valueInfo(out)))
	return cat(varint(1, 7), msg(8, varint(2, 13)), msg(7, graph))
}

// TestGraphStructureErrors feeds graphs with a cycle, a self-loop and a
// dangling input: each must be a clear error naming the node, not a hang
// or a panic. A well-formed graph of the same shape loads.
func TestGraphStructureErrors(t *testing.T) {
	if _, err := Parse(onnxModel("y", [3]string{"a", "x", "h"}, [3]string{"b", "h", "y"}), ""); err != nil {
		t.Fatalf("well-formed chain: %v", err)
	}
	tests := []struct {
		name  string
		model []byte
		want  string
	}{
		{"cycle", onnxModel("y", [3]string{"a", "y", "h"}, [3]string{"b", "h", "y"}), "cycle"},
		{"self loop", onnxModel("y", [3]string{"a", "y", "y"}), "cycle"},
		{"dangling input", onnxModel("y", [3]string{"a", "nowhere", "y"}), "nowhere"},
		{"output never produced", onnxModel("z", [3]string{"a", "x", "y"}), "z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.model, "")
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			t.Log(err)
		})
	}
}
