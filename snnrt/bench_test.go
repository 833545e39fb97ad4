package snnrt

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkRun simulates 32 images of the small conv net for 32 steps.
func BenchmarkRun(b *testing.B) {
	m := smallNet(b, 1, true, IF{V0: []float32{0.5}})
	r := rand.New(rand.NewPCG(1, 1))
	const n = 32
	x := randVec(r, n*m.Input.Len(), 0, 1)
	for b.Loop() {
		if _, err := Run(m, x, n, Config{T: 32}); err != nil {
			b.Fatal(err)
		}
	}
}
