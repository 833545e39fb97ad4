package importer

import "fmt"

// smallValue is the largest integer tensor that shape inference computes
// by value (Shape chains feeding Reshape, Slice, ...).
const smallValue = 1 << 12

// InferShapes returns the shape of every value of g (inputs, constants and
// node outputs) when its single runtime input has the concrete shape
// input. See InferShapesMap.
func (g *Graph) InferShapes(input []int) (map[string][]int, error) {
	if len(g.Inputs) != 1 {
		return nil, fmt.Errorf("importer: InferShapes: graph has %d inputs; use InferShapesMap", len(g.Inputs))
	}
	return g.InferShapesMap(map[string][]int{g.Inputs[0].Name: input})
}

// InferShapesMap returns the shape of every value of g given concrete
// shapes for all runtime inputs, which must agree with the declared ones.
// Shape chains (Shape of a runtime value and the integer arithmetic on it)
// are computed by value, so a Reshape whose shape depends on the input is
// resolved. Errors name the first node that fails (*NodeError).
func (g *Graph) InferShapesMap(inputs map[string][]int) (map[string][]int, error) {
	shapes := make(map[string][]int, len(g.Consts)+len(g.Nodes))
	vals := map[string]*Tensor{}
	for k, t := range g.Consts {
		shapes[k] = clone(t.Shape)
		vals[k] = t
	}
	for _, v := range g.Inputs {
		s, ok := inputs[v.Name]
		if !ok {
			return nil, fmt.Errorf("importer: InferShapes: no shape for input %q", v.Name)
		}
		if len(v.Shape) > 0 && len(s) != len(v.Shape) {
			return nil, fmt.Errorf("importer: InferShapes: input %q shape %v, declared %v", v.Name, s, v.Shape)
		}
		for i := range v.Shape {
			if v.Shape[i] >= 0 && v.Shape[i] != s[i] {
				return nil, fmt.Errorf("importer: InferShapes: input %q shape %v, declared %v", v.Name, s, v.Shape)
			}
		}
		if err := checkAlloc(s); err != nil {
			return nil, fmt.Errorf("importer: InferShapes: input %q: %w", v.Name, err)
		}
		shapes[v.Name] = clone(s)
	}
	for _, n := range g.Nodes {
		s, err := lookup(n)
		if err != nil {
			return nil, err
		}
		sv := make([]shapeVal, len(n.Inputs))
		allKnown := true
		for i, name := range n.Inputs {
			if name == "" {
				sv[i].absent = true
				continue
			}
			sh, ok := shapes[name]
			if !ok {
				return nil, nodeErr(n, fmt.Errorf("input %q has no shape (graph not topologically sorted?)", name))
			}
			sv[i] = shapeVal{shape: sh, val: vals[name]}
			allKnown = allKnown && vals[name] != nil
		}
		var outShapes [][]int
		var outVals []*Tensor
		switch {
		case n.Op == "Shape":
			t := shapeOf(n, sv[0].shape)
			outShapes, outVals = [][]int{t.Shape}, []*Tensor{t}
		default:
			outShapes, err = s.shape(n, sv)
			if err != nil {
				return nil, nodeErr(n, err)
			}
			small := allKnown
			for _, o := range outShapes {
				small = small && NumElements(o) >= 0 && NumElements(o) <= smallValue
			}
			if small {
				in := make([]*Tensor, len(sv))
				for i := range sv {
					in[i] = sv[i].val
				}
				if outVals, err = Eval(n, in); err != nil {
					return nil, err
				}
			}
		}
		for i, o := range n.Outputs {
			if o == "" || i >= len(outShapes) {
				continue
			}
			if err := checkAlloc(outShapes[i]); err != nil {
				return nil, nodeErr(n, err)
			}
			shapes[o] = outShapes[i]
			if i < len(outVals) {
				vals[o] = outVals[i]
			}
		}
	}
	return shapes, nil
}
