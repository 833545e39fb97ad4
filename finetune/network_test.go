package finetune

import (
	"fmt"
	"math"
	"testing"

	"github.com/ann2snn/ann2snn/snnrt"
)

// TestForwardMatchesSnnrt checks that the unrolled gorgonia network
// computes exactly what the reference simulator computes: every layer's
// value at every step, for several models and step counts.
func TestForwardMatchesSnnrt(t *testing.T) {
	models := []struct {
		name string
		m    *snnrt.Model
	}{
		{"avgpool", smallNet(t, 1, false, snnrt.IF{})},
		{"maxpool-shift", smallNet(t, 2, true, snnrt.IF{V0: []float32{0.4}})},
		{"burst", smallNet(t, 3, false, snnrt.IF{MaxSpikes: 3})},
		{"burst2", smallNet(t, 9, false, snnrt.IF{MaxSpikes: 2, V0: []float32{0.5}})},
		{"zero-reset", smallNet(t, 4, true, snnrt.IF{Reset: snnrt.ResetToZero})},
		{"branchy", branchyNet(t, 5)},
		{"signed", smallNet(t, 6, false, snnrt.IF{Signed: true, V0: []float32{0.45}})},
		{"signed-burst", smallNet(t, 7, true, snnrt.IF{Signed: true, MaxSpikes: 2, V0: []float32{0.5}})},
		{"signed-burst3", smallNet(t, 8, false, snnrt.IF{Signed: true, MaxSpikes: 3})},
	}
	const n = 5
	for _, tc := range models {
		for _, T := range []int{1, 4} {
			t.Run(fmt.Sprintf("%s/T%d", tc.name, T), func(t *testing.T) {
				x := randImages(tc.m, n, 7)
				// want[layer][t] = output of all n images at step t.
				want := make([][][]float32, len(tc.m.Layers))
				for i := range want {
					want[i] = make([][]float32, T)
				}
				_, err := snnrt.Run(tc.m, x, n, snnrt.Config{T: T, Workers: 1, Chunk: n,
					Observe: func(layer, step, first, cnt int, out []float32) {
						if layer >= 0 {
							want[layer][step-1] = append([]float32(nil), out...)
						}
					}})
				if err != nil {
					t.Fatal(err)
				}
				nt, err := newNet(tc.m, netOptions{t: T, n: n, surrogate: Arctan{2}, trace: true})
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := nt.run(x, make([]int, n)); err != nil {
					t.Fatal(err)
				}
				spikes := 0
				for i, l := range tc.m.Layers {
					got := floats(nt.layerOut[i].Value())
					per := n * l.Shape.Len()
					for step := 0; step < T; step++ {
						g := got
						if !nt.static[i] {
							g = got[step*per : (step+1)*per]
						}
						for j, w := range want[i][step] {
							if math.Abs(float64(g[j]-w)) > 1e-5 {
								t.Fatalf("layer %d (%s) step %d element %d: got %v, snnrt %v", i, l.Kind, step+1, j, g[j], w)
							}
							if l.Kind == snnrt.KindIF && w != 0 {
								spikes++
							}
						}
					}
				}
				if spikes == 0 {
					t.Fatal("no spikes: the test would not test the neurons")
				}
			})
		}
	}
}
