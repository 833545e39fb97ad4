package kernels

// directConv is the im2col-free path of a Conv for small, unpadded,
// stride-1 layers such as LeNet's (see directConvAVX512): for those the
// 6×32 GEMM tile spends as long loading and storing C and packing the
// im2col panel as it does on the few k steps of each tile. Each output is
// the same FMA chain in the same order as the GEMM path's, so the two
// paths agree bit for bit (TestConvDirect).
type directConv struct {
	offs   []int     // input offset of each tap (c·H·W + ky·W + kx), p order
	strips []int     // stripInts ints per strip of 16 output pixels
	w      []float32 // per tap block, per block of 16 channels: taps×16 weights (tap-major), then 16 biases
	bounds []int     // tap block bounds: 0, kcBlock, 2·kcBlock, ..., kdim (the GEMM's k blocks)
}

// stripInts is the number of ints that describe one strip: its first output
// pixel, then the input offset and lane mask of each of its two runs.
const stripInts = 5

// directLanes is the number of output pixels of a strip (ZMM lanes).
const directLanes = 16

// newDirect prepares c's direct path from the weights w [K, C, KH, KW] when
// the CPU has AVX-512 and c is a single-group, stride-1, undilated,
// unpadded convolution with K a multiple of 16, at least 16 output pixels
// per image and no strip of 16 consecutive output pixels spanning more
// than two output rows; otherwise c.dc stays nil. When the output pixels
// are not a multiple of 16 the last strip overlaps the one before it and
// stores its pixels again: that is only right when every k block
// overwrites its outputs, so such a layer also needs a single k block
// (kdim ≤ kcBlock).
func (c *Conv) newDirect(w []float32) {
	g := c.g
	p := c.oh * c.ow
	if !haveAVX512Kernel() || g.Group != 1 || g.StrideH != 1 || g.StrideW != 1 || g.DilH != 1 || g.DilW != 1 ||
		g.PadT != 0 || g.PadL != 0 || g.PadB != 0 || g.PadR != 0 || g.K%directLanes != 0 || p < directLanes ||
		(p%directLanes != 0 && c.kdim > kcBlock) {
		return
	}
	dc := &directConv{}
	for j0 := 0; j0 < p; j0 += directLanes {
		j0 = min(j0, p-directLanes) // the last strip overlaps the one before it
		var s [stripInts]int
		s[0] = j0
		runs := 0
		for l := 0; l < directLanes; l++ {
			oy, ox := (j0+l)/c.ow, (j0+l)%c.ow
			if l == 0 || ox == 0 {
				if runs++; runs > 2 {
					return
				}
				s[2*runs-1] = oy*g.W + ox - l
			}
			s[2*runs] |= 1 << l
		}
		if runs == 1 {
			s[3] = s[1] // a zero mask: the second load reads nothing
		}
		dc.strips = append(dc.strips, s[:]...)
	}
	for ch := 0; ch < g.C; ch++ {
		for ky := 0; ky < g.KH; ky++ {
			for kx := 0; kx < g.KW; kx++ {
				dc.offs = append(dc.offs, ch*g.H*g.W+ky*g.W+kx)
			}
		}
	}
	for p0 := 0; p0 < c.kdim; p0 += kcBlock {
		dc.bounds = append(dc.bounds, p0)
		p1 := min(c.kdim, p0+kcBlock)
		for kb := 0; kb < g.K; kb += directLanes {
			for t := p0; t < p1; t++ {
				for k := kb; k < kb+directLanes; k++ {
					dc.w = append(dc.w, w[k*c.kdim+t])
				}
			}
			dc.w = append(dc.w, c.bias[kb:kb+directLanes]...)
		}
	}
	dc.bounds = append(dc.bounds, c.kdim)
	c.dc = dc
}

// forwardDirect is ForwardEpilogue on the direct path, image by image. Per
// k block it combines the block's sums as the GEMM path does: with
// c.direct, C starts from the bias and each block adds its sum to C; else
// the first block's sum is C, each later block adds its sum and the bias
// is added last.
func (c *Conv) forwardDirect(dst, x []float32, n int, ep Epilogue) {
	g, dc := c.g, c.dc
	p, in := c.oh*c.ow, g.C*g.H*g.W
	nb := len(dc.bounds) - 1
	for i := 0; i < n; i++ {
		d := dst[i*g.K*p : (i+1)*g.K*p]
		xi := x[i*in : (i+1)*in]
		woff := 0
		for b := 0; b < nb; b++ {
			p0, p1 := dc.bounds[b], dc.bounds[b+1]
			flags := 1 // C = sum + C
			switch {
			case b == 0 && (c.direct || nb == 1):
				flags = 2 // C = sum + bias
			case b == 0:
				flags = 0 // C = sum
			case !c.direct && b == nb-1:
				flags = 3 // C = (sum + C) + bias
			}
			directConvAVX512(&d[0], &xi[0], &dc.w[woff], &dc.offs[p0], p1-p0, &dc.strips[0],
				len(dc.strips)/stripInts, g.K/directLanes, p, flags)
			woff += g.K / directLanes * (p1 - p0 + 1) * directLanes
		}
		if ep != nil {
			for k := 0; k < g.K; k++ {
				ep.Apply(k, d[k*p:(k+1)*p])
			}
		}
	}
}
