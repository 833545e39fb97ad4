package nir

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ann2snn/ann2snn/snnrt"
)

// Options controls FromModel. The zero value exports what NIR can express
// and reports the rest as losses.
type Options struct {
	// Strict makes FromModel fail with *LossError instead of exporting a
	// graph whose semantics differ from the model's (reset by
	// subtraction, or reset to zero for NIRVersion before 1.0.6;
	// non-zero V0).
	Strict bool
	// Integrate puts an I node (integrator, r = 1) in front of the Output
	// node, so that the graph's output is the running sum of the read-out
	// layer, the quantity snnrt reports (Result.Logits). By default the
	// Output node receives the read-out layer's value at every step and
	// the consumer integrates. No importer known to us maps the I node
	// (sinabs drops it silently); see docs/nir.md.
	Integrate bool
	// SumPool writes average pooling as SumPool2d, with the 1/(kh·kw)
	// folded into the weights of the next Conv2d or Affine node (sinabs
	// maps SumPool2d but not AvgPool2d). Pooling whose output feeds
	// anything but one convolution or linear layer (through flattening at
	// most) is refused with *UnsupportedError.
	SumPool bool
	// NIRVersion is the NIR version the file claims and whose IF it
	// targets: "" means Version. Versions before 1.0.6 have no v_reset
	// and their IF resets by subtraction; from 1.0.6 on, IF resets to
	// v_reset (written as 0). The losses follow the chosen meaning.
	NIRVersion string
	// Burst exports unsigned burst neurons (MaxSpikes > 1) as IF nodes
	// when NIRVersion is before 1.0.6, for sinabs, whose IF (IAFSqueeze
	// with MultiSpike, reset by subtraction) fires ⌊v/θ⌋ spikes per step
	// with no cap and keeps v ≥ −θ. Each such layer is reported as
	// LossBurst: NIR's IF fires one spike per step, so other simulators
	// (and Semantics) run it as a one-spike neuron. Refused otherwise.
	Burst bool
}

// MetaDT is the graph metadata key FromModel writes with value "1": one
// simulation step of the graph is dt = 1 (IF integrates v += r·I once
// per step, with r = 1). Simulators that take a dt (SpikingJelly, norse)
// must be given dt = 1.
const MetaDT = "dt"

// part is one summand of a tensor: the output of NIR node src, whose
// snnrt value is scale[c]·(NIR value) for channel c of the snnrt shape
// (scale == nil means 1). fold names a Conv2d or Affine node whose output
// is this part and which feeds nothing else, so its output channels may
// be rescaled; "" when there is none.
type part struct {
	src   string
	scale []float32
	fold  string
}

// tensor is a layer output as the NIR graph carries it: the sum of its
// parts (several after an Add), with NIR shape shape ([C,H,W] or [N]) and
// snnrt shape snn. Spikes are 1 in NIR and θ in snnrt, so IF outputs
// carry scale θ until a synaptic layer absorbs it. sumPool ≥ 0 is the
// index of a SumPool2d layer whose 1/(kh·kw) is still in the scale and
// must be absorbed by the next Conv2d or Affine node (−1: none).
type tensor struct {
	parts   []part
	shape   []int
	snn     snnrt.Shape
	sumPool int
}

// srcs returns the node names of t's parts.
func (t tensor) srcs() []string {
	s := make([]string, len(t.parts))
	for i, p := range t.parts {
		s[i] = p.src
	}
	return s
}

type builder struct {
	m         *snnrt.Model
	opt       Options
	legacy    bool // NIR < 1.0.6: IF resets by subtraction, no v_reset
	g         *Graph
	in        tensor
	out       []tensor
	consumers []int // per layer: the number of layers (and the read-out) reading it
	losses    []Loss
}

// CheckVersion returns an error unless v is a NIR version FromModel can
// write (Options.NIRVersion): "X.Y.Z" with X = 1.
func CheckVersion(v string) error {
	_, err := parseVersion(v)
	return err
}

// parseVersion checks a NIR version "X.Y.Z" and reports whether it is
// older than 1.0.6 (IF without v_reset, reset by subtraction).
func parseVersion(v string) (legacy bool, err error) {
	f := strings.Split(v, ".")
	if len(f) != 3 {
		return false, fmt.Errorf("nir: version %q: want X.Y.Z (e.g. 1.0.5, %s)", v, Version)
	}
	var n [3]int
	for i, s := range f {
		if n[i], err = strconv.Atoi(s); err != nil || n[i] < 0 {
			return false, fmt.Errorf("nir: version %q: want X.Y.Z (e.g. 1.0.5, %s)", v, Version)
		}
	}
	if n[0] != 1 {
		return false, fmt.Errorf("nir: version %q: only NIR 1.x is supported", v)
	}
	return n[1] == 0 && n[2] < 6, nil
}

// FromModel translates m into a NIR graph. Spikes, 1 in NIR, carry θ in
// snnrt: FromModel folds θ (and any product of θ through pooling and
// flattening) into the weights of the next Conv2d or Affine node. It
// writes no Scale node: where the inputs of an Add, an IF or the read-out
// carry different spike values, it rescales the output channels (weights
// and bias) of the Conv2d or Affine node that produces a summand, or,
// where a summand has no such private node, inserts a diagonal 1×1
// Conv2d (Affine for vectors). Each IF node has r = 1 and a single
// v_threshold: per-channel θ is folded into the weights and bias of the
// layer before it (exact for reset by subtraction and to zero, see
// ifLayer). Add layers become several edges into the same node. The
// losses list the IF layers whose semantics NIR cannot carry (see
// LossKind); with opt.Strict they are an error. Layers NIR cannot
// express give *UnsupportedError: MaxPool, Concat, burst and signed
// neurons, asymmetric padding, average pooling that excludes padding,
// pooling and convolution after a flatten. m is not modified; the graph
// shares no memory with it.
func FromModel(m *snnrt.Model, opt Options) (*Graph, []Loss, error) {
	if err := m.Validate(); err != nil {
		return nil, nil, err
	}
	version := opt.NIRVersion
	if version == "" {
		version = Version
	}
	legacy, err := parseVersion(version)
	if err != nil {
		return nil, nil, err
	}
	b := &builder{m: m, opt: opt, legacy: legacy, g: &Graph{Version: version, Metadata: maps.Clone(m.Metadata)},
		out: make([]tensor, len(m.Layers)), consumers: make([]int, len(m.Layers))}
	if b.g.Metadata == nil {
		b.g.Metadata = map[string]string{}
	}
	b.g.Metadata[MetaDT] = "1"
	for _, l := range m.Layers {
		for _, i := range l.Inputs {
			if i >= 0 {
				b.consumers[i]++
			}
		}
	}
	b.consumers[m.Output]++
	s := m.Input
	b.g.Nodes = append(b.g.Nodes, Node{Name: "input", Type: TypeInput,
		Params: []Param{ints("shape", s.C, s.H, s.W)}})
	b.in = tensor{parts: []part{{src: "input"}}, shape: []int{s.C, s.H, s.W}, snn: s, sumPool: -1}
	for i := range m.Layers {
		t, err := b.layer(i)
		if err != nil {
			return nil, nil, err
		}
		b.out[i] = t
	}
	r := b.tensorOf(m.Output)
	if r.sumPool >= 0 {
		return nil, nil, b.sumPoolError(r.sumPool, "the read-out")
	}
	r = b.uniform("output_in", r, nil)
	srcs := r.srcs()
	if opt.Integrate {
		b.add(Node{Name: "integrator", Type: TypeIntegrator,
			Params: []Param{floats("r", r.shape, fill(prod(r.shape), 1))}}, srcs)
		srcs = []string{"integrator"}
	}
	b.add(Node{Name: "output", Type: TypeOutput, Params: []Param{ints("shape", r.shape...)}}, srcs)
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

func (b *builder) sumPoolError(pool int, consumer string) error {
	l := &b.m.Layers[pool]
	return &UnsupportedError{Layer: pool, Name: l.Name, Kind: l.Kind,
		Feature: "average pooling as SumPool2d: its 1/(kh·kw) can be folded only into one convolution or linear layer that reads nothing but the pool (through a flatten at most), and " + consumer + " reads it"}
}

// ratio returns a[c]/b[c] per channel (nil means 1 throughout), or nil
// when every ratio is 1.
func ratio(a, b []float32, c int) []float32 {
	f := make([]float32, c)
	one := true
	for i := range f {
		x, y := float32(1), float32(1)
		if a != nil {
			x = a[i]
		}
		if b != nil {
			y = b[i]
		}
		f[i] = x / y
		one = one && f[i] == 1
	}
	if one {
		return nil
	}
	return f
}

// uniform returns t with every part brought to scale target (nil = 1),
// so that a single synaptic weight, threshold or read-out applies to the
// sum: the snnrt value of part p is p.scale·NIR, and we need target·NIR'.
// A part produced by a private Conv2d/Affine node has that node's output
// channel c (weights and bias) multiplied by p.scale[c]/target[c];
// any other part gets a diagonal node (1×1 Conv2d or Affine, no bias)
// with those factors, named prefix and the part's index.
func (b *builder) uniform(prefix string, t tensor, target []float32) tensor {
	u := t
	u.parts = make([]part, len(t.parts))
	for j, p := range t.parts {
		f := ratio(p.scale, target, t.snn.C)
		switch {
		case f == nil:
			p.scale = target
		case p.fold != "":
			rescaleOutputs(b.g.Node(p.fold), f)
			p.scale = target
		default:
			name := fmt.Sprintf("%s%d", prefix, j)
			b.add(diagonal(name, t.shape, perChannel(f, t.snn)), []string{p.src})
			p = part{src: name, scale: target, fold: name}
		}
		u.parts[j] = p
	}
	return u
}

// rescaleOutputs multiplies output channel c of Conv2d or Affine node n
// (weight rows and bias) by f[c].
func rescaleOutputs(n *Node, f []float32) {
	w, bs := n.Param("weight"), n.Param("bias")
	rows := w.Shape[0] // = s.C: output channels of a Conv2d, outputs of an Affine
	per := len(w.F32) / rows
	for o := range rows {
		v := f[o]
		for j := range per {
			w.F32[o*per+j] *= v
		}
		bs.F32[o] *= v
	}
}

// diagonal is a node multiplying element i of a tensor of NIR shape shape
// by d[i] (constant within a channel for [C,H,W]): a 1×1 Conv2d with a
// diagonal C×C weight, or an Affine with a diagonal N×N weight.
func diagonal(name string, shape []int, d []float32) Node {
	if len(shape) == 3 {
		c, hw := shape[0], shape[1]*shape[2]
		w := make([]float32, c*c)
		for k := range c {
			w[k*c+k] = d[k*hw]
		}
		return Node{Name: name, Type: TypeConv2d, Params: []Param{
			floats("weight", []int{c, c, 1, 1}, w),
			floats("bias", []int{c}, make([]float32, c)),
			ints("stride", 1, 1),
			ints("padding", 0, 0),
			ints("dilation", 1, 1),
			scalar("groups", 1),
			ints("input_shape", shape[1], shape[2]),
		}}
	}
	n := shape[0]
	w := make([]float32, n*n)
	for k := range n {
		w[k*n+k] = d[k]
	}
	return Node{Name: name, Type: TypeAffine, Params: []Param{
		floats("weight", []int{n, n}, w),
		floats("bias", []int{n}, make([]float32, n)),
	}}
}

// common returns the scale a synaptic layer reading t should absorb:
// that of the first part no node can rescale, else nil (1).
func common(t tensor) []float32 {
	for _, p := range t.parts {
		if p.fold == "" {
			return p.scale
		}
	}
	return nil
}

// foldable returns name if layer i's NIR node may be rescaled per output
// channel (it feeds exactly one consumer, which is not the read-out).
func (b *builder) foldable(i int, name string) string {
	if b.consumers[i] == 1 && i != b.m.Output {
		return name
	}
	return ""
}

func (b *builder) layer(i int) (tensor, error) {
	l := &b.m.Layers[i]
	name := fmt.Sprintf("%v%d", l.Kind, i)
	unsupported := func(format string, a ...any) (tensor, error) {
		return tensor{}, &UnsupportedError{Layer: i, Name: l.Name, Kind: l.Kind, Feature: fmt.Sprintf(format, a...)}
	}
	x := b.tensorOf(l.Inputs[0])
	spatial := func() bool { return len(x.shape) == 3 }
	if x.sumPool >= 0 && l.Kind != snnrt.KindConv && l.Kind != snnrt.KindLinear && l.Kind != snnrt.KindFlatten {
		return tensor{}, b.sumPoolError(x.sumPool, fmt.Sprintf("layer %d %q (%v)", i, l.Name, l.Kind))
	}
	switch l.Kind {
	case snnrt.KindConv:
		g := l.Conv
		if !spatial() {
			return unsupported("convolution of a flattened tensor (NIR has no unflatten)")
		}
		if g.PadT != g.PadB || g.PadL != g.PadR {
			return unsupported("asymmetric padding %d,%d,%d,%d (NIR Conv2d pads symmetrically)", g.PadT, g.PadL, g.PadB, g.PadR)
		}
		sc := common(x)
		x = b.uniform(name+"_in", x, sc)
		grp := one(g.Group)
		cg, kg, kk := g.C/grp, g.K/grp, g.KH*g.KW
		w := slices.Clone(l.W)
		if sc != nil {
			for k := 0; k < g.K; k++ {
				for c := 0; c < cg; c++ {
					s := sc[(k/kg)*cg+c]
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
		}}, x.srcs())
		return tensor{parts: []part{{src: name, fold: b.foldable(i, name)}},
			shape: []int{l.Shape.C, l.Shape.H, l.Shape.W}, snn: l.Shape, sumPool: -1}, nil

	case snnrt.KindLinear:
		in := x.snn.Len()
		out := l.Shape.C
		sc := common(x)
		x = b.uniform(name+"_in", x, sc)
		srcs := x.srcs()
		if spatial() {
			fl := name + "_flatten"
			b.add(flattenNode(fl, x.shape), srcs)
			srcs = []string{fl}
		}
		w := slices.Clone(l.W)
		if sc != nil {
			hw := x.snn.H * x.snn.W
			for o := 0; o < out; o++ {
				for j := 0; j < in; j++ {
					w[o*in+j] *= sc[j/hw]
				}
			}
		}
		b.add(Node{Name: name, Type: TypeAffine, Params: []Param{
			floats("weight", []int{out, in}, w),
			floats("bias", []int{out}, bias(l.B, out)),
		}}, srcs)
		return tensor{parts: []part{{src: name, fold: b.foldable(i, name)}},
			shape: []int{out}, snn: l.Shape, sumPool: -1}, nil

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
		// The pool is linear and per channel: it sums the parts, so it
		// needs them at one scale, which it passes on.
		sc := common(x)
		x = b.uniform(name+"_in", x, sc)
		typ, sumPool := TypeAvgPool2d, -1
		if b.opt.SumPool {
			// SumPool2d computes kh·kw times AvgPool2d (padding counted,
			// partial windows refused above): the value it carries is
			// 1/(kh·kw) of the snnrt value, absorbed by the next
			// synaptic layer, which must read only the pool.
			if b.consumers[i] != 1 || i == b.m.Output {
				return tensor{}, b.sumPoolError(i, fmt.Sprintf("%d layers (or the read-out)", b.consumers[i]))
			}
			typ, sumPool = TypeSumPool2d, i
			k := 1 / float32(p.KH*p.KW)
			s := make([]float32, x.snn.C)
			for c := range s {
				s[c] = k
				if sc != nil {
					s[c] *= sc[c]
				}
			}
			sc = s
		}
		b.add(Node{Name: name, Type: typ, Params: []Param{
			ints("kernel_size", p.KH, p.KW),
			ints("stride", one(p.StrideH), one(p.StrideW)),
			ints("padding", p.PadT, p.PadL),
		}}, x.srcs())
		return tensor{parts: []part{{src: name, scale: sc}}, shape: []int{l.Shape.C, l.Shape.H, l.Shape.W},
			snn: l.Shape, sumPool: sumPool}, nil

	case snnrt.KindFlatten:
		if !spatial() {
			x.snn = l.Shape
			return x, nil // already flat: nothing to do
		}
		if x.sumPool >= 0 && (b.consumers[i] != 1 || i == b.m.Output) {
			return tensor{}, b.sumPoolError(x.sumPool, fmt.Sprintf("flatten layer %d, read by %d layers (or the read-out),", i, b.consumers[i]))
		}
		sc := common(x)
		x = b.uniform(name+"_in", x, sc)
		b.add(flattenNode(name, x.shape), x.srcs())
		var scale []float32
		if sc != nil {
			scale = perChannel(sc, x.snn)
		}
		return tensor{parts: []part{{src: name, scale: scale}}, shape: []int{l.Shape.C}, snn: l.Shape, sumPool: x.sumPool}, nil

	case snnrt.KindAdd:
		t := tensor{shape: x.shape, snn: l.Shape, sumPool: -1}
		for _, src := range l.Inputs {
			u := b.tensorOf(src)
			if !slices.Equal(u.shape, x.shape) {
				return unsupported("inputs of NIR shapes %v and %v", x.shape, u.shape)
			}
			for _, p := range u.parts {
				if slices.ContainsFunc(t.parts, func(q part) bool { return q.src == p.src }) {
					return unsupported("node %s would be summed twice (NIR edges are a set)", p.src)
				}
				if b.consumers[i] != 1 || i == b.m.Output {
					p.fold = "" // consumers would disagree on the rescaling
				}
				t.parts = append(t.parts, p)
			}
		}
		return t, nil

	case snnrt.KindIF:
		return b.ifLayer(i, name, x)

	case snnrt.KindMaxPool:
		return unsupported("max pooling (NIR 1.0 has no max-pooling node)")
	case snnrt.KindConcat:
		return unsupported("concatenation (NIR 1.0 has no concatenation node)")
	}
	return unsupported("unknown layer kind")
}

// ifLayer writes IF layer i, whose input is x, as an IF node with r = 1
// and one v_threshold for the whole layer.
//
// snnrt integrates v_c += I_c, where I_c = σ_c·J_c is the snnrt value of
// the input and J_c its NIR value, fires when v_c ≥ θ_c and then resets
// v_c −= θ_c (by subtraction) or v_c = 0 (to zero). Let u_c = v_c/k_c for
// any k_c > 0. Then u_c += (σ_c/k_c)·J_c, the spike condition is
// u_c ≥ θ_c/k_c, and the resets become u_c −= θ_c/k_c and u_c = 0: the
// same dynamics (same spikes at every step, in real arithmetic) for the
// scaled membrane. When the input is a sum, each summand has its own σ;
// summands made by a private Conv2d/Affine can be brought to any σ by
// rescaling that node's output channels, the others (spikes of an
// earlier IF, the model input) cannot. Choosing k_c = σ_c of the latter
// gives r = 1 and threshold θ_c/σ_c, one value when that ratio is the
// same for all channels (a residual block with per-layer θ: the scale of
// the skip path goes into the other branch's weights and bias and into
// this layer's threshold, and no Scale node is needed). Otherwise we
// choose k_c = θ_c: threshold 1 and input (σ_c/θ_c)·J_c, where the factor
// goes into the output channels (weights and bias) of the Conv2d/Affine
// that produces the input, or a diagonal node (uniform). The spikes of
// u and v coincide; they are still worth θ_c in snnrt, the scale the
// output carries to the next synaptic layer. Float32 rounding of the
// folded products is the only difference (none for power-of-two θ).
func (b *builder) ifLayer(i int, name string, x tensor) (tensor, error) {
	l := &b.m.Layers[i]
	n := l.IF
	switch {
	case n.MaxSpikes > 1 && !(b.opt.Burst && b.legacy && !n.Signed):
		return tensor{}, &UnsupportedError{Layer: i, Name: l.Name, Kind: l.Kind, Feature: fmt.Sprintf("burst neurons (MaxSpikes %d): NIR spikes are binary (unsigned ones export for sinabs with --nir-version 1.0.5 --nir-burst)", n.MaxSpikes)}
	case n.Signed:
		return tensor{}, &UnsupportedError{Layer: i, Name: l.Name, Kind: l.Kind, Feature: "signed (negative) spikes"}
	}
	switch {
	case !b.legacy && n.Reset == snnrt.ResetBySubtraction:
		b.losses = append(b.losses, Loss{Layer: i, Name: l.Name, Kind: LossReset})
	case b.legacy && n.Reset == snnrt.ResetToZero:
		b.losses = append(b.losses, Loss{Layer: i, Name: l.Name, Kind: LossResetZero})
	}
	if slices.ContainsFunc(n.V0, func(v float32) bool { return v != 0 }) {
		b.losses = append(b.losses, Loss{Layer: i, Name: l.Name, Kind: LossV0})
	}
	if n.MaxSpikes > 1 {
		b.losses = append(b.losses, Loss{Layer: i, Name: l.Name, Kind: LossBurst})
	}
	theta := make([]float32, x.snn.C)
	for c := range theta {
		theta[c] = n.Theta[min(c, len(n.Theta)-1)]
	}
	th := float32(1)
	sc := common(x) // the scale of the parts no node can rescale
	fixed := !slices.ContainsFunc(x.parts, func(p part) bool { return p.fold == "" && !slices.Equal(p.scale, sc) })
	if k := ratio(theta, sc, x.snn.C); fixed && (k == nil || !slices.ContainsFunc(k, func(v float32) bool { return v != k[0] })) {
		// k_c = σ_c: rescale the foldable parts to σ, threshold θ/σ.
		x = b.uniform(name+"_in", x, sc)
		if k != nil {
			th = k[0]
		}
	} else {
		// k_c = θ_c: threshold 1.
		x = b.uniform(name+"_in", x, theta)
	}
	params := []Param{
		floats("r", x.shape, fill(x.snn.Len(), 1)),
		floats("v_threshold", x.shape, fill(x.snn.Len(), th)),
	}
	if !b.legacy {
		params = append(params, floats("v_reset", x.shape, fill(x.snn.Len(), 0)))
	}
	b.add(Node{Name: name, Type: TypeIF, Params: params}, x.srcs())
	return tensor{parts: []part{{src: name, scale: theta}}, shape: x.shape, snn: l.Shape, sumPool: -1}, nil
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
