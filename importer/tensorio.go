package importer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// DecodeTensor decodes one serialized ONNX TensorProto, such as the
// input_0.pb / output_0.pb files of the ONNX test data, and returns it with
// its name. Float types (float, double, float16, bfloat16) become float32
// Data; integer and bool types become Ints. Tensors whose data lives in an
// external file are rejected: use Load for those. Malformed input yields a
// *FormatError, an element type without a numeric form (string, complex)
// an *UnsupportedFeatureError.
func DecodeTensor(data []byte) (*Tensor, string, error) {
	wt, err := parseTensor(data, "TensorProto")
	if err != nil {
		return nil, "", err
	}
	t, err := wt.decode("", fmt.Sprintf("tensor %q", wt.name))
	if err != nil {
		return nil, wt.name, err
	}
	return t, wt.name, nil
}

// decode converts the wire tensor to a Tensor. dir is where external data
// files live; "" forbids external data.
func (wt *wireTensor) decode(dir, where string) (*Tensor, error) {
	if wt.segment {
		return nil, &UnsupportedFeatureError{Where: where, Feature: "segmented tensor"}
	}
	shape := make([]int, len(wt.dims))
	for i, d := range wt.dims {
		if d < 0 || d > MaxElements {
			return nil, formatErrorf(where, "dimension %d out of range", d)
		}
		shape[i] = int(d)
	}
	n, err := checkedCount(shape, where)
	if err != nil {
		return nil, err
	}
	dt := wt.dataType
	if dt == dtString || dt > dtBfloat16 || dt == 14 || dt == 15 {
		return nil, &UnsupportedFeatureError{Where: where, Feature: "element type " + dtypeName(dt)}
	}
	if dt <= 0 {
		return nil, formatErrorf(where, "undefined element type %d", dt)
	}
	raw, hasRaw := wt.raw, wt.hasRaw
	if wt.dataLoc == 1 || wt.external != nil {
		if hasRaw || wt.hasTypedFd != 0 {
			return nil, formatErrorf(where, "tensor has both external and embedded data")
		}
		raw, err = readExternal(dir, where, wt.external, int64(n)*int64(elemSize(dt)))
		if err != nil {
			return nil, err
		}
		hasRaw = true
	}
	// Check the data against the shape before allocating for the shape: a
	// few bytes may declare a tensor of MaxElements.
	if hasRaw {
		if es := elemSize(dt); len(raw) != n*es {
			return nil, formatErrorf(where, "raw_data has %d bytes, shape %v of %s needs %d", len(raw), shape, dtypeName(dt), n*es)
		}
	} else if got := wt.typedLen(dt); got != n {
		return nil, formatErrorf(where, "has %d %s values, shape %v needs %d", got, dtypeName(dt), shape, n)
	}
	t := &Tensor{Shape: shape}
	isFloat := dt == dtFloat || dt == dtDouble || dt == dtFloat16 || dt == dtBfloat16
	if isFloat {
		t.Data = make([]float32, n)
	} else {
		t.Ints = make([]int64, n)
	}
	if hasRaw {
		es := elemSize(dt)
		for i := 0; i < n; i++ {
			b := raw[i*es:]
			switch dt {
			case dtFloat:
				t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(b))
			case dtDouble:
				t.Data[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b)))
			case dtFloat16:
				t.Data[i] = halfToFloat(binary.LittleEndian.Uint16(b))
			case dtBfloat16:
				t.Data[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16)
			case dtUint8, dtBool:
				t.Ints[i] = int64(b[0])
			case dtInt8:
				t.Ints[i] = int64(int8(b[0]))
			case dtUint16:
				t.Ints[i] = int64(binary.LittleEndian.Uint16(b))
			case dtInt16:
				t.Ints[i] = int64(int16(binary.LittleEndian.Uint16(b)))
			case dtInt32:
				t.Ints[i] = int64(int32(binary.LittleEndian.Uint32(b)))
			case dtUint32:
				t.Ints[i] = int64(binary.LittleEndian.Uint32(b))
			case dtInt64, dtUint64:
				t.Ints[i] = int64(binary.LittleEndian.Uint64(b))
			}
		}
		boolify(t, dt)
		return t, nil
	}
	switch dt {
	case dtFloat:
		copy(t.Data, wt.floats)
	case dtDouble:
		for i, v := range wt.doubles {
			t.Data[i] = float32(v)
		}
	case dtFloat16, dtBfloat16:
		for i, v := range wt.int32s {
			if dt == dtFloat16 {
				t.Data[i] = halfToFloat(uint16(v))
			} else {
				t.Data[i] = math.Float32frombits(uint32(uint16(v)) << 16)
			}
		}
	case dtInt64:
		copy(t.Ints, wt.int64s)
	case dtUint32, dtUint64:
		for i, v := range wt.uint64s {
			t.Ints[i] = int64(v)
		}
	default: // int32, int16, int8, uint16, uint8, bool
		for i, v := range wt.int32s {
			t.Ints[i] = int64(int32(v))
		}
	}
	boolify(t, dt)
	return t, nil
}

// typedLen returns the number of values of element type dt held in the
// typed (not raw) data field that ONNX uses for dt.
func (wt *wireTensor) typedLen(dt int32) int {
	switch dt {
	case dtFloat:
		return len(wt.floats)
	case dtDouble:
		return len(wt.doubles)
	case dtInt64:
		return len(wt.int64s)
	case dtUint32, dtUint64:
		return len(wt.uint64s)
	default: // float16, bfloat16, int32, int16, int8, uint16, uint8, bool
		return len(wt.int32s)
	}
}

// boolify maps the values of a bool tensor to 0 and 1.
func boolify(t *Tensor, dt int32) {
	if dt != dtBool {
		return
	}
	for i, v := range t.Ints {
		if v != 0 {
			t.Ints[i] = 1
		}
	}
}

// readExternal reads want bytes of external tensor data described by the
// external_data entries (location, offset, length) from a file under dir.
func readExternal(dir, where string, ext map[string]string, want int64) ([]byte, error) {
	loc := ext["location"]
	if loc == "" {
		return nil, formatErrorf(where, "external data without location")
	}
	if dir == "" {
		return nil, formatErrorf(where, "external data %q but no model directory", loc)
	}
	if !filepath.IsLocal(filepath.FromSlash(loc)) {
		return nil, formatErrorf(where, "external data location %q escapes the model directory", loc)
	}
	var off, length int64 = 0, -1
	var err error
	if s, ok := ext["offset"]; ok {
		if off, err = strconv.ParseInt(s, 10, 64); err != nil || off < 0 {
			return nil, formatErrorf(where, "bad external data offset %q", s)
		}
	}
	if s, ok := ext["length"]; ok {
		if length, err = strconv.ParseInt(s, 10, 64); err != nil || length < 0 {
			return nil, formatErrorf(where, "bad external data length %q", s)
		}
		if length != want {
			return nil, formatErrorf(where, "external data length %d, shape needs %d bytes", length, want)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, &FormatError{Where: where, Msg: "external data: model directory", Err: err}
	}
	defer root.Close()
	// Through root, a symbolic link leading out of dir is refused like a
	// "../" location; the file must be regular (not /dev/zero, a FIFO).
	f, size, err := openRegular(func(flag int) (*os.File, error) {
		return root.OpenFile(filepath.FromSlash(loc), flag, 0)
	}, math.MaxInt64)
	if err != nil {
		return nil, &FormatError{Where: where, Msg: fmt.Sprintf("external data file %q (must be a regular file in the model directory)", loc), Err: err}
	}
	defer f.Close()
	if length < 0 && size-off != want {
		return nil, formatErrorf(where, "external data file %q has %d bytes after offset %d, shape needs %d", loc, size-off, off, want)
	}
	if off > size || want > size-off { // checked before allocating; no overflow

		return nil, formatErrorf(where, "external data file %q has %d bytes, need %d at offset %d", loc, size, want, off)
	}
	buf := make([]byte, want)
	if _, err := f.ReadAt(buf, off); err != nil && !(errors.Is(err, io.EOF) && want == 0) {
		return nil, &FormatError{Where: where, Msg: "reading external data " + loc, Err: err}
	}
	return buf, nil
}

// halfToFloat converts IEEE 754 binary16 bits to float32.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf, nan
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case exp == 0:
		if frac == 0 {
			return math.Float32frombits(sign)
		}
		// subnormal: frac * 2^-24
		v := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}

// encodeTensor serializes t as a TensorProto with raw_data: float32 for
// float tensors, int64 for integer ones. A tensor with no elements is
// written with one zero element and dims [1]; callers keep the true shape.
func encodeTensor(dst []byte, name string, t *Tensor) []byte {
	dims := t.Shape
	n := t.Len()
	if n == 0 {
		dims = []int{1}
	}
	if len(dims) > 0 {
		var packed []byte
		for _, d := range dims {
			packed = protowire.AppendVarint(packed, uint64(d))
		}
		dst = protowire.AppendTag(dst, 1, protowire.BytesType)
		dst = protowire.AppendBytes(dst, packed)
	}
	dt := uint64(dtFloat)
	if t.IsInt() {
		dt = dtInt64
	}
	dst = protowire.AppendTag(dst, 2, protowire.VarintType)
	dst = protowire.AppendVarint(dst, dt)
	if name != "" {
		dst = protowire.AppendTag(dst, 8, protowire.BytesType)
		dst = protowire.AppendString(dst, name)
	}
	var raw []byte
	if t.IsInt() {
		raw = make([]byte, 8*max(n, 1))
		for i, v := range t.Ints {
			binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
		}
	} else {
		raw = make([]byte, 4*max(n, 1))
		for i, v := range t.Data {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
	}
	dst = protowire.AppendTag(dst, 9, protowire.BytesType)
	return protowire.AppendBytes(dst, raw)
}

// parseTensor reads the fields of one TensorProto without decoding its data.
func parseTensor(b []byte, where string) (*wireTensor, error) {
	t := &wireTensor{}
	err := eachField(b, where, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		var err error
		switch num {
		case 1:
			t.dims, err = appendVarints(t.dims, where, num, typ, v, x)
		case 2:
			err = wantType(where, num, typ, protowire.VarintType)
			t.dataType = int32(x)
		case 3:
			t.segment = true
		case 4:
			t.floats, err = appendFloats(t.floats, where, num, typ, v, x)
			t.hasTypedFd |= 1 << 4
		case 5:
			t.int32s, err = appendVarints(t.int32s, where, num, typ, v, x)
			t.hasTypedFd |= 1 << 5
		case 6:
			t.nStrings++
		case 7:
			t.int64s, err = appendVarints(t.int64s, where, num, typ, v, x)
			t.hasTypedFd |= 1 << 7
		case 8:
			err = wantType(where, num, typ, protowire.BytesType)
			t.name = string(v)
		case 9:
			err = wantType(where, num, typ, protowire.BytesType)
			t.raw, t.hasRaw = v, true
		case 10:
			t.doubles, err = appendDoubles(t.doubles, where, num, typ, v, x)
			t.hasTypedFd |= 1 << 10
		case 11:
			var u []int64
			u, err = appendVarints(nil, where, num, typ, v, x)
			for _, y := range u {
				t.uint64s = append(t.uint64s, uint64(y))
			}
			t.hasTypedFd |= 1 << 11
		case 13:
			if err = wantType(where, num, typ, protowire.BytesType); err != nil {
				return err
			}
			k, val, err := parseStringPair(v, where+" external_data")
			if err != nil {
				return err
			}
			if t.external == nil {
				t.external = map[string]string{}
			}
			t.external[k] = val
		case 14:
			err = wantType(where, num, typ, protowire.VarintType)
			t.dataLoc = int64(x)
		}
		return err
	})
	return t, err
}
