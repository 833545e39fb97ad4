package convert

import (
	"fmt"
	"math"

	"github.com/ann2snn/ann2snn/importer"
)

// soleConsumer returns the one node reading value, or nil when value is read
// by several nodes (or none) or is a graph output.
func soleConsumer(g *importer.Graph, value string) *importer.Node {
	for _, o := range g.Outputs {
		if o == value {
			return nil
		}
	}
	var found *importer.Node
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in == value {
				if found != nil && found != n {
					return nil
				}
				found = n
			}
		}
	}
	return found
}

// constInput returns the constant read by input i of n, or nil.
func constInput(g *importer.Graph, n *importer.Node, i int) *importer.Tensor {
	if i >= len(n.Inputs) || n.Inputs[i] == "" {
		return nil
	}
	return g.Consts[n.Inputs[i]]
}

// removeNode deletes n from g and makes every reader of n's first output
// read replacement instead.
func removeNode(g *importer.Graph, n *importer.Node, replacement string) {
	old := n.Outputs[0]
	nodes := g.Nodes[:0]
	for _, m := range g.Nodes {
		if m == n {
			continue
		}
		for i, in := range m.Inputs {
			if in == old {
				m.Inputs[i] = replacement
			}
		}
		nodes = append(nodes, m)
	}
	g.Nodes = nodes
	for i, o := range g.Outputs {
		if o == old {
			g.Outputs[i] = replacement
		}
	}
}

// FoldBatchNorm folds every inference-mode BatchNormalization that follows a
// Conv or Gemm (and is that node's only reader) into the node's weights:
// with s = scale/√(var+ε), W'[k] = s[k]·W[k] and b'[k] = s[k]·(b[k]−mean[k]) + B[k].
// The weights are copied, never modified in place; g is changed.
func FoldBatchNorm(g *importer.Graph) error {
	prod := g.Producers()
	for _, bn := range append([]*importer.Node(nil), g.Nodes...) {
		if bn.Op != "BatchNormalization" {
			continue
		}
		src := prod[bn.Inputs[0]]
		if src == nil || (src.Op != "Conv" && src.Op != "Gemm") || soleConsumer(g, bn.Inputs[0]) != bn {
			continue
		}
		scale, bias, mean, vr := constInput(g, bn, 1), constInput(g, bn, 2), constInput(g, bn, 3), constInput(g, bn, 4)
		w := constInput(g, src, 1)
		if scale == nil || bias == nil || mean == nil || vr == nil || w == nil || w.IsInt() {
			continue
		}
		if src.Op == "Gemm" && (src.Attrs.Int("transB", 0) == 0 || src.Attrs.Float("alpha", 1) != 1 || src.Attrs.Float("beta", 1) != 1) {
			continue // only the common [out,in] layout is folded
		}
		k := w.Shape[0]
		if scale.Len() != k || bias.Len() != k || mean.Len() != k || vr.Len() != k {
			return fmt.Errorf("convert: node %s: BatchNormalization has %d channels, %s has %d", bn, scale.Len(), src, k)
		}
		eps := float64(bn.Attrs.Float("epsilon", 1e-5))
		nw := w.Clone()
		per := nw.Len() / k
		nb := importer.NewTensor(k)
		var oldB []float32
		if b := constInput(g, src, 2); b != nil {
			oldB = b.Floats()
		}
		for c := range k {
			s := float64(scale.Data[c]) / math.Sqrt(float64(vr.Data[c])+eps)
			for j := range per {
				nw.Data[c*per+j] = float32(float64(nw.Data[c*per+j]) * s)
			}
			b0 := 0.0
			if oldB != nil {
				b0 = float64(oldB[c])
			}
			nb.Data[c] = float32(s*(b0-float64(mean.Data[c])) + float64(bias.Data[c]))
		}
		wName, bName := src.Name+"/W_bnfolded", src.Name+"/B_bnfolded"
		g.Consts[wName], g.Consts[bName] = nw, nb
		src.Inputs = append([]string{src.Inputs[0], wName, bName}, src.Inputs[min(3, len(src.Inputs)):]...)
		removeNode(g, bn, src.Outputs[0])
	}
	return nil
}
