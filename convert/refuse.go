package convert

import (
	"errors"
	"fmt"

	"github.com/ann2snn/ann2snn/importer"
)

// ErrNoIFEquivalent is wrapped (in a *ConvertError) by Lower's refusal of
// an activation or normalisation that integrate-and-fire neurons cannot
// represent: SiLU, HardSwish, GELU, sigmoid gates, LayerNorm, softmax
// inside the network, products of two activations.
var ErrNoIFEquivalent = errors.New("has no integrate-and-fire equivalent")

// nonIFOps describes the single operators on the data path that are
// activations (or normalisations) without an IF equivalent. Sigmoid and
// HardSigmoid are examined with their readers first (see nonIF).
var nonIFOps = map[string]string{
	"HardSwish":                 "HardSwish activation (x·relu6(x+3)/6)",
	"Gelu":                      "GELU activation (x·Φ(x))",
	"Erf":                       "Erf (the GELU activation x·Φ(x) in its erf form)",
	"Tanh":                      "tanh activation (negative and saturating outputs)",
	"LeakyRelu":                 "LeakyReLU activation (negative outputs)",
	"Elu":                       "ELU activation (negative outputs)",
	"Selu":                      "SELU activation (negative outputs)",
	"Celu":                      "CELU activation (negative outputs)",
	"PRelu":                     "PReLU activation (negative outputs)",
	"Softplus":                  "softplus activation",
	"Mish":                      "Mish activation (x·tanh(softplus(x)))",
	"Exp":                       "exponential of an activation",
	"Log":                       "logarithm of an activation",
	"Sqrt":                      "square root of an activation (a normalisation)",
	"Pow":                       "power of an activation (a normalisation)",
	"Reciprocal":                "reciprocal of an activation",
	"LayerNormalization":        "LayerNorm (normalisation by each input's own mean and variance)",
	"GroupNormalization":        "GroupNorm (normalisation by each input's own mean and variance)",
	"InstanceNormalization":     "InstanceNorm (normalisation by each input's own mean and variance)",
	"LpNormalization":           "Lp normalisation",
	"ReduceMax":                 "maximum over an axis",
	"ReduceMin":                 "minimum over an axis",
	"Max":                       "elementwise maximum of activations",
	"Min":                       "elementwise minimum of activations",
	"Where":                     "data-dependent selection (Where)",
	"Softsign":                  "softsign activation",
	"ThresholdedRelu":           "thresholded ReLU activation",
	"Sin":                       "sine of an activation",
	"Cos":                       "cosine of an activation",
	"Sign":                      "sign of an activation",
	"Abs":                       "absolute value of an activation",
	"Neg":                       "negated activation",
	"Ceil":                      "rounding of an activation outside a QCFS quantiser",
	"Round":                     "rounding of an activation",
	"Shrink":                    "shrink activation",
	"HardSigmoid":               "hard-sigmoid activation",
	"Sigmoid":                   "sigmoid activation",
	"MeanVarianceNormalization": "mean-variance normalisation",
}

// refuseNonIF returns a *ConvertError wrapping ErrNoIFEquivalent for the
// first node, in graph order, on the data path (reachable from the graph
// input other than through Shape) whose activation has no IF equivalent,
// or nil. It runs before lowering, so that a network is refused for its
// activations rather than for whatever unconvertible node comes first.
func refuseNonIF(g *importer.Graph) error {
	data := map[string]bool{}
	for _, in := range g.Inputs {
		data[in.Name] = true
	}
	cons := g.Consumers()
	for _, n := range g.Nodes {
		onData := false
		for _, v := range n.Inputs {
			onData = onData || data[v]
		}
		if !onData || n.Op == "Shape" {
			continue
		}
		for _, o := range n.Outputs {
			data[o] = true
		}
		if what, at := nonIF(g, cons, data, n); what != "" {
			return &ConvertError{Node: at.Name, Op: at.Op, Err: fmt.Errorf("%s %w", what, ErrNoIFEquivalent)}
		}
	}
	return nil
}

// nonIF describes the non-IF activation that data-path node n starts, and
// the node that completes it (named in the error); "" if n starts none.
func nonIF(g *importer.Graph, cons map[string][]*importer.Node, data map[string]bool, n *importer.Node) (string, *importer.Node) {
	isOutput := func(v string) bool {
		for _, o := range g.Outputs {
			if o == v {
				return true
			}
		}
		return false
	}
	switch n.Op {
	case "Sigmoid", "HardSigmoid":
		self, gate := "SiLU activation (x·sigmoid(x))", "sigmoid gate (x·sigmoid(g), as in squeeze-and-excitation)"
		if n.Op == "HardSigmoid" {
			self, gate = "HardSwish activation (x·hardsigmoid(x))", "hard-sigmoid gate (x·hardsigmoid(g), as in squeeze-and-excitation)"
		}
		for _, c := range cons[n.Outputs[0]] {
			if c.Op != "Mul" || len(c.Inputs) != 2 {
				continue
			}
			other := c.Inputs[0]
			if other == n.Outputs[0] {
				other = c.Inputs[1]
			}
			if other == n.Inputs[0] {
				return self, c
			}
			if data[other] {
				return gate, c
			}
		}
		return nonIFOps[n.Op], n
	case "Softmax", "LogSoftmax":
		if !isOutput(n.Outputs[0]) {
			return "softmax inside the network (as in attention)", n
		}
	case "ReduceMean":
		for _, c := range cons[n.Outputs[0]] {
			if c.Op == "Sub" && len(c.Inputs) == 2 && c.Inputs[0] == n.Inputs[0] {
				return "LayerNorm (x − mean(x), normalisation by each input's own statistics)", n
			}
		}
	case "Mul", "Div", "MatMul", "Einsum":
		if len(n.Inputs) == 2 && data[n.Inputs[0]] && data[n.Inputs[1]] {
			return "product of two activations (gating or attention)", n
		}
	}
	return nonIFOps[n.Op], n
}
