package kernels

// ConvNHWC is a Conv that writes its output channels-last (NHWC). It runs
// the GEMM the other way round, C^T = col^T·W^T: the im2col matrix becomes
// the A operand (micro-panels of mr output pixels) and the weights the B
// operand, so that each tile of the result is a block of pixels × output
// channels, stored straight into NHWC rows. Every output element is the
// same sum in the same order as Conv.Forward's (the bias first where
// Forward starts from it, last where Forward adds it), so the result is
// bit-identical to Forward followed by a transpose, without the transpose.
// Depthwise convolutions are not supported (NewConvNHWC panics).
type ConvNHWC struct {
	c   *Conv
	wpT []float32 // per group ⌈kg/nr⌉ micro-panels of kdim×nr floats of W^T
}

// NewConvNHWC prepares g with weights w [K, C/Group, KH, KW] and bias [K]
// (nil means zero), as NewConv does, for NHWC output. It panics where
// NewConv does, and for a depthwise convolution.
func NewConvNHWC(g ConvGeom, w, bias []float32) *ConvNHWC {
	c := NewConv(g, w, bias)
	if c.depthwise {
		panic("kernels: NewConvNHWC: depthwise convolution")
	}
	c.wp = nil // the NCHW packing is not used
	per := roundUp(c.kg, nr) * c.kdim
	cn := &ConvNHWC{c: c, wpT: make([]float32, c.g.Group*per)}
	for gi := 0; gi < c.g.Group; gi++ {
		// op(B)[p][j] = W[gi·kg+j][p], i.e. B = W_gi^T.
		packB(cn.wpT[gi*per:], true, w[gi*c.kg*c.kdim:], c.kdim, 0, 0, c.kdim, c.kg)
	}
	return cn
}

// WorkspaceLen returns the number of floats of scratch Forward needs for n
// images; it is non-decreasing in n.
func (cn *ConvNHWC) WorkspaceLen(n int) int {
	if n <= 0 {
		return 0
	}
	return roundUp(cn.c.blockCols(n), mr) * cn.c.kdim
}

// Forward computes dst = conv(x) for n NCHW images x ([n, C, H, W]) into
// dst in NHWC order ([n, OutH, OutW, K]); ws holds at least
// WorkspaceLen(n) floats. It does not allocate, and each output image is
// bit-identical whatever n is. It panics if a slice is too short.
func (cn *ConvNHWC) Forward(dst, x []float32, n int, ws []float32) {
	c := cn.c
	g := c.g
	p := c.oh * c.ow
	if n < 0 || len(x) < n*g.C*g.H*g.W || len(dst) < n*g.K*p || len(ws) < cn.WorkspaceLen(n) {
		panic("kernels: ConvNHWC.Forward: short slice")
	}
	if n == 0 {
		return
	}
	kind := bestKernel()
	cb := c.blockCols(n)
	ap := ws[:roundUp(cb, mr)*c.kdim]
	per := roundUp(c.kg, nr) * c.kdim
	// The pixels j0..j0+nc-1 (counted across the batch) are the rows of
	// dst from j0·K on, whichever image they belong to.
	block := func(j0, nc int, beta float32) {
		for gi := 0; gi < g.Group; gi++ {
			c.im2col(ap, x, gi*c.cg, j0, nc, mr)
			gemmPacked(kind, nc, c.kg, c.kdim, 1, ap, cn.wpT[gi*per:], beta, dst[j0*g.K+gi*c.kg:], g.K)
		}
	}
	if c.direct {
		// As Forward: C = bias, then C += col^T·W^T.
		for i := 0; i < n; i++ {
			for p0 := 0; p0 < p; p0 += cb {
				nc := min(cb, p-p0)
				rows := dst[(i*p+p0)*g.K : (i*p+p0+nc)*g.K]
				for r := 0; r < len(rows); r += g.K {
					copy(rows[r:r+g.K], c.bias)
				}
				block(i*p+p0, nc, 1)
			}
		}
		return
	}
	// As Forward: C = col^T·W^T, then C + bias.
	for j0 := 0; j0 < n*p; j0 += cb {
		nc := min(cb, n*p-j0)
		block(j0, nc, 0)
		rows := dst[j0*g.K : (j0+nc)*g.K]
		for r := 0; r < len(rows); r += g.K {
			row := rows[r : r+g.K]
			for k, b := range c.bias {
				row[k] += b
			}
		}
	}
}
