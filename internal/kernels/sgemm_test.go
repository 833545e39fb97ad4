package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// randSlice returns n floats uniform in [-1, 1) from a fixed seed.
func randSlice(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	s := make([]float32, n)
	for i := range s {
		s[i] = 2*r.Float32() - 1
	}
	return s
}

// naiveSgemm is the float64 reference of Sgemm.
func naiveSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				av := a[i*lda+p]
				if transA {
					av = a[p*lda+i]
				}
				bv := b[p*ldb+j]
				if transB {
					bv = b[j*ldb+p]
				}
				s += float64(av) * float64(bv)
			}
			v := float64(alpha) * s
			if beta != 0 {
				v += float64(beta) * float64(c[i*ldc+j])
			}
			c[i*ldc+j] = float32(v)
		}
	}
}

// closeRel reports whether got is within tol of want, relative to scale.
func closeRel(got, want, scale, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, scale)
}

func TestSgemm(t *testing.T) {
	tests := []struct {
		tA, tB      bool
		m, n, k     int
		alpha, beta float32
		pad         int // extra leading-dimension padding
	}{
		{false, false, 1, 1, 1, 1, 0, 0},
		{false, false, 6, 16, 8, 1, 0, 0},
		{false, false, 6, 32, 8, 1, 0, 0},
		{false, false, 11, 63, 255, 1, 0.25, 2},
		{true, false, 143, 97, 770, 1, 0, 0},
		{false, false, 7, 17, 3, 1, 0, 1},
		{false, false, 64, 1024, 576, 1, 0, 0},
		{true, false, 13, 35, 300, 0.5, 2, 3},
		{false, true, 150, 33, 257, -1, 1, 0},
		{true, true, 145, 50, 513, 2, -0.5, 5},
		{false, false, 5, 3100, 20, 1, 1, 0},
		{false, false, 32, 20, 0, 1, 0.5, 0},
		{false, false, 32, 20, 10, 0, 0.5, 0},
	}
	for _, kind := range availableKernels() {
		for _, tc := range tests {
			name := fmt.Sprintf("%v/%v%v_%dx%dx%d_a%g_b%g", kind, tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, tc.beta)
			t.Run(name, func(t *testing.T) {
				lda := tc.k + tc.pad
				if tc.tA {
					lda = tc.m + tc.pad
				}
				ldb := tc.n + tc.pad
				if tc.tB {
					ldb = tc.k + tc.pad
				}
				ldc := tc.n + tc.pad
				lda, ldb = max(1, lda), max(1, ldb)
				a := randSlice(max(tc.m, tc.k)*lda, 1)
				b := randSlice(max(tc.n, tc.k)*ldb, 2)
				c := randSlice(tc.m*ldc, 3)
				want := append([]float32(nil), c...)
				naiveSgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
				got := append([]float32(nil), c...)
				sgemm(kind, tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, got, ldc)
				scale := math.Sqrt(float64(tc.k))
				for i := range got {
					if !closeRel(float64(got[i]), float64(want[i]), scale, 1e-5) {
						t.Fatalf("c[%d] = %g, want %g", i, got[i], want[i])
					}
				}
			})
		}
	}
}

// TestSgemmBetaZeroIgnoresNaN checks that C is not read when beta == 0.
func TestSgemmBetaZeroIgnoresNaN(t *testing.T) {
	m, n, k := 7, 19, 300
	a, b := randSlice(m*k, 1), randSlice(k*n, 2)
	c := make([]float32, m*n)
	for i := range c {
		c[i] = float32(math.NaN())
	}
	Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
	for i, v := range c {
		if v != v {
			t.Fatalf("c[%d] is NaN", i)
		}
	}
}

// TestSgemmDeterministic checks that a C element is bit-identical whatever
// sub-matrix of the same product it is computed in.
func TestSgemmDeterministic(t *testing.T) {
	const m, n, k = 157, 3300, 600
	a, b := randSlice(m*k, 4), randSlice(k*n, 5)
	full := make([]float32, m*n)
	Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, full, n)
	windows := []struct{ i0, j0, mm, nn int }{
		{0, 0, 1, 1}, {5, 3, 7, 9}, {150, 3290, 7, 10}, {17, 700, 100, 2500}, {1, 1, 156, 3299},
	}
	for _, w := range windows {
		sub := make([]float32, w.mm*w.nn)
		Sgemm(false, false, w.mm, w.nn, k, 1, a[w.i0*k:], k, b[w.j0:], n, 0, sub, w.nn)
		for i := 0; i < w.mm; i++ {
			for j := 0; j < w.nn; j++ {
				if g, f := sub[i*w.nn+j], full[(w.i0+i)*n+w.j0+j]; g != f {
					t.Fatalf("window %+v: (%d,%d) = %g, full product has %g", w, i, j, g, f)
				}
			}
		}
	}
}

// TestMicroKernels compares every micro-kernel this CPU runs with the
// portable one, writing into a wider C (ldc 40) whose columns beyond the
// tile must not change.
func TestMicroKernels(t *testing.T) {
	const ldc = 40
	for _, kind := range availableKernels()[1:] {
		for _, kc := range []int{1, 7, 256} {
			for _, load := range []bool{false, true} {
				a, b := randSlice(kc*mr, 1), randSlice(kc*nr, 2)
				c0 := randSlice(mr*ldc, 3)
				c1 := append([]float32(nil), c0...)
				orig := append([]float32(nil), c0...)
				microKernel(kind, kc, a, b, c0, ldc, 1.5, -0.25, load)
				microKernel(kernelGo, kc, a, b, c1, ldc, 1.5, -0.25, load)
				for i := range c0 {
					if i%ldc >= nr {
						if c0[i] != orig[i] {
							t.Fatalf("%v kc=%d load=%v: c[%d] outside the tile changed", kind, kc, load, i)
						}
						continue
					}
					if !closeRel(float64(c0[i]), float64(c1[i]), math.Sqrt(float64(kc)), 1e-5) {
						t.Fatalf("%v kc=%d load=%v: c[%d] = %g, Go kernel %g", kind, kc, load, i, c0[i], c1[i])
					}
				}
			}
		}
	}
}

// TestRowsKernel checks that the partial-row AVX-512 kernel writes, for
// every row count below mr, exactly the rows kernel6x32AVX512 writes, bit
// for bit, and nothing else of C (rows beyond, columns beyond nr).
func TestRowsKernel(t *testing.T) {
	if !haveAVX512Kernel() {
		t.Skip("no AVX-512")
	}
	const ldc = 40
	for _, kc := range []int{0, 1, 7, 256} {
		for _, load := range []bool{false, true} {
			for rows := 1; rows < mr; rows++ {
				a, b := randSlice(kc*mr+1, 1), randSlice(kc*nr+1, 2)
				full := randSlice(mr*ldc, 3)
				part := append([]float32(nil), full...)
				orig := append([]float32(nil), full...)
				microKernel(kernelAVX512, kc, a, b, full, ldc, 1.5, -0.25, load)
				rowsKernel(kc, a, b, part, ldc, 1.5, -0.25, load, rows)
				for i := range part {
					want := orig[i]
					if i/ldc < rows && i%ldc < nr {
						want = full[i]
					}
					if math.Float32bits(part[i]) != math.Float32bits(want) {
						t.Fatalf("kc=%d load=%v rows=%d: c[%d] = %g, want %g", kc, load, rows, i, part[i], want)
					}
				}
			}
		}
	}
}
