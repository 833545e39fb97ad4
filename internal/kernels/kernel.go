package kernels

// Register tile and cache blocking of the packed GEMM. The k blocking is
// fixed and starts at k = 0, so the order in which the k terms of one output
// element are summed never depends on m, n or on where the element sits.
const (
	mr      = 6    // rows of the register tile (A micro-panel width)
	nr      = 32   // columns of the register tile (B micro-panel width)
	kcBlock = 256  // k block: a B micro-panel of kcBlock×nr floats stays in L1/L2
	mcBlock = 144  // rows of an A block (multiple of mr), kept in L2
	ncBlock = 3072 // columns of a B block (multiple of nr), kept in L3
)

// kernelKind selects a micro-kernel implementation. Every kind computes the
// same sums in the same order (one multiply-add per term, p ascending); the
// assembly kinds fuse each multiply-add (FMA), the portable one rounds the
// product first, so they agree to rounding, not bit for bit.
type kernelKind int

const (
	kernelGo     kernelKind = iota // portable Go (kernel6x32Go)
	kernelAVX2                     // AVX2+FMA, two 6×16 halves (kernel6x16AVX2)
	kernelAVX512                   // AVX-512F, one 6×32 tile in ZMM registers (kernel6x32AVX512)
)

// String returns the kernel's name as the benchmarks report it.
func (k kernelKind) String() string {
	switch k {
	case kernelAVX2:
		return "avx2"
	case kernelAVX512:
		return "avx512"
	}
	return "go"
}

// availableKernels returns the kinds this CPU runs, portable first and the
// fastest last.
func availableKernels() []kernelKind {
	ks := []kernelKind{kernelGo}
	if haveAVX2Kernel() {
		ks = append(ks, kernelAVX2)
	}
	if haveAVX512Kernel() {
		ks = append(ks, kernelAVX512)
	}
	return ks
}

// bestKernel returns the fastest micro-kernel the CPU runs.
// It does not allocate (simulator time steps call it).
func bestKernel() kernelKind {
	switch {
	case haveAVX512Kernel():
		return kernelAVX512
	case haveAVX2Kernel():
		return kernelAVX2
	}
	return kernelGo
}

// microKernel computes one mr×nr tile of C:
//
//	acc[r][j] = Σ_{p<kc} a[p·mr+r] · b[p·nr+j]   (p ascending)
//	C[r][j]   = alpha·acc[r][j]                   if !load
//	C[r][j]   = alpha·acc[r][j] + beta·C[r][j]    if load
//
// where row r of C starts at c[r·ldc]. kind must be one of
// availableKernels().
func microKernel(kind kernelKind, kc int, a, b, c []float32, ldc int, alpha, beta float32, load bool) {
	if len(a) < kc*mr || len(b) < kc*nr || len(c) < (mr-1)*ldc+nr {
		panic("kernels: micro-kernel: short slice")
	}
	l := 0
	if load {
		l = 1
	}
	switch kind {
	case kernelAVX512:
		kernel6x32AVX512(kc, &a[0], &b[0], &c[0], ldc, alpha, beta, l)
	case kernelAVX2:
		// Two 6×16 halves reading every other 16 floats of the B panel.
		kernel6x16AVX2(kc, &a[0], &b[0], &c[0], ldc, nr, alpha, beta, l)
		kernel6x16AVX2(kc, &a[0], &b[16], &c[16], ldc, nr, alpha, beta, l)
	default:
		kernel6x32Go(kc, a, b, c, ldc, alpha, beta, load)
	}
}

// rowsKernel computes the first rows (1 ≤ rows < mr) rows of the tile that
// microKernel computes with kernelAVX512, each element bit-identical to
// microKernel's, and writes only those rows: row r of C starts at c[r·ldc].
func rowsKernel(kc int, a, b, c []float32, ldc int, alpha, beta float32, load bool, rows int) {
	if rows < 1 || rows >= mr || len(a) < kc*mr || len(b) < kc*nr || len(c) < (rows-1)*ldc+nr {
		panic("kernels: rows micro-kernel: bad rows or short slice")
	}
	l := 0
	if load {
		l = 1
	}
	kernelRowsAVX512(kc, &a[0], &b[0], &c[0], ldc, alpha, beta, l, rows)
}

// kernel6x32Go is the portable micro-kernel; keep in sync with
// kernel6x16AVX2 and kernel6x32AVX512 in kernel_amd64.s
// (TestMicroKernels compares them).
func kernel6x32Go(kc int, a, b, c []float32, ldc int, alpha, beta float32, load bool) {
	a, b = a[:kc*mr], b[:kc*nr]
	// 2×4 sub-tiles keep their eight sums in registers.
	for r := 0; r < mr; r += 2 {
		for j := 0; j < nr; j += 4 {
			var s00, s01, s02, s03, s10, s11, s12, s13 float32
			for p := 0; p < kc; p++ {
				ap := a[p*mr+r : p*mr+r+2 : p*mr+r+2]
				bp := b[p*nr+j : p*nr+j+4 : p*nr+j+4]
				a0, a1 := ap[0], ap[1]
				b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
				s00 += a0 * b0
				s01 += a0 * b1
				s02 += a0 * b2
				s03 += a0 * b3
				s10 += a1 * b0
				s11 += a1 * b1
				s12 += a1 * b2
				s13 += a1 * b3
			}
			c0 := c[r*ldc+j : r*ldc+j+4 : r*ldc+j+4]
			c1 := c[(r+1)*ldc+j : (r+1)*ldc+j+4 : (r+1)*ldc+j+4]
			acc := [8]float32{s00, s01, s02, s03, s10, s11, s12, s13}
			for t := 0; t < 4; t++ {
				if load {
					c0[t] = alpha*acc[t] + beta*c0[t]
					c1[t] = alpha*acc[4+t] + beta*c1[t]
				} else {
					c0[t] = alpha * acc[t]
					c1[t] = alpha * acc[4+t]
				}
			}
		}
	}
}

// macroKernel computes the mc×nc block C = alpha·A·B (+ beta·C if load)
// over one k block of length kc. A is packed as ⌈mc/mr⌉ micro-panels that
// start aStride floats apart, each kc×mr; B as ⌈nc/nr⌉ micro-panels aStride
// bStride floats apart, each kc×nr. Rows and columns beyond mc and nc in the
// packed panels must be finite (they are computed and thrown away).
// Partial tiles go through a scratch tile so that every C element is
// computed by exactly the same instructions whatever its position.
func macroKernel(kind kernelKind, mc, nc, kc int, alpha float32, ap []float32, aStride int,
	bp []float32, bStride int, beta float32, load bool, c []float32, ldc int) {
	var tile [mr * nr]float32
	for jr := 0; jr < nc; jr += nr {
		nn := min(nr, nc-jr)
		b := bp[(jr/nr)*bStride:]
		for ir := 0; ir < mc; ir += mr {
			mm := min(mr, mc-ir)
			a := ap[(ir/mr)*aStride:]
			if mm == mr && nn == nr {
				microKernel(kind, kc, a, b, c[ir*ldc+jr:], ldc, alpha, beta, load)
				continue
			}
			if nn == nr && kind == kernelAVX512 {
				// The last rows of C (m not a multiple of mr): compute and
				// write only those rows, in place.
				rowsKernel(kc, a, b, c[ir*ldc+jr:], ldc, alpha, beta, load, mm)
				continue
			}
			if load {
				for r := 0; r < mm; r++ {
					copy(tile[r*nr:r*nr+nn], c[(ir+r)*ldc+jr:])
				}
			}
			microKernel(kind, kc, a, b, tile[:], nr, alpha, beta, load)
			for r := 0; r < mm; r++ {
				copy(c[(ir+r)*ldc+jr:(ir+r)*ldc+jr+nn], tile[r*nr:])
			}
		}
	}
}

// gemmPacked computes C = alpha·A·B + beta·C for C m×n with A and B already
// packed over the whole of k: A as ⌈m/mr⌉ panels of k×mr floats (see
// packA with kc = k) and B as ⌈n/nr⌉ panels of k×nr floats. beta == 0 means
// C is not read.
func gemmPacked(kind kernelKind, m, n, k int, alpha float32, ap, bp []float32, beta float32, c []float32, ldc int) {
	for jc := 0; jc < n; jc += ncBlock {
		nc := min(ncBlock, n-jc)
		for pc := 0; pc < k; pc += kcBlock {
			kc := min(kcBlock, k-pc)
			bet, load := beta, beta != 0
			if pc > 0 {
				bet, load = 1, true
			}
			for ic := 0; ic < m; ic += mcBlock {
				mc := min(mcBlock, m-ic)
				macroKernel(kind, mc, nc, kc, alpha,
					ap[(ic/mr)*k*mr+pc*mr:], k*mr,
					bp[(jc/nr)*k*nr+pc*nr:], k*nr,
					bet, load, c[ic*ldc+jc:], ldc)
			}
		}
	}
}

// packA copies the mc×kc block of op(A) starting at row i0, column p0 into
// dst as ⌈mc/mr⌉ micro-panels of kc×mr floats (panel q holds rows
// q·mr..q·mr+mr-1, k-major); rows beyond mc are zero. op(A)[i][p] is
// a[i·lda+p], or a[p·lda+i] when trans.
func packA(dst []float32, trans bool, a []float32, lda, i0, p0, mc, kc int) {
	for q := 0; q < mc; q += mr {
		d := dst[q*kc : q*kc+kc*mr]
		mm := min(mr, mc-q)
		if mm < mr {
			clear(d)
		}
		if trans {
			for p := 0; p < kc; p++ {
				src := a[(p0+p)*lda+i0+q:]
				dp := d[p*mr : p*mr+mm]
				copy(dp, src[:mm])
			}
			continue
		}
		for r := 0; r < mm; r++ {
			src := a[(i0+q+r)*lda+p0:]
			src = src[:kc]
			for p, v := range src {
				d[p*mr+r] = v
			}
		}
	}
}

// packB copies the kc×nc block of op(B) starting at row p0, column j0 into
// dst as ⌈nc/nr⌉ micro-panels of kc×nr floats (panel q holds columns
// q·nr..q·nr+nr-1, k-major); columns beyond nc are zero. op(B)[p][j] is
// b[p·ldb+j], or b[j·ldb+p] when trans.
func packB(dst []float32, trans bool, b []float32, ldb, p0, j0, kc, nc int) {
	full := nc / nr * nr // columns in full panels
	if !trans {
		// Walk B row by row so that the source is read sequentially.
		for p := 0; p < kc; p++ {
			src := b[(p0+p)*ldb+j0 : (p0+p)*ldb+j0+nc]
			for q := 0; q < full; q += nr {
				*(*[nr]float32)(dst[q*kc+p*nr:]) = [nr]float32(src[q:])
			}
			if full < nc {
				d := dst[full*kc+p*nr : full*kc+p*nr+nr]
				n := copy(d, src[full:])
				clear(d[n:])
			}
		}
		return
	}
	for q := 0; q < nc; q += nr {
		d := dst[q*kc : q*kc+kc*nr]
		nn := min(nr, nc-q)
		if nn < nr {
			clear(d)
		}
		for j := 0; j < nn; j++ {
			src := b[(j0+q+j)*ldb+p0:]
			src = src[:kc]
			for p, v := range src {
				d[p*nr+j] = v
			}
		}
	}
}
