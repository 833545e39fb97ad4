package snnrt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"slices"
	"strings"
	"testing"

	"github.com/ann2snn/ann2snn/internal/kernels"
)

// craftFile writes a .snn file (prefix, header h, data, checksum) without
// validating h, as a hostile writer would.
func craftFile(t testing.TB, h fileHeader, data []float32) []byte {
	t.Helper()
	h.Format, h.DataLen = FormatName, 4*int64(len(data))
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString(Magic)
	binary.Write(&b, binary.LittleEndian, uint32(FormatVersion))
	binary.Write(&b, binary.LittleEndian, uint64(len(js)))
	b.Write(js)
	binary.Write(&b, binary.LittleEndian, data)
	binary.Write(&b, binary.LittleEndian, crc32.Checksum(b.Bytes(), castagnoli))
	return b.Bytes()
}

// TestCraftedSizesRefused reads small crafted files whose models would
// need gigabytes per image or have too many layers; each must be refused
// by ReadModel with an error naming the cause, before any simulator sees
// it. The expected per-image sizes are worked out by hand in the comments.
func TestCraftedSizesRefused(t *testing.T) {
	in := [3]int{3, 32, 32} // 3072 values
	concat := fileHeader{Input: in, Layers: []fileLayer{{Name: "cat", Kind: "concat",
		Inputs: make([]int, 20000), Shape: [3]int{3 * 20000, 32, 32}}}}
	for i := range concat.Layers[0].Inputs {
		concat.Layers[0].Inputs[i] = InputIndex
	}
	// The concat has L = 61,440,000 values per image: 3·L·4 bytes ≈ 703
	// MiB, under the 1 GiB limit on its own; a second layer of the same
	// size (3·L plus L for the read-out) takes the total to about 1.6 GiB.
	concat.Layers = append(concat.Layers, fileLayer{Name: "cat2", Kind: "concat",
		Inputs: []int{0}, Shape: [3]int{3 * 20000, 32, 32}})
	concat.Output = 1

	flat := fileHeader{Input: in}
	for i := range MaxLayers + 1 {
		flat.Layers = append(flat.Layers, fileLayer{Name: "f", Kind: "flatten", Inputs: []int{i - 1}, Shape: [3]int{3072, 1, 1}})
	}
	flat.Output = MaxLayers

	// A 1×1 kernel with 23,000 pixels of padding on every side of a 1×1
	// input: 46,001² ≈ 2.1G outputs from 4 bytes of weights.
	pad := 23000
	conv := fileHeader{Input: [3]int{1, 1, 1}, Layers: []fileLayer{{Name: "c", Kind: "conv", Inputs: []int{InputIndex},
		Shape: [3]int{1, 2*pad + 1, 2*pad + 1}, Params: map[string]int{"W": 0},
		Conv: &fileConv{C: 1, H: 1, W: 1, K: 1, KH: 1, KW: 1, StrideH: 1, StrideW: 1, PadT: pad, PadL: pad, PadB: pad, PadR: pad, DilH: 1, DilW: 1, Group: 1}}},
		Tensors: []fileTensor{{Name: "W", DType: "float32", Shape: []int{1, 1, 1, 1}, Offset: 0, Length: 4}}}

	tests := []struct {
		name string
		h    fileHeader
		data []float32
		want string
	}{
		{"concat of the input 20000 times", concat, nil, `layer 1 "cat2"`},
		{"65537 flatten layers", flat, nil, "MaxLayers"},
		{"conv with huge padding", conv, []float32{1}, `layer 0 "c"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := craftFile(t, tc.h, tc.data)
			_, err := decode(b)
			var fe *FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ReadModel of a %d-byte crafted file: %v; want a *FormatError naming %s", len(b), err, tc.want)
			}
			t.Logf("%d bytes: %v", len(b), err)
		})
	}
}

// TestImageBytes checks ImageBytes against sizes worked out by hand.
func TestImageBytes(t *testing.T) {
	m := &Model{Input: Shape{1, 4, 4}} // 16 values: input and encoded input 32
	g := kernels.ConvGeom{C: 1, H: 4, W: 4, K: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1}
	c := m.MustAppend(Layer{Kind: KindConv, Inputs: []int{InputIndex}, Conv: g, W: make([]float32, 18)})
	// conv: L = 2·4·4 = 32, 3·32 = 96; workspace 1·3·3·4·4 = 144
	n := m.MustAppend(Layer{Kind: KindIF, Inputs: []int{c}, IF: IF{Theta: []float32{1}}})
	// IF: 8·32 = 256
	f := m.MustAppend(Layer{Kind: KindFlatten, Inputs: []int{n}})
	// flatten: 3·32 = 96
	m.MustAppend(Layer{Kind: KindLinear, Inputs: []int{f}, W: make([]float32, 3*32)})
	// linear (output): L = 3, 3·3 + 3 = 12
	want := int64(4 * (32 + 96 + 144 + 256 + 96 + 12))
	if got := m.ImageBytes(); got != want {
		t.Errorf("ImageBytes = %d, want %d", got, want)
	}
}

// TestFitMemory checks how chunk and workers shrink to a budget.
func TestFitMemory(t *testing.T) {
	tests := []struct {
		per               int64
		chunk, workers    int
		budget            int64
		wantChunk, wantWk int
		wantErr           bool
	}{
		{per: 100, chunk: 16, workers: 4, budget: 6400, wantChunk: 16, wantWk: 4},
		{per: 100, chunk: 16, workers: 4, budget: 3200, wantChunk: 16, wantWk: 2},
		{per: 100, chunk: 16, workers: 4, budget: 1000, wantChunk: 10, wantWk: 1},
		{per: 100, chunk: 1 << 30, workers: 1, budget: 250, wantChunk: 2, wantWk: 1},
		{per: 100, chunk: 16, workers: 4, budget: 99, wantErr: true},
		{per: 1 << 20, chunk: 16, workers: 2, budget: 0, wantChunk: 16, wantWk: 2}, // DefaultMaxBytes
	}
	for _, tc := range tests {
		c, w, err := fitMemory(tc.per, tc.chunk, tc.workers, tc.budget)
		if (err != nil) != tc.wantErr || (err == nil && (c != tc.wantChunk || w != tc.wantWk)) {
			t.Errorf("fitMemory(%d, %d, %d, %d) = %d, %d, %v; want %d, %d, error %v",
				tc.per, tc.chunk, tc.workers, tc.budget, c, w, err, tc.wantChunk, tc.wantWk, tc.wantErr)
		}
	}
}

// TestMemoryBudgetKeepsResults runs the same images with the default
// budget and with one that admits a single image at a time: the chunk
// and worker count shrink, and the results must be identical.
func TestMemoryBudgetKeepsResults(t *testing.T) {
	m := branchyNet(t, 5)
	n := 9
	x := make([]float32, n*m.Input.Len())
	for i := range x {
		x[i] = float32(i%13) / 13
	}
	one := m.ImageBytes()
	for _, name := range []string{"Run", "Simulator"} {
		var got [2]*Result
		for j, budget := range []int64{0, one} {
			cfg := Config{T: 3, Workers: 2, MaxBytes: budget}
			var err error
			if name == "Run" {
				got[j], err = Run(m, x, n, cfg)
			} else {
				var s *Simulator
				if s, err = NewSimulator(m, cfg); err == nil {
					got[j], err = s.Run(x, n)
				}
			}
			if err != nil {
				t.Fatalf("%s with MaxBytes %d: %v", name, budget, err)
			}
		}
		for tt := 1; tt <= 3; tt++ {
			if a, b := got[0].Logits(tt), got[1].Logits(tt); !slices.Equal(a, b) {
				t.Errorf("%s: logits at t=%d differ with a one-image budget", name, tt)
			}
		}
	}
	if _, err := Run(m, x, n, Config{T: 1, MaxBytes: one - 1}); err == nil {
		t.Error("Run accepted a budget below one image")
	}
}
