package kernels

// Dense is a fully connected layer prepared for repeated use: its weight
// matrix packed once into the B micro-panels of the GEMM micro-kernel, and
// an optional bias. For m input rows x [m, K] it computes
//
//	dst[i·N+j] = alpha·Σ_p x[i·K+p]·W[p][j]   (+ bias[j] when there is a bias)
//
// where W is K×N, given as w[p·N+j], or transposed (N×K, w[j·K+p]: the
// layout of PyTorch's Linear and of ONNX Gemm with transB = 1). The sum is
// the one Sgemm computes (blocks of 256 in ascending order, one multiply-add
// per term), so dst is bit-identical to
//
//	Sgemm(false, trans, m, N, K, alpha, x, K, w, ldw, 0, dst, N)
//
// followed by dst[i·N+j] += bias[j] (one float32 addition), whatever m is
// and wherever a row sits in the batch. A Dense is read-only after NewDense,
// so several goroutines may call Forward at once with their own dst and ws.
type Dense struct {
	k, n  int
	alpha float32
	wp    []float32 // ⌈n/nr⌉ micro-panels of k×nr floats
	bias  []float32 // [n], nil: no bias
}

// NewDense prepares the K×N layer with weights w (K·N floats, w[p·N+j], or
// w[j·K+p] when trans), scale alpha and bias (N floats; nil means no bias,
// which differs from a zero bias only in the sign of zero outputs). It
// copies w and bias. It panics if k or n is not positive or a slice has the
// wrong length.
func NewDense(k, n int, w []float32, trans bool, alpha float32, bias []float32) *Dense {
	if k <= 0 || n <= 0 || len(w) != k*n || (bias != nil && len(bias) != n) {
		panic("kernels: NewDense: bad size or slice length")
	}
	d := &Dense{k: k, n: n, alpha: alpha, wp: make([]float32, roundUp(n, nr)*k)}
	ldw := n
	if trans {
		ldw = k
	}
	packB(d.wp, trans, w, ldw, 0, 0, k, n)
	if bias != nil {
		d.bias = append([]float32(nil), bias...)
	}
	return d
}

// In returns K, the number of inputs per row.
func (d *Dense) In() int { return d.k }

// Out returns N, the number of outputs per row.
func (d *Dense) Out() int { return d.n }

// WorkspaceLen returns the number of floats of scratch Forward needs for m
// rows (one packed block of at most 144 rows × 256 inputs). It is
// non-decreasing in m.
func (d *Dense) WorkspaceLen(m int) int {
	if m <= 0 {
		return 0
	}
	return min(roundUp(m, mr), mcBlock) * min(d.k, kcBlock)
}

// RowEpilogue is an elementwise function per output feature that
// Dense.ForwardEpilogue applies to the layer's output while it is in cache,
// right after the bias is added.
type RowEpilogue interface {
	// ApplyRow replaces each v[i], an output of feature j0+i, by
	// f_{j0+i}(v[i]).
	ApplyRow(j0 int, v []float32)
}

// Forward computes dst = alpha·x·W (+ bias) for m rows: x is [m, K], dst
// is [m, N] and ws holds at least WorkspaceLen(m) floats. It does not
// allocate and runs on the calling goroutine. It panics if a slice is too
// short.
func (d *Dense) Forward(dst, x []float32, m int, ws []float32) {
	d.forward(bestKernel(), dst, x, m, ws, nil)
}

// ForwardEpilogue is Forward followed by dst[i,j] = f_j(dst[i,j]) for the
// RowEpilogue ep (nil: none), applied to each block of rows as soon as its
// sums are complete. The result is bit-identical to Forward followed by
// ep.ApplyRow(0, row) on every row. It does not allocate if ep.ApplyRow
// does not.
func (d *Dense) ForwardEpilogue(dst, x []float32, m int, ws []float32, ep RowEpilogue) {
	d.forward(bestKernel(), dst, x, m, ws, ep)
}

// forward is ForwardEpilogue with the micro-kernel kind given. Its loops are
// Sgemm's (column blocks, k blocks, row blocks), with B already packed.
func (d *Dense) forward(kind kernelKind, dst, x []float32, m int, ws []float32, ep RowEpilogue) {
	k, n := d.k, d.n
	if m < 0 || len(x) < m*k || len(dst) < m*n || len(ws) < d.WorkspaceLen(m) {
		panic("kernels: Dense.Forward: short slice")
	}
	if m == 0 {
		return
	}
	for jc := 0; jc < n; jc += ncBlock {
		nc := min(ncBlock, n-jc)
		for pc := 0; pc < k; pc += kcBlock {
			kc := min(kcBlock, k-pc)
			bet, load := float32(0), false
			if pc > 0 {
				bet, load = 1, true
			}
			for ic := 0; ic < m; ic += mcBlock {
				mc := min(mcBlock, m-ic)
				ap := ws[:roundUp(mc, mr)*kc]
				packA(ap, false, x, k, ic, pc, mc, kc)
				c := dst[ic*n+jc:]
				macroKernel(kind, mc, nc, kc, d.alpha, ap, kc*mr, d.wp[(jc/nr)*k*nr+pc*nr:], k*nr, bet, load, c, n)
				if pc+kc < k {
					continue
				}
				// The sums of these rows and columns are complete.
				for i := 0; i < mc; i++ {
					row := c[i*n : i*n+nc]
					if d.bias != nil {
						for j, b := range d.bias[jc : jc+nc] {
							row[j] += b
						}
					}
					if ep != nil {
						ep.ApplyRow(jc, row)
					}
				}
			}
		}
	}
}
