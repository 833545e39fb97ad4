package nir

import (
	"fmt"
	"maps"
	"slices"

	"github.com/ann2snn/ann2snn/internal/kernels"
	"github.com/ann2snn/ann2snn/snnrt"
)

// Semantics returns the model that m's NIR graph describes, as an
// snnrt.Model: ToModel(FromModel(m, Options{})). Every IF layer resets to
// zero and starts from 0, spikes are worth 1 (θ is folded into the
// weights behind and the membrane is normalised to threshold 1), and the
// weights are the exported ones. Simulating it with snnrt.Run next to m
// measures what the NIR export costs in accuracy. The losses are those of
// FromModel.
func Semantics(m *snnrt.Model) (*snnrt.Model, []Loss, error) {
	g, losses, err := FromModel(m, Options{})
	if err != nil {
		return nil, nil, err
	}
	s, err := ToModel(g)
	return s, losses, err
}

// importer holds the state of ToModel.
type importer struct {
	g      *Graph
	m      *snnrt.Model
	layer  map[string]int // node name → layer index of its output (or InputIndex)
	outDeg map[string]int
	output int  // layer read out by the Output node
	legacy bool // NIR < 1.0.6: IF resets by subtraction
}

// ToModel builds an snnrt.Model computing what g describes, for the
// subset of NIR that FromModel writes: one Input and one Output node,
// Conv2d, Affine, AvgPool2d (padding counted in the divisor), SumPool2d,
// Flatten
// (whole tensor), Scale and I (in front of Output) with per-channel
// values, and IF with v_reset = 0 and r/v_threshold constant per channel.
// A node with several incoming edges gets an Add layer. An IF node
// becomes an snnrt IF with θ = 1 that resets to zero, its input scaled by
// r/v_threshold (folded into the Conv or Linear before it when that feeds
// only this node, else a depthwise 1×1 convolution), so its spikes are
// worth 1 as in NIR. The graph's metadata is copied, MetaDT included.
// Other graphs give *UnsupportedError (Layer −1) or an
// error naming the node.
func ToModel(g *Graph) (*snnrt.Model, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	order, err := topoOrder(g)
	if err != nil {
		return nil, err
	}
	im := &importer{g: g, m: &snnrt.Model{}, layer: map[string]int{}, outDeg: map[string]int{}}
	if g.Version != "" {
		im.legacy, _ = parseVersion(g.Version) // checked by Validate
	}
	if len(g.Metadata) > 0 {
		im.m.Metadata = maps.Clone(g.Metadata)
	}
	for _, e := range g.Edges {
		im.outDeg[e.Src]++
	}
	inputs, outputs := 0, 0
	for _, n := range order {
		switch n.Type {
		case TypeInput:
			inputs++
		case TypeOutput:
			outputs++
		}
		if err := im.node(n); err != nil {
			return nil, fmt.Errorf("nir: node %q (%s): %w", n.Name, n.Type, err)
		}
	}
	if inputs != 1 || outputs != 1 {
		return nil, &UnsupportedError{Layer: -1, Feature: fmt.Sprintf("%d Input and %d Output nodes, want 1 each", inputs, outputs)}
	}
	im.m.Output = im.output
	if err := im.m.Validate(); err != nil {
		return nil, err
	}
	return im.m, nil
}

// topoOrder returns the nodes in a topological order, ties broken by
// their order in g.Nodes.
func topoOrder(g *Graph) ([]*Node, error) {
	indeg := map[string]int{}
	for _, e := range g.Edges {
		indeg[e.Dst]++
	}
	var order []*Node
	done := map[string]bool{}
	for len(order) < len(g.Nodes) {
		progress := false
		for i := range g.Nodes {
			n := &g.Nodes[i]
			if done[n.Name] || indeg[n.Name] > 0 {
				continue
			}
			done[n.Name] = true
			order = append(order, n)
			progress = true
			for _, e := range g.Edges {
				if e.Src == n.Name {
					indeg[e.Dst]--
				}
			}
		}
		if !progress {
			return nil, &UnsupportedError{Layer: -1, Feature: "recurrent graph (a cycle of edges)"}
		}
	}
	return order, nil
}

func (im *importer) append(l snnrt.Layer) (int, error) { return im.m.Append(l) }

// input returns the layer index of the sum of n's sources, appending an
// Add layer when there are several.
func (im *importer) input(n *Node) (int, error) {
	srcs := im.g.Sources(n.Name)
	if len(srcs) == 0 {
		return 0, fmt.Errorf("no incoming edge")
	}
	idx := make([]int, len(srcs))
	for i, s := range srcs {
		idx[i] = im.layer[s]
	}
	if len(idx) == 1 {
		return idx[0], nil
	}
	return im.append(snnrt.Layer{Name: n.Name + "_sum", Kind: snnrt.KindAdd, Inputs: idx})
}

func (im *importer) shapeOf(i int) snnrt.Shape {
	if i == snnrt.InputIndex {
		return im.m.Input
	}
	return im.m.Layers[i].Shape
}

func (im *importer) node(n *Node) error {
	if n.Type == TypeInput {
		s, err := nirShape(n, "shape")
		if err != nil {
			return err
		}
		if len(im.g.Sources(n.Name)) > 0 {
			return fmt.Errorf("input node with incoming edges")
		}
		im.m.Input = s
		im.layer[n.Name] = snnrt.InputIndex
		return nil
	}
	in, err := im.input(n)
	if err != nil {
		return err
	}
	s := im.shapeOf(in)
	var idx int
	switch n.Type {
	case TypeConv2d:
		idx, err = im.conv(n, in, s)
	case TypeAffine:
		w, err1 := f32(n, "weight", 2)
		b, err2 := f32(n, "bias", 1)
		if err = firstErr(err1, err2); err != nil {
			return err
		}
		idx, err = im.append(snnrt.Layer{Name: n.Name, Kind: snnrt.KindLinear, Inputs: []int{in},
			W: slices.Clone(w.F32), B: slices.Clone(b.F32)})
	case TypeAvgPool2d, TypeSumPool2d:
		k, err1 := i64(n, "kernel_size", 2)
		st, err2 := i64(n, "stride", 2)
		p, err3 := i64(n, "padding", 2)
		if err = firstErr(err1, err2, err3); err != nil {
			return err
		}
		idx, err = im.append(snnrt.Layer{Name: n.Name, Kind: snnrt.KindAvgPool, Inputs: []int{in},
			Pool: snnrt.PoolGeom{C: s.C, H: s.H, W: s.W, KH: k[0], KW: k[1], StrideH: st[0], StrideW: st[1],
				PadT: p[0], PadB: p[0], PadL: p[1], PadR: p[1], CountIncludePad: true}})
		if err == nil && n.Type == TypeSumPool2d {
			// A sum is kh·kw times the average that counts padding.
			idx, err = im.scale(n.Name+"_sum", idx, im.m.Layers[idx].Shape, fill(s.C, float32(k[0]*k[1])))
		}
	case TypeFlatten:
		sd, err1 := i64(n, "start_dim", 0)
		ed, err2 := i64(n, "end_dim", 0)
		if err = firstErr(err1, err2); err != nil {
			return err
		}
		if sd[0] != 0 || (ed[0] != -1 && ed[0] != 2) {
			return &UnsupportedError{Layer: -1, Feature: fmt.Sprintf("partial flatten (start_dim %d, end_dim %d)", sd[0], ed[0])}
		}
		idx, err = im.append(snnrt.Layer{Name: n.Name, Kind: snnrt.KindFlatten, Inputs: []int{in}})
	case TypeScale:
		var sc []float32
		if sc, err = channelValues(n, "scale", s); err != nil {
			return err
		}
		idx, err = im.scale(n.Name, in, s, sc)
	case TypeIF:
		idx, err = im.ifNode(n, in, s)
	case TypeIntegrator:
		r, err1 := channelValues(n, "r", s)
		if err1 != nil {
			return err1
		}
		if slices.ContainsFunc(r, func(v float32) bool { return v != 1 }) {
			return &UnsupportedError{Layer: -1, Feature: "integrator with r ≠ 1"}
		}
		for _, e := range im.g.Edges {
			if e.Src == n.Name && im.g.Node(e.Dst).Type != TypeOutput {
				return &UnsupportedError{Layer: -1, Feature: "integrator that does not feed the Output node"}
			}
		}
		idx = in // snnrt integrates its read-out layer
	case TypeOutput:
		if in == snnrt.InputIndex {
			return &UnsupportedError{Layer: -1, Feature: "output wired to the input"}
		}
		im.output, idx = in, in
	default:
		return &UnsupportedError{Layer: -1, Feature: "node type " + n.Type}
	}
	if err != nil {
		return err
	}
	im.layer[n.Name] = idx
	return nil
}

func (im *importer) conv(n *Node, in int, s snnrt.Shape) (int, error) {
	w, err1 := f32(n, "weight", 4)
	b, err2 := f32(n, "bias", 1)
	st, err3 := i64(n, "stride", 2)
	p, err4 := i64(n, "padding", 2)
	d, err5 := i64(n, "dilation", 2)
	grp, err6 := i64(n, "groups", 0)
	if err := firstErr(err1, err2, err3, err4, err5, err6); err != nil {
		return 0, err
	}
	if is := n.Param("input_shape"); is != nil && !slices.Equal(is.I64, []int64{int64(s.H), int64(s.W)}) {
		return 0, fmt.Errorf("input_shape %v, input is %v", is.I64, s)
	}
	return im.append(snnrt.Layer{Name: n.Name, Kind: snnrt.KindConv, Inputs: []int{in},
		Conv: kernels.ConvGeom{C: s.C, H: s.H, W: s.W, K: w.Shape[0], KH: w.Shape[2], KW: w.Shape[3],
			StrideH: st[0], StrideW: st[1], PadT: p[0], PadB: p[0], PadL: p[1], PadR: p[1],
			DilH: d[0], DilW: d[1], Group: grp[0]},
		W: slices.Clone(w.F32), B: slices.Clone(b.F32)})
}

// scale appends a depthwise 1×1 convolution multiplying channel c of
// layer in (shape s) by sc[c], or returns in when every sc[c] is 1.
func (im *importer) scale(name string, in int, s snnrt.Shape, sc []float32) (int, error) {
	if !slices.ContainsFunc(sc, func(v float32) bool { return v != 1 }) {
		return in, nil
	}
	return im.append(snnrt.Layer{Name: name, Kind: snnrt.KindConv, Inputs: []int{in},
		Conv: kernels.ConvGeom{C: s.C, H: s.H, W: s.W, K: s.C, KH: 1, KW: 1, Group: s.C},
		W:    slices.Clone(sc)})
}

// ifNode appends an IF layer with θ = 1, reset to zero, fed by layer in
// scaled by r/v_threshold per channel.
func (im *importer) ifNode(n *Node, in int, s snnrt.Shape) (int, error) {
	r, err1 := channelValues(n, "r", s)
	th, err2 := channelValues(n, "v_threshold", s)
	if err := firstErr(err1, err2); err != nil {
		return 0, err
	}
	reset := snnrt.ResetToZero
	if im.legacy {
		// NIR < 1.0.6: IF resets by subtraction and has no v_reset.
		if n.Param("v_reset") != nil {
			return 0, &UnsupportedError{Layer: -1, Feature: "IF with v_reset in a NIR " + im.g.Version + " graph (v_reset exists from 1.0.6 on)"}
		}
		reset = snnrt.ResetBySubtraction
	} else {
		vr, err := channelValues(n, "v_reset", s)
		if err != nil {
			return 0, err
		}
		if slices.ContainsFunc(vr, func(v float32) bool { return v != 0 }) {
			return 0, &UnsupportedError{Layer: -1, Feature: "IF with v_reset ≠ 0"}
		}
	}
	f := make([]float32, s.C)
	for c := range f {
		if !(th[c] > 0) {
			return 0, fmt.Errorf("v_threshold %v, want > 0", th[c])
		}
		f[c] = r[c] / th[c]
	}
	if srcs := im.g.Sources(n.Name); len(srcs) == 1 && im.outDeg[srcs[0]] == 1 && in >= 0 {
		if l := &im.m.Layers[in]; l.Kind == snnrt.KindConv || l.Kind == snnrt.KindLinear {
			// Fold r/θ into the synaptic layer that feeds only this node:
			// output channel c of Conv ([K,...]) and row c of Linear ([Out,In]).
			per := len(l.W) / l.Shape.C
			for c, v := range f {
				for j := range per {
					l.W[c*per+j] *= v
				}
				if l.B != nil {
					l.B[c] *= v
				}
			}
			return im.append(snnrt.Layer{Name: n.Name, Kind: snnrt.KindIF, Inputs: []int{in},
				IF: snnrt.IF{Theta: []float32{1}, Reset: reset}})
		}
	}
	src, err := im.scale(n.Name+"_in", in, s, f)
	if err != nil {
		return 0, err
	}
	return im.append(snnrt.Layer{Name: n.Name, Kind: snnrt.KindIF, Inputs: []int{src},
		IF: snnrt.IF{Theta: []float32{1}, Reset: reset}})
}

// nirShape reads an integer shape parameter ([C,H,W] or [N]) as a Shape.
func nirShape(n *Node, name string) (snnrt.Shape, error) {
	p := n.Param(name)
	if p == nil || p.I64 == nil {
		return snnrt.Shape{}, fmt.Errorf("missing integer parameter %q", name)
	}
	switch v := p.I64; len(v) {
	case 1:
		return snnrt.Shape{C: int(v[0]), H: 1, W: 1}, nil
	case 3:
		return snnrt.Shape{C: int(v[0]), H: int(v[1]), W: int(v[2])}, nil
	}
	return snnrt.Shape{}, &UnsupportedError{Layer: -1, Feature: fmt.Sprintf("tensor shape %v (want [C,H,W] or [N])", p.I64)}
}

// f32 returns float parameter name, checking its rank.
func f32(n *Node, name string, rank int) (*Param, error) {
	p := n.Param(name)
	if p == nil || p.F32 == nil || len(p.Shape) != rank {
		return nil, fmt.Errorf("missing float parameter %q of rank %d", name, rank)
	}
	return p, nil
}

// i64 returns the values of integer parameter name with rank 1 and length
// n, or a scalar (n == 0), as ints.
func i64(nd *Node, name string, n int) ([]int, error) {
	p := nd.Param(name)
	if p == nil || p.I64 == nil || (n == 0 && len(p.Shape) != 0) || (n > 0 && !slices.Equal(p.Shape, []int{n})) {
		return nil, fmt.Errorf("missing integer parameter %q of length %d", name, max(n, 1))
	}
	v := make([]int, len(p.I64))
	for i, x := range p.I64 {
		v[i] = int(x)
	}
	return v, nil
}

// channelValues reads float parameter name, which must have one value per
// element of a tensor of shape s that is constant within each channel, and
// returns the per-channel values.
func channelValues(n *Node, name string, s snnrt.Shape) ([]float32, error) {
	p := n.Param(name)
	if p == nil || p.F32 == nil {
		return nil, fmt.Errorf("missing float parameter %q", name)
	}
	if len(p.F32) != s.Len() {
		return nil, fmt.Errorf("parameter %q has %d values, input has %d elements", name, len(p.F32), s.Len())
	}
	hw := s.H * s.W
	v := make([]float32, s.C)
	for c := range v {
		v[c] = p.F32[c*hw]
		for _, x := range p.F32[c*hw : (c+1)*hw] {
			if x != v[c] {
				return nil, &UnsupportedError{Layer: -1, Feature: fmt.Sprintf("parameter %q varies within a channel", name)}
			}
		}
	}
	return v, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
