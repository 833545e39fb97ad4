package importer

import (
	"fmt"
)

// Shape-manipulating operators. Where a shape comes from an input (Reshape
// shape, Squeeze/Unsqueeze axes, Slice starts/ends/axes/steps, Pad pads),
// the value must be known: a constant, or computed from a Shape chain.

// attrOrInput returns integer list attribute name, or else the value of
// optional input i. ok is false when neither is present; known is false
// when the input is present but its value is not known.
func attrOrInput(n *Node, in []shapeVal, name string, i int) (v []int64, ok, known bool) {
	if a := n.Attrs.Ints(name, nil); a != nil {
		return a, true, true
	}
	if !present(in, i) {
		return nil, false, true
	}
	t, known := inputVal(in, i)
	if !known {
		return nil, true, false
	}
	return intsOf(t), true, true
}

func needKnown(name string) error {
	return fmt.Errorf("%s input is not a constant; it must be known at import", name)
}

func shapeFlatten(n *Node, in []shapeVal) ([][]int, error) {
	x := in[0].shape
	axis, err := normAxis(n.Attrs.Int("axis", 1), len(x), true)
	if err != nil {
		return nil, err
	}
	a, b := 1, 1
	for i, d := range x {
		if i < axis {
			a *= d
		} else {
			b *= d
		}
	}
	return [][]int{{a, b}}, nil
}

func shapeReshape(n *Node, in []shapeVal) ([][]int, error) {
	spec, ok, known := attrOrInput(n, in, "shape", 1)
	if !ok {
		return nil, fmt.Errorf("no shape attribute or input")
	}
	if !known {
		return nil, needKnown("shape")
	}
	x := in[0].shape
	allowZero := n.Attrs.Int("allowzero", 0) != 0
	out := make([]int, len(spec))
	infer, prod := -1, 1
	for i, v := range spec {
		switch {
		case v == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has more than one -1", spec)
			}
			infer = i
			continue
		case v == 0 && !allowZero:
			if i >= len(x) {
				return nil, fmt.Errorf("shape %v copies dimension %d of %v", spec, i, x)
			}
			out[i] = x[i]
		case v < 0 || v > MaxElements:
			return nil, fmt.Errorf("bad shape %v", spec)
		default:
			out[i] = int(v)
		}
		prod *= out[i]
		if prod > MaxElements {
			return nil, fmt.Errorf("shape %v too large", spec)
		}
	}
	total := NumElements(x)
	if infer >= 0 {
		if prod == 0 || total%prod != 0 {
			return nil, fmt.Errorf("cannot reshape %v to %v", x, spec)
		}
		out[infer] = total / prod
	} else if prod != total {
		return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v", x, total, spec)
	}
	return [][]int{out}, nil
}

func axesList(axes []int64, rank int) ([]bool, error) {
	mark := make([]bool, rank)
	for _, a := range axes {
		ax, err := normAxis(a, rank, false)
		if err != nil {
			return nil, err
		}
		if mark[ax] {
			return nil, fmt.Errorf("axis %d repeated", a)
		}
		mark[ax] = true
	}
	return mark, nil
}

func shapeSqueeze(n *Node, in []shapeVal) ([][]int, error) {
	axes, ok, known := attrOrInput(n, in, "axes", 1)
	if !known {
		return nil, needKnown("axes")
	}
	x := in[0].shape
	var out []int
	if !ok {
		for _, d := range x {
			if d != 1 {
				out = append(out, d)
			}
		}
		return [][]int{clone(out)}, nil
	}
	mark, err := axesList(axes, len(x))
	if err != nil {
		return nil, err
	}
	for i, d := range x {
		if mark[i] {
			if d != 1 {
				return nil, fmt.Errorf("cannot squeeze dimension %d of size %d", i, d)
			}
			continue
		}
		out = append(out, d)
	}
	return [][]int{clone(out)}, nil
}

func shapeUnsqueeze(n *Node, in []shapeVal) ([][]int, error) {
	axes, ok, known := attrOrInput(n, in, "axes", 1)
	if !known {
		return nil, needKnown("axes")
	}
	if !ok {
		return nil, fmt.Errorf("no axes")
	}
	x := in[0].shape
	mark, err := axesList(axes, len(x)+len(axes))
	if err != nil {
		return nil, err
	}
	out := make([]int, len(mark))
	j := 0
	for i := range out {
		if mark[i] {
			out[i] = 1
		} else {
			out[i] = x[j]
			j++
		}
	}
	return [][]int{out}, nil
}

// evalReshapeLike implements Reshape, Flatten, Squeeze and Unsqueeze: the
// data is copied unchanged under the new shape.
func evalReshapeLike(n *Node, in []*Tensor) ([]*Tensor, error) {
	sv := toShapeVals(in)
	var s [][]int
	var err error
	switch n.Op {
	case "Reshape":
		s, err = shapeReshape(n, sv)
	case "Flatten":
		s, err = shapeFlatten(n, sv)
	case "Squeeze":
		s, err = shapeSqueeze(n, sv)
	case "Unsqueeze":
		s, err = shapeUnsqueeze(n, sv)
	default:
		err = fmt.Errorf("not a reshape")
	}
	if err != nil {
		return nil, err
	}
	out := in[0].Clone()
	out.Shape = s[0]
	return []*Tensor{out}, nil
}

func checkDropout(n *Node) error {
	if len(n.Outputs) > 1 && n.Outputs[1] != "" {
		return unsupportedAttr(n, "Dropout mask output")
	}
	if n.Attrs.Int("training_mode", 0) != 0 {
		return unsupportedAttr(n, "training_mode")
	}
	return nil
}

// evalIdentity implements Identity and inference-mode Dropout (a copy).
// Dropout with a training_mode input that is true is rejected.
func evalIdentity(n *Node, in []*Tensor) ([]*Tensor, error) {
	if t := tensorAt(in, 2); n.Op == "Dropout" && t != nil && t.Len() == 1 && intsOf(t)[0] != 0 {
		return nil, unsupportedAttr(n, "training_mode=true")
	}
	return []*Tensor{in[0].Clone()}, nil
}

func transposePerm(n *Node, rank int) ([]int, error) {
	p := n.Attrs.Ints("perm", nil)
	perm := make([]int, rank)
	if p == nil {
		for i := range perm {
			perm[i] = rank - 1 - i
		}
		return perm, nil
	}
	if len(p) != rank {
		return nil, fmt.Errorf("perm %v for rank %d", p, rank)
	}
	seen := make([]bool, rank)
	for i, v := range p {
		if v < 0 || int(v) >= rank || seen[v] {
			return nil, fmt.Errorf("bad perm %v", p)
		}
		seen[v] = true
		perm[i] = int(v)
	}
	return perm, nil
}

func shapeTranspose(n *Node, in []shapeVal) ([][]int, error) {
	x := in[0].shape
	perm, err := transposePerm(n, len(x))
	if err != nil {
		return nil, err
	}
	out := make([]int, len(x))
	for i, p := range perm {
		out[i] = x[p]
	}
	return [][]int{out}, nil
}

// remap copies, for each output element, the input element at the
// flat index src(outIndex) or, when src returns -1, leaves the fill value.
func remap(x *Tensor, outShape []int, fill float32, src func(idx []int) int) *Tensor {
	out := &Tensor{Shape: outShape}
	total := NumElements(outShape)
	if x.IsInt() {
		out.Ints = make([]int64, total)
	} else {
		out.Data = make([]float32, total)
	}
	idx := make([]int, len(outShape))
	for i := 0; i < total; i++ {
		j := src(idx)
		switch {
		case x.IsInt() && j >= 0:
			out.Ints[i] = x.Ints[j]
		case x.IsInt():
			out.Ints[i] = int64(fill)
		case j >= 0:
			out.Data[i] = x.Data[j]
		default:
			out.Data[i] = fill
		}
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < outShape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out
}

// evalTranspose permutes the dimensions: out[i_perm...] = x[i...].
func evalTranspose(n *Node, in []*Tensor) ([]*Tensor, error) {
	x := in[0]
	s, err := shapeTranspose(n, []shapeVal{{shape: x.Shape}})
	if err != nil {
		return nil, err
	}
	perm, _ := transposePerm(n, len(x.Shape))
	st := strides(x.Shape)
	return []*Tensor{remap(x, s[0], 0, func(idx []int) int {
		off := 0
		for i, p := range perm {
			off += idx[i] * st[p]
		}
		return off
	})}, nil
}

func shapeConcat(n *Node, in []shapeVal) ([][]int, error) {
	x := in[0].shape
	axis, err := normAxis(n.Attrs.Int("axis", 1), len(x), false)
	if err != nil {
		return nil, err
	}
	out := clone(x)
	for _, v := range in[1:] {
		if len(v.shape) != len(x) {
			return nil, fmt.Errorf("concat of ranks %d and %d", len(x), len(v.shape))
		}
		for i := range x {
			if i != axis && v.shape[i] != x[i] {
				return nil, fmt.Errorf("concat of %v and %v along axis %d", x, v.shape, axis)
			}
		}
		out[axis] += v.shape[axis]
		if out[axis] > MaxElements {
			return nil, fmt.Errorf("concat too large")
		}
	}
	return [][]int{out}, nil
}

// evalConcat joins the inputs along axis. All-integer inputs give an
// integer result; otherwise floats.
func evalConcat(n *Node, in []*Tensor) ([]*Tensor, error) {
	sv := make([]shapeVal, len(in))
	allInt := true
	for i, t := range in {
		if t == nil {
			return nil, fmt.Errorf("absent concat input")
		}
		sv[i] = shapeVal{shape: t.Shape}
		allInt = allInt && t.IsInt()
	}
	s, err := shapeConcat(n, sv)
	if err != nil {
		return nil, err
	}
	axis, _ := normAxis(n.Attrs.Int("axis", 1), len(s[0]), false)
	outer := 1
	for _, d := range s[0][:axis] {
		outer *= d
	}
	out := &Tensor{Shape: s[0]}
	if allInt {
		out.Ints = make([]int64, 0, NumElements(s[0]))
	} else {
		out.Data = make([]float32, 0, NumElements(s[0]))
	}
	for o := 0; o < outer; o++ {
		for _, t := range in {
			chunk := t.Len() / max(outer, 1)
			if outer == 0 {
				chunk = 0
			}
			if allInt {
				out.Ints = append(out.Ints, t.Ints[o*chunk:(o+1)*chunk]...)
			} else {
				out.Data = append(out.Data, t.Floats()[o*chunk:(o+1)*chunk]...)
			}
		}
	}
	return []*Tensor{out}, nil
}

func checkConstant(n *Node) error {
	for _, k := range []string{"sparse_value", "value_string", "value_strings"} {
		if _, ok := n.Attrs[k]; ok {
			return unsupportedAttr(n, "attribute %s", k)
		}
	}
	return nil
}

// constantValue returns the tensor a Constant node defines.
func constantValue(n *Node) (*Tensor, error) {
	switch v := n.Attrs["value"].(type) {
	case *Tensor:
		return v.Clone(), nil
	case nil:
	default:
		return nil, fmt.Errorf("value attribute of type %T", v)
	}
	if v, ok := n.Attrs["value_float"].(float32); ok {
		return &Tensor{Shape: []int{}, Data: []float32{v}}, nil
	}
	if v, ok := n.Attrs["value_floats"].([]float32); ok {
		return &Tensor{Shape: []int{len(v)}, Data: append([]float32{}, v...)}, nil
	}
	if v, ok := n.Attrs["value_int"].(int64); ok {
		return &Tensor{Shape: []int{}, Ints: []int64{v}}, nil
	}
	if v, ok := n.Attrs["value_ints"].([]int64); ok {
		return &Tensor{Shape: []int{len(v)}, Ints: append([]int64{}, v...)}, nil
	}
	return nil, fmt.Errorf("Constant without a value")
}

func shapeConstant(n *Node, in []shapeVal) ([][]int, error) {
	t, err := constantValue(n)
	if err != nil {
		return nil, err
	}
	return [][]int{t.Shape}, nil
}

func evalConstant(n *Node, in []*Tensor) ([]*Tensor, error) {
	t, err := constantValue(n)
	if err != nil {
		return nil, err
	}
	return []*Tensor{t}, nil
}

// shapeRange returns the [start, end) range of Shape (opset 15 attributes).
func shapeRange(n *Node, rank int) (int, int) {
	clamp := func(v int64) int {
		if v < 0 {
			v += int64(rank)
		}
		return int(min(max(v, 0), int64(rank)))
	}
	s, e := clamp(n.Attrs.Int("start", 0)), clamp(n.Attrs.Int("end", int64(rank)))
	return s, max(s, e)
}

func shapeShape(n *Node, in []shapeVal) ([][]int, error) {
	s, e := shapeRange(n, len(in[0].shape))
	return [][]int{{e - s}}, nil
}

// evalShape returns the input's shape as a 1-D integer tensor.
func evalShape(n *Node, in []*Tensor) ([]*Tensor, error) {
	return []*Tensor{shapeOf(n, in[0].Shape)}, nil
}

func shapeOf(n *Node, shape []int) *Tensor {
	s, e := shapeRange(n, len(shape))
	t := &Tensor{Shape: []int{e - s}, Ints: make([]int64, e-s)}
	for i := s; i < e; i++ {
		t.Ints[i-s] = int64(shape[i])
	}
	return t
}

func shapeGather(n *Node, in []shapeVal) ([][]int, error) {
	x, idx := in[0].shape, in[1].shape
	axis, err := normAxis(n.Attrs.Int("axis", 0), len(x), false)
	if err != nil {
		return nil, err
	}
	out := append(append(clone(x[:axis]), idx...), x[axis+1:]...)
	return [][]int{out}, nil
}

// evalGather computes out[a..., i..., b...] = x[a..., idx[i...], b...] along
// axis; negative indices count from the end.
func evalGather(n *Node, in []*Tensor) ([]*Tensor, error) {
	x, it := in[0], in[1]
	s, err := shapeGather(n, []shapeVal{{shape: x.Shape}, {shape: it.Shape}})
	if err != nil {
		return nil, err
	}
	axis, _ := normAxis(n.Attrs.Int("axis", 0), len(x.Shape), false)
	idx := intsOf(it)
	dim := x.Shape[axis]
	for _, v := range idx {
		if v < -int64(dim) || v >= int64(dim) {
			return nil, fmt.Errorf("gather index %d out of range [%d, %d)", v, -dim, dim)
		}
	}
	st := strides(x.Shape)
	ir := len(it.Shape)
	ist := strides(it.Shape)
	return []*Tensor{remap(x, s[0], 0, func(o []int) int {
		off := 0
		for d := 0; d < axis; d++ {
			off += o[d] * st[d]
		}
		k := 0
		for d := 0; d < ir; d++ {
			k += o[axis+d] * ist[d]
		}
		v := int(idx[k])
		if v < 0 {
			v += dim
		}
		off += v * st[axis]
		for d := axis + 1; d < len(x.Shape); d++ {
			off += o[d+ir-1] * st[d]
		}
		return off
	})}, nil
}
