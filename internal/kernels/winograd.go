package kernels

import "math"

// Winograd is a 3×3, stride-1 convolution prepared for repeated use with
// Winograd's minimal filtering F(2×2, 3×3): each 2×2 block of outputs
// (a tile) of one output channel is computed from the 4×4 input patch under
// it with 16 multiplies per input channel instead of the direct method's
// 36, so its 16 batched products are 2.25× fewer flops than Conv's GEMM.
//
// With the transforms of Lavin and Gray (2016), for a 4×4 patch d of one
// input channel and the 3×3 kernel g of one (k, c) pair,
//
//	U = G·g·Gᵀ, V = Bᵀ·d·B (4×4 each), M_ξ = Σ_c U_ξ[k,c]·V_ξ[c,tile],
//	Y = Aᵀ·M·A (2×2) + bias[k]
//
// NewWinograd transforms and packs U once (16 K×C matrices as micro-kernel
// A panels); Forward transforms the input patches of a block of tiles
// (spanning images) straight into packed B panels, runs the 16 products
// with the package's packed GEMM and transforms each block of M back. The
// transforms are additions and subtractions only; with AVX-512 they run
// 16 tiles per instruction (gathers for the input patches), elsewhere in
// portable loops that compute the same bits.
//
// It computes what ConvRef computes to about 1e-6 relative to Σ|w·x|, not
// bit for bit: the products are summed in another order and the transforms
// round. Callers that need Conv's exact sums (a Floor after the
// convolution, as in QCFS) must use Conv. A Winograd is read-only after
// NewWinograd, so several goroutines may call Forward at once with their
// own dst and ws.
type Winograd struct {
	g      ConvGeom
	oh, ow int // output size
	th, tw int // tiles per image: ⌈oh/2⌉ × ⌈ow/2⌉
	per    int // floats of one transformed, packed weight matrix: ⌈K/mr⌉·mr·C
	u      []float32
	bias   []float32
	nb     int // tiles per block (multiple of nr)
}

// winoTarget is the number of floats a block's transformed input and
// products (16·(C+K) per tile) aim at, so that they stay in L2/L3 between
// the transforms and the GEMMs.
const winoTarget = 256 << 10

// WinogradFits reports whether NewWinograd accepts g: a valid, ungrouped
// 3×3 convolution with stride 1 and dilation 1 (any padding).
func WinogradFits(g ConvGeom) bool {
	return g.Validate() == nil && g.KH == 3 && g.KW == 3 && one(g.StrideH) == 1 && one(g.StrideW) == 1 &&
		one(g.DilH) == 1 && one(g.DilW) == 1 && one(g.Group) == 1
}

// NewWinograd prepares the convolution g with weights w [K, C, 3, 3] and
// bias [K] (nil means zero). It copies what it keeps. It panics if
// WinogradFits(g) is false or a slice has the wrong length.
func NewWinograd(g ConvGeom, w, bias []float32) *Winograd {
	if !WinogradFits(g) {
		panic("kernels: NewWinograd: not a 3×3 stride-1 ungrouped convolution")
	}
	if len(w) != g.K*g.C*9 || (bias != nil && len(bias) != g.K) {
		panic("kernels: NewWinograd: weights or bias of the wrong length")
	}
	g.StrideH, g.StrideW, g.DilH, g.DilW, g.Group = 1, 1, 1, 1, 1
	c := &Winograd{g: g, oh: g.OutH(), ow: g.OutW()}
	c.th, c.tw = (c.oh+1)/2, (c.ow+1)/2
	c.bias = make([]float32, g.K)
	copy(c.bias, bias)
	c.per = roundUp(g.K, mr) * g.C
	c.u = make([]float32, 16*c.per)
	// U_ξ[k][c] for ξ = 4i+j, computed in float64 and rounded once.
	tmp := make([]float32, 16*g.K*g.C)
	for k := 0; k < g.K; k++ {
		for ch := 0; ch < g.C; ch++ {
			var u [16]float32
			winoWeight(&u, w[(k*g.C+ch)*9:(k*g.C+ch)*9+9])
			for xi, v := range u {
				tmp[(xi*g.K+k)*g.C+ch] = v
			}
		}
	}
	for xi := 0; xi < 16; xi++ {
		packA(c.u[xi*c.per:], false, tmp[xi*g.K*g.C:], g.C, 0, 0, g.K, g.C)
	}
	c.nb = max(128, winoTarget/(16*(g.C+g.K))/nr*nr)
	return c
}

// winoWeight writes U = G·g·Gᵀ of the 3×3 kernel g (row-major) into u
// (row-major 4×4), with G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], in float64.
func winoWeight(u *[16]float32, g []float32) {
	var t [4][3]float64 // G·g
	for j := 0; j < 3; j++ {
		g0, g1, g2 := float64(g[j]), float64(g[3+j]), float64(g[6+j])
		t[0][j], t[1][j], t[2][j], t[3][j] = g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2
	}
	for i := 0; i < 4; i++ {
		r0, r1, r2 := t[i][0], t[i][1], t[i][2]
		u[4*i+0] = float32(r0)
		u[4*i+1] = float32((r0 + r1 + r2) / 2)
		u[4*i+2] = float32((r0 - r1 + r2) / 2)
		u[4*i+3] = float32(r2)
	}
}

// Geom returns the geometry of w, with zero strides, dilations and group
// replaced by 1.
func (c *Winograd) Geom() ConvGeom { return c.g }

// blockTiles returns the padded number of tiles per block for n images.
func (c *Winograd) blockTiles(n int) int {
	return min(c.nb, roundUp(n*c.th*c.tw, nr))
}

// WorkspaceLen returns the number of floats of scratch Forward needs for n
// images. It is non-decreasing in n, so a workspace sized for the largest
// batch serves every smaller one.
func (c *Winograd) WorkspaceLen(n int) int {
	if n <= 0 {
		return 0
	}
	nb := c.blockTiles(n)
	// The transformed input V (16·C rows), later the staged outputs
	// (4·K rows), then the products M (16·K rows), nb floats each.
	return (max(16*c.g.C, 4*c.g.K) + 16*c.g.K) * nb
}

// Forward computes dst = conv(x) for n NCHW images: x is [n, C, H, W], dst
// is [n, K, OutH, OutW] and ws holds at least WorkspaceLen(n) floats of
// scratch. It does not allocate and runs on the calling goroutine. Each
// output image is bit-identical whatever n is and wherever the image sits
// in the batch. It panics if a slice is too short.
func (c *Winograd) Forward(dst, x []float32, n int, ws []float32) {
	c.ForwardEpilogue(dst, x, n, ws, nil)
}

// ForwardEpilogue is Forward followed by dst[i,k,y,x] = f_k(dst[i,k,y,x])
// for the Epilogue ep (nil: none), applied to each block of outputs while
// it is in cache, as Conv.ForwardEpilogue does. ep.Apply also sees the
// values of the padding tiles of a block (finite, thrown away), so it must
// be a pure elementwise function. It does not allocate if ep.Apply does
// not.
func (c *Winograd) ForwardEpilogue(dst, x []float32, n int, ws []float32, ep Epilogue) {
	c.forward(dst, x, n, ws, ep, bestKernel(), haveAVX512Kernel() && len(x) <= math.MaxInt32)
}

// forward is ForwardEpilogue with the GEMM micro-kernel kind given and the
// assembly transforms (asm) or their portable twins (the tests run both).
func (c *Winograd) forward(dst, x []float32, n int, ws []float32, ep Epilogue, kind kernelKind, asm bool) {
	g := c.g
	tt := c.th * c.tw
	if n < 0 || len(x) < n*g.C*g.H*g.W || len(dst) < n*g.K*c.oh*c.ow || len(ws) < c.WorkspaceLen(n) {
		panic("kernels: Winograd.Forward: short slice")
	}
	if n == 0 {
		return
	}
	nb := c.blockTiles(n)
	vLen := max(16*g.C, 4*g.K) * nb
	total := n * tt
	for j0 := 0; j0 < total; j0 += nb {
		nt := min(nb, total-j0)
		np := roundUp(nt, nr) // padded tiles of this block
		v := ws[:16*g.C*np]
		m := ws[vLen : vLen+16*g.K*np]
		for q := 0; q < np; q += nr {
			if asm && c.tw >= winoRowsMin && q+nr <= nt {
				c.rowsPanel(v[q*g.C:], x, j0+q, np)
				continue
			}
			var t winoTable
			c.table(&t, j0+q, min(nr, nt-q), total)
			panel := v[q*g.C:]
			if asm {
				_ = panel[15*g.C*np+(g.C-1)*nr+nr-1]
				winoInputAVX512(&panel[0], &x[0], &t.base[0], &t.disp[0], &t.mask[0], g.C, g.H*g.W, g.C*np)
			} else {
				winoInputGo(panel, x, &t, g.C, g.H*g.W, g.C*np)
			}
		}
		for xi := 0; xi < 16; xi++ {
			gemmPacked(kind, g.K, np, g.C, 1, c.u[xi*c.per:], v[xi*g.C*np:], 0, m[xi*g.K*np:], np)
		}
		s := ws[:4*g.K*np]
		if asm {
			_ = m[15*g.K*np+g.K*np-1]
			_ = s[4*g.K*np-1]
			winoOutputAVX512(&s[0], &m[0], &c.bias[0], g.K, np/16, g.K*np, np)
		} else {
			winoOutputGo(s, m, c.bias, g.K, np)
		}
		if ep != nil {
			for k := 0; k < g.K; k++ {
				ep.Apply(k, s[4*k*np:4*(k+1)*np])
			}
		}
		c.store(dst, s, j0, nt, np)
	}
}

// winoTable describes the input patches of one panel of nr tiles: lane l's
// patch element (a, b) is x[ch·hw + base[l] + disp[4a+b]] where bit l of
// mask[4a+b] is set, else 0 (padding, or a lane beyond the last tile).
type winoTable struct {
	base [nr]int32
	disp [16]int32
	mask [16]uint32
}

// table fills t for the panel whose lanes are tiles j..j+used-1 of the
// batch (counted image by image, row-major within an image).
func (c *Winograd) table(t *winoTable, j, used, total int) {
	g := c.g
	tt := c.th * c.tw
	var rows, cols [4]uint32
	for l := 0; l < used && j+l < total; l++ {
		img, r := (j+l)/tt, (j+l)%tt
		iy0, ix0 := 2*(r/c.tw)-g.PadT, 2*(r%c.tw)-g.PadL
		t.base[l] = int32((img*g.C*g.H+iy0)*g.W + ix0)
		for a := 0; a < 4; a++ {
			if uint(iy0+a) < uint(g.H) {
				rows[a] |= 1 << l
			}
			if uint(ix0+a) < uint(g.W) {
				cols[a] |= 1 << l
			}
		}
	}
	for a := 0; a < 4; a++ {
		for b := 0; b < 4; b++ {
			t.disp[4*a+b] = int32(a*g.W + b)
			t.mask[4*a+b] = rows[a] & cols[b]
		}
	}
}

// winoInputGo is the portable twin of winoInputAVX512: for each of cg
// channels it writes V = Bᵀ·d·B of the nr patches of table t into row ch of
// the 16 packed B panels panel[ξ·vstride:] (nr lanes per row), with
// Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], rows first, in the
// operation order of the assembly (TestWinogradTransforms compares them bit
// for bit).
func winoInputGo(panel, x []float32, t *winoTable, cg, hw, vstride int) {
	for ch := 0; ch < cg; ch++ {
		for l := 0; l < nr; l++ {
			var d, h [16]float32
			for p := 0; p < 16; p++ {
				if t.mask[p]&(1<<l) != 0 {
					d[p] = x[ch*hw+int(t.base[l])+int(t.disp[p])]
				}
			}
			for a := 0; a < 4; a++ {
				d0, d1, d2, d3 := d[4*a], d[4*a+1], d[4*a+2], d[4*a+3]
				h[4*a], h[4*a+1], h[4*a+2], h[4*a+3] = d0-d2, d1+d2, d2-d1, d1-d3
			}
			for j := 0; j < 4; j++ {
				h0, h1, h2, h3 := h[j], h[4+j], h[8+j], h[12+j]
				o := ch*nr + l
				panel[j*vstride+o] = h0 - h2
				panel[(4+j)*vstride+o] = h1 + h2
				panel[(8+j)*vstride+o] = h2 - h1
				panel[(12+j)*vstride+o] = h1 - h3
			}
		}
	}
}

// winoOutputGo is the portable twin of winoOutputAVX512: for each channel
// k < kk and tile lane l < np it computes Y = Aᵀ·M·A + bias[k] from
// M_ξ[k][l] = m[ξ·kk·np + k·np + l], Aᵀ = [1 1 1 0; 0 1 −1 −1], rows
// first, and writes row a of the tile to s[k·4np + a·2np + 2l + b].
func winoOutputGo(s, m, bias []float32, kk, np int) {
	ms := kk * np
	for k := 0; k < kk; k++ {
		b := bias[k]
		row0 := s[4*k*np : 4*k*np+2*np]
		row1 := s[4*k*np+2*np : 4*k*np+4*np]
		for l := 0; l < np; l++ {
			var v [16]float32
			for xi := range v {
				v[xi] = m[xi*ms+k*np+l]
			}
			var r0, r1 [4]float32
			for j := 0; j < 4; j++ {
				r0[j] = v[j] + v[4+j] + v[8+j]
				r1[j] = v[4+j] - v[8+j] - v[12+j]
			}
			row0[2*l] = r0[0] + r0[1] + r0[2] + b
			row0[2*l+1] = r0[1] - r0[2] - r0[3] + b
			row1[2*l] = r1[0] + r1[1] + r1[2] + b
			row1[2*l+1] = r1[1] - r1[2] - r1[3] + b
		}
	}
}

// store copies the staged outputs s of the block's nt tiles, starting at
// tile j0 of the batch, into dst [n, K, OutH, OutW], dropping the row and
// column beyond an odd output size.
func (c *Winograd) store(dst, s []float32, j0, nt, np int) {
	k, tt := c.g.K, c.th*c.tw
	p := c.oh * c.ow
	for j := j0; j < j0+nt; {
		img, r := j/tt, j%tt
		ty, tx := r/c.tw, r%c.tw
		run := min(c.tw-tx, j0+nt-j)
		ox0, lane := 2*tx, j-j0
		w := min(2*(tx+run), c.ow) - ox0
		rows := min(2, c.oh-2*ty)
		for kk := 0; kk < k; kk++ {
			d := dst[(img*k+kk)*p+2*ty*c.ow+ox0:]
			src := s[4*kk*np+2*lane:]
			copy(d[:w], src[:w])
			if rows == 2 {
				copy(d[c.ow:c.ow+w], src[2*np:2*np+w])
			}
		}
		j += run
	}
}

// winoRowsMin is the least number of tiles per tile row for which full
// panels take winoRowsAVX512 (segments of consecutive tiles of a tile
// row, loaded with masked loads) instead of the gathers of
// winoInputAVX512: shorter rows leave most of its 16 lanes idle.
const winoRowsMin = 8

// winoRowTable describes a segment of up to 16 consecutive tiles of one
// tile row for winoRowsAVX512: patch row a of tile t, element b, is at
// x[ch·hw + off[a] + 2t + b]; bit i of mask[a][i/16] says whether column
// off[a] + i is read (inside the image and the segment), all zero for a
// padding row.
type winoRowTable struct {
	off  [4]int
	mask [4][4]uint16
}

// rowsPanel writes the full panel of nr tiles j..j+nr-1 of the batch to
// panel (row ch of the 16 packed B panels panel[ξ·C·np:]) with
// winoRowsAVX512, one call per run of tiles that lies in one tile row and
// one half of the panel.
func (c *Winograd) rowsPanel(panel, x []float32, j, np int) {
	g := c.g
	vstride := g.C * np
	_ = panel[15*vstride+(g.C-1)*nr+nr-1]
	_ = x[len(x)-1]
	for l := 0; l < nr; {
		r := (j + l) % (c.th * c.tw)
		tx := r % c.tw
		run := min(c.tw-tx, 16-l%16)
		var t winoRowTable
		c.rowTable(&t, j+l, run)
		winoRowsAVX512(&panel[l], &x[0], &t.off[0], &t.mask[0][0], g.C, g.H*g.W, vstride, 1<<run-1)
		l += run
	}
}

// rowTable fills t for the run of cnt ≤ 16 tiles starting at tile j of the
// batch, all in one tile row.
func (c *Winograd) rowTable(t *winoRowTable, j, cnt int) {
	g := c.g
	tt := c.th * c.tw
	img, r := j/tt, j%tt
	iy0, ix0 := 2*(r/c.tw)-g.PadT, 2*(r%c.tw)-g.PadL
	var cols [3]uint16
	for i := 0; i < 2*cnt+2; i++ {
		if uint(ix0+i) < uint(g.W) {
			cols[i/16] |= 1 << (i % 16)
		}
	}
	for a := 0; a < 4; a++ {
		iy := iy0 + a
		t.off[a] = (img*g.C*g.H+iy)*g.W + ix0
		if uint(iy) < uint(g.H) {
			copy(t.mask[a][:], cols[:])
		}
	}
}
