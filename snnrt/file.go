package snnrt

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"

	"github.com/ann2snn/ann2snn/internal/atomicfile"
	"github.com/ann2snn/ann2snn/internal/kernels"
)

// The .snn file layout (see docs/format.md):
//
//	offset 0   magic "ANN2SNN\n"              8 bytes
//	       8   format version, uint32 LE
//	      12   header length H, uint64 LE
//	      20   JSON header, H bytes (space-padded so the data is 8-aligned)
//	    20+H   data: little-endian float32 tensors, D bytes
//	  20+H+D   CRC-32C (Castagnoli) of bytes [0, 20+H+D), uint32 LE
const (
	// Magic is the first 8 bytes of every .snn file.
	Magic = "ANN2SNN\n"
	// FormatVersion is the version this package writes and reads.
	FormatVersion = 1
	// FormatName is the "format" field of the JSON header.
	FormatName = "ann2snn.snn"

	prefixLen  = 20
	trailerLen = 4
	maxHeader  = 64 << 20 // generous: a header lists layers, not weights
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type fileHeader struct {
	Format   string            `json:"format"`
	Input    [3]int            `json:"input"`
	Output   int               `json:"output"`
	Metadata map[string]string `json:"metadata,omitempty"`
	Layers   []fileLayer       `json:"layers"`
	Tensors  []fileTensor      `json:"tensors"`
	DataLen  int64             `json:"data_len"`
}

type fileLayer struct {
	Name    string         `json:"name"`
	Kind    string         `json:"kind"`
	Inputs  []int          `json:"inputs"`
	Shape   [3]int         `json:"shape"`
	Conv    *fileConv      `json:"conv,omitempty"`
	Pool    *filePool      `json:"pool,omitempty"`
	MaxPool string         `json:"maxpool_mode,omitempty"`
	Neuron  *fileNeuron    `json:"neuron,omitempty"`
	Params  map[string]int `json:"params,omitempty"` // role → index into tensors
}

type fileConv struct {
	C       int `json:"c"`
	H       int `json:"h"`
	W       int `json:"w"`
	K       int `json:"k"`
	KH      int `json:"kh"`
	KW      int `json:"kw"`
	StrideH int `json:"stride_h"`
	StrideW int `json:"stride_w"`
	PadT    int `json:"pad_t"`
	PadL    int `json:"pad_l"`
	PadB    int `json:"pad_b"`
	PadR    int `json:"pad_r"`
	DilH    int `json:"dil_h"`
	DilW    int `json:"dil_w"`
	Group   int `json:"group"`
}

type filePool struct {
	C               int  `json:"c"`
	H               int  `json:"h"`
	W               int  `json:"w"`
	KH              int  `json:"kh"`
	KW              int  `json:"kw"`
	StrideH         int  `json:"stride_h"`
	StrideW         int  `json:"stride_w"`
	PadT            int  `json:"pad_t"`
	PadL            int  `json:"pad_l"`
	PadB            int  `json:"pad_b"`
	PadR            int  `json:"pad_r"`
	CeilMode        bool `json:"ceil_mode"`
	CountIncludePad bool `json:"count_include_pad"`
}

type fileNeuron struct {
	Reset     string `json:"reset"`
	MaxSpikes int    `json:"max_spikes"`
	Signed    bool   `json:"signed"`
}

type fileTensor struct {
	Name   string `json:"name"`
	DType  string `json:"dtype"`
	Shape  []int  `json:"shape"`
	Offset int64  `json:"offset"` // bytes from the start of the data section
	Length int64  `json:"length"` // bytes
}

// Parameter roles in fileLayer.Params.
const (
	roleW     = "W"
	roleB     = "B"
	roleTheta = "theta"
	roleV0    = "v0"
)

// WriteTo writes m as a .snn file to w. It validates m first and returns
// the number of bytes written. It implements io.WriterTo.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if _, _, _, err := RecordedExit(m.Metadata); err != nil {
		return 0, fmt.Errorf("snnrt: WriteTo: %w", err)
	}
	h := fileHeader{Format: FormatName, Input: [3]int{m.Input.C, m.Input.H, m.Input.W},
		Output: m.Output, Metadata: m.Metadata, Layers: make([]fileLayer, len(m.Layers))}
	var blobs [][]float32
	addTensor := func(fl *fileLayer, li int, role string, data []float32, shape []int) {
		if data == nil {
			return
		}
		if fl.Params == nil {
			fl.Params = map[string]int{}
		}
		fl.Params[role] = len(h.Tensors)
		h.Tensors = append(h.Tensors, fileTensor{Name: fmt.Sprintf("layers.%d.%s", li, role),
			DType: "float32", Shape: shape, Offset: h.DataLen, Length: 4 * int64(len(data))})
		h.DataLen += 4 * int64(len(data))
		blobs = append(blobs, data)
	}
	for i := range m.Layers {
		l := &m.Layers[i]
		fl := &h.Layers[i]
		*fl = fileLayer{Name: l.Name, Kind: l.Kind.String(), Inputs: l.Inputs,
			Shape: [3]int{l.Shape.C, l.Shape.H, l.Shape.W}}
		switch l.Kind {
		case KindConv:
			g := l.Conv
			fl.Conv = &fileConv{g.C, g.H, g.W, g.K, g.KH, g.KW, g.StrideH, g.StrideW,
				g.PadT, g.PadL, g.PadB, g.PadR, g.DilH, g.DilW, g.Group}
			addTensor(fl, i, roleW, l.W, []int{g.K, g.C / one(g.Group), g.KH, g.KW})
			addTensor(fl, i, roleB, l.B, []int{g.K})
		case KindLinear:
			addTensor(fl, i, roleW, l.W, []int{l.Shape.C, len(l.W) / l.Shape.C})
			addTensor(fl, i, roleB, l.B, []int{l.Shape.C})
		case KindAvgPool, KindMaxPool:
			p := l.Pool
			fl.Pool = &filePool{p.C, p.H, p.W, p.KH, p.KW, p.StrideH, p.StrideW,
				p.PadT, p.PadL, p.PadB, p.PadR, p.CeilMode, p.CountIncludePad}
			if l.Kind == KindMaxPool {
				fl.MaxPool = l.MaxPool.String()
			}
		case KindIF:
			n := &l.IF
			fl.Neuron = &fileNeuron{Reset: n.Reset.String(), MaxSpikes: n.MaxSpikes, Signed: n.Signed}
			addTensor(fl, i, roleTheta, n.Theta, []int{len(n.Theta)})
			addTensor(fl, i, roleV0, n.V0, []int{len(n.V0)})
		}
	}
	js, err := json.Marshal(&h)
	if err != nil {
		return 0, fmt.Errorf("snnrt: encoding .snn header: %w", err)
	}
	if pad := (prefixLen + len(js)) % 8; pad != 0 {
		js = append(js, bytes.Repeat([]byte{' '}, 8-pad)...)
	}
	crc := crc32.New(castagnoli)
	cw := &countWriter{w: io.MultiWriter(w, crc)}
	var pre [prefixLen]byte
	copy(pre[:], Magic)
	binary.LittleEndian.PutUint32(pre[8:], FormatVersion)
	binary.LittleEndian.PutUint64(pre[12:], uint64(len(js)))
	cw.Write(pre[:])
	cw.Write(js)
	var buf []byte
	for _, b := range blobs {
		buf = buf[:0]
		for _, v := range b {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		cw.Write(buf)
	}
	var tr [trailerLen]byte
	binary.LittleEndian.PutUint32(tr[:], crc.Sum32())
	if cw.err == nil {
		_, cw.err = w.Write(tr[:])
		cw.n += trailerLen
	}
	if cw.err != nil {
		return cw.n, fmt.Errorf("snnrt: writing .snn: %w", cw.err)
	}
	return cw.n, nil
}

// countWriter counts bytes and remembers the first error, after which it
// writes nothing.
type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// Save writes m to path atomically: it writes a temporary file in the same
// directory, syncs it and renames it over path, so path holds either the
// old content or the complete new file, never a partial one.
func (m *Model) Save(path string) error {
	if err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := m.WriteTo(w)
		return err
	}); err != nil {
		return fmt.Errorf("snnrt: saving %s: %w", path, err)
	}
	return nil
}

// Load reads the .snn file at path.
func Load(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("snnrt: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("snnrt: %w", err)
	}
	m, err := ReadModel(bufio.NewReaderSize(f, 1<<20), st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ReadModel reads a .snn file of exactly size bytes from r and returns the
// validated model. Every length in the file is checked against size before
// anything is allocated, and the model's layer count and per-image memory
// against MaxLayers and MaxImageBytes (Validate) before it is returned, so
// that a small crafted file cannot make a simulator allocate gigabytes. Errors: *UnsupportedError for another format
// version or an unknown dtype; *FormatError (wrapping ErrChecksum,
// ErrTruncated, io errors or a description) for a malformed or corrupted
// file, including one that decodes to an invalid Model.
func ReadModel(r io.Reader, size int64) (*Model, error) {
	if size < prefixLen+trailerLen {
		return nil, &FormatError{"file", fmt.Errorf("%d bytes, shorter than the %d-byte minimum", size, prefixLen+trailerLen)}
	}
	crc := crc32.New(castagnoli)
	tr := io.TeeReader(r, crc)
	var pre [prefixLen]byte
	if err := readFull(tr, pre[:], "prefix"); err != nil {
		return nil, err
	}
	if string(pre[:8]) != Magic {
		return nil, &FormatError{"magic", fmt.Errorf("got %q, want %q (not a .snn file)", pre[:8], Magic)}
	}
	if v := binary.LittleEndian.Uint32(pre[8:]); v != FormatVersion {
		return nil, &UnsupportedError{fmt.Sprintf("format version %d (this tool reads version %d)", v, FormatVersion)}
	}
	hlen := binary.LittleEndian.Uint64(pre[12:])
	if hlen > uint64(size-prefixLen-trailerLen) || hlen > maxHeader {
		return nil, &FormatError{"header", fmt.Errorf("header length %d does not fit in a %d-byte file", hlen, size)}
	}
	hdr := make([]byte, hlen)
	if err := readFull(tr, hdr, "header"); err != nil {
		return nil, err
	}
	dlen := size - prefixLen - trailerLen - int64(hlen)
	if dlen%4 != 0 {
		return nil, &FormatError{"data", fmt.Errorf("data section of %d bytes is not a multiple of 4", dlen)}
	}
	data := make([]float32, dlen/4)
	buf := make([]byte, min(dlen, 1<<20))
	for off := int64(0); off < dlen; {
		b := buf[:min(int64(len(buf)), dlen-off)]
		if err := readFull(tr, b, "data"); err != nil {
			return nil, err
		}
		for j := 0; j < len(b); j += 4 {
			data[(off+int64(j))/4] = math.Float32frombits(binary.LittleEndian.Uint32(b[j:]))
		}
		off += int64(len(b))
	}
	want := crc.Sum32()
	var trl [trailerLen]byte
	if err := readFull(r, trl[:], "checksum"); err != nil {
		return nil, err
	}
	if got := binary.LittleEndian.Uint32(trl[:]); got != want {
		return nil, &FormatError{"checksum", fmt.Errorf("%w: stored %08x, computed %08x", ErrChecksum, got, want)}
	}
	return decodeModel(hdr, data)
}

func readFull(r io.Reader, b []byte, what string) error {
	if _, err := io.ReadFull(r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = ErrTruncated
		}
		return &FormatError{what, err}
	}
	return nil
}

// decodeModel builds the Model described by the JSON header hdr over the
// data section data.
func decodeModel(hdr []byte, data []float32) (*Model, error) {
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.DisallowUnknownFields()
	var h fileHeader
	if err := dec.Decode(&h); err != nil {
		return nil, &FormatError{"header", err}
	}
	if h.Format != FormatName {
		return nil, &FormatError{"header", fmt.Errorf("format %q, want %q", h.Format, FormatName)}
	}
	if len(h.Layers) > MaxLayers {
		return nil, &FormatError{"header", fmt.Errorf("%d layers, more than the limit of %d (MaxLayers)", len(h.Layers), MaxLayers)}
	}
	if _, _, _, err := RecordedExit(h.Metadata); err != nil {
		return nil, &FormatError{"header", err}
	}
	if h.DataLen != 4*int64(len(data)) {
		return nil, &FormatError{"header", fmt.Errorf("data_len %d, but the data section has %d bytes", h.DataLen, 4*len(data))}
	}
	tensors := make([][]float32, len(h.Tensors))
	for i, t := range h.Tensors {
		what := fmt.Sprintf("tensor %d %q", i, t.Name)
		if t.DType != "float32" {
			return nil, &UnsupportedError{fmt.Sprintf("%s: dtype %q", what, t.DType)}
		}
		if t.Offset < 0 || t.Length < 0 || t.Offset%4 != 0 || t.Length%4 != 0 || t.Offset > h.DataLen || t.Length > h.DataLen-t.Offset {
			return nil, &FormatError{what, fmt.Errorf("offset %d length %d outside the %d-byte data section", t.Offset, t.Length, h.DataLen)}
		}
		n := int64(1)
		for _, d := range t.Shape {
			if d < 0 || (d > 0 && n > t.Length/4/int64(d)) {
				return nil, &FormatError{what, fmt.Errorf("shape %v does not fit in %d bytes", t.Shape, t.Length)}
			}
			n *= int64(d)
		}
		if 4*n != t.Length {
			return nil, &FormatError{what, fmt.Errorf("shape %v has %d elements, length is %d bytes", t.Shape, n, t.Length)}
		}
		tensors[i] = data[t.Offset/4 : (t.Offset+t.Length)/4 : (t.Offset+t.Length)/4]
	}
	m := &Model{Input: Shape{h.Input[0], h.Input[1], h.Input[2]}, Output: h.Output,
		Metadata: h.Metadata, Layers: make([]Layer, len(h.Layers))}
	for i, fl := range h.Layers {
		lerr := func(err error) error {
			return &FormatError{fmt.Sprintf("layer %d %q", i, fl.Name), err}
		}
		k, err := ParseKind(fl.Kind)
		if err != nil {
			return nil, &UnsupportedError{fmt.Sprintf("layer %d: kind %q", i, fl.Kind)}
		}
		l := &m.Layers[i]
		*l = Layer{Name: fl.Name, Kind: k, Inputs: fl.Inputs, Shape: Shape{fl.Shape[0], fl.Shape[1], fl.Shape[2]}}
		param := func(role string) ([]float32, error) {
			j, ok := fl.Params[role]
			if !ok {
				return nil, nil
			}
			if j < 0 || j >= len(tensors) {
				return nil, fmt.Errorf("param %s refers to tensor %d of %d", role, j, len(tensors))
			}
			return tensors[j], nil
		}
		allowed := map[string]bool{}
		switch k {
		case KindConv, KindLinear:
			allowed[roleW], allowed[roleB] = true, true
			if k == KindConv {
				c := fl.Conv
				if c == nil {
					return nil, lerr(errors.New("missing conv geometry"))
				}
				l.Conv = kernelsConvGeom(c)
			}
		case KindAvgPool, KindMaxPool:
			p := fl.Pool
			if p == nil {
				return nil, lerr(errors.New("missing pool geometry"))
			}
			l.Pool = PoolGeom{C: p.C, H: p.H, W: p.W, KH: p.KH, KW: p.KW, StrideH: p.StrideH, StrideW: p.StrideW,
				PadT: p.PadT, PadL: p.PadL, PadB: p.PadB, PadR: p.PadR, CeilMode: p.CeilMode, CountIncludePad: p.CountIncludePad}
			if k == KindMaxPool {
				if l.MaxPool, err = ParseMaxPoolMode(fl.MaxPool); err != nil {
					return nil, lerr(err)
				}
			}
		case KindIF:
			allowed[roleTheta], allowed[roleV0] = true, true
			if fl.Neuron == nil {
				return nil, lerr(errors.New("missing neuron settings"))
			}
			if l.IF.Reset, err = ParseResetMode(fl.Neuron.Reset); err != nil {
				return nil, lerr(err)
			}
			l.IF.MaxSpikes, l.IF.Signed = fl.Neuron.MaxSpikes, fl.Neuron.Signed
		}
		for role := range fl.Params {
			if !allowed[role] {
				return nil, lerr(fmt.Errorf("unexpected parameter %q for a %v layer", role, k))
			}
		}
		var perr error
		set := func(dst *[]float32, role string) {
			if perr == nil {
				*dst, perr = param(role)
			}
		}
		set(&l.W, roleW)
		set(&l.B, roleB)
		set(&l.IF.Theta, roleTheta)
		set(&l.IF.V0, roleV0)
		if perr != nil {
			return nil, lerr(perr)
		}
	}
	if err := m.Validate(); err != nil {
		return nil, &FormatError{"model", err}
	}
	return m, nil
}

func kernelsConvGeom(c *fileConv) kernels.ConvGeom {
	return kernels.ConvGeom{C: c.C, H: c.H, W: c.W, K: c.K, KH: c.KH, KW: c.KW,
		StrideH: c.StrideH, StrideW: c.StrideW, PadT: c.PadT, PadL: c.PadL, PadB: c.PadB, PadR: c.PadR,
		DilH: c.DilH, DilW: c.DilW, Group: c.Group}
}
