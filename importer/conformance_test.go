package importer

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const onnxTestData = "/usr/share/libonnx-testdata/data"

// formSkips lists the forms of supported operators that the importer
// refuses (UnsupportedOpError with a Detail), with the reason. A case
// refused for a form not listed here fails the test, so that a new refusal
// is a deliberate decision.
var formSkips = map[string]string{
	"AveragePool 3-D pooling (only 1-D and 2-D)":       "3-D pooling is out of scope",
	"MaxPool 3-D pooling (only 1-D and 2-D)":           "3-D pooling is out of scope",
	"Conv 3-D convolution (only 1-D and 2-D)":          "3-D convolution is out of scope",
	"MaxPool MaxPool indices output":                   "indices are not computed",
	"BatchNormalization training_mode=1":               "inference only",
	"Dropout Dropout mask output":                      "inference only",
	"Dropout training_mode input computed at run time": "inference only (test_training_dropout*)",
	`Pad Pad mode "edge"`:                              "only constant padding",
	`Pad Pad mode "reflect"`:                           "only constant padding",
	`Resize mode="linear" (only nearest)`:              "only nearest resizing (what nn.Upsample(mode='nearest') exports)",
	`Resize mode="cubic" (only nearest)`:               "only nearest resizing",
	"Cast Cast to bfloat16":                            "bfloat16 rounding not implemented (test_cast(like)_FLOAT_to_BFLOAT16)",
}

// featureSkips lists the element types and other features that the
// importer refuses (UnsupportedFeatureError), with the reason; an unlisted
// one fails the test.
var featureSkips = map[string]string{
	"element type int8":                           "8/16-bit and unsigned integers: wrap-around arithmetic not implemented (test_max_int8, test_min_uint8, ...)",
	"element type int16":                          "see int8",
	"element type uint8":                          "see int8",
	"element type uint16":                         "see int8",
	"element type uint32":                         "see int8",
	"element type uint64":                         "see int8",
	"element type string":                         "no strings",
	"non-tensor type (sequence, map or optional)": "no sequences or optionals",
}

// badCases are ONNX test cases whose data contradicts their model.
var badCases = map[string]string{
	"node/test_cast_BFLOAT16_to_FLOAT":              "input_0.pb holds uint16 bits, the model declares bfloat16",
	"node/test_castlike_BFLOAT16_to_FLOAT_expanded": `input "like" has shape [1], the model declares [3 4]`,
	"node/test_castlike_BFLOAT16_to_FLOAT":          "CastLike is not supported; listed with its expanded twin",
}

// noCase lists supported operators that the installed test data has no
// case for, and where they are tested instead.
var noCase = map[string]string{
	"Gelu": "opset 20, newer than the test data; TestDynamo (testdata/gelu_opset20) checks it against onnxruntime",
}

// TestConformance runs the ONNX backend test cases (Debian's
// libonnx-testdata) whose operators are all supported through Load and
// RunRef, and compares the outputs with rtol 1e-4, atol 1e-5.
func TestConformance(t *testing.T) {
	if _, err := os.Stat(onnxTestData); err != nil {
		t.Skipf("ONNX test data not installed (%v); apt-get install libonnx-testdata", err)
	}
	var dirs []string
	for _, sub := range []string{"node", "pytorch-converted", "pytorch-operator"} {
		d, _ := filepath.Glob(filepath.Join(onnxTestData, sub, "*"))
		dirs = append(dirs, d...)
	}
	sort.Strings(dirs)
	passed, failed, skipped := 0, 0, 0
	perOp := map[string]int{}
	reasons := map[string]int{}
	for _, dir := range dirs {
		model := filepath.Join(dir, "model.onnx")
		if _, err := os.Stat(model); err != nil {
			continue
		}
		name := filepath.Base(filepath.Dir(dir)) + "/" + filepath.Base(dir)
		if _, bad := badCases[name]; bad {
			skipped++
			continue
		}
		ops, err := rawOps(model)
		if err != nil {
			t.Errorf("%s: reading ops: %v", name, err)
			failed++
			continue
		}
		g, err := Load(model)
		var uo *UnsupportedOpError
		var uf *UnsupportedFeatureError
		switch {
		case errors.As(err, &uo):
			skipped++
			reason := uo.Op + " " + uo.Detail
			reasons[reason]++
			if _, ok := formSkips[reason]; uo.Detail != "" && !ok {
				t.Errorf("%s: refused for a form not in formSkips: %v", name, err)
			}
			continue
		case errors.As(err, &uf):
			skipped++
			reasons[uf.Feature]++
			if _, ok := featureSkips[uf.Feature]; !ok {
				t.Errorf("%s: refused for a feature not in featureSkips: %v", name, err)
			}
			continue
		case err != nil:
			t.Errorf("%s: %v", name, err)
			failed++
			continue
		}
		if err := runCase(g, dir); err != nil {
			t.Errorf("%s: %v", name, err)
			failed++
			continue
		}
		passed++
		for op := range ops {
			perOp[op]++
		}
	}
	t.Logf("conformance: %d passed, %d failed, %d skipped (unsupported op)", passed, failed, skipped)
	var lines []string
	for _, op := range SupportedOps() {
		lines = append(lines, fmt.Sprintf("%s=%d", op, perOp[op]))
	}
	t.Logf("passing cases per op: %s", strings.Join(lines, " "))
	var rs []string
	for r, c := range reasons {
		rs = append(rs, fmt.Sprintf("%s: %d", r, c))
	}
	sort.Strings(rs)
	t.Logf("skip reasons: %s", strings.Join(rs, "; "))
	// Every supported operator has a case in the test data.
	for _, op := range SupportedOps() {
		if _, ok := noCase[op]; perOp[op] == 0 && !ok {
			t.Errorf("supported op %s has no passing conformance case", op)
		}
	}
}

// rawOps returns the operator types of a model file, read by the pre-pass.
func rawOps(path string) (map[string]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	wm, err := parseModel(data)
	if err != nil {
		return nil, err
	}
	ops := map[string]bool{}
	for _, n := range wm.graph.nodes {
		ops[n.op] = true
	}
	return ops, nil
}

func runCase(g *Graph, dir string) error {
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	if len(sets) == 0 {
		return fmt.Errorf("no test data sets")
	}
	for _, set := range sets {
		var in []*Tensor
		for i := range g.Inputs {
			t, err := readTensorFile(filepath.Join(set, fmt.Sprintf("input_%d.pb", i)))
			if err != nil {
				return err
			}
			in = append(in, t)
		}
		env, err := g.RunRef(in...)
		if err != nil {
			return err
		}
		for i, o := range g.Outputs {
			want, err := readTensorFile(filepath.Join(set, fmt.Sprintf("output_%d.pb", i)))
			if err != nil {
				return err
			}
			if err := compareTensors(env[o], want); err != nil {
				return fmt.Errorf("%s output %d (%s): %v", filepath.Base(set), i, o, err)
			}
		}
	}
	return nil
}

func readTensorFile(path string) (*Tensor, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, _, err := DecodeTensor(data)
	return t, err
}

func compareTensors(got, want *Tensor) error {
	if got == nil {
		return fmt.Errorf("not computed")
	}
	if !slices.Equal(got.Shape, want.Shape) {
		return fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
	}
	g, w := got.Floats(), want.Floats()
	for i := range w {
		d := math.Abs(float64(g[i]) - float64(w[i]))
		if g[i] == w[i] || (math.IsNaN(float64(w[i])) && math.IsNaN(float64(g[i]))) {
			continue
		}
		if !(d <= 1e-5+1e-4*math.Abs(float64(w[i]))) {
			return fmt.Errorf("element %d = %g, want %g", i, g[i], w[i])
		}
	}
	return nil
}
