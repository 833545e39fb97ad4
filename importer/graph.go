package importer

import "fmt"

// Tensor is a dense, row-major tensor. Float tensors keep their values in
// Data; integer and boolean tensors (ONNX int64, int32, bool, ...) keep them
// in Ints and leave Data nil. A tensor with an empty Shape is a scalar and
// holds one value.
type Tensor struct {
	Shape []int
	Data  []float32
	Ints  []int64
}

// NewTensor returns a zeroed float tensor of the given shape.
func NewTensor(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, NumElements(shape))}
}

// IsInt reports whether t holds integer values (in Ints) rather than floats.
func (t *Tensor) IsInt() bool { return t.Data == nil && t.Ints != nil }

// Len returns the number of elements that Shape describes.
func (t *Tensor) Len() int { return NumElements(t.Shape) }

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{Shape: append([]int(nil), t.Shape...)}
	if t.Data != nil {
		c.Data = append([]float32(nil), t.Data...)
	}
	if t.Ints != nil {
		c.Ints = append([]int64(nil), t.Ints...)
	}
	return c
}

// Floats returns the tensor's values as float32, converting integers.
// The returned slice is t.Data itself for a float tensor.
func (t *Tensor) Floats() []float32 {
	if t.Data != nil || t.Ints == nil {
		return t.Data
	}
	f := make([]float32, len(t.Ints))
	for i, v := range t.Ints {
		f[i] = float32(v)
	}
	return f
}

// NumElements returns the product of shape; 1 for a scalar (empty shape).
// Negative (unknown) dimensions make it return -1.
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return -1
		}
		n *= d
	}
	return n
}

// Value is a named graph input with its declared shape. A dimension of -1 is
// not fixed by the model (typically the batch dimension).
type Value struct {
	Name  string
	Shape []int
}

// Node is one operation of the graph. Op is the ONNX operator type
// ("Conv", "Relu", ...). Inputs and Outputs name values; an empty input name
// marks an absent optional input, as in ONNX.
type Node struct {
	Name    string
	Op      string
	Inputs  []string
	Outputs []string
	Attrs   Attrs
}

// String returns "name (Op)", the form used in error messages.
func (n *Node) String() string { return fmt.Sprintf("%q (%s)", n.Name, n.Op) }

// Attrs holds a node's attributes after import. Values have one of the types
// int64, float32, string, []int64, []float32, []string or *Tensor.
type Attrs map[string]any

// Int returns attribute name as an int64, or def when it is absent.
func (a Attrs) Int(name string, def int64) int64 {
	if v, ok := a[name].(int64); ok {
		return v
	}
	return def
}

// Float returns attribute name as a float32, or def when it is absent.
func (a Attrs) Float(name string, def float32) float32 {
	if v, ok := a[name].(float32); ok {
		return v
	}
	return def
}

// String returns attribute name as a string, or def when it is absent.
func (a Attrs) String(name string, def string) string {
	if v, ok := a[name].(string); ok {
		return v
	}
	return def
}

// Ints returns attribute name as []int64, or def when it is absent.
func (a Attrs) Ints(name string, def []int64) []int64 {
	if v, ok := a[name].([]int64); ok {
		return v
	}
	return def
}

// Floats returns attribute name as []float32, or def when it is absent.
func (a Attrs) Floats(name string, def []float32) []float32 {
	if v, ok := a[name].([]float32); ok {
		return v
	}
	return def
}

// Graph is the project's intermediate representation of an imported model:
// a topologically ordered list of nodes over named values. Constants
// (initializers, Constant nodes and everything folded from them) live in
// Consts and are not produced by any node.
type Graph struct {
	Inputs   []Value            // runtime inputs, initializers excluded
	Outputs  []string           // names of the graph outputs
	Nodes    []*Node            // in topological order
	Consts   map[string]*Tensor // initializers and folded constants
	Opset    int64              // default-domain opset version of the model
	Meta     map[string]string  // ONNX metadata_props
	Producer string             // producer_name and producer_version
}

// Producers returns, for each value name, the node that outputs it.
func (g *Graph) Producers() map[string]*Node {
	p := make(map[string]*Node, len(g.Nodes))
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			p[o] = n
		}
	}
	return p
}

// Consumers returns, for each value name, the nodes that read it, in graph order.
func (g *Graph) Consumers() map[string][]*Node {
	c := make(map[string][]*Node)
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in != "" {
				c[in] = append(c[in], n)
			}
		}
	}
	return c
}

// Validate checks the invariants of g: every node input is a graph input, a
// constant or the output of an earlier node; names are produced once; and
// every graph output exists. It returns an error naming the first offender.
func (g *Graph) Validate() error {
	defined := make(map[string]bool, len(g.Consts)+len(g.Inputs))
	for _, in := range g.Inputs {
		defined[in.Name] = true
	}
	for name := range g.Consts {
		if defined[name] {
			return fmt.Errorf("importer: value %q is both an input and a constant", name)
		}
		defined[name] = true
	}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in != "" && !defined[in] {
				return fmt.Errorf("importer: node %s reads %q, which is not defined before it (dangling input or cycle)", n, in)
			}
		}
		for _, o := range n.Outputs {
			if o == "" {
				continue
			}
			if defined[o] {
				return fmt.Errorf("importer: node %s redefines value %q", n, o)
			}
			defined[o] = true
		}
	}
	for _, o := range g.Outputs {
		if !defined[o] {
			return fmt.Errorf("importer: graph output %q is never produced", o)
		}
	}
	return nil
}
