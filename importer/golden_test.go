package importer_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/ann"
	"github.com/ann2snn/ann2snn/internal/sharedtest"
)

// golden is the header bench/golden.mjs writes beside each logits file.
type golden struct {
	Model      string `json:"model"` // shared/FILE or models/FILE
	SHA256     string `json:"sha256"`
	Data       string `json:"data"` // mnist, fashion-mnist or cifar10
	Images     int    `json:"images"`
	Classes    int    `json:"classes"`
	Preprocess struct {
		Scale float64   `json:"scale"`
		Mean  []float64 `json:"mean"`
		Std   []float64 `json:"std"`
	} `json:"preprocess"`
	Accuracy float64 `json:"accuracy"`
	Runtime  string  `json:"runtime"`
}

// Tolerances against onnxruntime: per element |a-b| <= atol + rtol·|b|, and
// max|a-b| / max|b| <= rtol over the whole output.
const (
	goldenATol = 1e-5
	goldenRTol = 1e-4
)

// TestGoldenLogits runs the ANN executor on the first test images of every
// reference model (../shared/models and models/) and compares its logits
// with onnxruntime's, recorded by bench/golden.mjs in testdata/golden.
func TestGoldenLogits(t *testing.T) {
	headers, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if err != nil || len(headers) < 12 {
		t.Fatalf("testdata/golden: %d headers (want the 12 reference models), %v", len(headers), err)
	}
	for _, hp := range headers {
		name := strings.TrimSuffix(filepath.Base(hp), ".json")
		t.Run(name, func(t *testing.T) {
			var h golden
			raw, err := os.ReadFile(hp)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &h); err != nil {
				t.Fatalf("%s: %v", hp, err)
			}
			want := readF32(t, strings.TrimSuffix(hp, ".json")+".f32", h.Images*h.Classes)
			path := goldenModel(t, h.Model)
			checkSHA256(t, path, h.SHA256)
			g, err := importer.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			ex, err := ann.New(g)
			if err != nil {
				t.Fatal(err)
			}
			x := goldenInput(t, h)
			got, err := ex.Run(x, h.Images)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d logits, onnxruntime has %d", len(got), len(want))
			}
			compareLogits(t, got, want, h.Classes)
		})
	}
}

// goldenModel returns the path of a model named shared/FILE or models/FILE.
func goldenModel(t *testing.T, model string) string {
	t.Helper()
	dir, file, _ := strings.Cut(model, "/")
	switch dir {
	case "shared":
		return sharedtest.Path(t, "models", file)
	case "models":
		return filepath.Join("..", "models", file)
	}
	t.Fatalf("golden header: model %q is not shared/FILE or models/FILE", model)
	return ""
}

// checkSHA256 fails if the model is not the file the logits were made from.
func checkSHA256(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("%s: sha256 %s, golden logits were made from %s: rerun node bench/golden.mjs", path, got, want)
	}
}

// goldenInput returns the first h.Images test images preprocessed as
// bench/ort_bench.mjs does: x = (pixel*scale - mean[c]) / std[c] in float64,
// rounded to float32, so that both runtimes see bit-identical inputs.
func goldenInput(t *testing.T, h golden) []float32 {
	t.Helper()
	spec := h.Data
	if spec == "cifar10" {
		spec = "cifar10:" + sharedtest.Path(t, "datasets", "cifar10")
	}
	ds, err := dataset.Open(spec, dataset.Test)
	sharedtest.MissingErr(t, err)
	c := ds.Shape()[0]
	if len(h.Preprocess.Mean) != c || len(h.Preprocess.Std) != c {
		t.Fatalf("golden header: mean %v std %v for %d channels", h.Preprocess.Mean, h.Preprocess.Std, c)
	}
	x, err := ds.Batch(make([]float32, h.Images*ds.ImageSize()), 0, h.Images, dataset.Preprocess{})
	if err != nil {
		t.Fatal(err)
	}
	plane := ds.ImageSize() / c
	for i := range x {
		ch := i / plane % c
		x[i] = float32((float64(x[i])*h.Preprocess.Scale - h.Preprocess.Mean[ch]) / h.Preprocess.Std[ch])
	}
	return x
}

// compareLogits checks got against onnxruntime's want at goldenATol and
// goldenRTol, and that both pick the same class wherever onnxruntime's two
// best logits are further apart than the tolerance.
func compareLogits(t *testing.T, got, want []float32, classes int) {
	t.Helper()
	var maxDiff, maxRef float64
	bad := 0
	for i := range want {
		a, b := float64(got[i]), float64(want[i])
		d := math.Abs(a - b)
		maxDiff, maxRef = max(maxDiff, d), max(maxRef, math.Abs(b))
		if !(d <= goldenATol+goldenRTol*math.Abs(b)) {
			if bad < 5 {
				t.Errorf("image %d class %d: logit %g, onnxruntime %g", i/classes, i%classes, a, b)
			}
			bad++
		}
	}
	rel := maxDiff / maxRef
	t.Logf("max|a-b| %.3g, max|a-b|/max|b| %.3g over %d logits", maxDiff, rel, len(want))
	if bad > 0 || !(rel <= goldenRTol) {
		t.Errorf("%d of %d logits off; max|a-b|/max|b| = %.3g (want <= %g)", bad, len(want), rel, goldenRTol)
	}
	for i := 0; i < len(want)/classes; i++ {
		g, w := got[i*classes:][:classes], want[i*classes:][:classes]
		best, second := top2(w)
		if float64(w[best]-w[second]) > 2*(goldenATol+goldenRTol*float64(abs32(w[best]))) {
			if gb, _ := top2(g); gb != best {
				t.Errorf("image %d: class %d, onnxruntime %d", i, gb, best)
			}
		}
	}
}

// top2 returns the indices of the largest and second-largest values.
func top2(v []float32) (best, second int) {
	best, second = 0, -1
	for i := 1; i < len(v); i++ {
		switch {
		case v[i] > v[best]:
			best, second = i, best
		case second < 0 || v[i] > v[second]:
			second = i
		}
	}
	return best, second
}

func abs32(v float32) float32 { return float32(math.Abs(float64(v))) }

// readF32 reads n little-endian float32 values.
func readF32(t *testing.T, path string, n int) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 4*n {
		t.Fatalf("%s: %d bytes, header says %d float32", path, len(b), n)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}
