package nir

import (
	"fmt"
	"maps"
	"slices"

	"github.com/ann2snn/ann2snn/snnrt"
)

// Options controls FromModel. The zero value exports what NIR can express
// and reports the rest as losses.
type Options struct {
	// Strict makes FromModel fail with *LossError instead of exporting a
	// graph whose semantics differ from the model's (reset by
	// subtraction, non-zero V0).
	Strict bool
	// Integrate puts an I node (integrator, r = 1) in front of the Output
	// node, so that the graph's output is the running sum of the read-out
	// layer, the quantity snnrt reports (Result.Logits). By default the
	// Output node receives the read-out layer's value at every step and
	// the consumer integrates.
	Integrate bool
}

// tensor is a layer output as the NIR graph carries it: the sum of the
// outputs of nodes srcs (several after an Add), with NIR shape shape
// ([C,H,W] or [N]). The snnrt value is scale[c]·(NIR value) for channel c
// of the snnrt shape snn; scale == nil means 1 (spikes are 1 in NIR and θ
// in snnrt, so IF outputs carry scale θ until a synaptic layer absorbs
// it).
type tensor struct {
	srcs  []string
	shape []int
	scale []float32
	snn   snnrt.Shape
}

type builder struct {
	m      *snnrt.Model
	g      *Graph
	in     tensor
	out    []tensor
	losses []Loss
}

// FromModel translates m into a NIR graph. Spikes, 1 in NIR, carry θ in
// snnrt: FromModel folds θ (and any product of θ through pooling and
// flattening) into the weights of the next Conv2d or Affine node, into r
// of the next IF node, or into a Scale node where neither is possible (an
// Add of inputs with different scales, the read-out). Add layers become
// several edges into the same node. The losses list the IF layers whose
// semantics NIR cannot carry (see LossKind); with opt.Strict they are an
// error. Layers NIR cannot express give *UnsupportedError: MaxPool,
// Concat, burst and signed neurons, asymmetric padding, average pooling
// that excludes padding, pooling and convolution after a flatten. m is not
// modified; the graph shares no memory with it.
func FromModel(m *snnrt.Model, opt Options) (*Graph, []Loss, error) {
	if err := m.Validate(); err != nil {
		return nil, nil, err
	}
	b := &builder{m: m, g: &Graph{}, out: make([]tensor, len(m.Layers))}
	if len(m.Metadata) > 0 {
		b.g.Metadata = maps.Clone(m.Metadata)
	}
	s := m.Input
	b.g.Nodes = append(b.g.Nodes, Node{Name: "input", Type: TypeInput,
		Params: []Param{ints("shape", s.C, s.H, s.W)}})
	b.in = tensor{srcs: []string{"input"}, shape: []int{s.C, s.H, s.W}, snn: s}
	for i := range m.Layers {
		t, err := b.layer(i)
		if err != nil {
			return nil, nil, err
		}
		b.out[i] = t
	}
	r := b.tensorOf(m.Output)
	if r.scale != nil {
		r = b.scaleNode("output_scale", r)
	}
	if opt.Integrate {
		b.add(Node{Name: "integrator", Type: TypeIntegrator,
			Params: []Param{floats("r", r.shape, fill(prod(r.shape), 1))}}, r.srcs)
		r.srcs = []string{"integrator"}
	}
	b.add(Node{Name: "output", Type: TypeOutput, Params: []Param{ints("shape", r.shape...)}}, r.srcs)
	if opt.Strict && len(b.losses) > 0 {
		return nil, b.losses, &LossError{Losses: b.losses}
	}
	if err := b.g.Validate(); err != nil {
		return nil, nil, err
	}
	return b.g, b.losses, nil
}

func (b *builder) tensorOf(i int) tensor {
	if i == snnrt.InputIndex {
		return b.in
	}
	return b.out[i]
}

// add appends node n with an edge from every source.
func (b *builder) add(n Node, srcs []string) {
	b.g.Nodes = append(b.g.Nodes, n)
	for _, s := range srcs {
		b.g.Edges = append(b.g.Edges, Edge{s, n.Name})
	}
}

// scaleNode inserts a Scale node multiplying t by its scale and returns
// the unscaled tensor.
func (b *builder) scaleNode(name string, t tensor) tensor {
	b.add(Node{Name: name, Type: TypeScale, Params: []Param{floats("scale", t.shape, perChannel(t.scale, t.snn))}}, t.srcs)
	return tensor{srcs: []string{name}, shape: t.shape, snn: t.snn}
}

func (b *builder) layer(i int) (tensor, error) {
	l := &b.m.Layers[i]
	name := fmt.Sprintf("%v%d", l.Kind, i)
	unsupported := func(format string, a ...any) (tensor, error) {
		return tensor{}, &UnsupportedError{Layer: i, Name: l.Name, Kind: l.Kind, Feature: fmt.Sprintf(format, a...)}
	}
	x := b.tensorOf(l.Inputs[0])
	spatial := func() bool { return len(x.shape) == 3 }
	switch l.Kind {
	case snnrt.KindConv:
		g := l.Conv
		if !spatial() {
			return unsupported("convolution of a flattened tensor (NIR has no unflatten)")
		}
		if g.PadT != g.PadB || g.PadL != g.PadR {
			return unsupported("asymmetric padding %d,%d,%d,%d (NIR Conv2d pads symmetrically)", g.PadT, g.PadL, g.PadB, g.PadR)
		}
		grp := one(g.Group)
		cg, kg, kk := g.C/grp, g.K/grp, g.KH*g.KW
		w := slices.Clone(l.W)
		if x.scale != nil {
			for k := 0; k < g.K; k++ {
				for c := 0; c < cg; c++ {
					s := x.scale[(k/kg)*cg+c]
					for j := range kk {
						w[(k*cg+c)*kk+j] *= s
					}
				}
			}
		}
		b.add(Node{Name: name, Type: TypeConv2d, Params: []Param{
			floats("weight", []int{g.K, cg, g.KH, g.KW}, w),
			floats("bias", []int{g.K}, bias(l.B, g.K)),
			ints("stride", one(g.StrideH), one(g.StrideW)),
			ints("padding", g.PadT, g.PadL),
			ints("dilation", one(g.DilH), one(g.DilW)),
			scalar("groups", grp),
			ints("input_shape", g.H, g.W),
		}}, x.srcs)
		return tensor{srcs: []string{name}, shape: []int{l.Shape.C, l.Shape.H, l.Shape.W}, snn: l.Shape}, nil

	case snnrt.KindLinear:
		in := x.snn.Len()
		out := l.Shape.C
		if spatial() {
			fl := name + "_flatten"
			b.add(flattenNode(fl, x.shape), x.srcs)
			x.srcs, x.shape = []string{fl}, []int{in}
		}
		w := slices.Clone(l.W)
		if x.scale != nil {
			hw := x.snn.H * x.snn.W
			for o := 0; o < out; o++ {
				for j := 0; j < in; j++ {
					w[o*in+j] *= x.scale[j/hw]
				}
			}
		}
		b.add(Node{Name: name, Type: TypeAffine, Params: []Param{
			floats("weight", []int{out, in}, w),
			floats("bias", []int{out}, bias(l.B, out)),
		}}, x.srcs)
		return tensor{srcs: []string{name}, shape: []int{out}, snn: l.Shape}, nil

	case snnrt.KindAvgPool, snnrt.KindGlobalAvgPool:
		if !spatial() {
			return unsupported("pooling of a flattened tensor")
		}
		p := l.Pool
		if l.Kind == snnrt.KindGlobalAvgPool {
			p = snnrt.PoolGeom{C: x.snn.C, H: x.snn.H, W: x.snn.W, KH: x.snn.H, KW: x.snn.W, StrideH: x.snn.H, StrideW: x.snn.W}
		}
		if err := exactAvgPool(p); err != "" {
			return unsupported("%s", err)
		}
		b.add(Node{Name: name, Type: TypeAvgPool2d, Params: []Param{
			ints("kernel_size", p.KH, p.KW),
			ints("stride", one(p.StrideH), one(p.StrideW)),
			ints("padding", p.PadT, p.PadL),
		}}, x.srcs)
		return tensor{srcs: []string{name}, shape: []int{l.Shape.C, l.Shape.H, l.Shape.W}, scale: x.scale, snn: l.Shape}, nil

	case snnrt.KindFlatten:
		if !spatial() {
			x.snn = l.Shape
			return x, nil // already flat: nothing to do
		}
		b.add(flattenNode(name, x.shape), x.srcs)
		var scale []float32
		if x.scale != nil {
			scale = perChannel(x.scale, x.snn)
		}
		return tensor{srcs: []string{name}, shape: []int{l.Shape.C}, scale: scale, snn: l.Shape}, nil

	case snnrt.KindAdd:
		in := make([]tensor, len(l.Inputs))
		same := true
		for j, src := range l.Inputs {
			in[j] = b.tensorOf(src)
			if !slices.Equal(in[j].shape, in[0].shape) {
				return unsupported("inputs of NIR shapes %v and %v", in[0].shape, in[j].shape)
			}
			same = same && slices.Equal(in[j].scale, in[0].scale)
		}
		t := tensor{shape: in[0].shape, snn: l.Shape}
		if same {
			t.scale = in[0].scale
		}
		for j, u := range in {
			if !same && u.scale != nil {
				u = b.scaleNode(fmt.Sprintf("%s_scale%d", name, j), u)
			}
			for _, s := range u.srcs {
				if slices.Contains(t.srcs, s) {
					return unsupported("node %s would be summed twice (NIR edges are a set)", s)
				}
				t.srcs = append(t.srcs, s)
			}
		}
		return t, nil

	case snnrt.KindIF:
		n := l.IF
		switch {
		case n.MaxSpikes > 1:
			return unsupported("burst neurons (MaxSpikes %d): NIR spikes are binary", n.MaxSpikes)
		case n.Signed:
			return unsupported("signed (negative) spikes")
		}
		if n.Reset == snnrt.ResetBySubtraction {
			b.losses = append(b.losses, Loss{Layer: i, Name: l.Name, Kind: LossReset})
		}
		if slices.ContainsFunc(n.V0, func(v float32) bool { return v != 0 }) {
			b.losses = append(b.losses, Loss{Layer: i, Name: l.Name, Kind: LossV0})
		}
		r := fill(x.snn.C, 1)
		if x.scale != nil {
			r = x.scale
		}
		theta := make([]float32, x.snn.C)
		for c := range theta {
			theta[c] = n.Theta[min(c, len(n.Theta)-1)]
		}
		b.add(Node{Name: name, Type: TypeIF, Params: []Param{
			floats("r", x.shape, perChannel(r, x.snn)),
			floats("v_threshold", x.shape, perChannel(theta, x.snn)),
			floats("v_reset", x.shape, fill(x.snn.Len(), 0)),
		}}, x.srcs)
		return tensor{srcs: []string{name}, shape: x.shape, scale: theta, snn: l.Shape}, nil

	case snnrt.KindMaxPool:
		return unsupported("max pooling (NIR 1.0 has no max-pooling node)")
	case snnrt.KindConcat:
		return unsupported("concatenation (NIR 1.0 has no concatenation node)")
	}
	return unsupported("unknown layer kind")
}

// exactAvgPool returns "" if NIR's AvgPool2d (PyTorch semantics: symmetric
// padding counted in the divisor, floor mode) computes what p computes,
// else the reason it does not.
func exactAvgPool(p snnrt.PoolGeom) string {
	if p.PadT != p.PadB || p.PadL != p.PadR {
		return fmt.Sprintf("asymmetric pooling padding %d,%d,%d,%d", p.PadT, p.PadL, p.PadB, p.PadR)
	}
	if (p.PadT > 0 || p.PadL > 0) && !p.CountIncludePad {
		return "average pooling that excludes padding from the divisor"
	}
	if p.CeilMode {
		f := p
		f.CeilMode = false
		if f.OutH() != p.OutH() || f.OutW() != p.OutW() {
			return "ceil-mode pooling with partial windows"
		}
	}
	return ""
}

func flattenNode(name string, in []int) Node {
	return Node{Name: name, Type: TypeFlatten, Params: []Param{
		scalar("start_dim", 0),
		scalar("end_dim", -1),
		ints("input_type", in...),
	}}
}

// perChannel expands per-channel values v (len s.C) to one per element
// of a C×H×W tensor.
func perChannel(v []float32, s snnrt.Shape) []float32 {
	hw := s.H * s.W
	out := make([]float32, 0, s.Len())
	for c := 0; c < s.C; c++ {
		for range hw {
			out = append(out, v[c])
		}
	}
	return out
}

func bias(b []float32, n int) []float32 {
	if b == nil {
		return make([]float32, n)
	}
	return slices.Clone(b)
}

func fill(n int, v float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func floats(name string, shape []int, v []float32) Param {
	return Param{Name: name, Shape: slices.Clone(shape), F32: v}
}

func ints(name string, v ...int) Param {
	p := Param{Name: name, Shape: []int{len(v)}, I64: make([]int64, len(v))}
	for i, x := range v {
		p.I64[i] = int64(x)
	}
	return p
}

func scalar(name string, v int) Param { return Param{Name: name, I64: []int64{int64(v)}} }

func one(v int) int {
	if v <= 0 {
		return 1
	}
	return v
}
