package importer

import (
	"fmt"
	"slices"

	"github.com/ann2snn/ann2snn/internal/kernels"
)

func gemmDims(n *Node, a, b []int) (m, k, nn int, err error) {
	if len(a) != 2 || len(b) != 2 {
		return 0, 0, 0, fmt.Errorf("Gemm inputs %v and %v must be 2-D", a, b)
	}
	m, k = a[0], a[1]
	if n.Attrs.Int("transA", 0) != 0 {
		m, k = k, m
	}
	kb, nn := b[0], b[1]
	if n.Attrs.Int("transB", 0) != 0 {
		kb, nn = nn, kb
	}
	if k != kb {
		return 0, 0, 0, fmt.Errorf("Gemm inner dimensions %d and %d differ (A %v, B %v)", k, kb, a, b)
	}
	return m, k, nn, nil
}

func shapeGemm(n *Node, in []shapeVal) ([][]int, error) {
	m, _, nn, err := gemmDims(n, in[0].shape, in[1].shape)
	if err != nil {
		return nil, err
	}
	if present(in, 2) {
		s, err := broadcastShapes([]int{m, nn}, in[2].shape)
		if err != nil || !slices.Equal(s, []int{m, nn}) {
			return nil, fmt.Errorf("C of shape %v does not broadcast to [%d %d]", in[2].shape, m, nn)
		}
	}
	return [][]int{{m, nn}}, nil
}

// evalGemm computes Y = alpha·A'·B' + beta·C, where A' and B' are A and B
// transposed when transA / transB are set and C broadcasts to [M,N].
func evalGemm(n *Node, in []*Tensor) ([]*Tensor, error) {
	a, b := in[0], in[1]
	m, k, nn, err := gemmDims(n, a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	alpha, beta := n.Attrs.Float("alpha", 1), n.Attrs.Float("beta", 1)
	ta, tb := n.Attrs.Int("transA", 0) != 0, n.Attrs.Int("transB", 0) != 0
	lda, ldb := k, nn
	if ta {
		lda = m
	}
	if tb {
		ldb = k
	}
	out := NewTensor(m, nn)
	kernels.Sgemm(ta, tb, m, nn, k, alpha, a.Floats(), lda, b.Floats(), ldb, 0, out.Data, nn)
	if c := tensorAt(in, 2); c != nil {
		cs := c.Floats()
		broadcastIndex(out.Shape, out.Shape, c.Shape, func(i, _, ic int) { out.Data[i] += beta * cs[ic] })
	}
	return []*Tensor{out}, nil
}

// matmulShape returns the numpy matmul output shape and the batch shape.
func matmulShape(a, b []int) (out, batch []int, m, k, nn int, err error) {
	if len(a) == 0 || len(b) == 0 {
		return nil, nil, 0, 0, 0, fmt.Errorf("MatMul of scalars")
	}
	a2, b2 := a, b
	if len(a) == 1 {
		a2 = []int{1, a[0]}
	}
	if len(b) == 1 {
		b2 = []int{b[0], 1}
	}
	m, k = a2[len(a2)-2], a2[len(a2)-1]
	kb, nn := b2[len(b2)-2], b2[len(b2)-1]
	if k != kb {
		return nil, nil, 0, 0, 0, fmt.Errorf("MatMul inner dimensions differ: %v × %v", a, b)
	}
	batch, err = broadcastShapes(a2[:len(a2)-2], b2[:len(b2)-2])
	if err != nil {
		return nil, nil, 0, 0, 0, err
	}
	out = clone(batch)
	if len(a) > 1 {
		out = append(out, m)
	}
	if len(b) > 1 {
		out = append(out, nn)
	}
	return out, batch, m, k, nn, nil
}

func shapeMatMul(n *Node, in []shapeVal) ([][]int, error) {
	out, _, _, _, _, err := matmulShape(in[0].shape, in[1].shape)
	return [][]int{out}, err
}

// evalMatMul computes numpy matmul: batched over broadcast leading
// dimensions, 1-D operands promoted and the added dimension removed.
func evalMatMul(n *Node, in []*Tensor) ([]*Tensor, error) {
	a, b := in[0], in[1]
	os, batch, m, k, nn, err := matmulShape(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	out := NewTensor(os...)
	A, B := a.Floats(), b.Floats()
	ab, bb := []int{}, []int{}
	if len(a.Shape) > 2 {
		ab = a.Shape[:len(a.Shape)-2]
	}
	if len(b.Shape) > 2 {
		bb = b.Shape[:len(b.Shape)-2]
	}
	if m == 0 || k == 0 || nn == 0 {
		return []*Tensor{out}, nil // empty, or all zeros (an empty sum)
	}
	// Each matrix of the batch is one Sgemm: the packed, blocked kernel
	// Gemm uses (its sums in a fixed order per element, so an element does
	// not depend on the matrix sizes), not a scalar triple loop, which made
	// MatMul-heavy models (ViT, ConvNeXt) orders of magnitude slower than
	// onnxruntime.
	if len(bb) == 0 {
		// B is one matrix for every batch element (a weight): A's batch is
		// more rows of one product, so B is packed once, not per element.
		// Each element is the same sum Sgemm computes for any m.
		rows := len(out.Data) / nn
		kernels.Sgemm(false, false, rows, nn, k, 1, A[:rows*k], k, B[:k*nn], nn, 0, out.Data, nn)
		return []*Tensor{out}, nil
	}
	broadcastIndex(batch, ab, bb, func(i, ia, ib int) {
		kernels.Sgemm(false, false, m, nn, k, 1, A[ia*m*k:(ia+1)*m*k], k, B[ib*k*nn:(ib+1)*k*nn], nn, 0, out.Data[i*m*nn:(i+1)*m*nn], nn)
	})
	return []*Tensor{out}, nil
}
