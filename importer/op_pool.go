package importer

import (
	"fmt"
	"math"
)

func checkPool(n *Node) error {
	if _, err := autoPadMode(n); err != nil {
		return err
	}
	if len(n.Outputs) > 1 && n.Outputs[1] != "" {
		return unsupportedAttr(n, "MaxPool indices output")
	}
	if ks := n.Attrs.Ints("kernel_shape", nil); len(ks) > 2 {
		return unsupportedAttr(n, "%d-D pooling (only 1-D and 2-D)", len(ks))
	}
	if n.Attrs.Int("storage_order", 0) != 0 {
		return unsupportedAttr(n, "storage_order=1")
	}
	return nil
}

func poolWindow(n *Node, x []int) (*window, error) {
	if len(x) < 3 {
		return nil, fmt.Errorf("input %v: want [N,C,spatial...]", x)
	}
	ks := n.Attrs.Ints("kernel_shape", nil)
	if ks == nil {
		return nil, fmt.Errorf("missing kernel_shape")
	}
	k := make([]int, len(ks))
	for i, v := range ks {
		if v < 1 || v > MaxElements {
			return nil, fmt.Errorf("kernel_shape %v", ks)
		}
		k[i] = int(v)
	}
	if len(k) != len(x)-2 {
		return nil, fmt.Errorf("kernel_shape %v for input %v", ks, x)
	}
	return makeWindow(n, x[2:], k, n.Attrs.Int("ceil_mode", 0) != 0)
}

func shapePool(n *Node, in []shapeVal) ([][]int, error) {
	w, err := poolWindow(n, in[0].shape)
	if err != nil {
		return nil, err
	}
	s := append([]int{in[0].shape[0], in[0].shape[1]}, w.out...)
	return [][]int{s}, nil
}

// evalPool computes MaxPool (padding ignored) and AveragePool (divisor:
// the window clipped to the padded input when count_include_pad=1, to the
// input otherwise) over 1-D or 2-D windows, with dilations and ceil_mode.
func evalPool(n *Node, in []*Tensor) ([]*Tensor, error) {
	x := in[0]
	w, err := poolWindow(n, x.Shape)
	if err != nil {
		return nil, err
	}
	isMax := n.Op == "MaxPool"
	incl := n.Attrs.Int("count_include_pad", 0) != 0
	H, W := w.hw(w.in, 1)
	KH, KW := w.hw(w.k, 1)
	SH, SW := w.hw(w.stride, 1)
	DH, DW := w.hw(w.dil, 1)
	PT, PL := w.hw(w.padB, 0)
	PB, PR := w.hw(w.padE, 0)
	OH, OW := w.hw(w.out, 1)
	N, C := x.Shape[0], x.Shape[1]
	out := NewTensor(append([]int{N, C}, w.out...)...)
	xs := x.Floats()
	for p := 0; p < N*C; p++ {
		src := xs[p*H*W : (p+1)*H*W]
		dst := out.Data[p*OH*OW : (p+1)*OH*OW]
		for oy := 0; oy < OH; oy++ {
			for ox := 0; ox < OW; ox++ {
				acc := float32(0)
				if isMax {
					acc = float32(math.Inf(-1))
				}
				cnt, padCnt := 0, 0
				for ky := 0; ky < KH; ky++ {
					iy := oy*SH - PT + ky*DH
					inPadY := iy >= -PT && iy < H+PB
					for kx := 0; kx < KW; kx++ {
						ix := ox*SW - PL + kx*DW
						if inPadY && ix >= -PL && ix < W+PR {
							padCnt++
						}
						if iy < 0 || iy >= H || ix < 0 || ix >= W {
							continue
						}
						v := src[iy*W+ix]
						cnt++
						if isMax {
							if v > acc || math.IsNaN(float64(v)) {
								acc = v
							}
						} else {
							acc += v
						}
					}
				}
				if !isMax {
					d := cnt
					if incl {
						d = padCnt
					}
					if d > 0 {
						acc /= float32(d)
					}
				}
				dst[oy*OW+ox] = acc
			}
		}
	}
	return []*Tensor{out}, nil
}

func shapeGlobalPool(n *Node, in []shapeVal) ([][]int, error) {
	x := in[0].shape
	if len(x) < 3 {
		return nil, fmt.Errorf("input %v: want [N,C,spatial...]", x)
	}
	s := clone(x)
	for i := 2; i < len(s); i++ {
		s[i] = 1
	}
	return [][]int{s}, nil
}

// evalGlobalAvgPool computes y[n,c,1,...] = mean over the spatial
// dimensions of x[n,c,...].
func evalGlobalAvgPool(n *Node, in []*Tensor) ([]*Tensor, error) {
	x := in[0]
	s, _ := shapeGlobalPool(n, []shapeVal{{shape: x.Shape}})
	out := NewTensor(s[0]...)
	nc := x.Shape[0] * x.Shape[1]
	sp := 1
	for _, d := range x.Shape[2:] {
		sp *= d
	}
	xs := x.Floats()
	for p := 0; p < nc; p++ {
		var sum float32
		for _, v := range xs[p*sp : (p+1)*sp] {
			sum += v
		}
		out.Data[p] = sum / float32(sp)
	}
	return []*Tensor{out}, nil
}
