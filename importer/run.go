package importer

import "fmt"

// RunRef evaluates g on the given runtime inputs, one per g.Inputs in
// order, with the reference Eval of every node. It returns every value of
// the graph by name: the inputs and constants themselves (shared, not
// copied: do not modify them) and each node output. It is the simplest,
// slowest executor and defines the semantics that faster ones are tested
// against.
func (g *Graph) RunRef(inputs ...*Tensor) (map[string]*Tensor, error) {
	if len(inputs) != len(g.Inputs) {
		return nil, fmt.Errorf("importer: RunRef: got %d inputs, graph has %d", len(inputs), len(g.Inputs))
	}
	env := make(map[string]*Tensor, len(g.Consts)+len(g.Nodes)+len(inputs))
	for k, t := range g.Consts {
		env[k] = t
	}
	for i, v := range g.Inputs {
		t := inputs[i]
		if t == nil {
			return nil, fmt.Errorf("importer: RunRef: input %q is nil", v.Name)
		}
		if len(t.Shape) != len(v.Shape) && len(v.Shape) > 0 {
			return nil, fmt.Errorf("importer: RunRef: input %q has shape %v, declared %v", v.Name, t.Shape, v.Shape)
		}
		for d := range v.Shape {
			if v.Shape[d] >= 0 && v.Shape[d] != t.Shape[d] {
				return nil, fmt.Errorf("importer: RunRef: input %q has shape %v, declared %v", v.Name, t.Shape, v.Shape)
			}
		}
		env[v.Name] = t
	}
	for _, n := range g.Nodes {
		in := make([]*Tensor, len(n.Inputs))
		for i, name := range n.Inputs {
			if name == "" {
				continue
			}
			t, ok := env[name]
			if !ok {
				return nil, nodeErr(n, fmt.Errorf("input %q is not computed", name))
			}
			in[i] = t
		}
		out, err := Eval(n, in)
		if err != nil {
			return nil, err
		}
		for i, o := range n.Outputs {
			if o != "" && i < len(out) {
				env[o] = out[i]
			}
		}
	}
	return env, nil
}

// OutputsOf returns the graph outputs from a RunRef result, in g.Outputs
// order.
func (g *Graph) OutputsOf(env map[string]*Tensor) []*Tensor {
	r := make([]*Tensor, len(g.Outputs))
	for i, o := range g.Outputs {
		r[i] = env[o]
	}
	return r
}
