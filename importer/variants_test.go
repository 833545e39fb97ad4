package importer

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestVariants loads the generated models of testdata (see gen.py): the
// same computation in several opsets and encodings must normalize to the
// expected operators and compute the numpy result.
func TestVariants(t *testing.T) {
	tests := []struct {
		name string
		ops  string // operators after normalization
		attr string // attribute that the first node must carry
	}{
		{"clip_opset6", "Clip", "min"},
		{"clip_opset13", "Clip", "max"},
		{"squeeze_opset11", "Unsqueeze Squeeze", "axes"},
		{"squeeze_opset13", "Unsqueeze Squeeze", "axes"},
		{"pad_opset2", "Pad", "pads"},
		{"pad_opset13", "Pad", "value"},
		{"conv_external", "Conv", ""},
		{"mul_float16", "Mul", ""},
		{"mul_same", "Mul", ""},
		{"flatten_chain", "Shape Gather Unsqueeze Concat Reshape", ""},
		{"qcfs_chain", "Mul Mul Add Floor Clip Mul", ""},
		{"softmax_opset11", "Softmax", "coerce2d"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := Load(filepath.Join("testdata", tc.name+".onnx"))
			if err != nil {
				t.Fatal(err)
			}
			if got := opString(g); got != tc.ops {
				t.Errorf("ops %q, want %q", got, tc.ops)
			}
			if tc.attr != "" {
				if _, ok := g.Nodes[0].Attrs[tc.attr]; !ok {
					t.Errorf("first node lacks attribute %q: %v", tc.attr, g.Nodes[0].Attrs)
				}
				if len(g.Nodes[0].Inputs) != 1 {
					t.Errorf("first node inputs %q, want the data input only", g.Nodes[0].Inputs)
				}
			}
			if g.Meta["ann2snn.dataset"] != "test" || g.Producer != "gen.py" {
				t.Errorf("meta %v producer %q", g.Meta, g.Producer)
			}
			x, err := readTensorFile(filepath.Join("testdata", tc.name+".in.pb"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := readTensorFile(filepath.Join("testdata", tc.name+".out.pb"))
			if err != nil {
				t.Fatal(err)
			}
			env, err := g.RunRef(x)
			if err != nil {
				t.Fatal(err)
			}
			if err := compareTensors(env[g.Outputs[0]], want); err != nil {
				t.Error(err)
			}
			shapes, err := g.InferShapes(x.Shape)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(shapes[g.Outputs[0]], want.Shape) {
				t.Errorf("inferred shape %v, want %v", shapes[g.Outputs[0]], want.Shape)
			}
		})
	}
}

// TestExternalData checks the external-data rules: the file is read
// relative to dir, and locations escaping it or missing files are errors.
func TestExternalData(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "conv_external.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(data, ""); err == nil {
		t.Error("Parse without a directory accepted external data")
	}
	if _, err := Parse(data, t.TempDir()); err == nil {
		t.Error("Parse accepted a missing external data file")
	}
	for _, loc := range []string{"../conv_external.bin", "/etc/passwd", "a/../../x.bin"} {
		_, err := readExternal("testdata", "w", map[string]string{"location": loc}, 4)
		var fe *FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), "escapes") {
			t.Errorf("location %q: got %v, want a *FormatError about escaping", loc, err)
		}
	}
}
