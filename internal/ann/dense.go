package ann

import (
	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/kernels"
)

// prepareGemm prepares the Gemm node n as a kernels.Dense in s, reading the
// runtime value src (n's input A, or the input of a Flatten(axis 1) that
// feeds n: the same values in the same order), and reports whether it
// did. It does so when A is not transposed, B is a constant 2-D float
// matrix, C is absent or a constant with one value or one per output
// column, beta is 1 when C is present, and the inferred shapes agree;
// otherwise s is unchanged and the node runs with importer.Eval (which
// reports any error with the node's name).
//
// The result is bit-identical to importer.Eval's: kernels.Dense sums
// exactly as kernels.Sgemm (which importer.Eval calls) does, then adds
// C[j], which is beta·C[j] for beta = 1. Other betas are left to
// importer.Eval, whose beta·C + Y may be compiled into a fused
// multiply-add on some targets.
func prepareGemm(s *step, n *importer.Node, src string, shapes map[string][]int, constOf func(string) *importer.Tensor) bool {
	if len(n.Inputs) < 2 || len(n.Inputs) > 3 || n.Attrs.Int("transA", 0) != 0 {
		return false
	}
	a, x, out := shapes[n.Inputs[0]], shapes[src], shapes[n.Outputs[0]]
	w := constOf(n.Inputs[1])
	if len(a) != 2 || a[0] != 1 || len(x) < 2 || x[0] != 1 || importer.NumElements(x) != a[1] ||
		w == nil || w.IsInt() || len(w.Shape) != 2 || len(out) != 2 || out[0] != 1 {
		return false
	}
	trans := n.Attrs.Int("transB", 0) != 0
	k, nn := w.Shape[0], w.Shape[1]
	if trans {
		k, nn = nn, k
	}
	if k != a[1] || nn != out[1] || k <= 0 || nn <= 0 {
		return false
	}
	var bias []float32
	if len(n.Inputs) == 3 && n.Inputs[2] != "" {
		c := constOf(n.Inputs[2])
		if c == nil || c.IsInt() || n.Attrs.Float("beta", 1) != 1 {
			return false
		}
		switch {
		case c.Len() == 1 && len(c.Shape) <= 2:
			bias = make([]float32, nn)
			for j := range bias {
				bias[j] = c.Floats()[0]
			}
		case c.Len() == nn && (len(c.Shape) == 1 || (len(c.Shape) == 2 && c.Shape[0] == 1)):
			bias = c.Floats()
		default:
			return false // C varies along the batch: not a per-column bias
		}
	}
	s.dense = kernels.NewDense(k, nn, w.Floats(), trans, n.Attrs.Float("alpha", 1), bias)
	s.src = src
	s.inPer = append([]int(nil), x[1:]...)
	s.outPer = []int{nn}
	s.flops = 2 * float64(k*nn)
	return true
}

// ApplyRow applies ch to the outputs v of features j0, j0+1, ... of a
// fully connected layer (a kernels.RowEpilogue): the feature is the
// channel axis of its [N, K] output.
func (ch *chain) ApplyRow(j0 int, v []float32) {
	if ch.scalar {
		ch.Apply(0, v)
		return
	}
	for i := range v {
		ch.Apply(j0+i, v[i:i+1])
	}
}
