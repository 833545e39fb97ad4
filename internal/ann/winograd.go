package ann

import (
	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/kernels"
)

// convKernel is a prepared 2-D convolution of a plan step: a kernels.Conv
// (the exact sums, the default) or, after EnableWinograd, a
// kernels.Winograd.
type convKernel interface {
	// ForwardEpilogue computes the convolution of n images into dst and
	// applies ep (nil: none) to each block of outputs while it is in cache.
	ForwardEpilogue(dst, x []float32, n int, ws []float32, ep kernels.Epilogue)
	// WorkspaceLen returns the scratch floats ForwardEpilogue needs for n
	// images.
	WorkspaceLen(n int) int
	// Geom returns the convolution's geometry.
	Geom() kernels.ConvGeom
}

var (
	_ convKernel = (*kernels.Conv)(nil)
	_ convKernel = (*kernels.Winograd)(nil)
)

// winogradMinC is the least number of input channels for which
// EnableWinograd switches a convolution: with fewer, the GEMMs are too
// shallow (k = C) to pay for the input transform (the first VGG layer,
// C = 3, is faster as Conv).
const winogradMinC = 16

// EnableWinograd switches the plan's 3×3, stride-1, ungrouped convolutions
// with at least winogradMinC input channels to Winograd F(2×2, 3×3)
// (kernels.Winograd: 2.25× fewer multiplies) and returns how many it
// switched. It must be called before the executor is first used.
//
// Winograd sums in another order than importer.Eval, so the executor is no
// longer bit-identical to it: outputs differ by about 1e-6 relative. That
// is harmless before continuous functions but can flip a Floor (the QCFS
// quantiser) and, through it, an activation by a whole step. So it switches
// nothing in a graph that rounds, compares or casts data anywhere (see
// jumpsOnData), and only
// convolutions whose fused chains (also the one after a fused pool) are
// Relu, Clip, and Add/Sub/Mul/Div by constants or BatchNormalization.
func (e *Executor) EnableWinograd() int {
	for _, n := range e.g.Nodes {
		if e.jumpsOnData(n) {
			return 0
		}
	}
	switched := 0
	for i := range e.steps {
		s := &e.steps[i]
		c, ok := s.conv.(*kernels.Conv)
		if !ok || !continuousChain(s.ep) || !continuousChain(s.postEp) {
			continue
		}
		geo := c.Geom()
		if !kernels.WinogradFits(geo) || geo.C < winogradMinC {
			continue
		}
		node := e.g.Nodes[s.nodes[0]]
		w := e.constant(node.Inputs[1])
		var bias []float32
		if len(node.Inputs) > 2 && node.Inputs[2] != "" {
			b := e.constant(node.Inputs[2])
			if b == nil {
				continue
			}
			bias = b.Floats()
		}
		if w == nil || w.Len() != geo.K*geo.C*9 || (bias != nil && len(bias) != geo.K) {
			continue
		}
		s.conv = kernels.NewWinograd(geo, w.Floats(), bias)
		switched++
	}
	return switched
}

// jumpsOnData reports whether node n's outputs can jump on a small change
// of a data input: rounding, comparisons and their boolean combinations,
// Cast (to an integer type it truncates) and a Where whose condition is
// data. Nodes on constants only (folded by the plan) do not count.
func (e *Executor) jumpsOnData(n *importer.Node) bool {
	switch n.Op {
	case "Where":
		return len(n.Inputs) > 0 && e.constant(n.Inputs[0]) == nil
	case "Floor", "Ceil", "Round", "Cast",
		"Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual",
		"And", "Or", "Xor", "Not":
		return len(n.Outputs) > 0 && e.folded[n.Outputs[0]] == nil
	}
	return false
}

// continuousChain reports whether every step of ch (nil: none) is a
// continuous function of its input, so that a small change of the
// convolution's output changes the chain's output a little.
func continuousChain(ch *chain) bool {
	if ch == nil {
		return true
	}
	for _, s := range ch.steps {
		switch s.op {
		case opRelu, opClip, opMul, opAdd, opSub, opDiv, opAffine:
		default:
			return false
		}
	}
	return true
}
