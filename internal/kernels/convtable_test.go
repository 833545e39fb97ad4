package kernels

import (
	"math"
	"testing"
)

// TestConvPanelTables checks that filling im2col panels from the tables
// NewConv precomputes gives the same output bits as computing each panel's
// table anew, on every test geometry and on LeNet's two convolutions (whose
// tables must exist: one filled by masked loads, one by gathers).
func TestConvPanelTables(t *testing.T) {
	if !haveAVX512Kernel() {
		t.Skip("panel tables are built only with AVX-512")
	}
	lenet := []ConvGeom{
		{C: 1, H: 28, W: 28, K: 16, KH: 5, KW: 5},
		{C: 16, H: 12, W: 12, K: 32, KH: 5, KW: 5},
	}
	for i, g := range append(lenet, convCases...) {
		t.Run(geomName(g), func(t *testing.T) {
			c := NewConv(g, randSlice(g.K*g.C/one(g.Group)*g.KH*g.KW, 1), randSlice(g.K, 2))
			if i < len(lenet) && c.tables == nil {
				t.Fatal("no panel tables")
			}
			plain := *c
			plain.tables = nil
			for _, n := range []int{1, 3} {
				x := randSlice(n*g.C*g.H*g.W, uint64(3+n))
				got, want := runConv(c, x, n), runConv(&plain, x, n)
				for j := range got {
					if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
						t.Fatalf("n=%d: dst[%d] = %g with tables, %g without", n, j, got[j], want[j])
					}
				}
			}
		})
	}
}
