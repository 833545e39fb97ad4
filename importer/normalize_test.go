package importer

import (
	"slices"
	"testing"
)

// TestRemoveAliases checks the renames removeAliases makes around graph
// outputs, graph inputs and constants (expectations derived by hand from
// the rule: an alias's output becomes its input, except that a graph
// output keeps its name by renaming the input's producer).
func TestRemoveAliases(t *testing.T) {
	node := func(op, in, out string) *Node {
		return &Node{Name: out, Op: op, Inputs: []string{in}, Outputs: []string{out}, Attrs: Attrs{}}
	}
	tests := []struct {
		name      string
		nodes     []*Node
		outputs   []string
		consts    []string
		wantNodes []string // "Op in>out"
		wantOuts  []string
		wantConst string // a constant that must exist after the pass
	}{
		{"output renames producer", []*Node{node("Relu", "x", "a"), node("Identity", "a", "y")}, []string{"y"}, nil,
			[]string{"Relu x>y"}, []string{"y"}, ""},
		{"output of input", []*Node{node("Identity", "x", "y")}, []string{"y"}, nil,
			nil, []string{"x"}, ""},
		{"output of constant", []*Node{node("Identity", "c", "y")}, []string{"y"}, []string{"c"},
			nil, []string{"y"}, "y"},
		{"inner alias", []*Node{node("Relu", "x", "a"), node("Identity", "a", "b"), node("Relu", "b", "c")}, []string{"c"}, nil,
			[]string{"Relu x>a", "Relu a>c"}, []string{"c"}, ""},
		{"input already an output", []*Node{node("Relu", "x", "a"), node("Identity", "a", "y")}, []string{"a", "y"}, nil,
			[]string{"Relu x>a"}, []string{"a", "a"}, ""},
		{"alias chain to output", []*Node{node("Relu", "x", "a"), node("Identity", "a", "b"), node("Dropout", "b", "y"), node("Relu", "b", "z")}, []string{"y", "z"}, nil,
			[]string{"Relu x>y", "Relu y>z"}, []string{"y", "z"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &Graph{Inputs: []Value{{Name: "x"}}, Nodes: tt.nodes, Outputs: tt.outputs, Consts: map[string]*Tensor{}}
			for _, c := range tt.consts {
				g.Consts[c] = ft([]int{1}, 1)
			}
			removeAliases(g, func(n *Node) bool { return n.Op == "Identity" || n.Op == "Dropout" })
			var got []string
			for _, n := range g.Nodes {
				got = append(got, n.Op+" "+n.Inputs[0]+">"+n.Outputs[0])
			}
			if !slices.Equal(got, tt.wantNodes) || !slices.Equal(g.Outputs, tt.wantOuts) {
				t.Errorf("nodes %q outputs %q, want %q %q", got, g.Outputs, tt.wantNodes, tt.wantOuts)
			}
			if tt.wantConst != "" && g.Consts[tt.wantConst] == nil {
				t.Errorf("constant %q missing", tt.wantConst)
			}
			if err := g.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}
