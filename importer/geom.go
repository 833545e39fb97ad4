package importer

import (
	"fmt"

	"github.com/ann2snn/ann2snn/internal/kernels"
)

// ConvGeom is the geometry of a 2-D convolution over one C×H×W image, the
// kernels' type aliased so that programs outside the module can name it
// (snnrt aliases the same type as snnrt.ConvGeom, whose documentation
// lists the fields: C, H, W, K, KH, KW, StrideH, StrideW, PadT, PadL,
// PadB, PadR, DilH, DilW, Group; zero strides, dilations and group mean 1).
type ConvGeom = kernels.ConvGeom

// PoolGeom is the geometry of a 2-D pooling window over one C×H×W image,
// the kernels' type aliased as snnrt.PoolGeom is: fields C, H, W, KH, KW,
// StrideH, StrideW (zero means 1), PadT, PadL, PadB, PadR, CeilMode and
// CountIncludePad.
type PoolGeom = kernels.PoolGeom

// ConvGeometry returns the 2-D geometry of Conv node n for input shape x
// ([N,C,H,W]) and weight shape w ([K,C/group,KH,KW]), with auto_pad
// resolved into explicit pads. A 1-D convolution is returned as 1×W.
func ConvGeometry(n *Node, x, w []int) (ConvGeom, error) {
	win, err := convWindow(n, x, w)
	if err != nil {
		return ConvGeom{}, &NodeError{Node: n.Name, Op: n.Op, Err: err}
	}
	g := ConvGeom{C: x[1], K: w[0], Group: int(n.Attrs.Int("group", 1))}
	g.H, g.W = win.hw(win.in, 1)
	g.KH, g.KW = win.hw(win.k, 1)
	g.StrideH, g.StrideW = win.hw(win.stride, 1)
	g.DilH, g.DilW = win.hw(win.dil, 1)
	g.PadT, g.PadL = win.hw(win.padB, 0)
	g.PadB, g.PadR = win.hw(win.padE, 0)
	return g, nil
}

// PoolGeometry returns the 2-D geometry of pooling node n (MaxPool or
// AveragePool) for input shape x ([N,C,H,W]). Dilated pooling is an error:
// the kernels do not implement it.
func PoolGeometry(n *Node, x []int) (PoolGeom, error) {
	win, err := poolWindow(n, x)
	if err != nil {
		return PoolGeom{}, &NodeError{Node: n.Name, Op: n.Op, Err: err}
	}
	for _, d := range win.dil {
		if d != 1 {
			return PoolGeom{}, &NodeError{Node: n.Name, Op: n.Op, Err: fmt.Errorf("dilated pooling is not supported here")}
		}
	}
	p := PoolGeom{C: x[1], CeilMode: n.Attrs.Int("ceil_mode", 0) != 0, CountIncludePad: n.Attrs.Int("count_include_pad", 0) != 0}
	p.H, p.W = win.hw(win.in, 1)
	p.KH, p.KW = win.hw(win.k, 1)
	p.StrideH, p.StrideW = win.hw(win.stride, 1)
	p.PadT, p.PadL = win.hw(win.padB, 0)
	p.PadB, p.PadR = win.hw(win.padE, 0)
	return p, nil
}
