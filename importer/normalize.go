package importer

import (
	"errors"
	"fmt"
)

// normalize rewrites a freshly decoded graph into the one form that later
// stages see, whatever the opset and exporter (see doc.go), and folds
// constants.
func normalize(g *Graph) error {
	dropUnusedOutputs(g)
	legacyAttrs(g)
	constants := map[string]*Node{} // Constant nodes by output, for checkTrainingInput
	for _, n := range g.Nodes {
		if n.Op == "Constant" && len(n.Outputs) > 0 {
			constants[n.Outputs[0]] = n
		}
	}
	for _, n := range g.Nodes {
		s, err := lookup(n)
		if err != nil {
			return err
		}
		if s.check != nil {
			if err := s.check(n); err != nil {
				return err
			}
		}
		if err := checkTrainingInput(g, constants, n); err != nil {
			return err
		}
	}
	removeAliases(g, func(n *Node) bool { return n.Op == "Identity" || n.Op == "Dropout" })
	if err := fold(g); err != nil {
		return err
	}
	if err := foldStaticShapes(g); err != nil {
		return err
	}
	inputsToAttrs(g)
	removeAliases(g, isNoOpPad)
	prune(g)
	return staticCheck(g)
}

// checkTrainingInput refuses a Dropout whose training_mode input (opset
// 12+) is true or only known at run time: Dropout is removed as an identity
// below, which is right only in inference mode. constants holds the
// graph's Constant nodes by output name.
func checkTrainingInput(g *Graph, constants map[string]*Node, n *Node) error {
	if n.Op != "Dropout" {
		return nil
	}
	t, ok, absent := g.constInput(n, 2)
	if !ok && !absent { // a Constant node, not folded yet
		if p := constants[n.Inputs[2]]; p != nil {
			var err error
			if t, err = constantValue(p); err != nil {
				return nodeErr(p, err)
			}
			ok = true
		}
	}
	switch {
	case absent:
		return nil
	case !ok:
		return unsupportedAttr(n, "training_mode input computed at run time")
	case t.Len() != 1:
		return nodeErr(n, fmt.Errorf("training_mode has shape %v, want a scalar", t.Shape))
	case intsOf(t)[0] != 0:
		return unsupportedAttr(n, "training_mode=true")
	}
	return nil
}

// optionalOutputs lists, per operator, the index from which outputs are
// optional and unused in inference.
var optionalOutputs = map[string]int{"BatchNormalization": 1, "Dropout": 1, "MaxPool": 1, "LayerNormalization": 1}

// dropUnusedOutputs removes optional outputs that nothing reads.
func dropUnusedOutputs(g *Graph) {
	cons := g.Consumers()
	outs := map[string]bool{}
	for _, o := range g.Outputs {
		outs[o] = true
	}
	for _, n := range g.Nodes {
		k, ok := optionalOutputs[n.Op]
		if !ok {
			continue
		}
		for i := k; i < len(n.Outputs); i++ {
			if o := n.Outputs[i]; o != "" && len(cons[o]) == 0 && !outs[o] {
				n.Outputs[i] = ""
			}
		}
		for len(n.Outputs) > 1 && n.Outputs[len(n.Outputs)-1] == "" {
			n.Outputs = n.Outputs[:len(n.Outputs)-1]
		}
	}
}

// legacyAttrs maps attributes of old opsets to their current form.
func legacyAttrs(g *Graph) {
	for _, n := range g.Nodes {
		delete(n.Attrs, "consumed_inputs") // opset < 6
		switch n.Op {
		case "Add", "Sub", "Mul", "Div", "Gemm":
			if _, ok := n.Attrs["axis"]; !ok || n.Op == "Gemm" {
				delete(n.Attrs, "broadcast") // suffix broadcasting = numpy broadcasting
			}
		case "Softmax":
			if g.Opset < 13 {
				n.Attrs["coerce2d"] = int64(1)
				n.Attrs["axis"] = n.Attrs.Int("axis", 1)
			}
		case "Concat":
			if g.Opset < 4 {
				n.Attrs["axis"] = n.Attrs.Int("axis", 1)
			}
		case "Pad":
			if p, ok := n.Attrs["paddings"]; ok { // opset 1
				n.Attrs["pads"] = p
				delete(n.Attrs, "paddings")
			}
		case "BatchNormalization":
			delete(n.Attrs, "spatial")
			delete(n.Attrs, "is_test")
		case "Resize":
			if g.Opset < 11 { // X, scales with Upsample-like semantics: refused by checkResize
				n.Attrs["opset10"] = int64(1)
			}
		}
	}
}

// removeAliases deletes the nodes for which isAlias holds; their first
// output is taken to equal their first input. Graph output names are kept
// where possible by renaming the input's producer. It runs in time linear
// in the size of the graph: value renames go through a consumer index, not
// a scan of every node.
func removeAliases(g *Graph, isAlias func(*Node) bool) {
	r := newRenamer(g)
	kept := make([]*Node, 0, len(g.Nodes))
	for _, n := range g.Nodes {
		if len(n.Inputs) > 0 && n.Inputs[0] != "" && len(n.Outputs) > 0 && isAlias(n) {
			r.replaceValue(n.Outputs[0], n.Inputs[0], n)
			continue
		}
		kept = append(kept, n)
	}
	g.Nodes = kept
}

// slot is input i of node n.
type slot struct {
	n *Node
	i int
}

// renamer indexes a graph's values (who reads them, who produces them,
// where they are graph outputs) so that a value can be renamed in time
// proportional to its number of readers.
type renamer struct {
	g         *Graph
	consumers map[string][]slot
	producer  map[string]*Node
	outputs   map[string][]int // positions in g.Outputs
}

func newRenamer(g *Graph) *renamer {
	r := &renamer{
		g:         g,
		consumers: make(map[string][]slot, len(g.Nodes)),
		producer:  make(map[string]*Node, len(g.Nodes)),
		outputs:   make(map[string][]int, len(g.Outputs)),
	}
	for _, n := range g.Nodes {
		for i, v := range n.Inputs {
			if v != "" {
				r.consumers[v] = append(r.consumers[v], slot{n, i})
			}
		}
		for _, o := range n.Outputs {
			if _, dup := r.producer[o]; o != "" && !dup {
				r.producer[o] = n
			}
		}
	}
	for i, o := range g.Outputs {
		r.outputs[o] = append(r.outputs[o], i)
	}
	return r
}

// replaceValue makes value out, produced by the node skip that is being
// removed, an alias of value in. Graph output names are kept where possible
// by renaming in's producer.
func (r *renamer) replaceValue(out, in string, skip *Node) {
	if len(r.outputs[out]) == 0 {
		r.renameInputs(out, in, skip)
		return
	}
	inIsOut := len(r.outputs[in]) > 0
	if t, ok := r.g.Consts[in]; ok {
		r.g.Consts[out] = t.Clone()
		return
	}
	if prod := r.producer[in]; prod != nil && prod != skip && !inIsOut {
		for i, o := range prod.Outputs {
			if o == in {
				prod.Outputs[i] = out
			}
		}
		delete(r.producer, in)
		r.producer[out] = prod
		r.renameInputs(in, out, skip)
		return
	}
	// in is a graph input or already a graph output: the output becomes in.
	for _, i := range r.outputs[out] {
		r.g.Outputs[i] = in
	}
	r.outputs[in] = append(r.outputs[in], r.outputs[out]...)
	delete(r.outputs, out)
	r.renameInputs(out, in, skip)
}

// renameInputs makes every reader of from, except skip, read to instead.
func (r *renamer) renameInputs(from, to string, skip *Node) {
	if from == to {
		return
	}
	var stay []slot
	for _, s := range r.consumers[from] {
		if s.n == skip {
			stay = append(stay, s)
			continue
		}
		s.n.Inputs[s.i] = to
		r.consumers[to] = append(r.consumers[to], s)
	}
	if len(stay) > 0 {
		r.consumers[from] = stay
	} else {
		delete(r.consumers, from)
	}
}

// fold evaluates every node whose inputs are all constants and turns its
// outputs into constants. Constant nodes fold this way too.
func fold(g *Graph) error {
	kept := g.Nodes[:0]
	for _, n := range g.Nodes {
		in := make([]*Tensor, len(n.Inputs))
		all := true
		for i, name := range n.Inputs {
			if name == "" {
				continue
			}
			t, ok := g.Consts[name]
			if !ok {
				all = false
				break
			}
			in[i] = t
		}
		if !all {
			kept = append(kept, n)
			continue
		}
		out, err := Eval(n, in)
		if err != nil {
			return err
		}
		for i, o := range n.Outputs {
			if o != "" && i < len(out) {
				g.Consts[o] = out[i]
			}
		}
	}
	g.Nodes = kept
	return nil
}

// foldStaticShapes replaces every Shape node by its value when all graph
// inputs have fully known declared shapes, then folds what depends on it
// (the Gather/Cast/Concat/Range/ConstantOfShape/Expand chains of torch
// exports). With a dynamic dimension it does nothing: those chains stay
// and InferShapes evaluates them by value. If shape inference fails, the
// graph is left as it is for staticCheck and run time to report.
func foldStaticShapes(g *Graph) error {
	in := map[string][]int{}
	for _, v := range g.Inputs {
		if len(v.Shape) == 0 && len(g.Inputs) > 0 {
			return nil // rank not declared
		}
		for _, d := range v.Shape {
			if d < 0 {
				return nil
			}
		}
		in[v.Name] = v.Shape
	}
	found := false
	for _, n := range g.Nodes {
		found = found || n.Op == "Shape"
	}
	if !found {
		return nil
	}
	shapes, err := g.InferShapesMap(in)
	if err != nil {
		return nil
	}
	kept := g.Nodes[:0]
	for _, n := range g.Nodes {
		if n.Op == "Shape" {
			if s, ok := shapes[n.Inputs[0]]; ok {
				g.Consts[n.Outputs[0]] = shapeOf(n, s)
				continue
			}
		}
		kept = append(kept, n)
	}
	g.Nodes = kept
	return fold(g)
}

// constInts returns the value of input i of n as int64s when it is a
// constant; ok reports whether it was, absent reports an absent input.
func (g *Graph) constInput(n *Node, i int) (t *Tensor, ok, absent bool) {
	if i >= len(n.Inputs) || n.Inputs[i] == "" {
		return nil, true, true
	}
	t, ok = g.Consts[n.Inputs[i]]
	return t, ok, false
}

// inputsToAttrs moves constant inputs that parametrize an operator into
// attributes, the form of opsets before they became inputs: Clip min/max
// (float32), Reshape shape, Squeeze/Unsqueeze axes, Pad pads/value/axes,
// Slice starts/ends/axes/steps, Reduce* axes, Split split ([]int64). A node is rewritten only when all
// such inputs are constant or absent.
func inputsToAttrs(g *Graph) {
	type param struct {
		name  string
		float bool
	}
	params := map[string][]param{
		"Clip":       {{"min", true}, {"max", true}},
		"Reshape":    {{"shape", false}},
		"Squeeze":    {{"axes", false}},
		"Unsqueeze":  {{"axes", false}},
		"Pad":        {{"pads", false}, {"value", true}, {"axes", false}},
		"Slice":      {{"starts", false}, {"ends", false}, {"axes", false}, {"steps", false}},
		"Split":      {{"split", false}},
		"ReduceMean": {{"axes", false}},
		"ReduceSum":  {{"axes", false}},
		"ReduceMax":  {{"axes", false}},
		"ReduceMin":  {{"axes", false}},
	}
	for _, n := range g.Nodes {
		ps, ok := params[n.Op]
		if !ok || len(n.Inputs) < 2 {
			continue
		}
		all := true
		for i := range ps {
			_, ok, _ := g.constInput(n, i+1)
			all = all && ok
		}
		if !all {
			continue
		}
		for i, p := range ps {
			t, _, absent := g.constInput(n, i+1)
			if absent {
				continue
			}
			if p.float {
				if t.Len() == 1 {
					n.Attrs[p.name] = t.Floats()[0]
				}
				continue
			}
			n.Attrs[p.name] = append([]int64{}, intsOf(t)...)
		}
		n.Inputs = n.Inputs[:1]
	}
}

// isNoOpPad reports a Pad node whose pads are all zero.
func isNoOpPad(n *Node) bool {
	if n.Op != "Pad" || len(n.Inputs) != 1 {
		return false
	}
	p, ok := n.Attrs["pads"].([]int64)
	if !ok {
		return false
	}
	for _, v := range p {
		if v != 0 {
			return false
		}
	}
	return true
}

// staticCheck runs shape inference on the declared input shapes (unknown
// dimensions taken as 1). Unsupported forms that only shapes reveal (3-D
// convolution, ...) are reported; other failures are left for run time,
// since declared shapes may be absent or loose. Where shapes are known it
// drops the opset<13 Softmax coerce2d marker when both semantics agree
// (axis = rank−1).
func staticCheck(g *Graph) error {
	in := map[string][]int{}
	for _, v := range g.Inputs {
		if len(v.Shape) == 0 {
			return nil
		}
		s := clone(v.Shape)
		for i := range s {
			if s[i] < 0 {
				s[i] = 1
			}
		}
		in[v.Name] = s
	}
	shapes, err := g.InferShapesMap(in)
	var uo *UnsupportedOpError
	if errors.As(err, &uo) {
		return uo
	}
	if err != nil {
		return nil
	}
	for _, n := range g.Nodes {
		if n.Op != "Softmax" || n.Attrs.Int("coerce2d", 0) == 0 {
			continue
		}
		r := len(shapes[n.Inputs[0]])
		if ax, err := normAxis(n.Attrs.Int("axis", 1), r, false); err == nil && ax == r-1 {
			delete(n.Attrs, "coerce2d")
			n.Attrs["axis"] = int64(-1)
		}
	}
	return nil
}

// prune removes nodes whose outputs nothing needs and constants nothing
// reads.
func prune(g *Graph) {
	need := map[string]bool{}
	for _, o := range g.Outputs {
		need[o] = true
	}
	live := make([]bool, len(g.Nodes))
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
		for _, o := range n.Outputs {
			live[i] = live[i] || (o != "" && need[o])
		}
		if live[i] {
			for _, in := range n.Inputs {
				need[in] = true
			}
		}
	}
	kept := g.Nodes[:0]
	for i, n := range g.Nodes {
		if live[i] {
			kept = append(kept, n)
		}
	}
	g.Nodes = kept
	for k := range g.Consts {
		if !need[k] {
			delete(g.Consts, k)
		}
	}
}
