package finetune

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ann2snn/ann2snn/snnrt"
)

// paramKind says which parameter of a layer a trainable tensor is.
type paramKind uint8

const (
	paramW paramKind = iota
	paramB
	paramTheta
)

func (k paramKind) String() string { return [...]string{"W", "B", "theta"}[k] }

// param is one trainable tensor: it aliases the slice of the network's
// model, so updating data updates the model.
type param struct {
	layer int
	kind  paramKind
	data  []float32
	node  *G.Node
	grad  *G.Node
}

func (p *param) name() string { return fmt.Sprintf("layer%d.%v", p.layer, p.kind) }

// netOptions are the settings of the unrolled graph.
type netOptions struct {
	t, n      int
	surrogate Surrogate
	smooth    bool
	loss      Loss
	rateReg   float32
	memReg    float32
	trace     bool // keep a copy of every node's value (tests)
	noGrad    bool // forward pass only (GradReport's finite differences)
}

// net is the SNN unrolled over T steps for a batch of N images as a
// gorgonia graph with its loss and the gradients of all parameters.
//
// Values are step-major: a layer whose value changes over time holds
// [T,N,shape]; a static layer (one that depends on the analog input image
// only, such as the first convolution under direct encoding) holds
// [N,shape] once and is repeated over T where a time-varying layer reads
// it.
type net struct {
	m        *snnrt.Model // owned; params alias its slices
	opt      netOptions
	g        *G.ExprGraph
	x, y     *G.Node
	xbuf     []float32 // backing of x: N images
	ybuf     []float32 // backing of y: N one-hot rows
	out      *G.Node   // output layer, [T,N,K]
	loss     *G.Node
	layerOut []*G.Node
	static   []bool
	params   []*param
	ifs      map[int]*ifKernel // the IF kernels by layer index
	ifIn     map[int]*G.Node   // the [T,N,...] input of each IF layer
	vm       G.VM
}

// cloneModel returns a deep copy of m's layers and metadata.
func cloneModel(m *snnrt.Model) *snnrt.Model {
	c := *m
	c.Layers = make([]snnrt.Layer, len(m.Layers))
	for i, l := range m.Layers {
		l.Inputs = append([]int(nil), l.Inputs...)
		l.W = append([]float32(nil), l.W...)
		l.B = append([]float32(nil), l.B...)
		if m.Layers[i].B == nil {
			l.B = nil
		}
		l.IF.Theta = append([]float32(nil), l.IF.Theta...)
		l.IF.V0 = append([]float32(nil), l.IF.V0...)
		c.Layers[i] = l
	}
	c.Metadata = make(map[string]string, len(m.Metadata))
	for k, v := range m.Metadata {
		c.Metadata[k] = v
	}
	return &c
}

// checkSupported returns an *UnsupportedError for features the unrolled
// network does not implement.
func checkSupported(m *snnrt.Model) error {
	for i, l := range m.Layers {
		if l.Kind == snnrt.KindIF && l.IF.Signed && l.IF.Reset == snnrt.ResetToZero {
			return &UnsupportedError{Layer: i, Name: l.Name, Feature: "signed (take-back) IF neurons that reset to zero (convert with --reset subtract or --signed=false)"}
		}
	}
	return nil
}

// newNet builds the unrolled graph of a copy of m.
func newNet(m *snnrt.Model, opt netOptions) (*net, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if err := checkSupported(m); err != nil {
		return nil, err
	}
	if opt.t < 1 || opt.n < 1 {
		return nil, fmt.Errorf("finetune: T = %d and batch = %d must be positive", opt.t, opt.n)
	}
	m = cloneModel(m)
	nt := &net{m: m, opt: opt, g: G.NewGraph(), ifs: map[int]*ifKernel{}, ifIn: map[int]*G.Node{}}
	t, n := opt.t, opt.n
	inLen := m.Input.Len()
	nt.xbuf = make([]float32, n*inLen)
	nt.x = G.NewTensor(nt.g, tensor.Float32, 1, G.WithShape(n*inLen), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(n*inLen), tensor.WithBacking(nt.xbuf))))

	nl := len(m.Layers)
	nodes := make([]*G.Node, nl)
	nt.static = make([]bool, nl)
	trainable := make([]bool, nl) // value depends on a parameter
	repeated := map[int]*G.Node{}
	shape := func(src int) snnrt.Shape {
		if src == snnrt.InputIndex {
			return m.Input
		}
		return m.Layers[src].Shape
	}
	get := func(src int) (*G.Node, bool, bool) {
		if src == snnrt.InputIndex {
			return nt.x, true, false
		}
		return nodes[src], nt.static[src], trainable[src]
	}
	apply := func(k kernel, args ...*G.Node) (*G.Node, error) {
		return G.ApplyOp(fwdOp{newOpBase(k, "fwd")}, args...)
	}
	// dynamic returns the [T,N,...] value of src, repeating a static one.
	dynamic := func(src int) (*G.Node, error) {
		v, st, tr := get(src)
		if !st {
			return v, nil
		}
		if r, ok := repeated[src]; ok {
			return r, nil
		}
		r, err := apply(&repeatKernel{name: fmt.Sprintf("repeat%d", src), t: t, n: n, per: shape(src).Len(), inputDif: tr}, v)
		if err != nil {
			return nil, err
		}
		repeated[src] = r
		return r, nil
	}
	newParam := func(layer int, kind paramKind, data []float32) *G.Node {
		p := &param{layer: layer, kind: kind, data: data}
		p.node = G.NewTensor(nt.g, tensor.Float32, 1, G.WithShape(len(data)), G.WithName(p.name()),
			G.WithValue(tensor.New(tensor.WithShape(len(data)), tensor.WithBacking(data))))
		nt.params = append(nt.params, p)
		return p.node
	}

	for i := range m.Layers {
		l := &m.Layers[i]
		name := fmt.Sprintf("%s%d", l.Kind, i)
		st, tr := true, false
		for _, src := range l.Inputs {
			_, s, r := get(src)
			st, tr = st && s, tr || r
		}
		if l.Kind == snnrt.KindIF || l.Kind == snnrt.KindMaxPool {
			st = false
		}
		imgs := t * n
		if st {
			imgs = n
		}
		var args []*G.Node
		for _, src := range l.Inputs {
			v, _, _ := get(src)
			if !st {
				var err error
				if v, err = dynamic(src); err != nil {
					return nil, err
				}
			}
			args = append(args, v)
		}
		var k kernel
		in := shape(l.Inputs[0])
		switch l.Kind {
		case snnrt.KindConv:
			args = append(args, newParam(i, paramW, l.W))
			if l.B != nil {
				args = append(args, newParam(i, paramB, l.B))
			}
			k = newConvKernel(name, l.Conv, imgs, l.B != nil, tr)
			tr = true
		case snnrt.KindLinear:
			args = append(args, newParam(i, paramW, l.W))
			if l.B != nil {
				args = append(args, newParam(i, paramB, l.B))
			}
			k = &linearKernel{name: name, n: imgs, in: in.Len(), out: l.Shape.C, hasBias: l.B != nil, inGrad: tr}
			tr = true
		case snnrt.KindAvgPool:
			k = &avgPoolKernel{name: name, p: l.Pool, n: imgs}
		case snnrt.KindGlobalAvgPool:
			k = &globalAvgPoolKernel{name: name, n: imgs, c: in.C, hw: in.H * in.W}
		case snnrt.KindMaxPool:
			k = &maxPoolKernel{name: name, t: t, n: n, p: l.Pool, mode: l.MaxPool, inGrad: tr}
		case snnrt.KindConcat:
			ck := &concatKernel{name: name, n: imgs}
			for _, src := range l.Inputs {
				_, _, r := get(src)
				ck.per = append(ck.per, shape(src).Len())
				ck.dif = append(ck.dif, r)
			}
			k = ck
		case snnrt.KindIF:
			ik := &ifKernel{name: name, t: t, n: n, c: l.Shape.C, hw: l.Shape.H * l.Shape.W,
				nTheta: len(l.IF.Theta), m: max(l.IF.MaxSpikes, 1),
				neuron: snnrt.IF{Reset: l.IF.Reset, MaxSpikes: l.IF.MaxSpikes, Signed: l.IF.Signed},
				sur:    opt.surrogate, smooth: opt.smooth, inGrad: tr}
			ik.v0 = make([]float32, ik.c)
			for c := range ik.v0 {
				switch len(l.IF.V0) {
				case 0:
				case 1:
					ik.v0[c] = l.IF.V0[0]
				default:
					ik.v0[c] = l.IF.V0[c]
				}
			}
			args = append(args, newParam(i, paramTheta, l.IF.Theta))
			nt.ifs[i], nt.ifIn[i] = ik, args[0]
			k = ik
			tr = true
		case snnrt.KindFlatten:
			nodes[i], nt.static[i], trainable[i] = args[0], st, tr
			continue
		case snnrt.KindAdd:
			v := args[0]
			for _, a := range args[1:] {
				var err error
				if v, err = G.Add(v, a); err != nil {
					return nil, fmt.Errorf("finetune: layer %d: %w", i, err)
				}
			}
			nodes[i], nt.static[i], trainable[i] = v, st, tr
			continue
		default:
			return nil, &UnsupportedError{Layer: i, Name: l.Name, Feature: "layer kind " + l.Kind.String()}
		}
		v, err := apply(k, args...)
		if err != nil {
			return nil, fmt.Errorf("finetune: layer %d (%s): %w", i, l.Kind, err)
		}
		nodes[i], nt.static[i], trainable[i] = v, st, tr
	}
	nt.layerOut = nodes

	out, err := dynamic(m.Output)
	if err != nil {
		return nil, err
	}
	nt.out = out
	classes := m.Layers[m.Output].Shape.Len()
	nt.ybuf = make([]float32, n*classes)
	nt.y = G.NewTensor(nt.g, tensor.Float32, 1, G.WithShape(n*classes), G.WithName("y"),
		G.WithValue(tensor.New(tensor.WithShape(n*classes), tensor.WithBacking(nt.ybuf))))
	loss, err := apply(&lossKernel{name: "loss", t: t, n: n, k: classes, loss: opt.loss}, out, nt.y)
	if err != nil {
		return nil, err
	}
	if opt.rateReg > 0 {
		var sum *G.Node
		count := 0
		for i := range m.Layers {
			l := &m.Layers[i]
			if l.Kind != snnrt.KindIF {
				continue
			}
			th := nt.paramNode(i, paramTheta)
			r, err := apply(&rateKernel{name: fmt.Sprintf("rate%d", i), t: t, n: n, c: l.Shape.C,
				hw: l.Shape.H * l.Shape.W, nTheta: len(l.IF.Theta), inGrad: true, thGr: true}, nodes[i], th)
			if err != nil {
				return nil, err
			}
			if sum == nil {
				sum = r
			} else if sum, err = G.Add(sum, r); err != nil {
				return nil, err
			}
			count++
		}
		if sum != nil {
			reg, err := G.Mul(sum, G.NewConstant(opt.rateReg/float32(count)))
			if err != nil {
				return nil, err
			}
			if loss, err = G.Add(loss, reg); err != nil {
				return nil, err
			}
		}
	}
	if opt.memReg > 0 {
		if loss, err = nt.addMemReg(loss); err != nil {
			return nil, err
		}
	}
	nt.loss = loss
	if opt.noGrad {
		nt.vm = G.NewTapeMachine(nt.g)
		return nt, nil
	}
	wrt := make(G.Nodes, len(nt.params))
	for i, p := range nt.params {
		wrt[i] = p.node
	}
	grads, err := G.Grad(loss, wrt...)
	if err != nil {
		return nil, fmt.Errorf("finetune: building gradients: %w", err)
	}
	for i, p := range nt.params {
		p.grad = grads[i]
	}
	var vmOpts []G.VMOpt
	if opt.trace {
		vmOpts = append(vmOpts, G.TraceExec())
	}
	nt.vm = G.NewTapeMachine(nt.g, vmOpts...)
	return nt, nil
}

// addMemReg returns loss + memReg × the mean over IF layers of their
// residual-membrane regulariser (memKernel). Layers that reset to zero
// have no closed-form residual: *UnsupportedError.
func (nt *net) addMemReg(loss *G.Node) (*G.Node, error) {
	var sum *G.Node
	count := 0
	for _, i := range sortedIFs(nt) {
		l := &nt.m.Layers[i]
		if l.IF.Reset == snnrt.ResetToZero {
			return nil, &UnsupportedError{Layer: i, Name: l.Name, Feature: "the membrane regulariser with reset to zero"}
		}
		ik := nt.ifs[i]
		mk := &memKernel{name: fmt.Sprintf("mem%d", i), t: ik.t, n: ik.n, c: ik.c, hw: ik.hw, nTheta: ik.nTheta,
			v0: ik.v0, inGrad: ik.inGrad}
		r, err := G.ApplyOp(fwdOp{newOpBase(mk, "fwd")}, nt.ifIn[i], nt.layerOut[i], nt.paramNode(i, paramTheta))
		if err != nil {
			return nil, fmt.Errorf("finetune: layer %d: membrane regulariser: %w", i, err)
		}
		if sum == nil {
			sum = r
		} else if sum, err = G.Add(sum, r); err != nil {
			return nil, err
		}
		count++
	}
	if sum == nil {
		return loss, nil
	}
	reg, err := G.Mul(sum, G.NewConstant(nt.opt.memReg/float32(count)))
	if err != nil {
		return nil, err
	}
	return G.Add(loss, reg)
}

func (nt *net) paramNode(layer int, kind paramKind) *G.Node {
	for _, p := range nt.params {
		if p.layer == layer && p.kind == kind {
			return p.node
		}
	}
	return nil
}

// run evaluates the graph on the N images x ([N, Input]) with labels
// (one per image, in [0, classes)): loss, output and parameter gradients.
// It returns the loss and the output layer's values [T,N,K] (valid until
// the next run).
func (nt *net) run(x []float32, labels []int) (float32, []float32, error) {
	copy(nt.xbuf, x)
	clear(nt.ybuf)
	k := len(nt.ybuf) / nt.opt.n
	for i, l := range labels {
		nt.ybuf[i*k+l] = 1
	}
	defer nt.vm.Reset()
	if err := nt.vm.RunAll(); err != nil {
		return 0, nil, fmt.Errorf("finetune: running the graph: %w", err)
	}
	return floats(nt.loss.Value())[0], floats(nt.out.Value()), nil
}

// setWidth sets the surrogate of IF layer i to the net's surrogate
// stretched a times (Widen); the next run uses it.
func (nt *net) setWidth(i int, a float32) {
	if k := nt.ifs[i]; k != nil {
		k.sur = Widen(nt.opt.surrogate, a)
	}
}

// grad returns the gradient of parameter p after run.
func (nt *net) grad(p *param) []float32 { return floats(p.grad.Value()) }

// UnsupportedError reports a model feature that fine-tuning does not
// implement (the model itself is valid).
type UnsupportedError struct {
	Layer   int
	Name    string
	Feature string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("finetune: layer %d (%s): %s not supported", e.Layer, e.Name, e.Feature)
}
