package dataset

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// DType is the element type of an .npy array.
type DType uint8

// Supported .npy element types (little-endian for multi-byte types).
const (
	Uint8   DType = iota + 1 // |u1
	Int8                     // |i1
	Int16                    // <i2
	Int32                    // <i4
	Int64                    // <i8
	Float32                  // <f4
	Float64                  // <f8
)

var dtypeInfo = [...]struct {
	code string
	size int
}{
	Uint8: {"u1", 1}, Int8: {"i1", 1}, Int16: {"i2", 2}, Int32: {"i4", 4},
	Int64: {"i8", 8}, Float32: {"f4", 4}, Float64: {"f8", 8},
}

// String returns the NumPy type code, such as "f4".
func (t DType) String() string {
	if int(t) < len(dtypeInfo) && t != 0 {
		return dtypeInfo[t].code
	}
	return fmt.Sprintf("DType(%d)", t)
}

// Array is a decoded .npy array, row-major (C order). Exactly one of the
// value slices is non-nil, chosen by DType: Uint8 for Uint8; Int64 for
// Int8, Int16, Int32 and Int64; Float32 for Float32; Float64 for Float64.
type Array struct {
	Shape   []int
	DType   DType
	Uint8   []uint8
	Int64   []int64
	Float32 []float32
	Float64 []float64
}

// Len returns the number of elements, the product of Shape.
func (a *Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// maxNPYHeader bounds the header dictionary; NumPy itself refuses headers
// over 10000 bytes by default.
const maxNPYHeader = 1 << 20

// ReadNPY decodes a NumPy .npy stream (format versions 1.0, 2.0 and 3.0),
// gzip-compressed or plain, holding a C-order array of one of the DType
// element types. It returns an *UnsupportedError for Fortran order,
// big-endian data or other element types, and a *FormatError for malformed
// or truncated input or trailing bytes.
func ReadNPY(r io.Reader) (*Array, error) {
	in, err := newInput("", "npy", r, -1)
	if err != nil {
		return nil, err
	}
	return readNPY(in)
}

// ReadNPYFile is ReadNPY for a file. A shape claiming more data than the
// file can hold is rejected before any large allocation.
func ReadNPYFile(path string) (*Array, error) {
	in, err := openInput(path, "npy")
	if err != nil {
		return nil, err
	}
	defer in.close()
	return readNPY(in)
}

func readNPY(in *input) (*Array, error) {
	var pre [10]byte
	if err := in.readFull(pre[:8], "magic"); err != nil {
		return nil, err
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return nil, in.errf(nil, "bad magic %q, want \"\\x93NUMPY\"", pre[:6])
	}
	major, minor := pre[6], pre[7]
	var hlen int64
	switch major {
	case 1:
		if err := in.readFull(pre[8:10], "header length"); err != nil {
			return nil, err
		}
		hlen = int64(binary.LittleEndian.Uint16(pre[8:10]))
	case 2, 3:
		if err := in.readFull(pre[6:10], "header length"); err != nil {
			return nil, err
		}
		hlen = int64(binary.LittleEndian.Uint32(pre[6:10]))
	default:
		return nil, in.unsupported("format version %d.%d", major, minor)
	}
	if hlen > maxNPYHeader {
		return nil, in.errf(nil, "header length %d exceeds %d", hlen, maxNPYHeader)
	}
	hdr, err := in.readN(hlen, "header")
	if err != nil {
		return nil, err
	}
	descr, fortran, shape, err := parseNPYHeader(string(hdr))
	if err != nil {
		return nil, in.errf(nil, "bad header %q: %v", truncate(string(hdr), 200), err)
	}
	dt, err := parseDescr(in, descr)
	if err != nil {
		return nil, err
	}
	if fortran {
		return nil, in.unsupported("fortran_order True (save a C-order array, e.g. np.ascontiguousarray)")
	}
	var total uint64 = 1
	for _, d := range shape {
		hi, lo := bits.Mul64(total, uint64(d))
		if hi != 0 || lo > 1<<58 {
			return nil, in.errf(nil, "shape %v too large", shape)
		}
		total = lo
	}
	size := dtypeInfo[dt].size
	raw, err := in.readN(int64(total)*int64(size), fmt.Sprintf("%v %s array", shape, dt))
	if err != nil {
		return nil, err
	}
	if err := in.expectEOF("data"); err != nil {
		return nil, err
	}
	a := &Array{Shape: shape, DType: dt}
	n := int(total)
	le := binary.LittleEndian
	switch dt {
	case Uint8:
		a.Uint8 = raw
	case Int8:
		a.Int64 = make([]int64, n)
		for i := range a.Int64 {
			a.Int64[i] = int64(int8(raw[i]))
		}
	case Int16:
		a.Int64 = make([]int64, n)
		for i := range a.Int64 {
			a.Int64[i] = int64(int16(le.Uint16(raw[2*i:])))
		}
	case Int32:
		a.Int64 = make([]int64, n)
		for i := range a.Int64 {
			a.Int64[i] = int64(int32(le.Uint32(raw[4*i:])))
		}
	case Int64:
		a.Int64 = make([]int64, n)
		for i := range a.Int64 {
			a.Int64[i] = int64(le.Uint64(raw[8*i:]))
		}
	case Float32:
		a.Float32 = make([]float32, n)
		for i := range a.Float32 {
			a.Float32[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
	case Float64:
		a.Float64 = make([]float64, n)
		for i := range a.Float64 {
			a.Float64[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
	}
	return a, nil
}

// parseDescr maps a NumPy type string such as "<f4" or "|u1" to a DType.
func parseDescr(in *input, descr string) (DType, error) {
	if len(descr) != 3 {
		return 0, in.unsupported("dtype %q", descr)
	}
	order, code := descr[0], descr[1:]
	var dt DType
	for t := Uint8; t <= Float64; t++ {
		if dtypeInfo[t].code == code {
			dt = t
		}
	}
	if dt == 0 {
		return 0, in.unsupported("dtype %q (supported: u1 i1 i2 i4 i8 f4 f8)", descr)
	}
	switch {
	case order == '<' || order == '|':
	case dtypeInfo[dt].size == 1 && (order == '>' || order == '='):
	case order == '>':
		return 0, in.unsupported("big-endian dtype %q (convert with arr.astype(arr.dtype.newbyteorder('<')))", descr)
	default:
		return 0, in.unsupported("byte order %q in dtype %q", order, descr)
	}
	return dt, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// parseNPYHeader parses the Python dict literal of an .npy header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (10, 28, 28), }.
func parseNPYHeader(s string) (descr string, fortran bool, shape []int, err error) {
	p := &pyParser{s: s}
	var haveDescr, haveFortran, haveShape bool
	p.space()
	if !p.eat('{') {
		return "", false, nil, p.fail("want '{'")
	}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return "", false, nil, err
		}
		p.space()
		if !p.eat(':') {
			return "", false, nil, p.fail("want ':'")
		}
		p.space()
		switch key {
		case "descr":
			if p.peek() == '[' {
				return "", false, nil, fmt.Errorf("structured dtypes are not supported")
			}
			descr, err = p.str()
			haveDescr = true
		case "fortran_order":
			fortran, err = p.boolean()
			haveFortran = true
		case "shape":
			shape, err = p.tuple()
			haveShape = true
		default:
			return "", false, nil, fmt.Errorf("unexpected key %q", key)
		}
		if err != nil {
			return "", false, nil, err
		}
		p.space()
		if p.eat('}') {
			break
		}
		if !p.eat(',') {
			return "", false, nil, p.fail("want ',' or '}'")
		}
	}
	if !haveDescr || !haveFortran || !haveShape {
		return "", false, nil, fmt.Errorf("want keys descr, fortran_order and shape")
	}
	return descr, fortran, shape, nil
}

// pyParser reads the small subset of Python literals used by .npy headers.
type pyParser struct {
	s string
	i int
}

func (p *pyParser) fail(msg string) error { return fmt.Errorf("offset %d: %s", p.i, msg) }

func (p *pyParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *pyParser) eat(c byte) bool {
	if p.peek() == c && p.i < len(p.s) {
		p.i++
		return true
	}
	return false
}

func (p *pyParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", p.fail("want a string")
	}
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", p.fail("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	if strings.IndexByte(v, '\\') >= 0 {
		return "", p.fail("escapes in strings are not supported")
	}
	p.i += end + 2
	return v, nil
}

func (p *pyParser) boolean() (bool, error) {
	for _, w := range []struct {
		s string
		v bool
	}{{"True", true}, {"False", false}} {
		if strings.HasPrefix(p.s[p.i:], w.s) {
			p.i += len(w.s)
			return w.v, nil
		}
	}
	return false, p.fail("want True or False")
}

// tuple parses "()", "(5,)" or "(3, 4)"; Python 2 "L" suffixes are allowed.
func (p *pyParser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, p.fail("want '('")
	}
	dims := []int{}
	for {
		p.space()
		if p.eat(')') {
			return dims, nil
		}
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j == p.i {
			return nil, p.fail("want a non-negative integer")
		}
		v, err := strconv.ParseInt(p.s[p.i:j], 10, 64)
		if err != nil || v > math.MaxInt32*int64(1<<20) {
			return nil, p.fail("dimension too large")
		}
		dims = append(dims, int(v))
		p.i = j
		p.eat('L')
		p.space()
		if p.eat(')') {
			return dims, nil
		}
		if !p.eat(',') {
			return nil, p.fail("want ',' or ')'")
		}
		if len(dims) > 32 {
			return nil, p.fail("more than 32 dimensions")
		}
	}
}
