package ann

import (
	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/kernels"
)

// poolScratch is the number of floats of convolution output a step with a
// fused AveragePool computes before pooling them: small enough to stay in
// L2 between the convolution's store and the pool's read.
const poolScratch = 32 << 10

// fusePool folds into the prepared convolution step s the AveragePool that
// is the only reader of its output (after its fused chain), and the chain
// of elementwise nodes that only feeds on the pool's output. The step then
// computes a few images' convolution into a scratch buffer and pools them
// while they are in cache, instead of storing the whole convolution output
// and reading it back in a separate pass. The values are the same:
// kernels.AvgPool over the same convolution outputs (bit-identical whatever
// the number of images per call), then the same chain.
func fusePool(s *step, g *importer.Graph, uses map[string]int, consumer map[string]int, done []bool,
	shapes map[string][]int, constOf func(string) *importer.Tensor) {
	v := s.out
	if s.conv == nil || uses[v] != 1 {
		return
	}
	j := consumer[v]
	n := g.Nodes[j]
	if done[j] || n.Op != "AveragePool" || len(n.Outputs) != 1 || len(n.Inputs) != 1 || n.Inputs[0] != v {
		return
	}
	var ps step
	preparePool(&ps, n, shapes)
	if ps.pool == nil {
		return
	}
	done[j] = true
	s.post = ps.pool
	s.nodes = append(s.nodes, j)
	s.ops = append(s.ops, n.Op)
	s.inner = append(s.inner, v)
	s.outPer = ps.outPer
	s.postEp, s.out = followChain(s, n.Outputs[0], g, uses, consumer, done, shapes, constOf)
}

// convPool runs the step s (a prepared convolution with a fused
// AveragePool) on the n images x into out, poolScratch floats of
// convolution output at a time, in a scratch buffer from ar; ep is the
// convolution's epilogue (nil: none).
func convPool(s *step, out, x []float32, n int, ws []float32, ar *arena, ep kernels.Epilogue) {
	g := s.conv.Geom()
	inPer := g.C * g.H * g.W
	convPer := g.K * g.OutH() * g.OutW()
	outPer := importer.NumElements(s.outPer)
	nb := min(n, max(1, poolScratch/convPer))
	tmp := ar.get(nb * convPer)
	defer ar.put(tmp)
	o := &importer.Tensor{Shape: append([]int{0}, s.outPer...)} // the pooled block, for the chain
	for i0 := 0; i0 < n; i0 += nb {
		m := min(nb, n-i0)
		s.conv.ForwardEpilogue(tmp, x[i0*inPer:(i0+m)*inPer], m, ws, ep)
		o.Shape[0], o.Data = m, out[i0*outPer:(i0+m)*outPer]
		kernels.AvgPool(o.Data, tmp, m, *s.post)
		if s.postEp != nil {
			s.postEp.applyTensor(o)
		}
	}
}
