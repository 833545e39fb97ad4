package snnrt

import (
	"fmt"
	"math"

	"github.com/ann2snn/ann2snn/internal/kernels"
)

// Shape is the per-image shape of a layer's output in CHW order. Vectors
// (the output of Linear or Flatten) have H == W == 1.
type Shape struct{ C, H, W int }

// Len returns C·H·W.
func (s Shape) Len() int { return s.C * s.H * s.W }

// String formats s as "CxHxW".
func (s Shape) String() string { return fmt.Sprintf("%dx%dx%d", s.C, s.H, s.W) }

func (s Shape) valid() bool {
	const maxDim = 1 << 24
	return s.C > 0 && s.H > 0 && s.W > 0 && s.C < maxDim && s.H < maxDim && s.W < maxDim &&
		int64(s.C)*int64(s.H)*int64(s.W) < 1<<31
}

// InputIndex is the layer index that names the model input in Layer.Inputs.
const InputIndex = -1

// ConvGeom describes a 2-D convolution over one C×H×W image. It is an
// alias of the kernels' type, so that programs outside the module can
// build KindConv layers; its fields (go doc does not show an alias's) are
//
//	C, H, W                int // input channels, height, width
//	K                      int // output channels
//	KH, KW                 int // kernel height and width
//	StrideH, StrideW       int // 0 means 1
//	PadT, PadL, PadB, PadR int // zero padding: top, left, bottom, right
//	DilH, DilW             int // dilation; 0 means 1
//	Group                  int // 0 means 1
//
// and its methods OutH and OutW return the output height and width,
// (H + PadT + PadB − DilH·(KH−1) − 1)/StrideH + 1 and likewise for W.
type ConvGeom = kernels.ConvGeom

// Layer is one primitive operation of a Model. Which fields are used depends
// on Kind; the others must be zero (Validate does not insist, the file format
// does not store them).
type Layer struct {
	Name   string // free-form, used in error messages; need not be unique
	Kind   Kind
	Inputs []int // indices of earlier layers, or InputIndex for the model input
	Shape  Shape // per-image output shape; Append fills it in

	Conv    ConvGeom    // KindConv: geometry (C,H,W must match the input)
	Pool    PoolGeom    // KindAvgPool, KindMaxPool: geometry (C,H,W must match the input)
	MaxPool MaxPoolMode // KindMaxPool: spiking semantics
	W       []float32   // KindConv: [K, C/Group, KH, KW]; KindLinear: [Out, In]
	B       []float32   // KindConv: [K] or nil; KindLinear: [Out] or nil
	IF      IF          // KindIF: neuron parameters
}

// Model is a spiking network: layers in topological order over per-image
// NCHW tensors. Layer i may only read layers j < i or the model input.
// Output names the layer whose value is read out: it never spikes, the
// simulator accumulates its value over time steps.
//
// A Model is plain data; build it with Append (which infers shapes) and
// check it with Validate. Run and Analog do not modify it and may be called
// concurrently.
type Model struct {
	Input    Shape             // per-image input shape
	Layers   []Layer           // topological order
	Output   int               // index of the read-out layer
	Metadata map[string]string // preprocessing and provenance, see docs/format.md
}

// Append infers l.Shape from its inputs, appends l, makes it the output
// layer and returns its index. It returns an error (and leaves m unchanged)
// when the layer is malformed.
func (m *Model) Append(l Layer) (int, error) {
	idx := len(m.Layers)
	in, err := m.inputShapes(idx, &l)
	if err != nil {
		return -1, err
	}
	s, err := inferShape(&l, in)
	if err != nil {
		return -1, &LayerError{Layer: idx, Name: l.Name, Kind: l.Kind, Err: err}
	}
	l.Shape = s
	if err := checkParams(&l, in); err != nil {
		return -1, &LayerError{Layer: idx, Name: l.Name, Kind: l.Kind, Err: err}
	}
	m.Layers = append(m.Layers, l)
	m.Output = idx
	return idx, nil
}

// MustAppend is Append for hand-built models in tests and examples; it
// panics on error.
func (m *Model) MustAppend(l Layer) int {
	i, err := m.Append(l)
	if err != nil {
		panic("snnrt: " + err.Error())
	}
	return i
}

// shapeOf returns the output shape of layer i, or the input shape for
// InputIndex. i must be in range.
func (m *Model) shapeOf(i int) Shape {
	if i == InputIndex {
		return m.Input
	}
	return m.Layers[i].Shape
}

// inputShapes checks l's input indices against a model whose first idx
// layers exist and returns their shapes.
func (m *Model) inputShapes(idx int, l *Layer) ([]Shape, error) {
	lerr := func(format string, a ...any) error {
		return &LayerError{Layer: idx, Name: l.Name, Kind: l.Kind, Err: fmt.Errorf(format, a...)}
	}
	if !m.Input.valid() {
		return nil, fmt.Errorf("snnrt: invalid model input shape %v", m.Input)
	}
	info, ok := l.Kind.info()
	if !ok {
		return nil, lerr("unknown layer kind %d", int(l.Kind))
	}
	if len(l.Inputs) < info.minIn || (info.maxIn > 0 && len(l.Inputs) > info.maxIn) {
		return nil, lerr("%d inputs, want %s", len(l.Inputs), info.arity())
	}
	in := make([]Shape, len(l.Inputs))
	for j, src := range l.Inputs {
		if src < InputIndex || src >= idx {
			return nil, lerr("input %d refers to layer %d, want -1..%d", j, src, idx-1)
		}
		in[j] = m.shapeOf(src)
	}
	return in, nil
}

// MaxBurstSpikes is the largest IF.MaxSpikes a layer may have (Validate).
const MaxBurstSpikes = maxBurst

// MaxLayers bounds the number of layers of a Model (Validate). Converted
// networks stay far below it (ResNet-152 converts to about 600 layers);
// it refuses crafted files of many tiny layers before they cost memory.
const MaxLayers = 1 << 16

// MaxImageBytes bounds the memory one image of a Model may need in the
// simulators, as estimated by ImageBytes: Validate refuses a model above
// it, naming the layer at which the running total first exceeds it. 1 GiB
// admits VGG-16 at 224×224 (about 0.7 GiB by that estimate) and refuses
// crafted files such as a Concat reading a 3×32×32 input 20,000 times.
const MaxImageBytes = 1 << 30

// DefaultMaxBytes is the memory budget of a simulation when
// Config.MaxBytes is 0: Run and Simulator.Run keep workers·chunk·
// ImageBytes() within it by lowering the chunk size, then the worker
// count (results do not depend on either). It is above MaxImageBytes, so
// every valid model runs within it, one image at a time if need be.
const DefaultMaxBytes = 4 << 30

// ImageBytes returns an upper bound on the bytes of activations, neuron
// state, event lists and workspace that simulating one image of m keeps
// (in Run, a Simulator or Analog): per layer of L = Shape.Len() values,
// 3·L for its output in up to three layouts, 5·L more for IF layers
// (membrane, spike counts, event lists), L + its input's length + 3·L
// for pooling layers, plus the largest convolution workspace
// (C/Group·KH·KW·OH·OW) and the input and read-out buffers; 4 bytes per
// value. Layers must have their shapes (see Append).
func (m *Model) ImageBytes() int64 {
	var vals, ws int64
	for i := range m.Layers {
		v, w := m.layerValues(i)
		vals += v
		ws = max(ws, w)
	}
	return 4 * (vals + ws + 2*int64(m.Input.Len()))
}

// layerValues returns the buffer values one image needs for layer i (see
// ImageBytes), and its convolution workspace.
func (m *Model) layerValues(i int) (vals, ws int64) {
	l := &m.Layers[i]
	L := int64(l.Shape.Len())
	vals = 3 * L
	switch l.Kind {
	case KindIF:
		vals += 5 * L
	case KindAvgPool, KindMaxPool:
		if len(l.Inputs) > 0 && l.Inputs[0] >= InputIndex && l.Inputs[0] < i {
			vals += int64(m.shapeOf(l.Inputs[0]).Len())
		}
		vals += 4 * L
	case KindConv:
		g := l.Conv
		ws = int64(g.C/one(g.Group)) * int64(g.KH) * int64(g.KW) * int64(l.Shape.H) * int64(l.Shape.W)
	}
	if i == m.Output {
		vals += L // the accumulator
	}
	return vals, ws
}

// fitMemory returns the chunk size and worker count to simulate with:
// chunk and workers, lowered (chunk first) so that workers·chunk·per ≤
// budget (DefaultMaxBytes when budget ≤ 0). It returns an error when one
// image alone needs more than budget.
func fitMemory(per int64, chunk, workers int, budget int64) (int, int, error) {
	if budget <= 0 {
		budget = DefaultMaxBytes
	}
	per = max(per, 1)
	if per > budget {
		return 0, 0, fmt.Errorf("snnrt: one image needs %d MiB of activations and state, more than the memory budget of %d MiB (Config.MaxBytes)", per>>20, budget>>20)
	}
	chunk = max(1, min(int64ToInt(budget/per), chunk))
	workers = max(1, min(int64ToInt(budget/(per*int64(chunk))), workers))
	return chunk, workers, nil
}

func int64ToInt(v int64) int { return int(min(v, math.MaxInt32)) }

// Validate checks the whole model: input indices, shapes (each layer's
// stored Shape must equal the inferred one), parameter lengths, finite
// parameters, thresholds θ > 0, the output layer, the layer count
// (MaxLayers) and the memory one image needs (MaxImageBytes). Errors
// about one layer are *LayerError.
func (m *Model) Validate() error {
	if len(m.Layers) == 0 {
		return fmt.Errorf("snnrt: model has no layers")
	}
	if len(m.Layers) > MaxLayers {
		return fmt.Errorf("snnrt: model has %d layers, more than the limit of %d (MaxLayers)", len(m.Layers), MaxLayers)
	}
	vals, ws := 2*int64(m.Input.Len()), int64(0)
	for i := range m.Layers {
		l := &m.Layers[i]
		in, err := m.inputShapes(i, l)
		if err != nil {
			return err
		}
		s, err := inferShape(l, in)
		if err != nil {
			return &LayerError{Layer: i, Name: l.Name, Kind: l.Kind, Err: err}
		}
		if s != l.Shape {
			return &LayerError{Layer: i, Name: l.Name, Kind: l.Kind,
				Err: fmt.Errorf("stored shape %v, inferred %v", l.Shape, s)}
		}
		if err := checkParams(l, in); err != nil {
			return &LayerError{Layer: i, Name: l.Name, Kind: l.Kind, Err: err}
		}
		v, w := m.layerValues(i)
		vals += v
		ws = max(ws, w)
		if b := 4 * (vals + ws); b > MaxImageBytes {
			return &LayerError{Layer: i, Name: l.Name, Kind: l.Kind, Err: fmt.Errorf(
				"simulating one image needs at least %d MiB of activations and state up to this layer, more than the limit of %d MiB (MaxImageBytes)",
				b>>20, MaxImageBytes>>20)}
		}
	}
	if m.Output < 0 || m.Output >= len(m.Layers) {
		return fmt.Errorf("snnrt: output layer %d out of range 0..%d", m.Output, len(m.Layers)-1)
	}
	if o := &m.Layers[m.Output]; o.Kind == KindIF {
		return &LayerError{Layer: m.Output, Name: o.Name, Kind: o.Kind,
			Err: fmt.Errorf("the output layer must not be a spiking IF layer")}
	}
	return nil
}

// inferShape returns the output shape of l given its input shapes, whose
// count has been checked against the kind's arity.
func inferShape(l *Layer, in []Shape) (Shape, error) {
	x := in[0]
	switch l.Kind {
	case KindConv:
		g := l.Conv
		if g.C != x.C || g.H != x.H || g.W != x.W {
			return Shape{}, fmt.Errorf("geometry input %dx%dx%d, input is %v", g.C, g.H, g.W, x)
		}
		grp := one(g.Group)
		if g.K <= 0 || g.KH <= 0 || g.KW <= 0 || g.StrideH < 0 || g.StrideW < 0 ||
			g.DilH < 0 || g.DilW < 0 || g.PadT < 0 || g.PadL < 0 || g.PadB < 0 || g.PadR < 0 ||
			g.C%grp != 0 || g.K%grp != 0 || g.KH > 1<<16 || g.KW > 1<<16 ||
			g.PadT+g.PadB > 1<<16 || g.PadL+g.PadR > 1<<16 || g.DilH > 1<<16 || g.DilW > 1<<16 {
			return Shape{}, fmt.Errorf("invalid convolution geometry %+v", g)
		}
		if err := g.Validate(); err != nil {
			return Shape{}, err
		}
		s := Shape{g.K, g.OutH(), g.OutW()}
		if !s.valid() {
			return Shape{}, fmt.Errorf("convolution output %v is empty or too large", s)
		}
		return s, nil
	case KindLinear:
		out := len(l.B)
		if out == 0 && x.Len() > 0 {
			out = len(l.W) / x.Len()
		}
		s := Shape{out, 1, 1}
		if !s.valid() {
			return Shape{}, fmt.Errorf("linear layer has no outputs (len(W)=%d, input %v)", len(l.W), x)
		}
		return s, nil
	case KindAvgPool, KindMaxPool:
		p := l.Pool
		if p.C != x.C || p.H != x.H || p.W != x.W {
			return Shape{}, fmt.Errorf("geometry input %dx%dx%d, input is %v", p.C, p.H, p.W, x)
		}
		if p.KH <= 0 || p.KW <= 0 || p.StrideH < 0 || p.StrideW < 0 || p.PadT < 0 ||
			p.PadL < 0 || p.PadB < 0 || p.PadR < 0 || p.PadT >= p.KH || p.PadB >= p.KH ||
			p.PadL >= p.KW || p.PadR >= p.KW || p.KH > x.H+p.PadT+p.PadB || p.KW > x.W+p.PadL+p.PadR {
			return Shape{}, fmt.Errorf("invalid pooling geometry %+v", p)
		}
		if err := p.Validate(); err != nil {
			return Shape{}, err
		}
		s := Shape{x.C, p.OutH(), p.OutW()}
		if !s.valid() {
			return Shape{}, fmt.Errorf("pooling output %v is empty", s)
		}
		return s, nil
	case KindGlobalAvgPool:
		return Shape{x.C, 1, 1}, nil
	case KindAdd:
		for j, s := range in[1:] {
			if s != x {
				return Shape{}, fmt.Errorf("input %d has shape %v, input 0 has %v", j+1, s, x)
			}
		}
		return x, nil
	case KindConcat:
		s := x
		for j, t := range in[1:] {
			if t.H != x.H || t.W != x.W {
				return Shape{}, fmt.Errorf("input %d has shape %v, spatial size differs from input 0 %v", j+1, t, x)
			}
			s.C += t.C
		}
		if !s.valid() {
			return Shape{}, fmt.Errorf("concatenated shape %v too large", s)
		}
		return s, nil
	case KindFlatten:
		return Shape{x.Len(), 1, 1}, nil
	case KindIF:
		return x, nil
	}
	return Shape{}, fmt.Errorf("unknown layer kind %d", int(l.Kind))
}

// checkParams checks parameter lengths and values of l with output shape
// l.Shape and input shapes in.
func checkParams(l *Layer, in []Shape) error {
	switch l.Kind {
	case KindConv:
		g := l.Conv
		want := g.K * (g.C / one(g.Group)) * g.KH * g.KW
		if len(l.W) != want {
			return fmt.Errorf("len(W) = %d, want %d", len(l.W), want)
		}
		if l.B != nil && len(l.B) != g.K {
			return fmt.Errorf("len(B) = %d, want %d or 0", len(l.B), g.K)
		}
	case KindLinear:
		want := l.Shape.C * in[0].Len()
		if len(l.W) != want {
			return fmt.Errorf("len(W) = %d, want %d (%d outputs x %d inputs)", len(l.W), want, l.Shape.C, in[0].Len())
		}
		if l.B != nil && len(l.B) != l.Shape.C {
			return fmt.Errorf("len(B) = %d, want %d or 0", len(l.B), l.Shape.C)
		}
	case KindMaxPool:
		if l.MaxPool != MaxPoolCumulative && l.MaxPool != MaxPoolGate {
			return fmt.Errorf("unknown max-pool mode %d", int(l.MaxPool))
		}
	case KindIF:
		return l.IF.check(l.Shape.C)
	}
	if err := finite("W", l.W); err != nil {
		return err
	}
	return finite("B", l.B)
}

func finite(name string, v []float32) error {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%s[%d] = %v is not finite", name, i, x)
		}
	}
	return nil
}

func one(v int) int {
	if v <= 0 {
		return 1
	}
	return v
}
