package importer

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	onnx "github.com/owulveryck/onnx-go"
	"google.golang.org/protobuf/encoding/protowire"
	"gorgonia.org/tensor"
)

// Load reads an ONNX model file and returns its normalized Graph; external
// tensor data is read relative to the file's directory. It is LoadWith
// with the default Options: the file must be a regular file (symbolic
// links followed) of at most DefaultMaxModelBytes, else a *FileError. See
// Parse for the other errors.
func Load(path string) (*Graph, error) { return LoadWith(path, Options{}) }

// Parse decodes a serialized ONNX ModelProto into a normalized, validated
// Graph. dir is the directory holding external tensor data files ("" to
// forbid external data); locations may not escape it.
//
// The bytes are first checked by a protowire pre-pass (element counts
// against data lengths and MaxElements, value shapes, external data, element
// types, operator support), rewritten into a canonical form and decoded by
// github.com/owulveryck/onnx-go into the importer's graph builder. The
// result is then normalized (see the package documentation) and constant
// folded.
//
// Errors: *FormatError for malformed files, *UnsupportedOpError for
// operators or attribute values outside SupportedOps,
// *UnsupportedFeatureError for other unsupported features (element types,
// sparse tensors), *NodeError when folding a node fails. Parse never
// panics on bad input.
func Parse(data []byte, dir string) (*Graph, error) {
	wm, err := parseModel(data)
	if err != nil {
		return nil, err
	}
	pre, err := prepare(wm, dir)
	if err != nil {
		return nil, err
	}
	g, err := decodeWithOnnxGo(wm, pre)
	if err != nil {
		return nil, err
	}
	if err := normalize(g); err != nil {
		return nil, err
	}
	if err := checkFinite(g); err != nil {
		return nil, err
	}
	if err := g.Validate(); err != nil {
		return nil, &FormatError{Msg: "invalid graph", Err: err}
	}
	return g, nil
}

// prepared holds what the pre-pass decoded: tensors by initializer index
// and by (node, attribute) position.
type prepared struct {
	inits []*Tensor
	attrs map[[2]int]*Tensor
}

// prepare validates the model and decodes its tensors.
func prepare(wm *wireModel, dir string) (*prepared, error) {
	wg := wm.graph
	if wg.sparse > 0 {
		return nil, &UnsupportedFeatureError{Where: "graph", Feature: "sparse initializers"}
	}
	if len(wg.nodes) == 0 {
		return nil, formatErrorf("graph", "no nodes")
	}
	if len(wg.outputs) == 0 {
		return nil, formatErrorf("graph", "no outputs")
	}
	supported := SupportedOps()
	for i, n := range wg.nodes {
		name := n.name
		if name == "" {
			name = fmt.Sprintf("#%d", i)
		}
		if n.domain != "" && n.domain != "ai.onnx" {
			return nil, &UnsupportedOpError{Node: name, Op: n.domain + "." + n.op, Supported: supported}
		}
		if _, ok := opTable[n.op]; !ok {
			return nil, &UnsupportedOpError{Node: name, Op: n.op, Supported: supported}
		}
		if len(n.outputs) == 0 || n.outputs[0] == "" {
			return nil, formatErrorf(fmt.Sprintf("node %q (%s)", name, n.op), "no output")
		}
		for _, a := range n.attrs {
			if a.other != "" {
				return nil, &UnsupportedOpError{Node: name, Op: n.op, Detail: fmt.Sprintf("attribute %q holds a %s", a.name, a.other)}
			}
			if a.name == "" {
				return nil, formatErrorf(fmt.Sprintf("node %q (%s)", name, n.op), "attribute without a name")
			}
		}
	}
	for _, v := range append(append(wg.inputs[:len(wg.inputs):len(wg.inputs)], wg.outputs...), wg.valueInfos...) {
		if v.name == "" {
			return nil, formatErrorf("graph", "value without a name")
		}
	}
	p := &prepared{attrs: map[[2]int]*Tensor{}}
	decode := func(wt *wireTensor, where string) (*Tensor, error) {
		t, err := wt.decode(dir, where)
		if err != nil {
			return nil, err
		}
		if !graphDtype(wt.dataType) {
			return nil, &UnsupportedFeatureError{Where: where, Feature: "element type " + dtypeName(wt.dataType)}
		}
		return t, nil
	}
	for i, wt := range wg.inits {
		if wt.name == "" {
			return nil, formatErrorf(fmt.Sprintf("initializer #%d", i), "no name")
		}
		t, err := decode(wt, fmt.Sprintf("initializer %q", wt.name))
		if err != nil {
			return nil, err
		}
		p.inits = append(p.inits, t)
	}
	for i, n := range wg.nodes {
		for j, a := range n.attrs {
			if a.t == nil {
				continue
			}
			t, err := decode(a.t, fmt.Sprintf("node %q attribute %q", n.name, a.name))
			if err != nil {
				return nil, err
			}
			p.attrs[[2]int{i, j}] = t
		}
	}
	inits := map[string]bool{}
	for _, wt := range wg.inits {
		inits[wt.name] = true
	}
	for _, v := range append(wg.inputs[:len(wg.inputs):len(wg.inputs)], wg.outputs...) {
		if inits[v.name] {
			continue
		}
		if v.hasType && !v.isTensor {
			return nil, &UnsupportedFeatureError{Where: fmt.Sprintf("value %q", v.name), Feature: "non-tensor type (sequence, map or optional)"}
		}
		if v.isTensor && v.elemType != 0 && !graphDtype(v.elemType) {
			return nil, &UnsupportedFeatureError{Where: fmt.Sprintf("value %q", v.name), Feature: "element type " + dtypeName(v.elemType)}
		}
	}
	return p, nil
}

// canonicalModel writes the ModelProto that onnx-go decodes: only the
// graph, with every tensor re-encoded as float32 or int64 raw_data,
// attribute types made explicit, and graph inputs and outputs stripped of
// their types (onnx-go allocates a tensor for each declared shape).
// value_info is dropped for the same reason.
func canonicalModel(wm *wireModel, p *prepared) []byte {
	wg := wm.graph
	var g []byte
	for i, n := range wg.nodes {
		var nb []byte
		for _, s := range n.inputs {
			nb = protowire.AppendTag(nb, 1, protowire.BytesType)
			nb = protowire.AppendString(nb, s)
		}
		for _, s := range n.outputs {
			nb = protowire.AppendTag(nb, 2, protowire.BytesType)
			nb = protowire.AppendString(nb, s)
		}
		nb = protowire.AppendTag(nb, 3, protowire.BytesType)
		nb = protowire.AppendString(nb, n.name)
		nb = protowire.AppendTag(nb, 4, protowire.BytesType)
		nb = protowire.AppendString(nb, n.op)
		for j, a := range n.attrs {
			nb = protowire.AppendTag(nb, 5, protowire.BytesType)
			nb = protowire.AppendBytes(nb, canonicalAttr(a, p.attrs[[2]int{i, j}]))
		}
		g = protowire.AppendTag(g, 1, protowire.BytesType)
		g = protowire.AppendBytes(g, nb)
	}
	for i, wt := range wg.inits {
		g = protowire.AppendTag(g, 5, protowire.BytesType)
		g = protowire.AppendBytes(g, encodeTensor(nil, wt.name, p.inits[i]))
	}
	for _, vs := range []struct {
		field protowire.Number
		vals  []*wireValue
	}{{11, wg.inputs}, {12, wg.outputs}} {
		for _, v := range vs.vals {
			var vb []byte
			vb = protowire.AppendTag(vb, 1, protowire.BytesType)
			vb = protowire.AppendString(vb, v.name)
			g = protowire.AppendTag(g, vs.field, protowire.BytesType)
			g = protowire.AppendBytes(g, vb)
		}
	}
	var m []byte
	m = protowire.AppendTag(m, 7, protowire.BytesType)
	return protowire.AppendBytes(m, g)
}

func canonicalAttr(a *wireAttr, t *Tensor) []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, a.name)
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(a.typ))
	switch a.typ {
	case 1:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.f))
	case 2:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(a.i))
	case 3:
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendBytes(b, a.s)
	case 4:
		if t != nil {
			b = protowire.AppendTag(b, 5, protowire.BytesType)
			b = protowire.AppendBytes(b, encodeTensor(nil, "", t))
		}
	case 6:
		var packed []byte
		for _, f := range a.floats {
			packed = binary.LittleEndian.AppendUint32(packed, math.Float32bits(f))
		}
		b = protowire.AppendTag(b, 7, protowire.BytesType)
		b = protowire.AppendBytes(b, packed)
	case 7:
		var packed []byte
		for _, v := range a.ints {
			packed = protowire.AppendVarint(packed, uint64(v))
		}
		b = protowire.AppendTag(b, 8, protowire.BytesType)
		b = protowire.AppendBytes(b, packed)
	case 8:
		for _, s := range a.strings {
			b = protowire.AppendTag(b, 9, protowire.BytesType)
			b = protowire.AppendBytes(b, s)
		}
	}
	return b
}

// unmarshalSafely runs onnx-go, turning a panic into a *FormatError.
func unmarshalSafely(b *backend, data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &FormatError{Msg: "onnx-go panicked", Err: fmt.Errorf("%v", r)}
		}
	}()
	if err := onnx.NewModel(b).UnmarshalBinary(data); err != nil {
		return &FormatError{Msg: "onnx-go", Err: err}
	}
	return nil
}

// decodeWithOnnxGo decodes the canonical model with onnx-go and builds the
// Graph, cross-checking every operator against the pre-pass.
func decodeWithOnnxGo(wm *wireModel, p *prepared) (*Graph, error) {
	wg := wm.graph
	b := newBackend()
	if err := unmarshalSafely(b, canonicalModel(wm, p)); err != nil {
		return nil, err
	}
	if len(b.ops) != len(wg.nodes) {
		return nil, formatErrorf("graph", "onnx-go applied %d operators, file has %d nodes", len(b.ops), len(wg.nodes))
	}
	g := &Graph{
		Consts:   map[string]*Tensor{},
		Meta:     wm.meta,
		Producer: strings.TrimSpace(wm.producer + " " + wm.producerVersion),
		Opset:    1,
	}
	if v, ok := wm.opsets[""]; ok {
		g.Opset = v
	} else if v, ok := wm.opsets["ai.onnx"]; ok {
		g.Opset = v
	}
	// Initializers: values from onnx-go, checked against the pre-pass.
	byName := map[string]*bnode{}
	for _, n := range b.order {
		if n.t != nil {
			byName[n.name] = n
		}
	}
	for i, wt := range wg.inits {
		bn := byName[wt.name]
		if bn == nil {
			return nil, formatErrorf(fmt.Sprintf("initializer %q", wt.name), "not decoded by onnx-go")
		}
		t, err := fromGorgonia(bn.t, p.inits[i], fmt.Sprintf("initializer %q", wt.name))
		if err != nil {
			return nil, err
		}
		g.Consts[wt.name] = t
	}
	for _, v := range wg.inputs {
		if _, ok := g.Consts[v.name]; ok {
			continue
		}
		g.Inputs = append(g.Inputs, Value{Name: v.name, Shape: clone(v.dims)})
	}
	for _, v := range wg.outputs {
		g.Outputs = append(g.Outputs, v.name)
	}
	used := map[string]bool{}
	suffix := map[string]int{}
	for i, op := range b.ops {
		wn := wg.nodes[i]
		where := fmt.Sprintf("node %q (%s)", wn.name, wn.op)
		if op.op.Name != wn.op {
			return nil, formatErrorf(where, "onnx-go decoded operator %q", op.op.Name)
		}
		n := &Node{Name: wn.name, Op: wn.op, Attrs: Attrs{}}
		for _, o := range op.outs {
			n.Outputs = append(n.Outputs, o.name)
		}
		if !slices.Equal(n.Outputs, wn.outputs) {
			return nil, formatErrorf(where, "onnx-go decoded outputs %q, file has %q", n.Outputs, wn.outputs)
		}
		if len(wn.inputs) > 0 {
			n.Inputs = b.inputsOf(i)
			if !slices.Equal(n.Inputs, wn.inputs) {
				return nil, formatErrorf(where, "onnx-go decoded inputs %q, file has %q", n.Inputs, wn.inputs)
			}
		}
		for j, a := range wn.attrs {
			v, ok := op.op.Attributes[a.name]
			if !ok {
				return nil, formatErrorf(where, "attribute %q lost by onnx-go", a.name)
			}
			av, err := fromAttr(v, p.attrs[[2]int{i, j}], where+" attribute "+a.name)
			if err != nil {
				return nil, err
			}
			n.Attrs[a.name] = av
		}
		// Unique, non-empty node names.
		base := n.Name
		if base == "" {
			base = fmt.Sprintf("%s_%d", n.Op, i)
		}
		n.Name = base
		for used[n.Name] { // base_1, base_2, ...; suffix[base] is the last one tried
			suffix[base]++
			n.Name = fmt.Sprintf("%s_%d", base, suffix[base])
		}
		used[n.Name] = true
		g.Nodes = append(g.Nodes, n)
	}
	return g, nil
}

// fromAttr converts an onnx-go attribute value to the Attrs form.
func fromAttr(v any, pre *Tensor, where string) (any, error) {
	switch x := v.(type) {
	case float32, int64, string:
		return x, nil
	case []float32:
		return append([]float32{}, x...), nil
	case []int64:
		return append([]int64{}, x...), nil
	case []string:
		return append([]string{}, x...), nil
	case tensor.Tensor:
		if pre == nil {
			return nil, formatErrorf(where, "tensor missing in pre-pass")
		}
		return fromGorgonia(x, pre, where)
	}
	return nil, formatErrorf(where, "attribute of type %T", v)
}

// fromGorgonia converts an onnx-go tensor to a Tensor, taking the shape
// from the pre-pass tensor pre and checking that both decoders agree on
// every value.
func fromGorgonia(t tensor.Tensor, pre *Tensor, where string) (*Tensor, error) {
	out := &Tensor{Shape: clone(pre.Shape)}
	switch d := t.Data().(type) {
	case []float32:
		out.Data = append([]float32{}, d...)
	case float32:
		out.Data = []float32{d}
	case []int64:
		out.Ints = append([]int64{}, d...)
	case int64:
		out.Ints = []int64{d}
	default:
		return nil, formatErrorf(where, "onnx-go returned %T", d)
	}
	if pre.Len() == 0 { // encoded with one placeholder element
		if out.Data != nil {
			out.Data = out.Data[:0]
		} else {
			out.Ints = out.Ints[:0]
		}
	}
	ok := pre.IsInt() == out.IsInt() && len(out.Data) == len(pre.Data) && len(out.Ints) == len(pre.Ints)
	for i := 0; ok && i < len(out.Data); i++ {
		ok = math.Float32bits(out.Data[i]) == math.Float32bits(pre.Data[i])
	}
	for i := 0; ok && i < len(out.Ints); i++ {
		ok = out.Ints[i] == pre.Ints[i]
	}
	if !ok {
		return nil, formatErrorf(where, "onnx-go and the pre-pass decoded different values")
	}
	return out, nil
}

// checkFinite reports the first constant holding NaN or ±Inf, naming the
// node that reads it, so bad weights are found at load, not as NaN logits.
func checkFinite(g *Graph) error {
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			c := g.Consts[in]
			if c == nil {
				continue
			}
			for i, v := range c.Data {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return formatErrorf("node "+n.String(), "constant %q holds %v at index %d", in, v, i)
				}
			}
		}
	}
	return nil
}
