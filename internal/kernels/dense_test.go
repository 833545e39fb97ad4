package kernels

import (
	"fmt"
	"math"
	"testing"
)

// affineRows is a RowEpilogue that sets v to (j mod 5 + 1)·v − 0.5 for
// feature j and then applies Relu, so that a wrong feature offset changes
// the result.
type affineRows struct{}

func (affineRows) ApplyRow(j0 int, v []float32) {
	for i, x := range v {
		y := float32(float32((j0+i)%5+1)*x) - 0.5
		if !(y > 0) {
			y = 0
		}
		v[i] = y
	}
}

// TestDense checks Dense against Sgemm followed by the bias and the
// epilogue (bit for bit, with the same micro-kernel) and against the
// float64 reference (to rounding), for every micro-kernel this CPU runs,
// across the k, row and column block edges.
func TestDense(t *testing.T) {
	tests := []struct {
		m, n, k int
		trans   bool
		alpha   float32
		bias    bool
		ep      bool
	}{
		{1, 1, 1, false, 1, false, false},
		{64, 128, 512, true, 1, true, true},
		{64, 10, 128, true, 1, true, false},
		{7, 33, 257, false, 0.5, true, true},
		{145, 40, 300, true, -2, false, true},
		{5, 3100, 20, true, 1, true, true},
		{300, 3, 1030, false, 1, true, false},
	}
	for _, kind := range availableKernels() {
		for _, tc := range tests {
			name := fmt.Sprintf("%v/%dx%dx%d_t%v_a%g_bias%v_ep%v", kind, tc.m, tc.n, tc.k, tc.trans, tc.alpha, tc.bias, tc.ep)
			t.Run(name, func(t *testing.T) {
				x, w := randSlice(tc.m*tc.k, 1), randSlice(tc.k*tc.n, 2)
				var bias []float32
				if tc.bias {
					bias = randSlice(tc.n, 3)
				}
				ldw := tc.n
				if tc.trans {
					ldw = tc.k
				}
				var ep RowEpilogue
				if tc.ep {
					ep = affineRows{}
				}
				// Sgemm, then bias, then the epilogue.
				want := make([]float32, tc.m*tc.n)
				sgemm(kind, false, tc.trans, tc.m, tc.n, tc.k, tc.alpha, x, tc.k, w, ldw, 0, want, tc.n)
				ref := make([]float32, tc.m*tc.n)
				for i := 0; i < tc.m; i++ {
					for j := 0; j < tc.n; j++ {
						var s float64
						for p := 0; p < tc.k; p++ {
							wv := w[p*tc.n+j]
							if tc.trans {
								wv = w[j*tc.k+p]
							}
							s += float64(x[i*tc.k+p]) * float64(wv)
						}
						ref[i*tc.n+j] = float32(float64(tc.alpha) * s)
					}
				}
				for i := 0; i < tc.m; i++ {
					for _, v := range [][]float32{want, ref} {
						row := v[i*tc.n : (i+1)*tc.n]
						for j := range row {
							if bias != nil {
								row[j] += bias[j]
							}
						}
						if ep != nil {
							ep.ApplyRow(0, row)
						}
					}
				}
				d := NewDense(tc.k, tc.n, w, tc.trans, tc.alpha, bias)
				got := make([]float32, tc.m*tc.n)
				for i := range got {
					got[i] = float32(math.NaN()) // dst is not read
				}
				d.forward(kind, got, x, tc.m, make([]float32, d.WorkspaceLen(tc.m)), ep)
				scale := 5 * math.Sqrt(float64(tc.k)) * math.Abs(float64(tc.alpha))
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("dst[%d] = %g, Sgemm %g", i, got[i], want[i])
					}
					if !closeRel(float64(got[i]), float64(ref[i]), scale, 1e-5) {
						t.Fatalf("dst[%d] = %g, float64 reference %g", i, got[i], ref[i])
					}
				}
			})
		}
	}
}

// TestDenseRowsIndependent checks that a row's output does not depend on
// the other rows of the batch: each row alone gives the same bits.
func TestDenseRowsIndependent(t *testing.T) {
	const m, n, k = 150, 70, 600
	x, w := randSlice(m*k, 4), randSlice(k*n, 5)
	d := NewDense(k, n, w, true, 1, randSlice(n, 6))
	all := make([]float32, m*n)
	d.Forward(all, x, m, make([]float32, d.WorkspaceLen(m)))
	one := make([]float32, n)
	ws := make([]float32, d.WorkspaceLen(1))
	for _, i := range []int{0, 5, 143, 144, 149} {
		d.Forward(one, x[i*k:(i+1)*k], 1, ws)
		for j := range one {
			if one[j] != all[i*n+j] {
				t.Fatalf("row %d alone: [%d] = %g, in the batch %g", i, j, one[j], all[i*n+j])
			}
		}
	}
}
