package kernels

import "fmt"

// ConvGeom describes a 2-D convolution over one NCHW image.
// The zero values of StrideH/StrideW/DilH/DilW/Group mean 1.
type ConvGeom struct {
	C, H, W                int // input channels, height, width
	K                      int // output channels
	KH, KW                 int // kernel height and width
	StrideH, StrideW       int
	PadT, PadL, PadB, PadR int // zero padding: top, left, bottom, right
	DilH, DilW             int
	Group                  int
}

func one(v int) int {
	if v <= 0 {
		return 1
	}
	return v
}

// OutH returns the output height: (H + PadT + PadB - DilH*(KH-1) - 1)/StrideH + 1.
func (g ConvGeom) OutH() int {
	return (g.H+g.PadT+g.PadB-one(g.DilH)*(g.KH-1)-1)/one(g.StrideH) + 1
}

// OutW returns the output width: (W + PadL + PadR - DilW*(KW-1) - 1)/StrideW + 1.
func (g ConvGeom) OutW() int {
	return (g.W+g.PadL+g.PadR-one(g.DilW)*(g.KW-1)-1)/one(g.StrideW) + 1
}

// ConvRef computes, for n images, dst[i,k,oy,ox] = bias[k] + Σ_{c,ky,kx}
// w[k,c,ky,kx] · x[i, gc+c, oy·sH-padT+ky·dH, ox·sW-padL+kx·dW], where gc
// is the first input channel of k's group and out-of-range x reads are 0.
// x is [n,C,H,W], w is [K,C/Group,KH,KW], bias is [K] or nil, dst is
// [n,K,OutH,OutW]. It is the slow reference that faster kernels are tested
// against; the sum runs over c, then ky, then kx.
func ConvRef(dst, x []float32, n int, w, bias []float32, g ConvGeom) {
	sh, sw, dh, dw, grp := one(g.StrideH), one(g.StrideW), one(g.DilH), one(g.DilW), one(g.Group)
	oh, ow := g.OutH(), g.OutW()
	cg, kg := g.C/grp, g.K/grp
	if len(x) < n*g.C*g.H*g.W || len(dst) < n*g.K*oh*ow || len(w) < g.K*cg*g.KH*g.KW {
		panic("kernels: ConvRef: short slice")
	}
	for i := 0; i < n; i++ {
		xi := x[i*g.C*g.H*g.W:]
		for k := 0; k < g.K; k++ {
			c0 := (k / kg) * cg
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					var s float32
					for c := 0; c < cg; c++ {
						for ky := 0; ky < g.KH; ky++ {
							iy := oy*sh - g.PadT + ky*dh
							if iy < 0 || iy >= g.H {
								continue
							}
							for kx := 0; kx < g.KW; kx++ {
								ix := ox*sw - g.PadL + kx*dw
								if ix < 0 || ix >= g.W {
									continue
								}
								s += w[((k*cg+c)*g.KH+ky)*g.KW+kx] * xi[((c0+c)*g.H+iy)*g.W+ix]
							}
						}
					}
					if bias != nil {
						s += bias[k]
					}
					dst[((i*g.K+k)*oh+oy)*ow+ox] = s
				}
			}
		}
	}
}

// Validate reports whether g describes a convolution the kernels can run:
// positive sizes, non-negative padding, K and C divisible by the group
// count and an output of at least 1×1. Callers that build a ConvGeom from a
// model call it first; NewConv panics on a geometry that fails it.
func (g ConvGeom) Validate() error {
	switch {
	case g.C <= 0 || g.H <= 0 || g.W <= 0 || g.K <= 0 || g.KH <= 0 || g.KW <= 0:
		return fmt.Errorf("kernels: conv geometry %+v: sizes must be positive", g)
	case g.StrideH < 0 || g.StrideW < 0 || g.DilH < 0 || g.DilW < 0 || g.Group < 0:
		return fmt.Errorf("kernels: conv geometry %+v: negative stride, dilation or group", g)
	case g.PadT < 0 || g.PadL < 0 || g.PadB < 0 || g.PadR < 0:
		return fmt.Errorf("kernels: conv geometry %+v: negative padding", g)
	case g.C%one(g.Group) != 0 || g.K%one(g.Group) != 0:
		return fmt.Errorf("kernels: conv geometry %+v: C and K must be multiples of Group", g)
	case g.H+g.PadT+g.PadB < one(g.DilH)*(g.KH-1)+1 || g.W+g.PadL+g.PadR < one(g.DilW)*(g.KW-1)+1:
		return fmt.Errorf("kernels: conv geometry %+v: kernel larger than padded input", g)
	}
	return nil
}
