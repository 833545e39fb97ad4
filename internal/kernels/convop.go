package kernels

import "math"

// Conv is a convolution prepared for repeated use: it holds its geometry,
// the weights packed for the GEMM micro-kernel and the bias. It computes
// what ConvRef computes (up to float32 rounding: the GEMM path sums the
// c,ky,kx terms in blocks of 256 with FMA, then adds the bias).
//
// Forward lowers each group to C = W·col, where col is the im2col matrix
// of a block of output pixels (spanning images), written directly in the
// packed layout of the micro-kernel. Depthwise convolutions (Group == C ==
// K) run a direct loop instead. A Conv is read-only after NewConv, so
// several goroutines may call Forward at once with their own dst and ws.
type Conv struct {
	g         ConvGeom  // geometry with strides, dilations and group normalised to ≥ 1
	cg, kg    int       // input and output channels per group
	kdim      int       // GEMM depth: cg·KH·KW
	oh, ow    int       // output size
	w         []float32 // weights [K, cg, KH, KW] (depthwise path)
	wp        []float32 // per group ⌈kg/mr⌉ micro-panels of kdim×mr floats
	bias      []float32 // [K]; zeros when NewConv got nil
	depthwise bool
	colBlock  int  // output pixels per im2col block (multiple of nr)
	direct    bool // blocks lie inside one image and the GEMM writes dst
	// tables[pix/tableStep] is the fill table of a full nr-lane im2col
	// panel whose first column is output pixel pix of an image (nil: none
	// precomputed; see newPanelTables).
	tables    []panelTable
	tableStep int
	dc        *directConv // im2col-free path (nil: none; see newDirect)
}

// colTarget is the number of floats an im2col block aims at: its kdim ×
// colBlock floats should stay in L2 between im2col and GEMM.
const colTarget = 64 << 10

// maxGatherTaps bounds KH·KW for the table-driven im2col of narrow outputs.
const maxGatherTaps = 64

// NewConv prepares the convolution g with weights w [K, C/Group, KH, KW] and
// bias [K] (nil means zero). It copies w and bias. It panics if
// g.Validate() fails or a slice has the wrong length.
func NewConv(g ConvGeom, w, bias []float32) *Conv {
	if err := g.Validate(); err != nil {
		panic(err.Error())
	}
	g.StrideH, g.StrideW, g.DilH, g.DilW, g.Group = one(g.StrideH), one(g.StrideW), one(g.DilH), one(g.DilW), one(g.Group)
	c := &Conv{g: g, cg: g.C / g.Group, kg: g.K / g.Group, oh: g.OutH(), ow: g.OutW()}
	c.kdim = c.cg * g.KH * g.KW
	if len(w) != g.K*c.kdim || (bias != nil && len(bias) != g.K) {
		panic("kernels: NewConv: weights or bias of the wrong length")
	}
	c.bias = make([]float32, g.K)
	copy(c.bias, bias)
	c.depthwise = g.Group == g.C && g.Group == g.K
	if c.depthwise {
		c.w = append([]float32(nil), w...)
		return c
	}
	per := roundUp(c.kg, mr) * c.kdim
	c.wp = make([]float32, g.Group*per)
	for gi := 0; gi < g.Group; gi++ {
		packA(c.wp[gi*per:], false, w[gi*c.kg*c.kdim:], c.kdim, 0, 0, c.kg, c.kdim)
	}
	c.colBlock = max(8*nr, colTarget/c.kdim/nr*nr)
	if p := c.oh * c.ow; p >= min(c.colBlock/2, 512) {
		// Large images: split each image into equal blocks and let the
		// GEMM write dst directly (C = bias, then C += W·col).
		c.direct = true
		c.colBlock = roundUp(ceilDiv(p, ceilDiv(p, c.colBlock)), nr)
	}
	c.newPanelTables()
	c.newDirect(w)
	return c
}

// Geom returns the geometry of c, with zero strides, dilations and group
// replaced by 1.
func (c *Conv) Geom() ConvGeom { return c.g }

// blockCols returns the number of output pixels per im2col block for a
// batch of n images.
func (c *Conv) blockCols(n int) int {
	if c.direct {
		return min(c.oh*c.ow, c.colBlock)
	}
	return min(n*c.oh*c.ow, c.colBlock)
}

// WorkspaceLen returns the number of floats of scratch Forward needs for n
// images. It is non-decreasing in n, so a workspace sized for the largest
// batch serves every smaller one.
func (c *Conv) WorkspaceLen(n int) int {
	if c.depthwise || n <= 0 {
		return 0
	}
	cb := c.blockCols(n)
	if c.direct {
		return roundUp(cb, nr) * c.kdim
	}
	return roundUp(cb, nr)*c.kdim + c.g.K*cb
}

// Forward computes dst = conv(x) for n NCHW images: x is [n, C, H, W], dst
// is [n, K, OutH, OutW] and ws holds at least WorkspaceLen(n) floats of
// scratch. It does not allocate and runs on the calling goroutine. Each
// output image is bit-identical whatever n is and wherever the image sits
// in the batch. It panics if a slice is too short.
func (c *Conv) Forward(dst, x []float32, n int, ws []float32) {
	c.ForwardEpilogue(dst, x, n, ws, nil)
}

// Epilogue is an elementwise function per output channel that
// Conv.ForwardEpilogue applies to the convolution's output while it is in
// cache, right after the bias is added.
type Epilogue interface {
	// Apply replaces each v[i], an output of channel k, by f_k(v[i]).
	Apply(k int, v []float32)
}

// ForwardEpilogue is Forward followed by dst[i,k,y,x] = f_k(dst[i,k,y,x])
// for the Epilogue ep (nil: none), applied to each block of output pixels
// as soon as the GEMM has written it, so that the output is not read back
// from memory in a separate pass. The result is bit-identical to Forward
// followed by ep.Apply over each channel of each image. It does not
// allocate if ep.Apply does not.
func (c *Conv) ForwardEpilogue(dst, x []float32, n int, ws []float32, ep Epilogue) {
	g := c.g
	p := c.oh * c.ow
	if n < 0 || len(x) < n*g.C*g.H*g.W || len(dst) < n*g.K*p || len(ws) < c.WorkspaceLen(n) {
		panic("kernels: Conv.Forward: short slice")
	}
	if n == 0 {
		return
	}
	if c.depthwise {
		c.forwardDepthwise(dst, x, n)
		if ep != nil {
			for i := 0; i < n; i++ {
				for k := 0; k < g.K; k++ {
					ep.Apply(k, dst[(i*g.K+k)*p:(i*g.K+k+1)*p])
				}
			}
		}
		return
	}
	if c.dc != nil {
		c.forwardDirect(dst, x, n, ep)
		return
	}
	kind := bestKernel()
	cb := c.blockCols(n)
	bp := ws[:roundUp(cb, nr)*c.kdim]
	per := roundUp(c.kg, mr) * c.kdim
	if c.direct {
		for i := 0; i < n; i++ {
			for p0 := 0; p0 < p; p0 += cb {
				nc := min(cb, p-p0)
				d := dst[i*g.K*p+p0:]
				for k, b := range c.bias {
					fill(d[k*p:k*p+nc], b)
				}
				for gi := 0; gi < g.Group; gi++ {
					c.im2col(bp, x, gi*c.cg, i*p+p0, nc, nr)
					gemmPacked(kind, c.kg, nc, c.kdim, 1, c.wp[gi*per:], bp, 1, d[gi*c.kg*p:], p)
				}
				if ep != nil {
					for k := 0; k < g.K; k++ {
						ep.Apply(k, d[k*p:k*p+nc])
					}
				}
			}
		}
		return
	}
	out := ws[len(bp) : len(bp)+g.K*cb]
	for j0 := 0; j0 < n*p; j0 += cb {
		nc := min(cb, n*p-j0)
		for gi := 0; gi < g.Group; gi++ {
			c.im2col(bp, x, gi*c.cg, j0, nc, nr)
			gemmPacked(kind, c.kg, nc, c.kdim, 1, c.wp[gi*per:], bp, 0, out[gi*c.kg*nc:], nc)
		}
		c.scatter(dst, out, j0, nc, ep)
	}
}

// segment is a run of im2col columns that are consecutive output pixels of
// one output row: lanes lane..lane+n-1 of a B micro-panel.
type segment struct {
	lane, n  int
	xoff     int // offset of the image's first channel of the group in x
	iy0, ix0 int // input coordinates of the first pixel for ky = kx = 0
}

// im2col writes the columns j0..j0+nc-1 (output pixels counted across the
// batch) of the im2col matrix of channels c0..c0+cg-1 into bp as packed
// micro-panels of kdim×lanes floats (row r = (c·KH+ky)·KW+kx): B panels of
// the GEMM W·col with lanes = nr, or A panels of col^T·W^T with lanes = mr
// (ConvNHWC.Forward). Lanes beyond nc are zero.
func (c *Conv) im2col(bp, x []float32, c0, j0, nc, lanes int) {
	g := c.g
	p, hw := c.oh*c.ow, g.H*g.W
	var segs [nr]segment
	for q := 0; q < nc; q += lanes {
		used := min(lanes, nc-q)
		j := j0 + q
		panel := bp[q*c.kdim : q*c.kdim+c.kdim*lanes]
		if used == nr && lanes == nr && c.tables != nil && j%p%c.tableStep == 0 {
			// A full panel whose tables NewConv computed: they hold offsets
			// from the panel's first image's channel c0.
			t := &c.tables[j%p/c.tableStep]
			if base := (j/p*g.C + c0) * hw; t.fill(panel, x[base:], c.cg, hw) {
				continue
			}
		}
		ns := c.segments(&segs, j, used, (j/p*g.C+c0)*hw)
		strided := g.StrideW != 1 && lanes == nr && haveAVX512Kernel() // gathers beat fillRun's strided loop
		if (ns > 2 || strided) && g.KH*g.KW <= maxGatherTaps {
			c.fillGather(panel, x, segs[:ns], lanes)
			continue
		}
		if lanes == nr && g.StrideW == 1 && g.KH*g.KW <= maxGatherTaps && haveAVX512Kernel() {
			c.fillMasked(panel, x, segs[:ns])
			continue
		}
		for _, s := range segs[:ns] {
			c.fillRun(panel, x, s, lanes)
		}
		if used < lanes {
			for r := 0; r < c.kdim; r++ {
				clear(panel[r*lanes+used : r*lanes+lanes])
			}
		}
	}
}

// fillRun writes, for every im2col row r = (c·KH+ky)·KW+kx, the input values
// that the output pixels of run s see into lanes s.lane..s.lane+s.n-1 of row
// r of the micro-panel panel (rows of lanes floats; zero where the tap
// falls into padding).
func (c *Conv) fillRun(panel, x []float32, s segment, lanes int) {
	g := c.g
	hw, n, sw := g.H*g.W, s.n, g.StrideW
	r := 0
	for ch := 0; ch < c.cg; ch++ {
		for ky := 0; ky < g.KH; ky++ {
			iy := s.iy0 + ky*g.DilH
			if uint(iy) >= uint(g.H) {
				for kx := 0; kx < g.KW; kx++ {
					clear(panel[r*lanes+s.lane : r*lanes+s.lane+n])
					r++
				}
				continue
			}
			src := x[s.xoff+ch*hw+iy*g.W : s.xoff+ch*hw+(iy+1)*g.W]
			for kx := 0; kx < g.KW; kx++ {
				d := panel[r*lanes+s.lane : r*lanes+s.lane+n]
				r++
				ix := s.ix0 + kx*g.DilW // input column of lane t: ix + t·sw
				if sw == 1 && ix >= 0 && ix+n <= g.W {
					if n == nr {
						*(*[nr]float32)(d) = [nr]float32(src[ix:])
					} else {
						copy(d, src[ix:ix+n])
					}
					continue
				}
				// Lanes tlo..thi-1 read inside the row, the others are padding.
				tlo := min(n, max(0, ceilDiv(-ix, sw)))
				thi := max(tlo, min(n, floorDiv(g.W-1-ix, sw)+1))
				clear(d[:tlo])
				if sw == 1 && thi > tlo {
					copy(d[tlo:thi], src[ix+tlo:])
				} else {
					for t := tlo; t < thi; t++ {
						d[t] = src[ix+t*sw]
					}
				}
				clear(d[thi:])
			}
		}
	}
}

// fillMasked fills the whole micro-panel panel (rows of nr lanes) like
// fillRun does for each of at most two runs, for stride-1 convolutions, with
// AVX-512 masked loads: per kernel tap and run it tabulates the offset of
// lane 0 in the input channel and the mask of the lanes that read inside
// the image; other lanes (padding, lanes beyond the runs) are zero.
func (c *Conv) fillMasked(panel, x []float32, segs []segment) {
	var offs [2 * maxGatherTaps]int
	var masks [2 * maxGatherTaps]uint32
	tap := c.maskedTable(&offs, &masks, segs)
	_ = panel[c.cg*tap*nr-1]
	_ = x[len(x)-1]
	im2colMaskedAVX512(&panel[0], &x[0], &offs[0], &masks[0], 2*tap, c.cg, c.g.H*c.g.W)
}

// maskedTable writes fillMasked's table for the runs segs into offs and
// masks and returns the number of taps.
func (c *Conv) maskedTable(offs *[2 * maxGatherTaps]int, masks *[2 * maxGatherTaps]uint32, segs []segment) int {
	g := c.g
	tap := 0
	for ky := 0; ky < g.KH; ky++ {
		for kx := 0; kx < g.KW; kx++ {
			for si, s := range segs {
				iy := s.iy0 + ky*g.DilH
				if uint(iy) >= uint(g.H) {
					continue
				}
				ix := s.ix0 + kx*g.DilW // input column of lane s.lane
				// Lane t reads column ix + t - s.lane.
				lo, hi := max(s.lane, s.lane-ix), min(s.lane+s.n, s.lane+g.W-ix)
				if lo >= hi {
					continue
				}
				masks[2*tap+si] = uint32(uint64(1)<<hi - uint64(1)<<lo)
				offs[2*tap+si] = s.xoff + iy*g.W + ix - s.lane
			}
			tap++
		}
	}
	return tap
}

// fillGather fills the whole micro-panel panel (rows of lanes floats) like
// fillRun does for each run, for panels made of many short runs: it first
// tabulates, per kernel tap and lane, the input offset and whether the tap
// is padding, then gathers every channel with that table. Lanes not covered
// by segs are zero.
func (c *Conv) fillGather(panel, x []float32, segs []segment, lanes int) {
	g := c.g
	var offs [maxGatherTaps * nr]int
	var mask [maxGatherTaps]uint32
	tap := c.gatherTable(&offs, &mask, segs)
	hw, r := g.H*g.W, 0
	if lanes == nr && tap > 0 && len(x) <= math.MaxInt32 && haveAVX512Kernel() {
		// 16-lane masked gathers; the offsets fit in int32 as x is short.
		var offs32 [maxGatherTaps * nr]int32
		for i := range offs[:tap*nr] {
			offs32[i] = int32(offs[i])
		}
		_ = panel[c.cg*tap*nr-1]
		gatherPanelAVX512(&panel[0], &x[0], &offs32[0], &mask[0], tap, c.cg, hw)
		return
	}
	for ch := 0; ch < c.cg; ch++ {
		choff := ch * hw
		for t := 0; t < tap; t++ {
			row := panel[r*lanes : r*lanes+lanes : r*lanes+lanes]
			r++
			m, o := mask[t], offs[t*nr:t*nr+lanes:t*nr+lanes]
			for l := range row {
				v := float32(0)
				if m&(1<<l) != 0 {
					v = x[o[l]+choff]
				}
				row[l] = v
			}
		}
	}
}

// gatherTable writes fillGather's table for the runs segs into offs and
// mask and returns the number of taps.
func (c *Conv) gatherTable(offs *[maxGatherTaps * nr]int, mask *[maxGatherTaps]uint32, segs []segment) int {
	g := c.g
	tap := 0
	for ky := 0; ky < g.KH; ky++ {
		for kx := 0; kx < g.KW; kx++ {
			for _, s := range segs {
				iy := s.iy0 + ky*g.DilH
				if uint(iy) >= uint(g.H) {
					continue
				}
				for u := 0; u < s.n; u++ {
					if ix := s.ix0 + u*g.StrideW + kx*g.DilW; uint(ix) < uint(g.W) {
						mask[tap] |= 1 << (s.lane + u)
						offs[tap*nr+s.lane+u] = s.xoff + iy*g.W + ix
					}
				}
			}
			tap++
		}
	}
	return tap
}

// scatter adds the bias to the GEMM result out [K][nc] (columns j0..j0+nc-1
// across the batch), applies ep (if not nil) and writes it to dst
// [n, K, OutH, OutW].
func (c *Conv) scatter(dst, out []float32, j0, nc int, ep Epilogue) {
	k, p := c.g.K, c.oh*c.ow
	for jj := 0; jj < nc; {
		img, pix := (j0+jj)/p, (j0+jj)%p
		l := min(p-pix, nc-jj)
		for kk := 0; kk < k; kk++ {
			d := dst[(img*k+kk)*p+pix : (img*k+kk)*p+pix+l]
			s := out[kk*nc+jj : kk*nc+jj+l]
			b := c.bias[kk]
			for i, v := range s {
				d[i] = v + b
			}
			if ep != nil {
				ep.Apply(kk, d)
			}
		}
		jj += l
	}
}

// forwardDepthwise computes a depthwise convolution (Group == C == K) by
// direct loops: each output sums its taps in (ky, kx) order, as ConvRef does,
// then adds the bias.
func (c *Conv) forwardDepthwise(dst, x []float32, n int) {
	g := c.g
	hw, p := g.H*g.W, c.oh*c.ow
	for i := 0; i < n; i++ {
		for ch := 0; ch < g.C; ch++ {
			xs := x[(i*g.C+ch)*hw : (i*g.C+ch+1)*hw]
			d := dst[(i*g.C+ch)*p : (i*g.C+ch+1)*p]
			clear(d)
			for ky := 0; ky < g.KH; ky++ {
				for kx := 0; kx < g.KW; kx++ {
					wv := c.w[(ch*g.KH+ky)*g.KW+kx]
					off := kx*g.DilW - g.PadL // ix = ox·sW + off
					lo := max(0, ceilDiv(-off, g.StrideW))
					hi := min(c.ow, floorDiv(g.W-1-off, g.StrideW)+1)
					for oy := 0; oy < c.oh; oy++ {
						iy := oy*g.StrideH - g.PadT + ky*g.DilH
						if uint(iy) >= uint(g.H) {
							continue
						}
						row, xr := d[oy*c.ow:(oy+1)*c.ow], xs[iy*g.W:(iy+1)*g.W]
						for ox := lo; ox < hi; ox++ {
							row[ox] += wv * xr[ox*g.StrideW+off]
						}
					}
				}
			}
			b := c.bias[ch]
			for o := range d {
				d[o] += b
			}
		}
	}
}

// floorDiv returns ⌊a/b⌋ for b > 0.
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// ceilDiv returns ⌈a/b⌉ for b > 0.
func ceilDiv(a, b int) int { return -floorDiv(-a, b) }

// fill sets every element of row to v, doubling a filled prefix with copy
// (vectorised memmove) instead of storing one float at a time.
func fill(row []float32, v float32) {
	if len(row) == 0 {
		return
	}
	row[0] = v
	for j := 1; j < len(row); j *= 2 {
		copy(row[j:], row[:j])
	}
}
