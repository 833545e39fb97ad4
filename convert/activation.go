package convert

import (
	"fmt"
	"math"

	"github.com/ann2snn/ann2snn/importer"
)

// ActKind says how an ANN activation was recognised.
type ActKind int

const (
	// ActReLU is max(0, x); its threshold comes from calibration.
	ActReLU ActKind = iota
	// ActClip is clip(x, 0, λ) (ReLU6: λ = 6); its threshold is balanced on
	// the calibration data like a ReLU's, capped at λ.
	ActClip
	// ActQuant is a quantised clip c·clip(floor(x/c + b), 0, L) (QCFS,
	// Bu et al. 2022): the threshold is θ = c·L and the SNN neuron starts
	// at v0 = b·θ, which makes T = L steps reproduce it exactly for
	// constant input.
	ActQuant
)

func (k ActKind) String() string {
	switch k {
	case ActReLU:
		return "relu"
	case ActClip:
		return "clip"
	case ActQuant:
		return "quant"
	}
	return fmt.Sprintf("ActKind(%d)", int(k))
}

// Activation is a recognised ReLU-like activation: the chain of graph nodes
// from Input (the pre-activation value) to Output (the activation value).
type Activation struct {
	Kind   ActKind
	Input  string           // value the chain reads
	Output string           // value the chain produces (the ANN activation)
	Nodes  []*importer.Node // the chain, in order
	// Max is the largest output of a Clip or quantised activation (λ, per
	// channel or one value); nil for ReLU.
	Max []float32
	// Levels is L of a quantised activation, 0 otherwise.
	Levels int
	// Shift is b of a quantised activation, the rounding offset in units of
	// one level (0.5 for QCFS). An IF neuron over T steps with constant
	// input x fires floor((T·x + v0)/θ) times, so v0 = Shift·θ matches the
	// ANN's rounding when T = Levels.
	Shift float32
}

// elementwise reports whether n is a one-input elementwise op, possibly with
// constant operands, that can belong to an activation chain.
func elementwise(g *importer.Graph, n *importer.Node) bool {
	switch n.Op {
	case "Relu", "Floor", "Clip":
		return true
	case "Mul", "Add", "Sub", "Div":
		return len(n.Inputs) == 2 && (g.Consts[n.Inputs[0]] != nil) != (g.Consts[n.Inputs[1]] != nil)
	}
	return false
}

// affine is y = a·x + b with a, b scalars or per-channel vectors (len 1 or C).
type affine struct{ a, b []float64 }

func identity() affine { return affine{[]float64{1}, []float64{0}} }

func (f affine) isIdentity() bool {
	for _, v := range f.a {
		if v != 1 {
			return false
		}
	}
	for _, v := range f.b {
		if v != 0 {
			return false
		}
	}
	return true
}

// broadcastChannel returns the values of c as a per-channel vector: c must
// hold one value, or one per channel laid out as [C], [C,1,1] or [1,C,1,1].
func broadcastChannel(c *importer.Tensor) ([]float64, bool) {
	v := c.Floats()
	if len(v) == 1 {
		return []float64{float64(v[0])}, true
	}
	nonUnit := 0
	for _, d := range c.Shape {
		if d != 1 {
			nonUnit++
		}
	}
	if nonUnit != 1 {
		return nil, false
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out, true
}

func at(v []float64, i int) float64 {
	if len(v) == 1 {
		return v[0]
	}
	return v[i]
}

func compose(f affine, op string, k []float64, constFirst bool) (affine, error) {
	n := max(len(f.a), len(k))
	if len(f.a) != 1 && len(k) != 1 && len(f.a) != len(k) {
		return f, fmt.Errorf("channel counts %d and %d differ", len(f.a), len(k))
	}
	a, b := make([]float64, n), make([]float64, n)
	for i := range n {
		fa, fb, c := at(f.a, i), at(f.b, i), at(k, i)
		switch {
		case op == "Mul":
			a[i], b[i] = fa*c, fb*c
		case op == "Add":
			a[i], b[i] = fa, fb+c
		case op == "Sub" && !constFirst:
			a[i], b[i] = fa, fb-c
		case op == "Sub" && constFirst:
			a[i], b[i] = -fa, c-fb
		case op == "Div" && !constFirst:
			a[i], b[i] = fa/c, fb/c
		default:
			return f, fmt.Errorf("%s by a constant on the left is not an affine map", op)
		}
	}
	return affine{a, b}, nil
}

// matchActivation tries to read an activation chain starting at the node
// that reads value v. It returns nil when the chain is not an activation.
func matchActivation(g *importer.Graph, v string) (*Activation, error) {
	var chain []*importer.Node
	cur := v
	for {
		n := soleConsumer(g, cur)
		if n == nil || !elementwise(g, n) {
			break
		}
		chain = append(chain, n)
		cur = n.Outputs[0]
	}
	// Trim trailing nodes until the chain ends in an activation: an
	// affine tail after the clip is part of a quantiser, but a lone affine
	// map is not an activation.
	for len(chain) > 0 {
		act, err := readChain(g, v, chain)
		if err != nil {
			return nil, err
		}
		if act != nil {
			return act, nil
		}
		chain = chain[:len(chain)-1]
	}
	return nil, nil
}

// readChain interprets chain (reading v) as pre·Floor·Clip·post or Relu or
// Clip, or returns nil.
func readChain(g *importer.Graph, v string, chain []*importer.Node) (*Activation, error) {
	out := chain[len(chain)-1].Outputs[0]
	if len(chain) == 1 {
		n := chain[0]
		switch n.Op {
		case "Relu":
			return &Activation{Kind: ActReLU, Input: v, Output: out, Nodes: chain}, nil
		case "Clip":
			lo, hi := n.Attrs.Float("min", float32(math.Inf(-1))), n.Attrs.Float("max", float32(math.Inf(1)))
			if lo == 0 && !math.IsInf(float64(hi), 1) && hi > 0 {
				return &Activation{Kind: ActClip, Input: v, Output: out, Nodes: chain, Max: []float32{hi}}, nil
			}
			if lo == 0 {
				return &Activation{Kind: ActReLU, Input: v, Output: out, Nodes: chain}, nil
			}
		}
		return nil, nil
	}
	pre, post := identity(), identity()
	var sawFloor, sawClip bool
	var lo, hi float32
	for _, n := range chain {
		switch n.Op {
		case "Floor":
			if sawFloor || sawClip {
				return nil, nil
			}
			sawFloor = true
		case "Clip":
			if !sawFloor || sawClip || !post.isIdentity() {
				return nil, nil
			}
			sawClip = true
			lo, hi = n.Attrs.Float("min", float32(math.Inf(-1))), n.Attrs.Float("max", float32(math.Inf(1)))
		case "Relu":
			return nil, nil
		default:
			ci := 1
			if g.Consts[n.Inputs[0]] != nil {
				ci = 0
			}
			k, ok := broadcastChannel(g.Consts[n.Inputs[ci]])
			if !ok {
				return nil, nil
			}
			var err error
			if !sawFloor {
				pre, err = compose(pre, n.Op, k, ci == 0)
			} else {
				post, err = compose(post, n.Op, k, ci == 0)
			}
			if err != nil {
				return nil, &ConvertError{Node: n.Name, Op: n.Op, Err: err}
			}
		}
	}
	if !sawFloor || !sawClip || lo != 0 || hi <= 0 || math.IsInf(float64(hi), 0) || hi != float32(math.Round(float64(hi))) {
		return nil, nil
	}
	// q(x) = c·clip(floor(a·x + b), 0, L) + d. The SNN form needs d = 0,
	// c > 0 and a = 1/c: then θ = c·L and the rounding offset is b.
	levels := int(hi)
	n := max(len(pre.a), len(post.a))
	act := &Activation{Kind: ActQuant, Input: v, Output: out, Nodes: chain, Levels: levels, Max: make([]float32, n)}
	for i := range n {
		a, b, c, d := at(pre.a, i), at(pre.b, i), at(post.a, i), at(post.b, i)
		if d != 0 || c <= 0 || math.Abs(a*c-1) > 1e-4 {
			return nil, nodeErr(chain[len(chain)-1], "quantised activation ending at %q is c·clip(floor(a·x+b),0,%d)+d with a=%g c=%g d=%g; only a=1/c, d=0 converts exactly", out, levels, a, c, d)
		}
		if i > 0 && b != at(pre.b, 0) {
			return nil, nodeErr(chain[len(chain)-1], "quantised activation ending at %q has per-channel rounding offsets", out)
		}
		act.Max[i] = float32(c * float64(levels))
	}
	act.Shift = float32(at(pre.b, 0))
	return act, nil
}
