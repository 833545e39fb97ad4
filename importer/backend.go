package importer

import (
	"sort"

	onnx "github.com/owulveryck/onnx-go"
	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/iterator"
	"gorgonia.org/tensor"
)

// backend is the onnx-go decoding target: a directed weighted graph in which
// every ONNX value is a node, and every ONNX operator an edge bundle from
// its output values to its input values with weight = input index. Unlike a
// gonum simple graph it keeps parallel edges, which Mul(x, x) produces.
// ApplyOperation records the operators in call order (= file order).
type backend struct {
	nodes  map[int64]*bnode
	order  []*bnode // nodes in insertion order
	nextID int64
	edges  []bedge
	ops    []bop
}

// bnode is one value of the decoded graph.
type bnode struct {
	id   int64
	name string
	t    tensor.Tensor
}

type bedge struct {
	from, to *bnode
	w        float64
}

type bop struct {
	op   onnx.Operation
	outs []*bnode
	end  int // number of edges recorded when the operation was applied
}

var (
	_ onnx.Backend     = (*backend)(nil)
	_ onnx.Namer       = (*bnode)(nil)
	_ onnx.DataCarrier = (*bnode)(nil)
)

func newBackend() *backend { return &backend{nodes: map[int64]*bnode{}} }

// ID implements graph.Node.
func (n *bnode) ID() int64 { return n.id }

// SetName implements onnx.Namer.
func (n *bnode) SetName(s string) { n.name = s }

// GetName implements onnx.Namer.
func (n *bnode) GetName() string { return n.name }

// SetTensor implements onnx.DataCarrier.
func (n *bnode) SetTensor(t tensor.Tensor) error { n.t = t; return nil }

// GetTensor implements onnx.DataCarrier.
func (n *bnode) GetTensor() tensor.Tensor { return n.t }

// From implements graph.Edge.
func (e bedge) From() graph.Node { return e.from }

// To implements graph.Edge.
func (e bedge) To() graph.Node { return e.to }

// ReversedEdge implements graph.Edge.
func (e bedge) ReversedEdge() graph.Edge { return bedge{from: e.to, to: e.from, w: e.w} }

// Weight implements graph.WeightedEdge.
func (e bedge) Weight() float64 { return e.w }

// NewNode implements graph.NodeAdder.
func (b *backend) NewNode() graph.Node {
	n := &bnode{id: b.nextID}
	b.nextID++
	return n
}

// AddNode implements graph.NodeAdder. Nodes not made by NewNode are wrapped.
func (b *backend) AddNode(n graph.Node) {
	bn, ok := n.(*bnode)
	if !ok {
		bn = &bnode{id: n.ID()}
	}
	if bn.id >= b.nextID {
		b.nextID = bn.id + 1
	}
	if _, dup := b.nodes[bn.id]; !dup {
		b.order = append(b.order, bn)
	}
	b.nodes[bn.id] = bn
}

// NewWeightedEdge implements graph.WeightedEdgeAdder.
func (b *backend) NewWeightedEdge(from, to graph.Node, w float64) graph.WeightedEdge {
	return bedge{from: b.node(from), to: b.node(to), w: w}
}

func (b *backend) node(n graph.Node) *bnode {
	if bn, ok := n.(*bnode); ok {
		return bn
	}
	if bn, ok := b.nodes[n.ID()]; ok {
		return bn
	}
	bn := &bnode{id: n.ID()}
	b.AddNode(bn)
	return bn
}

// SetWeightedEdge implements graph.WeightedEdgeAdder; parallel edges are kept.
func (b *backend) SetWeightedEdge(e graph.WeightedEdge) {
	from, to := b.node(e.From()), b.node(e.To())
	if _, ok := b.nodes[from.id]; !ok {
		b.AddNode(from)
	}
	if _, ok := b.nodes[to.id]; !ok {
		b.AddNode(to)
	}
	b.edges = append(b.edges, bedge{from: from, to: to, w: e.Weight()})
}

// ApplyOperation implements onnx.OperationCarrier: it records the operator
// and its output values; inputs are recovered from the edges later.
func (b *backend) ApplyOperation(op onnx.Operation, outs ...graph.Node) error {
	r := bop{op: op, end: len(b.edges)}
	for _, o := range outs {
		r.outs = append(r.outs, b.node(o))
	}
	b.ops = append(b.ops, r)
	return nil
}

// inputsOf returns the input value names of operation i, ordered by edge
// weight, as read from the edges leaving its first output.
func (b *backend) inputsOf(i int) []string {
	r := b.ops[i]
	if len(r.outs) == 0 {
		return nil
	}
	start := 0
	if i > 0 {
		start = b.ops[i-1].end
	}
	var es []bedge
	for _, e := range b.edges[start:r.end] {
		if e.from == r.outs[0] {
			es = append(es, e)
		}
	}
	sort.SliceStable(es, func(a, c int) bool { return es[a].w < es[c].w })
	names := make([]string, len(es))
	for k, e := range es {
		names[k] = e.to.name
	}
	return names
}

// Node implements graph.Graph.
func (b *backend) Node(id int64) graph.Node {
	if n, ok := b.nodes[id]; ok {
		return n
	}
	return nil
}

// Nodes implements graph.Graph.
func (b *backend) Nodes() graph.Nodes {
	ns := make([]graph.Node, len(b.order))
	for i, n := range b.order {
		ns[i] = n
	}
	return iterator.NewOrderedNodes(ns)
}

func (b *backend) adjacent(id int64, out bool) graph.Nodes {
	seen := map[int64]bool{}
	var ns []graph.Node
	for _, e := range b.edges {
		a, c := e.from, e.to
		if !out {
			a, c = c, a
		}
		if a.id == id && !seen[c.id] {
			seen[c.id] = true
			ns = append(ns, c)
		}
	}
	return iterator.NewOrderedNodes(ns)
}

// From implements graph.Graph.
func (b *backend) From(id int64) graph.Nodes { return b.adjacent(id, true) }

// To implements graph.Directed.
func (b *backend) To(id int64) graph.Nodes { return b.adjacent(id, false) }

// HasEdgeBetween implements graph.Graph.
func (b *backend) HasEdgeBetween(x, y int64) bool {
	return b.HasEdgeFromTo(x, y) || b.HasEdgeFromTo(y, x)
}

// HasEdgeFromTo implements graph.Directed.
func (b *backend) HasEdgeFromTo(u, v int64) bool { return b.Edge(u, v) != nil }

// Edge implements graph.Graph; with parallel edges it returns the first.
func (b *backend) Edge(u, v int64) graph.Edge {
	for _, e := range b.edges {
		if e.from.id == u && e.to.id == v {
			return e
		}
	}
	return nil
}
