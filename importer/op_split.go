package importer

import "fmt"

// splitSizes returns the size of each output of Split along axis: from the
// "split" attribute (opset < 13) or input 1 (opset >= 13), else from
// num_outputs (opset 18: chunks of ceil(dim/num_outputs), the last one
// smaller), else equal parts for the number of outputs.
func splitSizes(n *Node, in []shapeVal) (axis int, sizes []int, err error) {
	x := in[0].shape
	axis, err = normAxis(n.Attrs.Int("axis", 0), len(x), false)
	if err != nil {
		return 0, nil, err
	}
	dim := x[axis]
	nout := len(n.Outputs)
	split, ok, known := attrOrInput(n, in, "split", 1)
	if !known {
		return 0, nil, needKnown("split")
	}
	if ok && len(split) > 0 {
		if len(split) != nout {
			return 0, nil, fmt.Errorf("split %v for %d outputs", split, nout)
		}
		sum := 0
		for _, v := range split {
			if v < 0 || v > int64(dim) {
				return 0, nil, fmt.Errorf("bad split %v of dimension %d", split, dim)
			}
			sizes = append(sizes, int(v))
			sum += int(v)
		}
		if sum != dim {
			return 0, nil, fmt.Errorf("split %v does not sum to dimension %d", split, dim)
		}
		return axis, sizes, nil
	}
	if num, has := n.Attrs["num_outputs"].(int64); has {
		if num != int64(nout) || num < 1 {
			return 0, nil, fmt.Errorf("num_outputs %d for %d outputs", num, nout)
		}
		chunk := (dim + nout - 1) / nout
		for i := 0; i < nout; i++ {
			sizes = append(sizes, min(chunk, dim-i*chunk))
		}
		if sizes[nout-1] < 0 || (nout > 1 && sizes[nout-1] == 0 && dim > 0) {
			return 0, nil, fmt.Errorf("dimension %d cannot be split into %d chunks of %d", dim, nout, chunk)
		}
		return axis, sizes, nil
	}
	if nout == 0 || dim%nout != 0 {
		return 0, nil, fmt.Errorf("dimension %d does not split into %d equal parts", dim, nout)
	}
	for i := 0; i < nout; i++ {
		sizes = append(sizes, dim/nout)
	}
	return axis, sizes, nil
}

func shapeSplit(n *Node, in []shapeVal) ([][]int, error) {
	axis, sizes, err := splitSizes(n, in)
	if err != nil {
		return nil, err
	}
	out := make([][]int, len(sizes))
	for i, s := range sizes {
		out[i] = clone(in[0].shape)
		out[i][axis] = s
	}
	return out, nil
}

// evalSplit cuts x along axis into consecutive parts of the sizes that
// splitSizes gives.
func evalSplit(n *Node, in []*Tensor) ([]*Tensor, error) {
	sv := toShapeVals(in)
	shapes, err := shapeSplit(n, sv)
	if err != nil {
		return nil, err
	}
	axis, _, _ := splitSizes(n, sv)
	x := in[0]
	st := strides(x.Shape)
	outs := make([]*Tensor, len(shapes))
	off := 0
	for k, s := range shapes {
		base := off
		outs[k] = remap(x, s, 0, func(idx []int) int {
			o := base * st[axis]
			for d, i := range idx {
				o += i * st[d]
			}
			return o
		})
		off += s[axis]
	}
	return outs, nil
}
