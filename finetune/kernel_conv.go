package finetune

import "github.com/ann2snn/ann2snn/internal/kernels"

// convKernel is a 2-D convolution over n images: inputs x [n,C,H,W],
// W [K,C/G,KH,KW] and optionally B [K]; output [n,K,OH,OW]. The forward
// pass is the project's kernels.Conv (bit-identical to snnrt). The backward
// pass lowers to GEMMs on im2col blocks:
//
//	dW_g += dY_g · colᵀ          (per group g, col = im2col(x) as [pixels, C/G·KH·KW])
//	dcol  = dY_gᵀ · W_g,  dx = col2im(dcol)
//	dB   += Σ_pixels dY
type convKernel struct {
	name    string
	g       kernels.ConvGeom // strides, dilations, group normalised to ≥ 1
	n       int
	hasBias bool
	inGrad  bool
	cg, kg  int
	kdim    int
	oh, ow  int
	scratch *pool
}

func newConvKernel(name string, g kernels.ConvGeom, n int, hasBias, inGrad bool) *convKernel {
	norm := func(v int) int { return max(v, 1) }
	g.StrideH, g.StrideW, g.DilH, g.DilW, g.Group = norm(g.StrideH), norm(g.StrideW), norm(g.DilH), norm(g.DilW), norm(g.Group)
	k := &convKernel{name: name, g: g, n: n, hasBias: hasBias, inGrad: inGrad,
		cg: g.C / g.Group, kg: g.K / g.Group, oh: g.OutH(), ow: g.OutW()}
	k.kdim = k.cg * g.KH * g.KW
	k.scratch = &pool{}
	return k
}

func (k *convKernel) id() string { return k.name }

func (k *convKernel) inLens() []int {
	l := []int{k.n * k.g.C * k.g.H * k.g.W, k.g.K * k.kdim}
	if k.hasBias {
		l = append(l, k.g.K)
	}
	return l
}

func (k *convKernel) outLen() int { return k.n * k.g.K * k.oh * k.ow }

func (k *convKernel) diff() []bool {
	d := []bool{k.inGrad, true}
	if k.hasBias {
		d = append(d, true)
	}
	return d
}

func (k *convKernel) forward(out []float32, in [][]float32) {
	var b []float32
	if k.hasBias {
		b = in[2]
	}
	conv := kernels.NewConv(k.g, in[1], b)
	inLen, outLen := k.g.C*k.g.H*k.g.W, k.g.K*k.oh*k.ow
	forEach(k.n, func(lo, hi int) {
		ws := make([]float32, conv.WorkspaceLen(hi-lo))
		conv.Forward(out[lo*outLen:hi*outLen], in[0][lo*inLen:hi*inLen], hi-lo, ws)
	})
}

// blockImages returns how many images one backward GEMM block spans: about
// 1024 output pixels.
func (k *convKernel) blockImages() int {
	return max(1, min(k.n, 1024/(k.oh*k.ow)))
}

// transposable reports whether dx can be computed as a forward
// convolution of dy with the flipped, transposed kernel: stride 1,
// dilation 1, one group and padding smaller than the kernel.
func (k *convKernel) transposable() bool {
	g := k.g
	return g.StrideH == 1 && g.StrideW == 1 && g.DilH == 1 && g.DilW == 1 && g.Group == 1 &&
		g.PadT < g.KH && g.PadB < g.KH && g.PadL < g.KW && g.PadR < g.KW
}

func (k *convKernel) backward(gin [][]float32, in [][]float32, _, gout []float32) {
	if k.inGrad && k.transposable() {
		k.backwardData(gin[0], in[1], gout)
	}
	g := k.g
	p := k.oh * k.ow
	inLen, outLen := g.C*g.H*g.W, g.K*p
	nb := k.blockImages()
	nblocks := (k.n + nb - 1) / nb
	wlen := g.K * k.kdim
	partW := make([][]float32, reduceShards)
	partB := make([][]float32, reduceShards)
	x, w := in[0], in[1]
	slow := k.inGrad && !k.transposable()
	forShards(nblocks, reduceShards, func(s, lo, hi int) {
		dw := make([]float32, wlen)
		db := make([]float32, g.K)
		sc := k.scratch.get(k.kg*nb*p + nb*p*k.kdim)
		a := sc[:k.kg*nb*p]   // dY of one group, [kg, nb·p]
		col := sc[k.kg*nb*p:] // im2col, [kdim, nb·p]
		var dcol []float32
		if slow {
			dcol = make([]float32, nb*p*k.kdim)
		}
		for blk := lo; blk < hi; blk++ {
			i0 := blk * nb
			m := min(nb, k.n-i0)
			cols := m * p
			for gi := 0; gi < g.Group; gi++ {
				for j := 0; j < m; j++ {
					src := gout[(i0+j)*outLen+gi*k.kg*p:]
					for kk := 0; kk < k.kg; kk++ {
						copy(a[kk*cols+j*p:kk*cols+(j+1)*p], src[kk*p:(kk+1)*p])
					}
					k.im2col(col, cols, j*p, x[(i0+j)*inLen:], gi*k.cg)
				}
				kernels.Sgemm(false, true, k.kg, k.kdim, cols, 1, a, cols, col, cols, 1, dw[gi*k.kg*k.kdim:], k.kdim)
				if k.hasBias {
					for kk := 0; kk < k.kg; kk++ {
						var sum float32
						for _, v := range a[kk*cols : (kk+1)*cols] {
							sum += v
						}
						db[gi*k.kg+kk] += sum
					}
				}
				if slow {
					kernels.Sgemm(true, false, cols, k.kdim, k.kg, 1, a, cols, w[gi*k.kg*k.kdim:], k.kdim, 0, dcol, k.kdim)
					for j := 0; j < m; j++ {
						k.col2imT(gin[0][(i0+j)*inLen:], dcol[j*p*k.kdim:(j+1)*p*k.kdim], gi*k.cg)
					}
				}
			}
		}
		k.scratch.put(sc)
		partW[s], partB[s] = dw, db
	})
	sumPartials(gin[1], partW)
	if k.hasBias {
		sumPartials(gin[2], partB)
	}
}

// backwardData computes dx = conv(dy, W̃) for a transposable convolution:
// W̃[c,k,ky,kx] = W[k,c,KH−1−ky,KW−1−kx] with padding KH−1−PadT etc., the
// transposed convolution, on the project's fast forward kernel.
func (k *convKernel) backwardData(dx, w, dy []float32) {
	g := k.g
	t := kernels.ConvGeom{C: g.K, H: k.oh, W: k.ow, K: g.C, KH: g.KH, KW: g.KW,
		PadT: g.KH - 1 - g.PadT, PadB: g.KH - 1 - g.PadB, PadL: g.KW - 1 - g.PadL, PadR: g.KW - 1 - g.PadR}
	wt := make([]float32, len(w))
	khw := g.KH * g.KW
	for kk := 0; kk < g.K; kk++ {
		for c := 0; c < g.C; c++ {
			src := w[(kk*g.C+c)*khw:][:khw]
			dst := wt[(c*g.K+kk)*khw:][:khw]
			for j, v := range src {
				dst[khw-1-j] = v
			}
		}
	}
	conv := kernels.NewConv(t, wt, nil)
	inLen, outLen := g.C*g.H*g.W, g.K*k.oh*k.ow
	forEach(k.n, func(lo, hi int) {
		ws := make([]float32, conv.WorkspaceLen(hi-lo))
		conv.Forward(dx[lo*inLen:hi*inLen], dy[lo*outLen:hi*outLen], hi-lo, ws)
	})
}

// im2col writes the im2col matrix of one image x [C,H,W], channels
// c0..c0+cg−1, into columns j0..j0+OH·OW−1 of col (row length ld):
// col[r·ld + j0 + oy·OW+ox] = x[c0+c, iy, ix] with r = (c·KH+ky)·KW+kx,
// iy = oy·sH − padT + ky·dH, ix likewise, and 0 outside the image.
func (k *convKernel) im2col(col []float32, ld, j0 int, x []float32, c0 int) {
	g := k.g
	r := 0
	for c := 0; c < k.cg; c++ {
		plane := x[(c0+c)*g.H*g.W:]
		for ky := 0; ky < g.KH; ky++ {
			for kx := 0; kx < g.KW; kx++ {
				row := col[r*ld+j0 : r*ld+j0+k.oh*k.ow]
				r++
				for oy := 0; oy < k.oh; oy++ {
					out := row[oy*k.ow : (oy+1)*k.ow]
					iy := oy*g.StrideH - g.PadT + ky*g.DilH
					if iy < 0 || iy >= g.H {
						clear(out)
						continue
					}
					line := plane[iy*g.W : (iy+1)*g.W]
					if g.StrideW == 1 {
						// ix = ox − PadL + kx·DilW: one contiguous run.
						off := kx*g.DilW - g.PadL
						lo, hi := max(0, -off), min(k.ow, g.W-off)
						if lo >= hi {
							clear(out)
							continue
						}
						clear(out[:lo])
						copy(out[lo:hi], line[lo+off:hi+off])
						clear(out[hi:])
						continue
					}
					for ox := range out {
						ix := ox*g.StrideW - g.PadL + kx*g.DilW
						if ix < 0 || ix >= g.W {
							out[ox] = 0
						} else {
							out[ox] = line[ix]
						}
					}
				}
			}
		}
	}
}

// col2imT adds dcol [OH·OW, kdim] (the transpose of im2col's layout) back
// onto the image gradient dx [C,H,W]: the adjoint of im2col. It serves
// convolutions that are not transposable.
func (k *convKernel) col2imT(dx, dcol []float32, c0 int) {
	g := k.g
	for oy := 0; oy < k.oh; oy++ {
		for ox := 0; ox < k.ow; ox++ {
			row := dcol[(oy*k.ow+ox)*k.kdim : (oy*k.ow+ox+1)*k.kdim]
			r := 0
			for c := 0; c < k.cg; c++ {
				plane := dx[(c0+c)*g.H*g.W:]
				for ky := 0; ky < g.KH; ky++ {
					iy := oy*g.StrideH - g.PadT + ky*g.DilH
					if iy < 0 || iy >= g.H {
						r += g.KW
						continue
					}
					line := plane[iy*g.W:]
					for kx := 0; kx < g.KW; kx++ {
						if ix := ox*g.StrideW - g.PadL + kx*g.DilW; ix >= 0 && ix < g.W {
							line[ix] += row[r]
						}
						r++
					}
				}
			}
		}
	}
}
