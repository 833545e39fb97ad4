package importer

import (
	"fmt"
	"math"
)

// Resize (opsets 11..19 input forms: X, roi, scales, sizes) in mode
// "nearest" with every coordinate_transformation_mode except
// tf_crop_and_resize and half_pixel_symmetric, and every nearest_mode.
// Linear and cubic modes, antialias, keep_aspect_ratio_policy other than
// stretch and the opset-10 form are refused. torch's nn.Upsample(mode=
// "nearest") exports asymmetric + floor.

var resizeCoordModes = map[string]bool{
	"half_pixel": true, "pytorch_half_pixel": true, "align_corners": true,
	"asymmetric": true, "tf_half_pixel_for_nn": true,
}

var resizeNearestModes = map[string]bool{
	"round_prefer_floor": true, "round_prefer_ceil": true, "floor": true, "ceil": true,
}

func checkResize(n *Node) error {
	if n.Attrs.Int("opset10", 0) != 0 {
		return unsupportedAttr(n, "Resize before opset 11 (use opset >= 11)")
	}
	if m := n.Attrs.String("mode", "nearest"); m != "nearest" {
		return unsupportedAttr(n, "mode=%q (only nearest)", m)
	}
	if m := n.Attrs.String("coordinate_transformation_mode", "half_pixel"); !resizeCoordModes[m] {
		return unsupportedAttr(n, "coordinate_transformation_mode=%q", m)
	}
	if m := n.Attrs.String("nearest_mode", "round_prefer_floor"); !resizeNearestModes[m] {
		return unsupportedAttr(n, "nearest_mode=%q", m)
	}
	if n.Attrs.Int("antialias", 0) != 0 {
		return unsupportedAttr(n, "antialias=1")
	}
	if p := n.Attrs.String("keep_aspect_ratio_policy", "stretch"); p != "stretch" {
		return unsupportedAttr(n, "keep_aspect_ratio_policy=%q", p)
	}
	return nil
}

// resizeParams returns the output shape and, per dimension, the scale used
// by the coordinate transformation (scales[i], or out/in with sizes).
func resizeParams(n *Node, in []shapeVal) (out []int, scale []float32, err error) {
	x := in[0].shape
	r := len(x)
	axes := make([]int, r)
	for i := range axes {
		axes[i] = i
	}
	if a := n.Attrs.Ints("axes", nil); a != nil {
		if _, err := axesList(a, r); err != nil {
			return nil, nil, err
		}
		axes = axes[:0]
		for _, v := range a {
			ax, _ := normAxis(v, r, false)
			axes = append(axes, ax)
		}
	}
	out, scale = clone(x), make([]float32, r)
	for i := range scale {
		scale[i] = 1
	}
	sc, hasScales := inputVal(in, 2)
	if present(in, 2) && !hasScales {
		return nil, nil, needKnown("scales")
	}
	sz, hasSizes := inputVal(in, 3)
	if present(in, 3) && !hasSizes {
		return nil, nil, needKnown("sizes")
	}
	if hasScales && sc.Len() == 0 {
		hasScales = false
	}
	if hasSizes && sz.Len() == 0 {
		hasSizes = false
	}
	switch {
	case hasScales && hasSizes:
		return nil, nil, fmt.Errorf("both scales and sizes given")
	case hasScales:
		s := sc.Floats()
		if len(s) != len(axes) {
			return nil, nil, fmt.Errorf("%d scales for %d axes", len(s), len(axes))
		}
		for k, ax := range axes {
			if !(s[k] > 0) || math.IsInf(float64(s[k]), 0) {
				return nil, nil, fmt.Errorf("bad scale %g", s[k])
			}
			d := math.Floor(float64(x[ax]) * float64(s[k]))
			if d > MaxElements {
				return nil, nil, fmt.Errorf("scaled dimension %g too large", d)
			}
			out[ax], scale[ax] = int(d), s[k]
		}
	case hasSizes:
		s := intsOf(sz)
		if len(s) != len(axes) {
			return nil, nil, fmt.Errorf("%d sizes for %d axes", len(s), len(axes))
		}
		for k, ax := range axes {
			if s[k] < 0 || s[k] > MaxElements {
				return nil, nil, fmt.Errorf("bad size %d", s[k])
			}
			out[ax] = int(s[k])
			if x[ax] > 0 {
				scale[ax] = float32(s[k]) / float32(x[ax])
			}
		}
	default:
		return nil, nil, fmt.Errorf("neither scales nor sizes given")
	}
	return out, scale, nil
}

func shapeResize(n *Node, in []shapeVal) ([][]int, error) {
	out, _, err := resizeParams(n, in)
	if err != nil {
		return nil, err
	}
	return [][]int{out}, nil
}

// nearestIndex maps output coordinate o of a dimension of input length
// inLen and output length outLen to the input index that Resize's
// coordinate transformation and nearest rounding select, clamped to the
// input (float32 arithmetic, as onnxruntime).
func nearestIndex(o, inLen, outLen int, scale float32, coord, round string) int {
	x := float32(o)
	var xo float32
	switch coord {
	case "half_pixel":
		xo = (x+0.5)/scale - 0.5
	case "pytorch_half_pixel":
		if outLen > 1 {
			xo = (x+0.5)/scale - 0.5
		}
	case "align_corners":
		if outLen > 1 {
			xo = x * float32(inLen-1) / float32(outLen-1)
		}
	case "asymmetric":
		xo = x / scale
	case "tf_half_pixel_for_nn":
		xo = (x + 0.5) / scale
	}
	f := float32(math.Floor(float64(xo)))
	var i float32
	switch round {
	case "floor":
		i = f
	case "ceil":
		i = float32(math.Ceil(float64(xo)))
	case "round_prefer_ceil":
		if xo-f >= 0.5 {
			i = f + 1
		} else {
			i = f
		}
	default: // round_prefer_floor
		if xo-f > 0.5 {
			i = f + 1
		} else {
			i = f
		}
	}
	return int(min(max(i, 0), float32(inLen-1)))
}

// evalResize computes nearest-neighbour Resize: out[o...] = x[i...] with
// each i = nearestIndex(o) along its dimension. Eval has run checkResize.
func evalResize(n *Node, in []*Tensor) ([]*Tensor, error) {
	x := in[0]
	outShape, scale, err := resizeParams(n, toShapeVals(in))
	if err != nil {
		return nil, err
	}
	coord := n.Attrs.String("coordinate_transformation_mode", "half_pixel")
	round := n.Attrs.String("nearest_mode", "round_prefer_floor")
	maps := make([][]int, len(outShape))
	for d, od := range outShape {
		maps[d] = make([]int, od)
		if x.Shape[d] == 0 {
			continue
		}
		for o := range maps[d] {
			maps[d][o] = nearestIndex(o, x.Shape[d], od, scale[d], coord, round)
		}
	}
	if NumElements(x.Shape) == 0 && NumElements(outShape) > 0 {
		return nil, fmt.Errorf("resizing an empty tensor to %v", outShape)
	}
	st := strides(x.Shape)
	return []*Tensor{remap(x, outShape, 0, func(idx []int) int {
		off := 0
		for d, i := range idx {
			off += maps[d][i] * st[d]
		}
		return off
	})}, nil
}
