package importer

import (
	"fmt"
	"slices"
	"sort"
)

// shapeVal is what shape inference knows about one value: its shape and,
// for constants and small integer shape chains, its value (nil otherwise).
// An absent optional input has a nil shape and nil val.
type shapeVal struct {
	shape  []int
	val    *Tensor
	absent bool
}

// opSpec holds the properties of one operator. It is data: passes look
// operators up here instead of switching on names.
type opSpec struct {
	minIn, maxIn int // number of inputs (maxIn -1: unbounded)
	// eval computes the outputs; absent optional inputs are nil. It may
	// assume shape succeeded on the same inputs.
	eval func(n *Node, in []*Tensor) ([]*Tensor, error)
	// shape returns the output shapes, validating attributes and input
	// shapes. It needs input values only where the output shape depends
	// on them (Reshape's shape input, Gather of a shape, ...).
	shape func(n *Node, in []shapeVal) ([][]int, error)
	// check, when set, rejects at import attribute values or input forms
	// that are not implemented, with an *UnsupportedOpError.
	check func(n *Node) error
	// elementwise: the output element i depends only on the input
	// elements at the broadcast position of i.
	elementwise bool
}

// opTable maps ONNX operator types to their specs. It is read-only.
var opTable = map[string]*opSpec{
	// op_elementwise.go
	"Add":         binarySpec(),
	"Sub":         binarySpec(),
	"Mul":         binarySpec(),
	"Div":         binarySpec(),
	"Relu":        unarySpec(),
	"Floor":       unarySpec(),
	"Ceil":        unarySpec(),
	"Reciprocal":  unarySpec(),
	"Sigmoid":     unarySpec(),
	"Tanh":        unarySpec(),
	"Neg":         unarySpec(),
	"Abs":         unarySpec(),
	"Exp":         unarySpec(),
	"Log":         unarySpec(),
	"Sqrt":        unarySpec(),
	"LeakyRelu":   unarySpec(),
	"Erf":         unarySpec(),
	"HardSigmoid": unarySpec(),
	"HardSwish":   unarySpec(),
	"Gelu":        {minIn: 1, maxIn: 1, eval: evalUnary, shape: shapeSame, check: checkGelu, elementwise: true},
	"Clip":        {minIn: 1, maxIn: 3, eval: evalClip, shape: shapeSame, elementwise: true},
	// op_conv.go
	"Conv": {minIn: 2, maxIn: 3, eval: evalConv, shape: shapeConv, check: checkConv},
	// op_gemm.go
	"Gemm":   {minIn: 2, maxIn: 3, eval: evalGemm, shape: shapeGemm},
	"MatMul": {minIn: 2, maxIn: 2, eval: evalMatMul, shape: shapeMatMul},
	// op_pool.go
	"MaxPool":           {minIn: 1, maxIn: 1, eval: evalPool, shape: shapePool, check: checkPool},
	"AveragePool":       {minIn: 1, maxIn: 1, eval: evalPool, shape: shapePool, check: checkPool},
	"GlobalAveragePool": {minIn: 1, maxIn: 1, eval: evalGlobalAvgPool, shape: shapeGlobalPool},
	// op_norm.go
	"BatchNormalization": {minIn: 5, maxIn: 5, eval: evalBatchNorm, shape: shapeBatchNorm, check: checkBatchNorm},
	"Softmax":            {minIn: 1, maxIn: 1, eval: evalSoftmax, shape: shapeSame},
	// op_shape.go
	"Flatten":   {minIn: 1, maxIn: 1, eval: evalReshapeLike, shape: shapeFlatten},
	"Reshape":   {minIn: 1, maxIn: 2, eval: evalReshapeLike, shape: shapeReshape},
	"Squeeze":   {minIn: 1, maxIn: 2, eval: evalReshapeLike, shape: shapeSqueeze},
	"Unsqueeze": {minIn: 1, maxIn: 2, eval: evalReshapeLike, shape: shapeUnsqueeze},
	"Identity":  {minIn: 1, maxIn: 1, eval: evalIdentity, shape: shapeSame},
	"Dropout":   {minIn: 1, maxIn: 3, eval: evalIdentity, shape: shapeSame, check: checkDropout},
	"Transpose": {minIn: 1, maxIn: 1, eval: evalTranspose, shape: shapeTranspose},
	"Concat":    {minIn: 1, maxIn: -1, eval: evalConcat, shape: shapeConcat},
	"Constant":  {minIn: 0, maxIn: 0, eval: evalConstant, shape: shapeConstant, check: checkConstant},
	"Shape":     {minIn: 1, maxIn: 1, eval: evalShape, shape: shapeShape},
	"Gather":    {minIn: 2, maxIn: 2, eval: evalGather, shape: shapeGather},
	"Slice":     {minIn: 1, maxIn: 5, eval: evalSlice, shape: shapeSlice},
	"Pad":       {minIn: 1, maxIn: 4, eval: evalPad, shape: shapePad, check: checkPad},
	// op_split.go, op_generate.go
	"Split":           {minIn: 1, maxIn: 2, eval: evalSplit, shape: shapeSplit},
	"Expand":          {minIn: 2, maxIn: 2, eval: evalExpand, shape: shapeExpand},
	"ConstantOfShape": {minIn: 1, maxIn: 1, eval: evalConstantOfShape, shape: shapeConstantOfShape},
	"Range":           {minIn: 3, maxIn: 3, eval: evalRange, shape: shapeRangeOp},
	// op_cast.go
	"Cast": {minIn: 1, maxIn: 1, eval: evalCast, shape: shapeSame, check: checkCast, elementwise: true},
	// op_reduce.go
	"ReduceMean": reduceSpec(),
	"ReduceSum":  reduceSpec(),
	"ReduceMax":  reduceSpec(),
	"ReduceMin":  reduceSpec(),
	// op_logic.go
	"Equal":          compareSpec(),
	"Less":           compareSpec(),
	"Greater":        compareSpec(),
	"LessOrEqual":    compareSpec(),
	"GreaterOrEqual": compareSpec(),
	"Not":            {minIn: 1, maxIn: 1, eval: evalLogic, shape: shapeSame, elementwise: true},
	"And":            {minIn: 2, maxIn: 2, eval: evalLogic, shape: shapeBinary, elementwise: true},
	"Or":             {minIn: 2, maxIn: 2, eval: evalLogic, shape: shapeBinary, elementwise: true},
	"Xor":            {minIn: 2, maxIn: 2, eval: evalLogic, shape: shapeBinary, elementwise: true},
	"Where":          {minIn: 3, maxIn: 3, eval: evalWhere, shape: shapeBroadcastAll, elementwise: true},
	// op_variadic.go
	"Sum":  variadicSpec(),
	"Max":  variadicSpec(),
	"Min":  variadicSpec(),
	"Mean": variadicSpec(),
	"Pow":  {minIn: 2, maxIn: 2, eval: evalPow, shape: shapeBinary, elementwise: true},
	// op_norm.go
	"LayerNormalization": {minIn: 2, maxIn: 3, eval: evalLayerNorm, shape: shapeLayerNorm},
	// op_resize.go
	"Resize": {minIn: 1, maxIn: 4, eval: evalResize, shape: shapeResize, check: checkResize},
}

func reduceSpec() *opSpec {
	return &opSpec{minIn: 1, maxIn: 2, eval: evalReduce, shape: shapeReduce, check: checkReduce}
}

func compareSpec() *opSpec {
	return &opSpec{minIn: 2, maxIn: 2, eval: evalCompare, shape: shapeBinary, elementwise: true}
}

func variadicSpec() *opSpec {
	return &opSpec{minIn: 1, maxIn: -1, eval: evalVariadic, shape: shapeBroadcastAll, elementwise: true}
}

func unarySpec() *opSpec {
	return &opSpec{minIn: 1, maxIn: 1, eval: evalUnary, shape: shapeSame, elementwise: true}
}

func binarySpec() *opSpec {
	return &opSpec{minIn: 2, maxIn: 2, eval: evalBinary, shape: shapeBinary, elementwise: true}
}

// SupportedOps returns the ONNX operator types that the importer accepts
// and Eval implements, sorted. The caller owns the returned slice.
func SupportedOps() []string {
	ops := make([]string, 0, len(opTable))
	for k := range opTable {
		ops = append(ops, k)
	}
	sort.Strings(ops)
	return ops
}

func lookup(n *Node) (*opSpec, error) {
	s, ok := opTable[n.Op]
	if !ok {
		return nil, &UnsupportedOpError{Node: n.Name, Op: n.Op, Supported: SupportedOps()}
	}
	if len(n.Inputs) < s.minIn || (s.maxIn >= 0 && len(n.Inputs) > s.maxIn) {
		return nil, &NodeError{Node: n.Name, Op: n.Op, Err: fmt.Errorf("has %d inputs, want %d..%d", len(n.Inputs), s.minIn, s.maxIn)}
	}
	for i := 0; i < s.minIn && i < len(n.Inputs); i++ {
		if n.Inputs[i] == "" {
			return nil, &NodeError{Node: n.Name, Op: n.Op, Err: fmt.Errorf("required input %d is absent", i)}
		}
	}
	return s, nil
}

// Eval computes the outputs of node n from its input values, following
// ONNX semantics for opsets 1..20 as normalized by Load (NCHW float32
// layout, batch in dimension 0; integer tensors for shape arithmetic).
// in has one entry per n.Inputs; absent optional inputs are nil. Eval
// never modifies in and returns freshly allocated outputs, which the
// caller owns (Reshape, Flatten, Squeeze, Unsqueeze and Identity copy).
// Output shapes are computed first and checked against MaxElements before
// anything is allocated. Errors are *NodeError for bad shapes or
// attributes and *UnsupportedOpError for operators or attribute values
// outside the supported set.
func Eval(n *Node, in []*Tensor) ([]*Tensor, error) {
	s, err := lookup(n)
	if err != nil {
		return nil, err
	}
	if len(in) != len(n.Inputs) {
		return nil, nodeErr(n, fmt.Errorf("got %d input tensors for %d inputs", len(in), len(n.Inputs)))
	}
	if s.check != nil {
		if err := s.check(n); err != nil {
			return nil, err
		}
	}
	sv := make([]shapeVal, len(in))
	for i, t := range in {
		if t == nil {
			if i < s.minIn {
				return nil, nodeErr(n, fmt.Errorf("input %d is missing", i))
			}
			sv[i] = shapeVal{absent: true}
			continue
		}
		if t.Len() < 0 || (t.Data == nil && t.Ints == nil && t.Len() != 0) || (t.Data != nil && len(t.Data) != t.Len()) || (t.Data == nil && t.Ints != nil && len(t.Ints) != t.Len()) {
			return nil, nodeErr(n, fmt.Errorf("input %d: data length does not match shape %v", i, t.Shape))
		}
		sv[i] = shapeVal{shape: t.Shape, val: t}
	}
	shapes, err := s.shape(n, sv)
	if err != nil {
		return nil, nodeErr(n, err)
	}
	for _, sh := range shapes {
		if err := checkAlloc(sh); err != nil {
			return nil, nodeErr(n, err)
		}
	}
	out, err := s.eval(n, in)
	if err != nil {
		return nil, nodeErr(n, err)
	}
	for i, t := range out {
		if i < len(shapes) && !slices.Equal(t.Shape, shapes[i]) {
			return nil, nodeErr(n, fmt.Errorf("internal: output %d has shape %v, shape inference says %v", i, t.Shape, shapes[i]))
		}
	}
	return out, nil
}

// checkAlloc rejects shapes with negative dimensions or more than
// MaxElements elements.
func checkAlloc(sh []int) error {
	n := 1
	for _, d := range sh {
		if d < 0 {
			return fmt.Errorf("negative dimension in shape %v", sh)
		}
		if d > MaxElements {
			return fmt.Errorf("shape %v exceeds the limit of %d elements", sh, MaxElements)
		}
		n *= d
		if n > MaxElements {
			return fmt.Errorf("shape %v exceeds the limit of %d elements", sh, MaxElements)
		}
	}
	return nil
}

func shapeSame(n *Node, in []shapeVal) ([][]int, error) {
	return [][]int{clone(in[0].shape)}, nil
}

func clone(s []int) []int { return append([]int{}, s...) }

// normAxis maps a possibly negative axis into [0, rank), or into [0, rank]
// when inclusive (Flatten); a negative axis counts from rank.
func normAxis(axis int64, rank int, inclusive bool) (int, error) {
	r := int64(rank)
	hi := r
	if inclusive {
		hi++
	}
	if axis < -r || axis >= hi {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += r
	}
	return int(axis), nil
}

// intsOf returns t's values as int64, converting float values.
func intsOf(t *Tensor) []int64 {
	if t.IsInt() {
		return t.Ints
	}
	v := make([]int64, len(t.Data))
	for i, f := range t.Data {
		v[i] = int64(f)
	}
	return v
}

// strides returns the row-major strides of shape.
func strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// constInput returns the value of optional input i when it is known: from
// the tensor list in Eval, or from a constant during shape inference.
func inputVal(in []shapeVal, i int) (*Tensor, bool) {
	if i >= len(in) || in[i].absent {
		return nil, false
	}
	return in[i].val, in[i].val != nil
}

func present(in []shapeVal, i int) bool { return i < len(in) && !in[i].absent }

func tensorAt(in []*Tensor, i int) *Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}
