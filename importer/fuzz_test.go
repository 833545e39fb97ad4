package importer

import (
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds returns small real models and damaged copies of them.
func fuzzSeeds(tb testing.TB) [][]byte {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.onnx"))
	files = append(files, filepath.Join("..", "models", "lenet_mnist.onnx"))
	var seeds [][]byte
	for _, f := range files {
		if filepath.Base(f) == "conv_external.onnx" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		seeds = append(seeds, data)
		if len(data) > 4096 {
			continue
		}
		seeds = append(seeds, data[:len(data)/2], data[:len(data)-1])
		for _, pos := range []int{len(data) / 3, len(data) / 2, 2 * len(data) / 3} {
			flipped := append([]byte{}, data...)
			flipped[pos] ^= 0x41
			seeds = append(seeds, flipped)
		}
	}
	// Chains for the alias-removal and naming passes: Identity and Dropout
	// runs, same-named nodes.
	seeds = append(seeds,
		chainModel(12),
		chainModelOps(12, []string{"Identity", "Dropout", "Relu"}, true),
		chainModelOps(4, []string{"Identity"}, false))
	return seeds
}

// FuzzParse checks that Parse never panics, and that what it accepts is a
// valid graph whose shape inference and, when small, reference execution
// do not panic either.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse(data, "")
		if err != nil {
			return
		}
		if err := g.Validate(); err != nil {
			t.Fatalf("Parse returned an invalid graph: %v", err)
		}
		in := map[string][]int{}
		var xs []*Tensor
		for _, v := range g.Inputs {
			s := clone(v.Shape)
			for i := range s {
				if s[i] < 0 {
					s[i] = 1
				}
			}
			if NumElements(s) > 1<<12 {
				return
			}
			in[v.Name] = s
			xs = append(xs, NewTensor(s...))
		}
		shapes, err := g.InferShapesMap(in)
		if err != nil {
			return
		}
		for _, s := range shapes {
			if NumElements(s) > 1<<14 {
				return
			}
		}
		_, _ = g.RunRef(xs...)
	})
}

// FuzzTensor checks that DecodeTensor never panics and that what it
// returns is consistent.
func FuzzTensor(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.pb"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
			f.Add(data[:len(data)/2])
		}
	}
	f.Add([]byte{0x08, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x10, 0x01}) // dims 2^32-1, float, no data
	f.Fuzz(func(t *testing.T, data []byte) {
		x, _, err := DecodeTensor(data)
		if err != nil {
			return
		}
		if n := x.Len(); (x.IsInt() && len(x.Ints) != n) || (!x.IsInt() && len(x.Data) != n) {
			t.Fatalf("shape %v but %d floats, %d ints", x.Shape, len(x.Data), len(x.Ints))
		}
	})
}
