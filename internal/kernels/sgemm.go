package kernels

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices,
// where op(A) is m×k, op(B) is k×n and C is m×n:
//
//	C[i·ldc+j] = alpha·Σ_p op(A)[i][p]·op(B)[p][j] + beta·C[i·ldc+j]
//
// op(A)[i][p] is a[i·lda+p], or a[p·lda+i] when transA; op(B)[p][j] is
// b[p·ldb+j], or b[j·ldb+p] when transB. When beta == 0, C is not read (NaNs
// in C do not propagate). It panics if a leading dimension is too small or
// a slice too short.
//
// The sum over p runs in a fixed order (blocks of 256 ascending, one FMA per
// term within a block), so each C element is bit-identical whatever m, n or
// the position of its row and column. Sgemm runs on the calling goroutine;
// it allocates packing buffers of at most about 3.3 MB.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(bestKernel(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sgemm is Sgemm with the micro-kernel kind given (the tests run every kind).
func sgemm(kind kernelKind, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic("kernels: Sgemm: negative dimension")
	}
	if m == 0 || n == 0 {
		return
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if lda < max(1, ac) || ldb < max(1, bc) || ldc < n {
		panic("kernels: Sgemm: bad leading dimension")
	}
	if (ar > 0 && len(a) < (ar-1)*lda+ac) || (br > 0 && len(b) < (br-1)*ldb+bc) || len(c) < (m-1)*ldc+n {
		panic("kernels: Sgemm: short slice")
	}
	if k == 0 || alpha == 0 {
		scaleRows(m, n, beta, c, ldc)
		return
	}
	kcMax := min(k, kcBlock)
	mcMax := min(roundUp(m, mr), mcBlock)
	ncMax := min(roundUp(n, nr), ncBlock)
	buf := make([]float32, (mcMax+ncMax)*kcMax)
	ap, bp := buf[:mcMax*kcMax], buf[mcMax*kcMax:]
	for jc := 0; jc < n; jc += ncBlock {
		nc := min(ncBlock, n-jc)
		for pc := 0; pc < k; pc += kcBlock {
			kc := min(kcBlock, k-pc)
			packB(bp, transB, b, ldb, pc, jc, kc, nc)
			bet, load := beta, beta != 0
			if pc > 0 {
				bet, load = 1, true
			}
			for ic := 0; ic < m; ic += mcBlock {
				mc := min(mcBlock, m-ic)
				packA(ap, transA, a, lda, ic, pc, mc, kc)
				macroKernel(kind, mc, nc, kc, alpha, ap, kc*mr, bp, kc*nr, bet, load, c[ic*ldc+jc:], ldc)
			}
		}
	}
}

// scaleRows sets C = beta·C for the m×n matrix C (C = 0 when beta == 0).
func scaleRows(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// roundUp returns v rounded up to a multiple of q.
func roundUp(v, q int) int { return (v + q - 1) / q * q }
