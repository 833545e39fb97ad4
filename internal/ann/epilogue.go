package ann

import (
	"math"

	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/kernels"
)

// stepOp is one elementwise operation of a fused chain.
type stepOp int

const (
	opMul     stepOp = iota // v·c
	opAdd                   // v+c
	opSub                   // v−c
	opSubFrom               // c−v
	opDiv                   // v/c
	opDivInto               // c/v
	opRelu                  // v if v > 0, else 0
	opFloor                 // ⌊v⌋
	opClip                  // c if v < c, then c2 if v > c2 (NaN stays NaN)
	opAffine                // c·v + c2 (BatchNormalization)
)

// epStep is one operation with its constants: c (and c2) hold one value for
// every channel (len 1) or one per channel (len K).
type epStep struct {
	op     stepOp
	c, c2  []float32
	source string // the node it computes, for messages and tests
}

// at returns s[k], or s[0] when s holds one value for every channel.
func at(s []float32, k int) float32 {
	if len(s) == 1 {
		return s[0]
	}
	return s[k]
}

// chain is a sequence of elementwise steps fused into the store of the node
// that produces their input (a kernels.Epilogue). Each step computes exactly
// the float32 operation importer.Eval computes for its node, rounded to
// float32 after every operation (the conversions below forbid fused
// multiply-adds), so a fused chain is bit-identical to the unfused nodes.
type chain struct {
	steps  []epStep
	qcfs   bool // steps are Mul, Add, Floor, Clip, Mul with per-layer scalars
	relu   bool // the only step is Relu
	scalar bool // every constant is one value for all channels
}

// newChain returns the chain of steps and notes the fast paths it fits.
func newChain(steps []epStep) *chain {
	ch := &chain{steps: steps, scalar: true}
	for _, s := range steps {
		if len(s.c) > 1 || len(s.c2) > 1 {
			ch.scalar = false
		}
	}
	ops := make([]stepOp, len(steps))
	for i, s := range steps {
		ops[i] = s.op
	}
	ch.qcfs = ch.scalar && len(ops) == 5 && ops[0] == opMul && ops[1] == opAdd &&
		ops[2] == opFloor && ops[3] == opClip && ops[4] == opMul
	ch.relu = len(ops) == 1 && ops[0] == opRelu
	return ch
}

// Apply replaces each v[i], a value of channel k, by the chain's result.
func (ch *chain) Apply(k int, v []float32) {
	switch {
	case ch.qcfs:
		// The QCFS quantiser s·clip(⌊v·a + b⌋, lo, hi) in one pass.
		kernels.Quantize(v, ch.steps[0].c[0], ch.steps[1].c[0], ch.steps[3].c[0], ch.steps[3].c2[0], ch.steps[4].c[0])
		return
	case ch.relu:
		kernels.Relu(v)
		return
	}
	for _, s := range ch.steps {
		s.apply(k, v)
	}
}

// apply runs one step over the values v of channel k.
func (s *epStep) apply(k int, v []float32) {
	switch s.op {
	case opMul:
		c := at(s.c, k)
		for i, x := range v {
			v[i] = float32(x * c)
		}
	case opAdd:
		c := at(s.c, k)
		for i, x := range v {
			v[i] = float32(x + c)
		}
	case opSub:
		c := at(s.c, k)
		for i, x := range v {
			v[i] = float32(x - c)
		}
	case opSubFrom:
		c := at(s.c, k)
		for i, x := range v {
			v[i] = float32(c - x)
		}
	case opDiv:
		c := at(s.c, k)
		for i, x := range v {
			v[i] = float32(x / c)
		}
	case opDivInto:
		c := at(s.c, k)
		for i, x := range v {
			v[i] = float32(c / x)
		}
	case opRelu:
		for i, x := range v {
			if !(x > 0) {
				v[i] = 0
			}
		}
	case opFloor:
		for i, x := range v {
			v[i] = float32(math.Floor(float64(x)))
		}
	case opClip:
		lo, hi := at(s.c, k), at(s.c2, k)
		for i, x := range v {
			if x < lo {
				x = lo
			}
			if x > hi {
				x = hi
			}
			v[i] = x
		}
	case opAffine:
		a, b := at(s.c, k), at(s.c2, k)
		for i, x := range v {
			v[i] = a*x + b // as importer's evalBatchNorm writes it
		}
	}
}

// applyTensor applies ch in place to t, whose axis 1 is the channel axis
// (checked when the chain was built).
func (ch *chain) applyTensor(t *importer.Tensor) {
	if ch.scalar || len(t.Shape) < 2 {
		ch.Apply(0, t.Data)
		return
	}
	k := t.Shape[1]
	inner := importer.NumElements(t.Shape[2:])
	for r := 0; r < t.Shape[0]*k; r++ {
		ch.Apply(r%k, t.Data[r*inner:(r+1)*inner])
	}
}

// channelConst returns the values of the constant c of a binary node whose
// other operand has the per-image-batched shape out ([N, K, ...]), as one
// value (len 1) or one per channel (len K), and false if c broadcasts in any
// other way (or would change the output's shape).
func channelConst(c *importer.Tensor, out []int) ([]float32, bool) {
	if c == nil || c.IsInt() || len(c.Shape) > len(out) {
		return nil, false
	}
	vals := c.Floats()
	if len(vals) == 1 {
		return vals, true
	}
	if len(out) < 2 {
		return nil, false
	}
	off := len(out) - len(c.Shape)
	for i, d := range c.Shape {
		axis := off + i
		if d != 1 && (axis != 1 || d != out[1]) {
			return nil, false
		}
	}
	if len(vals) != out[1] {
		return nil, false
	}
	return vals, true
}

// stepFor returns the fused step computing node n from the value v (shape
// out, batch first) and constants looked up by constOf, and false if n is
// not an elementwise node with v as its only runtime input.
func stepFor(n *importer.Node, v string, out []int, constOf func(string) *importer.Tensor) (epStep, bool) {
	s := epStep{source: n.Name}
	if len(n.Outputs) != 1 || len(n.Inputs) == 0 {
		return s, false
	}
	switch n.Op {
	case "Relu", "Floor":
		if len(n.Inputs) != 1 || n.Inputs[0] != v {
			return s, false
		}
		s.op = opRelu
		if n.Op == "Floor" {
			s.op = opFloor
		}
		return s, true
	case "Mul", "Add", "Sub", "Div":
		if len(n.Inputs) != 2 || len(n.Attrs) != 0 {
			return s, false
		}
		first := n.Inputs[0] == v
		other := n.Inputs[1]
		if !first {
			if n.Inputs[1] != v {
				return s, false
			}
			other = n.Inputs[0]
		}
		if other == v {
			return s, false
		}
		c, ok := channelConst(constOf(other), out)
		if !ok {
			return s, false
		}
		s.c = c
		switch {
		case n.Op == "Mul":
			s.op = opMul
		case n.Op == "Add":
			s.op = opAdd
		case n.Op == "Sub" && first:
			s.op = opSub
		case n.Op == "Sub":
			s.op = opSubFrom
		case n.Op == "Div" && first:
			s.op = opDiv
		default:
			s.op = opDivInto
		}
		return s, true
	case "Clip":
		if n.Inputs[0] != v {
			return s, false
		}
		lo := n.Attrs.Float("min", float32(math.Inf(-1)))
		hi := n.Attrs.Float("max", float32(math.Inf(1)))
		for i, p := range []*float32{&lo, &hi} {
			if i+1 >= len(n.Inputs) || n.Inputs[i+1] == "" {
				continue
			}
			t := constOf(n.Inputs[i+1])
			if t == nil || t.Len() != 1 {
				return s, false
			}
			*p = t.Floats()[0]
		}
		s.op, s.c, s.c2 = opClip, []float32{lo}, []float32{hi}
		return s, true
	case "BatchNormalization":
		if len(n.Inputs) != 5 || n.Inputs[0] != v || len(out) < 2 {
			return s, false
		}
		var p [4][]float32
		for i := range p {
			t := constOf(n.Inputs[i+1])
			if t == nil || t.IsInt() || len(t.Shape) != 1 || t.Shape[0] != out[1] {
				return s, false
			}
			p[i] = t.Floats()
		}
		scale, bias, mean, vr := p[0], p[1], p[2], p[3]
		eps := float64(n.Attrs.Float("epsilon", 1e-5))
		s.op, s.c, s.c2 = opAffine, make([]float32, out[1]), make([]float32, out[1])
		for c := range s.c {
			// As importer's evalBatchNorm computes them.
			a := float32(float64(scale[c]) / math.Sqrt(float64(vr[c])+eps))
			s.c[c] = a
			s.c2[c] = bias[c] - a*mean[c]
		}
		return s, true
	}
	return s, false
}
