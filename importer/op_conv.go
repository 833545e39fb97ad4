package importer

import (
	"fmt"

	"github.com/ann2snn/ann2snn/internal/kernels"
)

// window is the geometry of a convolution or pooling window over 1 or 2
// spatial dimensions (index 0 = height or the only dimension).
type window struct {
	in, k, stride, dil, padB, padE, out []int
}

// autoPadMode reads and validates auto_pad.
func autoPadMode(n *Node) (string, error) {
	m := n.Attrs.String("auto_pad", "NOTSET")
	switch m {
	case "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER":
		return m, nil
	case "":
		return "NOTSET", nil
	}
	return "", unsupportedAttr(n, "auto_pad %q", m)
}

// makeWindow computes the window geometry for input spatial dims in and
// kernel k, from the attributes strides, dilations, pads and auto_pad.
// ceil selects ceil_mode output sizes (pooling only).
func makeWindow(n *Node, in, k []int, ceil bool) (*window, error) {
	r := len(in)
	if r < 1 || r > 2 {
		return nil, unsupportedAttr(n, "%d-D spatial input (only 1-D and 2-D)", r)
	}
	if len(k) != r {
		return nil, fmt.Errorf("kernel has %d dims, input has %d spatial dims", len(k), r)
	}
	w := &window{in: in, k: k, stride: make([]int, r), dil: make([]int, r), padB: make([]int, r), padE: make([]int, r), out: make([]int, r)}
	get := func(name string, want int, def int64, dst ...[]int) error {
		v := n.Attrs.Ints(name, nil)
		if v == nil {
			for _, d := range dst {
				for i := range d {
					d[i] = int(def)
				}
			}
			return nil
		}
		if len(v) != want {
			return fmt.Errorf("attribute %s has %d values, want %d", name, len(v), want)
		}
		for j, d := range dst {
			for i := range d {
				x := v[j*r+i]
				if x < 0 || x > MaxElements {
					return fmt.Errorf("attribute %s value %d out of range", name, x)
				}
				d[i] = int(x)
			}
		}
		return nil
	}
	if err := get("strides", r, 1, w.stride); err != nil {
		return nil, err
	}
	if err := get("dilations", r, 1, w.dil); err != nil {
		return nil, err
	}
	if err := get("pads", 2*r, 0, w.padB, w.padE); err != nil {
		return nil, err
	}
	mode, err := autoPadMode(n)
	if err != nil {
		return nil, err
	}
	for i := 0; i < r; i++ {
		if w.stride[i] < 1 || w.dil[i] < 1 || k[i] < 1 {
			return nil, fmt.Errorf("stride, dilation and kernel must be positive")
		}
		ext := w.dil[i]*(k[i]-1) + 1
		switch mode {
		case "VALID":
			w.padB[i], w.padE[i] = 0, 0
		case "SAME_UPPER", "SAME_LOWER":
			out := (in[i] + w.stride[i] - 1) / w.stride[i]
			total := max(0, (out-1)*w.stride[i]+ext-in[i])
			small := total / 2
			if mode == "SAME_UPPER" {
				w.padB[i], w.padE[i] = small, total-small
			} else {
				w.padB[i], w.padE[i] = total-small, small
			}
		}
		span := in[i] + w.padB[i] + w.padE[i] - ext
		if span < 0 {
			return nil, fmt.Errorf("kernel extent %d exceeds padded input %d", ext, in[i]+w.padB[i]+w.padE[i])
		}
		o := span/w.stride[i] + 1
		if ceil && span%w.stride[i] != 0 {
			o++
			if (o-1)*w.stride[i] >= in[i]+w.padB[i] { // last window starts in the end padding
				o--
			}
		}
		w.out[i] = o
	}
	return w, nil
}

// hw returns the window as 2-D (height, width), a 1-D window being 1×W.
func (w *window) hw(v []int, def int) (int, int) {
	if len(v) == 1 {
		return def, v[0]
	}
	return v[0], v[1]
}

func checkConv(n *Node) error {
	if ks := n.Attrs.Ints("kernel_shape", nil); len(ks) > 2 {
		return unsupportedAttr(n, "%d-D convolution (only 1-D and 2-D)", len(ks))
	}
	_, err := autoPadMode(n)
	return err
}

// convWindow returns the geometry of Conv node n for input x and weight w
// shapes.
func convWindow(n *Node, x, w []int) (*window, error) {
	if len(x) < 3 || len(w) != len(x) {
		return nil, fmt.Errorf("input %v and weight %v: want [N,C,spatial...] and [K,C/group,kernel...]", x, w)
	}
	k := w[2:]
	if ks := n.Attrs.Ints("kernel_shape", nil); ks != nil {
		if len(ks) != len(k) {
			return nil, fmt.Errorf("kernel_shape %v does not match weight %v", ks, w)
		}
		for i := range ks {
			if int(ks[i]) != k[i] {
				return nil, fmt.Errorf("kernel_shape %v does not match weight %v", ks, w)
			}
		}
	}
	g := int(n.Attrs.Int("group", 1))
	if g < 1 || x[1]%g != 0 || w[0]%g != 0 || w[1]*g != x[1] {
		return nil, fmt.Errorf("group %d with input %v and weight %v", g, x, w)
	}
	return makeWindow(n, x[2:], k, false)
}

func shapeConv(n *Node, in []shapeVal) ([][]int, error) {
	x, w := in[0].shape, in[1].shape
	win, err := convWindow(n, x, w)
	if err != nil {
		return nil, err
	}
	if present(in, 2) && (len(in[2].shape) != 1 || in[2].shape[0] != w[0]) {
		return nil, fmt.Errorf("bias shape %v, want [%d]", in[2].shape, w[0])
	}
	return [][]int{append([]int{x[0], w[0]}, win.out...)}, nil
}

// evalConv computes the ONNX Conv (1-D as 1×W 2-D) with the packed
// kernels.Conv, which matches kernels.ConvRef to rounding.
func evalConv(n *Node, in []*Tensor) ([]*Tensor, error) {
	x, w := in[0], in[1]
	g, err := ConvGeometry(n, x.Shape, w.Shape)
	if err != nil {
		return nil, err
	}
	if err := g.Validate(); err != nil {
		return nil, &NodeError{Node: n.Name, Op: n.Op, Err: err}
	}
	var bias []float32
	if b := tensorAt(in, 2); b != nil {
		bias = b.Floats()
	}
	out := NewTensor(append([]int{x.Shape[0], w.Shape[0]}, x.Shape[2:]...)...)
	if len(x.Shape) == 4 {
		out.Shape[2], out.Shape[3] = g.OutH(), g.OutW()
	} else {
		out.Shape[2] = g.OutW()
	}
	out.Data = make([]float32, NumElements(out.Shape))
	c := kernels.NewConv(g, w.Floats(), bias)
	c.Forward(out.Data, x.Floats(), x.Shape[0], make([]float32, c.WorkspaceLen(x.Shape[0])))
	return []*Tensor{out}, nil
}
