package convert

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/ann"
)

// TestZoo lowers every ONNX model in the directory named by
// $ANN2SNN_CONVERT_ZOO (e.g. /tmp/tvzoo, made by bench/torchvision/export.py)
// and checks that the lowered model's analog output equals the ANN
// executor's to 1e-4 relative on two random images; a model that Lower
// refuses must be refused with a *ConvertError. Skipped when the variable
// is unset: the models are large and 224×224 runs take seconds each.
// $ANN2SNN_CONVERT_ZOO_MATCH restricts it to files containing that string.
func TestZoo(t *testing.T) {
	dir := os.Getenv("ANN2SNN_CONVERT_ZOO")
	if dir == "" {
		t.Skip("ANN2SNN_CONVERT_ZOO not set")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	match := os.Getenv("ANN2SNN_CONVERT_ZOO_MATCH")
	for _, f := range files {
		if match != "" && !strings.Contains(filepath.Base(f), match) {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			g, err := importer.Load(f)
			if err != nil {
				t.Skipf("import: %v", err)
			}
			c := Clone(g)
			if err := FoldBatchNorm(c); err != nil {
				t.Fatal(err)
			}
			if _, err := Lower(c); err != nil {
				var ce *ConvertError
				if !errors.As(err, &ce) {
					t.Fatalf("refused without a *ConvertError: %v", err)
				}
				t.Logf("refused: %v", err)
				return
			}
			ex, err := ann.New(g)
			if err != nil {
				t.Fatal(err)
			}
			const n = 2
			per := 1
			for _, d := range ex.InputShape() {
				per *= d
			}
			r := rand.New(rand.NewPCG(3, 4))
			x := make([]float32, n*per)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			want, err := ex.Run(x, n)
			if err != nil {
				t.Fatal(err)
			}
			low, got := lowerAnalog(t, g, x, n)
			e := maxRelErr(got, want)
			t.Logf("%d layers, %d IF layers, kinds %v: analog vs ANN max relative error %.3g", len(low.Model.Layers), len(low.Neurons), countKinds(low.Model), e)
			if e > 1e-4 {
				t.Errorf("analog output differs from the ANN by %.3g relative", e)
			}
		})
	}
}
