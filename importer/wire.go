package importer

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file is the protowire pre-pass: a small, allocation-bounded reader of
// the ONNX protobuf messages that the importer needs (ModelProto, GraphProto,
// NodeProto, AttributeProto, TensorProto, ValueInfoProto). It never imports
// a generated ONNX package: onnx-go registers its own, and a second
// registration panics at init.

// MaxElements is the largest element count accepted for one tensor, one
// declared value shape or one computed intermediate (2^30, 4 GiB of
// float32). Larger claims are reported as errors instead of allocated.
const MaxElements = 1 << 30

// ONNX TensorProto.DataType values.
const (
	dtFloat    = 1
	dtUint8    = 2
	dtInt8     = 3
	dtUint16   = 4
	dtInt16    = 5
	dtInt32    = 6
	dtInt64    = 7
	dtString   = 8
	dtBool     = 9
	dtFloat16  = 10
	dtDouble   = 11
	dtUint32   = 12
	dtUint64   = 13
	dtBfloat16 = 16
)

var dtypeNames = map[int32]string{
	0: "undefined", 1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16",
	6: "int32", 7: "int64", 8: "string", 9: "bool", 10: "float16", 11: "double",
	12: "uint32", 13: "uint64", 14: "complex64", 15: "complex128", 16: "bfloat16",
}

func dtypeName(t int32) string {
	if s, ok := dtypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type %d", t)
}

// graphDtype reports whether element type t can live in the graph: floats
// become float32 (Tensor.Data), int32/int64 become Tensor.Ints, bool
// becomes Tensor.Ints holding 0 or 1. 8- and 16-bit integers and uint32/64
// are refused: their wrap-around arithmetic is not implemented.
func graphDtype(t int32) bool {
	switch t {
	case dtFloat, dtDouble, dtFloat16, dtBfloat16, dtInt32, dtInt64, dtBool:
		return true
	}
	return false
}

// elemSize returns the raw_data byte size of one element of type t, or 0
// for types without a fixed-size raw encoding.
func elemSize(t int32) int {
	switch t {
	case dtUint8, dtInt8, dtBool:
		return 1
	case dtUint16, dtInt16, dtFloat16, dtBfloat16:
		return 2
	case dtFloat, dtInt32, dtUint32:
		return 4
	case dtInt64, dtDouble, dtUint64:
		return 8
	}
	return 0
}

type wireModel struct {
	irVersion       int64
	opsets          map[string]int64
	producer        string
	producerVersion string
	meta            map[string]string
	graph           *wireGraph
}

type wireGraph struct {
	nodes      []*wireNode
	inits      []*wireTensor
	sparse     int
	inputs     []*wireValue
	outputs    []*wireValue
	valueInfos []*wireValue
}

type wireNode struct {
	name, op, domain string
	inputs, outputs  []string
	attrs            []*wireAttr
}

type wireAttr struct {
	name    string
	typ     int64
	f       float32
	i       int64
	s       []byte
	t       *wireTensor
	floats  []float32
	ints    []int64
	strings [][]byte
	other   string // name of a field this importer does not read (graph, tensors, ...)
	seen    uint32 // bit per value field present: 1<<field number
}

type wireValue struct {
	name     string
	hasType  bool // a TypeProto is present
	isTensor bool // it is a tensor_type
	elemType int32
	hasShape bool
	dims     []int // -1 for symbolic or missing
}

type wireTensor struct {
	name       string
	dims       []int64
	dataType   int32
	raw        []byte
	hasRaw     bool
	floats     []float32
	int32s     []int64
	int64s     []int64
	doubles    []float64
	uint64s    []uint64
	nStrings   int
	segment    bool
	external   map[string]string
	dataLoc    int64
	hasTypedFd int // count of typed data fields present (for sanity)
}

// fieldFunc receives one field: v holds the payload of a bytes field, x the
// value of a varint or fixed field.
type fieldFunc func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error

// eachField walks the fields of one message.
func eachField(b []byte, where string, f fieldFunc) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return &FormatError{Where: where, Msg: "bad field tag", Err: protowire.ParseError(n)}
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x32 uint32
			x32, n = protowire.ConsumeFixed32(b)
			x = uint64(x32)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return &FormatError{Where: where, Msg: fmt.Sprintf("field %d", num), Err: protowire.ParseError(n)}
		}
		b = b[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

func wantType(where string, num protowire.Number, got, want protowire.Type) error {
	if got != want {
		return formatErrorf(where, "field %d has wire type %d, want %d", num, got, want)
	}
	return nil
}

// appendVarints appends a repeated varint field, packed or not.
func appendVarints(dst []int64, where string, num protowire.Number, typ protowire.Type, v []byte, x uint64) ([]int64, error) {
	switch typ {
	case protowire.VarintType:
		return append(dst, int64(x)), nil
	case protowire.BytesType:
		for len(v) > 0 {
			y, n := protowire.ConsumeVarint(v)
			if n < 0 {
				return dst, &FormatError{Where: where, Msg: fmt.Sprintf("packed field %d", num), Err: protowire.ParseError(n)}
			}
			dst = append(dst, int64(y))
			v = v[n:]
		}
		return dst, nil
	}
	return dst, formatErrorf(where, "field %d has wire type %d, want varint", num, typ)
}

func appendFloats(dst []float32, where string, num protowire.Number, typ protowire.Type, v []byte, x uint64) ([]float32, error) {
	switch typ {
	case protowire.Fixed32Type:
		return append(dst, math.Float32frombits(uint32(x))), nil
	case protowire.BytesType:
		if len(v)%4 != 0 {
			return dst, formatErrorf(where, "packed float field %d has %d bytes", num, len(v))
		}
		for i := 0; i < len(v); i += 4 {
			dst = append(dst, math.Float32frombits(uint32(v[i])|uint32(v[i+1])<<8|uint32(v[i+2])<<16|uint32(v[i+3])<<24))
		}
		return dst, nil
	}
	return dst, formatErrorf(where, "field %d has wire type %d, want fixed32", num, typ)
}

func appendDoubles(dst []float64, where string, num protowire.Number, typ protowire.Type, v []byte, x uint64) ([]float64, error) {
	switch typ {
	case protowire.Fixed64Type:
		return append(dst, math.Float64frombits(x)), nil
	case protowire.BytesType:
		if len(v)%8 != 0 {
			return dst, formatErrorf(where, "packed double field %d has %d bytes", num, len(v))
		}
		for len(v) > 0 {
			y, _ := protowire.ConsumeFixed64(v)
			dst = append(dst, math.Float64frombits(y))
			v = v[8:]
		}
		return dst, nil
	}
	return dst, formatErrorf(where, "field %d has wire type %d, want fixed64", num, typ)
}

func parseModel(b []byte) (*wireModel, error) {
	m := &wireModel{opsets: map[string]int64{}, meta: map[string]string{}}
	const where = "ModelProto"
	var graphs int
	err := eachField(b, where, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1:
			if err := wantType(where, num, typ, protowire.VarintType); err != nil {
				return err
			}
			m.irVersion = int64(x)
		case 2, 3:
			if err := wantType(where, num, typ, protowire.BytesType); err != nil {
				return err
			}
			if num == 2 {
				m.producer = string(v)
			} else {
				m.producerVersion = string(v)
			}
		case 7:
			if err := wantType(where, num, typ, protowire.BytesType); err != nil {
				return err
			}
			g, err := parseGraph(v)
			if err != nil {
				return err
			}
			m.graph = g
			graphs++
		case 8:
			if err := wantType(where, num, typ, protowire.BytesType); err != nil {
				return err
			}
			var dom string
			var ver int64
			err := eachField(v, "opset_import", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				switch num {
				case 1:
					dom = string(v)
				case 2:
					ver = int64(x)
				}
				return nil
			})
			if err != nil {
				return err
			}
			m.opsets[dom] = ver
		case 14:
			if err := wantType(where, num, typ, protowire.BytesType); err != nil {
				return err
			}
			k, val, err := parseStringPair(v, "metadata_props")
			if err != nil {
				return err
			}
			m.meta[k] = val
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if m.graph == nil {
		return nil, formatErrorf(where, "no graph (not an ONNX model?)")
	}
	if graphs > 1 {
		return nil, formatErrorf(where, "%d graph fields", graphs)
	}
	return m, nil
}

func parseStringPair(b []byte, where string) (k, v string, err error) {
	err = eachField(b, where, func(num protowire.Number, typ protowire.Type, val []byte, x uint64) error {
		if num != 1 && num != 2 {
			return nil
		}
		if err := wantType(where, num, typ, protowire.BytesType); err != nil {
			return err
		}
		if num == 1 {
			k = string(val)
		} else {
			v = string(val)
		}
		return nil
	})
	return k, v, err
}

func parseGraph(b []byte) (*wireGraph, error) {
	g := &wireGraph{}
	const where = "GraphProto"
	err := eachField(b, where, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1, 5, 11, 12, 13, 15:
			if err := wantType(where, num, typ, protowire.BytesType); err != nil {
				return err
			}
		}
		switch num {
		case 1:
			n, err := parseNode(v, len(g.nodes))
			if err != nil {
				return err
			}
			g.nodes = append(g.nodes, n)
		case 5:
			t, err := parseTensor(v, fmt.Sprintf("initializer #%d", len(g.inits)))
			if err != nil {
				return err
			}
			g.inits = append(g.inits, t)
		case 15:
			g.sparse++
		case 11, 12, 13:
			val, err := parseValue(v)
			if err != nil {
				return err
			}
			switch num {
			case 11:
				g.inputs = append(g.inputs, val)
			case 12:
				g.outputs = append(g.outputs, val)
			default:
				g.valueInfos = append(g.valueInfos, val)
			}
		}
		return nil
	})
	return g, err
}

func parseNode(b []byte, idx int) (*wireNode, error) {
	n := &wireNode{}
	where := fmt.Sprintf("node #%d", idx)
	err := eachField(b, where, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		if num >= 1 && num <= 7 {
			if err := wantType(where, num, typ, protowire.BytesType); err != nil {
				return err
			}
		}
		switch num {
		case 1:
			n.inputs = append(n.inputs, string(v))
		case 2:
			n.outputs = append(n.outputs, string(v))
		case 3:
			n.name = string(v)
		case 4:
			n.op = string(v)
		case 7:
			n.domain = string(v)
		case 5:
			a, err := parseAttr(v, where)
			if err != nil {
				return err
			}
			n.attrs = append(n.attrs, a)
		}
		return nil
	})
	return n, err
}

func parseAttr(b []byte, nodeWhere string) (*wireAttr, error) {
	a := &wireAttr{}
	where := nodeWhere + " attribute"
	err := eachField(b, where, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		var err error
		if num < 32 {
			a.seen |= 1 << uint(num)
		}
		switch num {
		case 1:
			err = wantType(where, num, typ, protowire.BytesType)
			a.name = string(v)
			where = nodeWhere + fmt.Sprintf(" attribute %q", a.name)
		case 20:
			err = wantType(where, num, typ, protowire.VarintType)
			a.typ = int64(x)
		case 2:
			err = wantType(where, num, typ, protowire.Fixed32Type)
			a.f = math.Float32frombits(uint32(x))
		case 3:
			err = wantType(where, num, typ, protowire.VarintType)
			a.i = int64(x)
		case 4:
			err = wantType(where, num, typ, protowire.BytesType)
			a.s = v
		case 5:
			if err = wantType(where, num, typ, protowire.BytesType); err == nil {
				a.t, err = parseTensor(v, where)
			}
		case 7:
			a.floats, err = appendFloats(a.floats, where, num, typ, v, x)
		case 8:
			a.ints, err = appendVarints(a.ints, where, num, typ, v, x)
		case 9:
			err = wantType(where, num, typ, protowire.BytesType)
			a.strings = append(a.strings, v)
		case 6, 11:
			a.other = "graph"
		case 10:
			a.other = "tensor list"
		case 22, 23:
			a.other = "sparse tensor"
		case 14, 15:
			a.other = "type proto"
		case 21:
			a.other = "reference attribute"
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if a.typ == 0 { // ONNX files from before the type field: infer it
		switch {
		case a.seen&(1<<5) != 0:
			a.typ = 4
		case a.seen&(1<<7) != 0:
			a.typ = 6
		case a.seen&(1<<8) != 0:
			a.typ = 7
		case a.seen&(1<<9) != 0:
			a.typ = 8
		case a.seen&(1<<4) != 0:
			a.typ = 3
		case a.seen&(1<<2) != 0:
			a.typ = 1
		case a.seen&(1<<3) != 0:
			a.typ = 2
		}
	}
	return a, nil
}

func parseValue(b []byte) (*wireValue, error) {
	val := &wireValue{}
	where := "ValueInfoProto"
	err := eachField(b, where, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1:
			val.name = string(v)
			where = fmt.Sprintf("value %q", val.name)
		case 2: // TypeProto
			if err := wantType(where, num, typ, protowire.BytesType); err != nil {
				return err
			}
			val.hasType = true
			return eachField(v, where+" type", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				if num != 1 { // only tensor_type
					return nil
				}
				val.isTensor = true
				if err := wantType(where, num, typ, protowire.BytesType); err != nil {
					return err
				}
				return eachField(v, where+" type", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
					switch num {
					case 1:
						val.elemType = int32(x)
					case 2:
						if err := wantType(where, num, typ, protowire.BytesType); err != nil {
							return err
						}
						val.hasShape = true
						return eachField(v, where+" shape", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
							if num != 1 {
								return nil
							}
							if err := wantType(where, num, typ, protowire.BytesType); err != nil {
								return err
							}
							d := -1
							err := eachField(v, where+" dim", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
								if num == 1 {
									if err := wantType(where, num, typ, protowire.VarintType); err != nil {
										return err
									}
									if int64(x) < 0 || x > MaxElements {
										return formatErrorf(where, "dimension %d out of range", int64(x))
									}
									d = int(x)
								}
								return nil
							})
							val.dims = append(val.dims, d)
							return err
						})
					}
					return nil
				})
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, err := checkedCount(val.dims, where); err != nil {
		return nil, err
	}
	return val, nil
}

// checkedCount returns the element count of a shape whose unknown (-1)
// dimensions count as 1, failing on overflow or counts above MaxElements.
func checkedCount(dims []int, where string) (int, error) {
	n := 1
	for _, d := range dims {
		if d < 0 {
			continue
		}
		if d > MaxElements {
			return 0, formatErrorf(where, "dimension %d exceeds the limit of %d elements", d, MaxElements)
		}
		n *= d
		if n > MaxElements {
			return 0, formatErrorf(where, "shape %v exceeds the limit of %d elements", dims, MaxElements)
		}
	}
	return n, nil
}
