package convert

import (
	"fmt"
	"maps"

	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/snnrt"
)

// Neuron links one IF layer of the SNN to the ANN activation it replaces.
type Neuron struct {
	Layer int         // index of the IF layer in the model
	Act   *Activation // the recognised ANN activation
}

// Lowered is an ANN lowered to the SNN's primitive layers, before
// calibration: IF layers of ReLU activations have a placeholder threshold
// of 1, those of clip and quantised activations their exact λ.
type Lowered struct {
	Model   *snnrt.Model
	Neurons []Neuron // in layer order
	// Source maps each model layer to the ANN value it computes (the value
	// the layer's output approximates), for calibration and reports.
	Source []string
}

// ConvertError names the graph node that could not be converted.
type ConvertError struct {
	Node, Op string
	Err      error
}

func (e *ConvertError) Error() string {
	return fmt.Sprintf("convert: node %q (%s): %v", e.Node, e.Op, e.Err)
}

// Unwrap returns the underlying error.
func (e *ConvertError) Unwrap() error { return e.Err }

func nodeErr(n *importer.Node, format string, args ...any) error {
	return &ConvertError{Node: n.Name, Op: n.Op, Err: fmt.Errorf(format, args...)}
}

// lowerer carries the state of one Lower call.
type lowerer struct {
	g      *importer.Graph
	shapes map[string][]int
	m      *snnrt.Model
	layer  map[string]int // ANN value -> SNN layer producing it
	done   map[*importer.Node]bool
	out    *Lowered
	// views evaluate shape arithmetic and movement chains for a batch of
	// one image and, when the graph's shapes allow it, of two, which
	// tells a chain that keeps images apart from one that mixes them.
	views []*batchView
	moved map[string]*moved // values computed by movement chains
}

// Lower rewrites g (with BatchNorm already folded, see FoldBatchNorm) into
// SNN layers. Every ReLU-like activation (Relu, Clip(0,λ) such as ReLU6,
// QCFS quantisers) becomes an IF layer; Conv (grouped and depthwise
// included) and Gemm/MatMul become synaptic layers; AveragePool,
// GlobalAveragePool, MaxPool (ceil mode included), Add, Concat and Flatten
// map to their SNN kinds; ReduceMean over H and W is global average
// pooling; a BatchNormalization that could not be folded (DenseNet's,
// after a Concat) becomes a depthwise 1×1 convolution with bias; a zero Pad
// in front of a pool or conv is merged into it; chains of data-movement
// ops (Reshape, Transpose, Split, Slice, Gather, ...: ShuffleNet's channel
// shuffle) are evaluated on an index tensor and, when they select channels
// at unchanged positions, become a 1×1 convolution with a 0/1 matrix;
// shape arithmetic (Shape chains) is evaluated; a Softmax that produces
// the graph output is dropped (it does not change the arg max). An
// activation without an IF equivalent (SiLU, HardSwish, GELU, sigmoid
// gates, LayerNorm, softmax inside the network, ...) is refused first,
// with a *ConvertError wrapping ErrNoIFEquivalent that names it; anything
// else unconvertible is a *ConvertError naming the node.
func Lower(g *importer.Graph) (*Lowered, error) {
	if len(g.Inputs) != 1 || len(g.Outputs) != 1 {
		return nil, fmt.Errorf("convert: the graph must have one input and one output, has %d and %d", len(g.Inputs), len(g.Outputs))
	}
	in := g.Inputs[0]
	if len(in.Shape) != 4 && len(in.Shape) != 2 {
		return nil, fmt.Errorf("convert: input %q has shape %v, want [N,C,H,W] or [N,F]", in.Name, in.Shape)
	}
	if err := refuseNonIF(g); err != nil {
		return nil, err
	}
	shape := append([]int{1}, in.Shape[1:]...)
	shapes, err := g.InferShapes(shape)
	if err != nil {
		return nil, err
	}
	inShape, _ := perImage(shape) // the rank was checked above
	l := &lowerer{
		g: g, shapes: shapes,
		m:     &snnrt.Model{Input: inShape, Metadata: map[string]string{}},
		layer: map[string]int{in.Name: snnrt.InputIndex},
		done:  map[*importer.Node]bool{},
		views: []*batchView{{batch: 1, shapes: shapes, vals: map[string]*importer.Tensor{}}},
		moved: map[string]*moved{},
	}
	if s2, err := g.InferShapes(append([]int{2}, in.Shape[1:]...)); err == nil {
		l.views = append(l.views, &batchView{batch: 2, shapes: s2, vals: map[string]*importer.Tensor{}})
	}
	l.out = &Lowered{Model: l.m}
	for _, n := range g.Nodes {
		if l.done[n] {
			continue
		}
		if err := l.node(n); err != nil {
			return nil, err
		}
	}
	outIdx, ok := l.layer[g.Outputs[0]]
	if mv := l.moved[g.Outputs[0]]; mv != nil && len(g.Nodes) > 0 {
		if outIdx, err = l.input(mv.node, g.Outputs[0]); err != nil {
			return nil, err
		}
		ok = true
	}
	if !ok || outIdx == snnrt.InputIndex {
		return nil, fmt.Errorf("convert: graph output %q is not computed by a layer", g.Outputs[0])
	}
	if l.m.Layers[outIdx].Kind == snnrt.KindIF {
		return nil, fmt.Errorf("convert: graph output %q comes from an activation; the output layer must be linear (its value is integrated, not spiked)", g.Outputs[0])
	}
	l.m.Output = outIdx
	if err := l.m.Validate(); err != nil {
		return nil, fmt.Errorf("convert: lowered model is invalid: %w", err)
	}
	return l.out, nil
}

// inputLayer returns the layer computing value v, which is not the
// result of a movement chain.
func (l *lowerer) inputLayer(n *importer.Node, v string) (int, error) {
	idx, ok := l.layer[v]
	if !ok {
		if _, c := l.g.Consts[v]; c {
			return 0, nodeErr(n, "input %q is a constant; only constant weights and biases are supported", v)
		}
		return 0, nodeErr(n, "input %q is not computed by a convertible layer", v)
	}
	return idx, nil
}

// add appends a layer computing ANN value v.
func (l *lowerer) add(n *importer.Node, v string, layer snnrt.Layer) (int, error) {
	layer.Name = n.Name
	idx, err := l.m.Append(layer)
	if err != nil {
		return 0, nodeErr(n, "%v", err)
	}
	l.layer[v] = idx
	l.out.Source = append(l.out.Source, v)
	return idx, nil
}

// node lowers n (and, for activations, the chain it starts).
func (l *lowerer) node(n *importer.Node) error {
	if ok, err := l.shapeArith(n); ok || err != nil {
		return err
	}
	if movementOps[n.Op] {
		return l.move(n)
	}
	switch n.Op {
	case "Conv":
		return l.conv(n)
	case "Gemm", "MatMul":
		return l.linear(n)
	case "AveragePool", "MaxPool":
		return l.pool(n)
	case "GlobalAveragePool":
		src, err := l.input(n, n.Inputs[0])
		if err != nil {
			return err
		}
		_, err = l.add(n, n.Outputs[0], snnrt.Layer{Kind: snnrt.KindGlobalAvgPool, Inputs: []int{src}})
		return err
	case "BatchNormalization":
		return l.batchNorm(n)
	case "ReduceMean":
		return l.reduceMean(n)
	case "Concat":
		if ax := n.Attrs.Int("axis", 1); ax != 1 && ax != -3 {
			return nodeErr(n, "concatenation along axis %d; only the channel axis converts", ax)
		}
		return l.routing(n, snnrt.KindConcat)
	case "Add":
		if l.g.Consts[n.Inputs[0]] != nil || l.g.Consts[n.Inputs[1]] != nil {
			return nodeErr(n, "adding a constant outside a bias position is not convertible")
		}
		return l.routing(n, snnrt.KindAdd)
	case "Pad":
		return l.pad(n)
	case "Softmax", "LogSoftmax":
		if len(l.g.Outputs) == 1 && l.g.Outputs[0] == n.Outputs[0] {
			src, err := l.input(n, n.Inputs[0])
			if err != nil {
				return err
			}
			l.layer[n.Outputs[0]] = src
			return nil
		}
		return nodeErr(n, "softmax inside the network is not convertible (only at the output)")
	case "Relu", "Clip", "Floor", "Mul", "Div", "Sub":
		if _, ok := l.moved[n.Inputs[0]]; ok {
			// An activation of a moved value: lowering the
			// movement recognises it.
			if _, err := l.input(n, n.Inputs[0]); err != nil {
				return err
			}
			if l.done[n] {
				return nil
			}
		}
		return nodeErr(n, "elementwise %s is not part of a recognised activation (ReLU, Clip(0,λ) or a QCFS quantiser after a linear layer)", n.Op)
	}
	return nodeErr(n, "op %s has no SNN equivalent here (convertible: Conv, Gemm, MatMul, Relu, Clip, QCFS chains, BatchNormalization, AveragePool, GlobalAveragePool, MaxPool, ReduceMean over H,W, Add, Concat, channel-selecting Reshape/Transpose/Split/Slice/Gather chains, Flatten, zero Pad, output Softmax)", n.Op)
}

// activation recognises an activation reading value v and, if there is one,
// appends its IF layer.
func (l *lowerer) activation(v string, src int) error {
	act, err := matchActivation(l.g, v)
	if err != nil || act == nil {
		return err
	}
	last := act.Nodes[len(act.Nodes)-1]
	neuron := snnrt.IF{Theta: []float32{1}}
	if act.Max != nil {
		neuron.Theta = append([]float32(nil), act.Max...)
	}
	if act.Kind == ActQuant {
		neuron.V0 = make([]float32, len(neuron.Theta))
		for i, th := range neuron.Theta {
			neuron.V0[i] = act.Shift * th
		}
	}
	idx, err := l.add(last, act.Output, snnrt.Layer{Kind: snnrt.KindIF, Inputs: []int{src}, IF: neuron})
	if err != nil {
		return err
	}
	for _, n := range act.Nodes {
		l.done[n] = true
	}
	l.out.Neurons = append(l.out.Neurons, Neuron{Layer: idx, Act: act})
	return nil
}

func (l *lowerer) conv(n *importer.Node) error {
	src, err := l.input(n, n.Inputs[0])
	if err != nil {
		return err
	}
	w := constInput(l.g, n, 1)
	if w == nil || w.IsInt() {
		return nodeErr(n, "weights must be a float constant")
	}
	geom, err := importer.ConvGeometry(n, l.shapes[n.Inputs[0]], w.Shape)
	if err != nil {
		return err
	}
	if geom.DilH == 0 {
		geom.DilH, geom.DilW = 1, 1
	}
	layer := snnrt.Layer{Kind: snnrt.KindConv, Inputs: []int{src}, Conv: geom, W: append([]float32(nil), w.Data...)}
	if b := constInput(l.g, n, 2); b != nil {
		layer.B = append([]float32(nil), b.Floats()...)
	}
	idx, err := l.add(n, n.Outputs[0], layer)
	if err != nil {
		return err
	}
	return l.activation(n.Outputs[0], idx)
}

// linear lowers Gemm (alpha, beta and transposes folded into W and b) and
// MatMul with constant weights, followed optionally by Add of a bias.
func (l *lowerer) linear(n *importer.Node) error {
	src, err := l.input(n, n.Inputs[0])
	if err != nil {
		return err
	}
	if xs := l.shapes[n.Inputs[0]]; len(xs) != 2 {
		return nodeErr(n, "input has shape %v; only 2-D [N,F] inputs convert", xs)
	}
	w := constInput(l.g, n, 1)
	if w == nil || w.IsInt() || len(w.Shape) != 2 {
		return nodeErr(n, "weights must be a 2-D float constant")
	}
	transB := n.Op == "Gemm" && n.Attrs.Int("transB", 0) != 0
	if n.Op == "Gemm" && n.Attrs.Int("transA", 0) != 0 {
		return nodeErr(n, "transA=1 is not convertible")
	}
	alpha, beta := float32(1), float32(1)
	if n.Op == "Gemm" {
		alpha, beta = n.Attrs.Float("alpha", 1), n.Attrs.Float("beta", 1)
	}
	// W as [Out, In].
	var in, out int
	var wt []float32
	if transB {
		out, in = w.Shape[0], w.Shape[1]
		wt = make([]float32, len(w.Data))
		for i, v := range w.Data {
			wt[i] = alpha * v
		}
	} else {
		in, out = w.Shape[0], w.Shape[1]
		wt = make([]float32, len(w.Data))
		for i := range in {
			for o := range out {
				wt[o*in+i] = alpha * w.Data[i*out+o]
			}
		}
	}
	bias := make([]float32, out)
	hasBias := false
	if n.Op == "Gemm" {
		if c := constInput(l.g, n, 2); c != nil {
			cv := c.Floats()
			if len(cv) != 1 && len(cv) != out {
				return nodeErr(n, "bias C has %d values for %d outputs", len(cv), out)
			}
			for o := range out {
				bias[o] = beta * cv[min(o, len(cv)-1)]
			}
			hasBias = true
		} else if len(n.Inputs) > 2 && n.Inputs[2] != "" {
			return nodeErr(n, "bias C must be a constant")
		}
	}
	value := n.Outputs[0]
	// MatMul followed by Add(constant) is a biased linear layer.
	if add := soleConsumer(l.g, value); add != nil && add.Op == "Add" && n.Op == "MatMul" {
		ci := -1
		for i := range 2 {
			if c := l.g.Consts[add.Inputs[i]]; c != nil && (c.Len() == out || c.Len() == 1) {
				ci = i
			}
		}
		if ci >= 0 {
			cv := l.g.Consts[add.Inputs[ci]].Floats()
			for o := range out {
				bias[o] += cv[min(o, len(cv)-1)]
			}
			hasBias = true
			l.done[add] = true
			value = add.Outputs[0]
		}
	}
	layer := snnrt.Layer{Kind: snnrt.KindLinear, Inputs: []int{src}, W: wt}
	if hasBias {
		layer.B = bias
	}
	idx, err := l.add(n, value, layer)
	if err != nil {
		return err
	}
	return l.activation(value, idx)
}

func (l *lowerer) pool(n *importer.Node) error {
	src, err := l.input(n, n.Inputs[0])
	if err != nil {
		return err
	}
	geom, err := importer.PoolGeometry(n, l.shapes[n.Inputs[0]])
	if err != nil {
		return err
	}
	kind := snnrt.KindAvgPool
	if n.Op == "MaxPool" {
		kind = snnrt.KindMaxPool
	}
	p := snnrt.PoolGeom(geom)
	idx, err := l.add(n, n.Outputs[0], snnrt.Layer{Kind: kind, Inputs: []int{src}, Pool: p})
	if err != nil {
		return err
	}
	return l.activation(n.Outputs[0], idx)
}

// pad merges a constant zero Pad over the spatial axes into the pooling or
// convolution that is its only reader.
func (l *lowerer) pad(n *importer.Node) error {
	next := soleConsumer(l.g, n.Outputs[0])
	pads := n.Attrs.Ints("pads", nil)
	if mode := n.Attrs.String("mode", "constant"); mode != "constant" || n.Attrs.Float("value", 0) != 0 {
		return nodeErr(n, "only constant zero padding converts")
	}
	if next == nil || len(pads) != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 {
		return nodeErr(n, "only zero padding of H and W in front of a single pooling or convolution converts")
	}
	if next.Op != "AveragePool" && next.Op != "MaxPool" && next.Op != "Conv" {
		return nodeErr(n, "padding in front of %s is not convertible", next.Op)
	}
	if next.Attrs.String("auto_pad", "NOTSET") != "NOTSET" {
		return nodeErr(next, "explicit Pad in front of auto_pad is not convertible")
	}
	attrs := maps.Clone(next.Attrs)
	allZero := pads[2] == 0 && pads[3] == 0 && pads[6] == 0 && pads[7] == 0
	if next.Op == "MaxPool" && !allZero {
		// Zero padding would take part in the max; merged pads would not.
		return nodeErr(n, "non-zero Pad in front of MaxPool is not convertible")
	}
	if !allZero && next.Op == "AveragePool" {
		if next.Attrs.Int("count_include_pad", 0) == 0 {
			// The explicit zeros are averaged in: count them.
			attrs["count_include_pad"] = int64(1)
			if old := next.Attrs.Ints("pads", nil); old != nil {
				for _, v := range old {
					if v != 0 {
						return nodeErr(next, "explicit Pad in front of a padded pool without count_include_pad is not convertible")
					}
				}
			}
		}
	}
	old := next.Attrs.Ints("pads", []int64{0, 0, 0, 0})
	if len(old) != 4 {
		return nodeErr(next, "pads %v", old)
	}
	attrs["pads"] = []int64{old[0] + pads[2], old[1] + pads[3], old[2] + pads[6], old[3] + pads[7]}
	clone := *next
	clone.Attrs = attrs
	clone.Inputs = append([]string{n.Inputs[0]}, next.Inputs[1:]...)
	// Shapes of the merged node's input are those of the Pad's input.
	l.done[next] = true
	switch clone.Op {
	case "Conv":
		return l.conv(&clone)
	default:
		return l.pool(&clone)
	}
}

// routing lowers the weightless many-input layers Add and Concat.
func (l *lowerer) routing(n *importer.Node, kind snnrt.Kind) error {
	var ins []int
	for _, v := range n.Inputs {
		src, err := l.input(n, v)
		if err != nil {
			return err
		}
		ins = append(ins, src)
	}
	idx, err := l.add(n, n.Outputs[0], snnrt.Layer{Kind: kind, Inputs: ins})
	if err != nil {
		return err
	}
	return l.activation(n.Outputs[0], idx)
}

// perImage returns the per-image SNN shape of an ANN value of shape
// [N,C,H,W] or [N,F] (F features as F×1×1), and false for other ranks.
func perImage(shape []int) (snnrt.Shape, bool) {
	switch len(shape) {
	case 4:
		return snnrt.Shape{C: shape[1], H: shape[2], W: shape[3]}, true
	case 2:
		return snnrt.Shape{C: shape[1], H: 1, W: 1}, true
	}
	return snnrt.Shape{}, false
}
