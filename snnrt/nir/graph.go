package nir

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/ann2snn/ann2snn/internal/atomicfile"
	"github.com/ann2snn/ann2snn/internal/hdf5"
)

// Version is the NIR version written to the "version" dataset of a file:
// the release of the nir Python package whose format this package follows
// (IF with v_reset, Conv2d with input_shape, AvgPool2d).
const Version = "1.0.7"

// The NIR node types this package writes (the "type" dataset of a node).
const (
	TypeInput      = "Input"
	TypeOutput     = "Output"
	TypeConv2d     = "Conv2d"
	TypeAffine     = "Affine"
	TypeAvgPool2d  = "AvgPool2d"
	TypeSumPool2d  = "SumPool2d"
	TypeFlatten    = "Flatten"
	TypeScale      = "Scale"
	TypeIF         = "IF"
	TypeIntegrator = "I"
)

// Graph is a NIR graph: named computational nodes and the edges between
// them. A node's input is the sum of the outputs of all nodes with an edge
// to it. Nodes are listed in topological order when built by FromModel.
type Graph struct {
	// Version is the NIR version written to the file and the meaning of
	// its IF nodes: before 1.0.6 they reset by subtraction and have no
	// v_reset; "" means Version.
	Version  string
	Nodes    []Node
	Edges    []Edge
	Metadata map[string]string // graph metadata (written as strings); may be nil
}

// Edge connects the output of node Src to the input of node Dst.
type Edge struct{ Src, Dst string }

// Node is one NIR node: its unique name, its NIR type (TypeConv2d, ...)
// and its parameters, named as in the nir Python package.
type Node struct {
	Name   string
	Type   string
	Params []Param
}

// Param is a numeric parameter of a node: float32 values (F32) or int64
// values (I64), exactly one of them set, in row-major order with the given
// Shape; a nil Shape is a scalar.
type Param struct {
	Name  string
	Shape []int
	F32   []float32
	I64   []int64
}

// Node returns the node called name, or nil.
func (g *Graph) Node(name string) *Node {
	for i := range g.Nodes {
		if g.Nodes[i].Name == name {
			return &g.Nodes[i]
		}
	}
	return nil
}

// Param returns the parameter called name, or nil.
func (n *Node) Param(name string) *Param {
	for i := range n.Params {
		if n.Params[i].Name == name {
			return &n.Params[i]
		}
	}
	return nil
}

// Sources returns the names of the nodes with an edge to dst, in edge order.
func (g *Graph) Sources(dst string) []string {
	var s []string
	for _, e := range g.Edges {
		if e.Dst == dst {
			s = append(s, e.Src)
		}
	}
	return s
}

// Validate checks that node names are unique and usable as HDF5 link
// names, that every edge joins two nodes, that no edge is repeated and
// that every parameter's data fill its shape, and the version if set.
func (g *Graph) Validate() error {
	if g.Version != "" {
		if _, err := parseVersion(g.Version); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for _, n := range g.Nodes {
		if n.Name == "" || n.Name == "." || n.Name == ".." || strings.ContainsAny(n.Name, "/\x00") {
			return fmt.Errorf("nir: invalid node name %q", n.Name)
		}
		if seen[n.Name] {
			return fmt.Errorf("nir: duplicate node name %q", n.Name)
		}
		seen[n.Name] = true
		if n.Type == "" {
			return fmt.Errorf("nir: node %q has no type", n.Name)
		}
		pseen := map[string]bool{"type": true}
		for _, p := range n.Params {
			if pseen[p.Name] {
				return fmt.Errorf("nir: node %q: duplicate or reserved parameter %q", n.Name, p.Name)
			}
			pseen[p.Name] = true
			if err := p.check(); err != nil {
				return fmt.Errorf("nir: node %q: %w", n.Name, err)
			}
		}
	}
	eseen := map[Edge]bool{}
	for _, e := range g.Edges {
		if !seen[e.Src] || !seen[e.Dst] {
			return fmt.Errorf("nir: edge %s -> %s refers to a missing node", e.Src, e.Dst)
		}
		if eseen[e] {
			return fmt.Errorf("nir: edge %s -> %s repeated", e.Src, e.Dst)
		}
		eseen[e] = true
	}
	return nil
}

func (p *Param) check() error {
	n := 1
	for _, d := range p.Shape {
		if d < 1 {
			return fmt.Errorf("parameter %q: shape %v", p.Name, p.Shape)
		}
		n *= d
	}
	switch {
	case (p.F32 == nil) == (p.I64 == nil):
		return fmt.Errorf("parameter %q: want exactly one of F32 and I64", p.Name)
	case len(p.F32)+len(p.I64) != n:
		return fmt.Errorf("parameter %q: %d values for shape %v", p.Name, len(p.F32)+len(p.I64), p.Shape)
	}
	return nil
}

// WriteTo writes g as a NIR HDF5 file, the layout of nir.write (nir
// Python package, serialization.py): a "version" string and a group
// "node" holding the graph — "type" = "NIRGraph", a group "nodes" with one
// group per node ("type" string plus one dataset per parameter), "edges"
// as an E×2 array of variable-length strings and, when g.Metadata is not
// empty, a group "metadata" of strings. It validates g first.
func (g *Graph) WriteTo(w io.Writer) (int64, error) {
	f, err := g.hdf5()
	if err != nil {
		return 0, err
	}
	return f.WriteTo(w)
}

// Save writes g to path atomically (see WriteTo).
func (g *Graph) Save(path string) error {
	f, err := g.hdf5()
	if err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := f.WriteTo(w)
		return err
	})
}

func (g *Graph) hdf5() (*hdf5.File, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if len(g.Edges) == 0 {
		return nil, fmt.Errorf("nir: graph has no edges")
	}
	f := &hdf5.File{}
	root := f.Root()
	version := g.Version
	if version == "" {
		version = Version
	}
	if err := root.String("version", version); err != nil {
		return nil, err
	}
	top, err := root.Group("node")
	if err != nil {
		return nil, err
	}
	if err := top.String("type", "NIRGraph"); err != nil {
		return nil, err
	}
	nodes, err := top.Group("nodes")
	if err != nil {
		return nil, err
	}
	for _, n := range g.Nodes {
		ng, err := nodes.Group(n.Name)
		if err != nil {
			return nil, err
		}
		if err := ng.String("type", n.Type); err != nil {
			return nil, err
		}
		for _, p := range n.Params {
			if p.F32 != nil {
				err = ng.Float32(p.Name, p.Shape, p.F32)
			} else {
				err = ng.Int64(p.Name, p.Shape, p.I64)
			}
			if err != nil {
				return nil, fmt.Errorf("nir: node %q: %w", n.Name, err)
			}
		}
	}
	edges := make([]string, 0, 2*len(g.Edges))
	for _, e := range g.Edges {
		edges = append(edges, e.Src, e.Dst)
	}
	if err := top.Strings("edges", []int{len(g.Edges), 2}, edges); err != nil {
		return nil, err
	}
	if len(g.Metadata) > 0 {
		md, err := top.Group("metadata")
		if err != nil {
			return nil, err
		}
		for _, k := range slices.Sorted(maps.Keys(g.Metadata)) {
			if err := md.String(k, g.Metadata[k]); err != nil {
				return nil, fmt.Errorf("nir: metadata: %w", err)
			}
		}
	}
	return f, nil
}
