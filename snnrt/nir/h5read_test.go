package nir

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// h5 is a reader, for tests only, of the HDF5 subset that NIR files use,
// written from the HDF5 File Format Specification 3.0 and independent of
// internal/hdf5's writer: superblock version 2, version 2 object headers
// ("OHDR", one chunk), compact groups (Link messages), and contiguous or
// compact datasets of float32, float64, signed 64-bit integers and
// variable-length strings (global heap "GCOL"). Anything else is an
// error, so a file outside the subset fails the test instead of being
// misread. Offsets and lengths must be 8 bytes.
type h5 struct{ b []byte }

// h5Object is one object: a group's links or a dataset's values (exactly
// one of F32, F64, I64, Str set), with its shape (nil for a scalar).
type h5Object struct {
	Links map[string]uint64
	Shape []int
	F32   []float32
	F64   []float64
	I64   []int64
	Str   []string
}

func (f *h5) u8(at uint64) (byte, error) {
	if at >= uint64(len(f.b)) {
		return 0, fmt.Errorf("h5: read of byte %d past the end (%d)", at, len(f.b))
	}
	return f.b[at], nil
}

func (f *h5) slice(at, n uint64) ([]byte, error) {
	if at > uint64(len(f.b)) || n > uint64(len(f.b))-at {
		return nil, fmt.Errorf("h5: read of %d bytes at %d past the end (%d)", n, at, len(f.b))
	}
	return f.b[at : at+n], nil
}

// root checks the superblock and returns the root group's address.
func (f *h5) root() (uint64, error) {
	sb, err := f.slice(0, 48)
	if err != nil {
		return 0, err
	}
	if !bytes.Equal(sb[:8], []byte("\x89HDF\r\n\x1a\n")) {
		return 0, fmt.Errorf("h5: bad signature %q", sb[:8])
	}
	if sb[8] != 2 || sb[9] != 8 || sb[10] != 8 {
		return 0, fmt.Errorf("h5: superblock version %d, offsets %d, lengths %d; want 2, 8, 8", sb[8], sb[9], sb[10])
	}
	le := binary.LittleEndian
	if base := le.Uint64(sb[12:]); base != 0 {
		return 0, fmt.Errorf("h5: base address %d", base)
	}
	if eof := le.Uint64(sb[28:]); eof != uint64(len(f.b)) {
		return 0, fmt.Errorf("h5: end-of-file address %d, file has %d bytes", eof, len(f.b))
	}
	return le.Uint64(sb[36:]), nil
}

// object reads the object header at addr.
func (f *h5) object(addr uint64) (*h5Object, error) {
	le := binary.LittleEndian
	pre, err := f.slice(addr, 6)
	if err != nil {
		return nil, err
	}
	if string(pre[:4]) != "OHDR" || pre[4] != 2 {
		return nil, fmt.Errorf("h5: object at %d: signature %q version %d", addr, pre[:4], pre[4])
	}
	flags := pre[5]
	at := addr + 6
	if flags&0x20 != 0 {
		at += 16 // times
	}
	if flags&0x10 != 0 {
		at += 4 // attribute phase change
	}
	sizeLen := uint64(1) << (flags & 3)
	raw, err := f.slice(at, sizeLen)
	if err != nil {
		return nil, err
	}
	var chunk uint64
	for i := int(sizeLen) - 1; i >= 0; i-- {
		chunk = chunk<<8 | uint64(raw[i])
	}
	at += sizeLen
	msgs, err := f.slice(at, chunk)
	if err != nil {
		return nil, err
	}
	o := &h5Object{}
	var dtype []byte
	var layoutAddr, layoutSize uint64
	var compact []byte
	haveLayout, haveSpace := false, false
	for p := 0; p+4 <= len(msgs); {
		typ, size, mflags := msgs[p], int(le.Uint16(msgs[p+1:])), msgs[p+3]
		p += 4
		if mflags&0x04 != 0 {
			p += 2
		}
		if p+size > len(msgs) {
			return nil, fmt.Errorf("h5: object at %d: message of %d bytes overruns the chunk", addr, size)
		}
		m := msgs[p : p+size]
		p += size
		switch typ {
		case 0x00, 0x02, 0x05, 0x0A: // NIL, link info, fill value, group info
		case 0x01: // dataspace
			if len(m) < 4 || m[0] != 2 {
				return nil, fmt.Errorf("h5: object at %d: dataspace %x", addr, m)
			}
			rank := int(m[1])
			if m[3] == 0 && rank == 0 {
				o.Shape = nil
			} else if m[3] == 1 {
				if len(m) < 4+8*rank {
					return nil, fmt.Errorf("h5: object at %d: short dataspace", addr)
				}
				o.Shape = make([]int, rank)
				for i := range o.Shape {
					o.Shape[i] = int(le.Uint64(m[4+8*i:]))
				}
			} else {
				return nil, fmt.Errorf("h5: object at %d: dataspace type %d", addr, m[3])
			}
			haveSpace = true
		case 0x03:
			dtype = m
		case 0x06: // link
			if o.Links == nil {
				o.Links = map[string]uint64{}
			}
			if len(m) < 2 || m[0] != 1 {
				return nil, fmt.Errorf("h5: object at %d: link message %x", addr, m)
			}
			lf := m[1]
			q := 2
			if lf&0x08 != 0 {
				if m[q] != 0 {
					return nil, fmt.Errorf("h5: object at %d: link type %d, want hard", addr, m[q])
				}
				q++
			}
			if lf&0x04 != 0 {
				q += 8
			}
			if lf&0x10 != 0 {
				q++
			}
			nl := 1 << (lf & 3)
			var n int
			for i := nl - 1; i >= 0; i-- {
				n = n<<8 | int(m[q+i])
			}
			q += nl
			if q+n+8 > len(m) {
				return nil, fmt.Errorf("h5: object at %d: short link message", addr)
			}
			o.Links[string(m[q:q+n])] = le.Uint64(m[q+n:])
		case 0x08: // layout
			if len(m) < 2 || m[0] != 3 {
				return nil, fmt.Errorf("h5: object at %d: layout %x", addr, m)
			}
			switch m[1] {
			case 1:
				layoutAddr, layoutSize = le.Uint64(m[2:]), le.Uint64(m[10:])
			case 0:
				n := int(le.Uint16(m[2:]))
				compact = m[4 : 4+n]
			default:
				return nil, fmt.Errorf("h5: object at %d: layout class %d", addr, m[1])
			}
			haveLayout = true
		default:
			return nil, fmt.Errorf("h5: object at %d: message type %#x not in the subset", addr, typ)
		}
	}
	if !haveLayout {
		if dtype != nil || haveSpace {
			return nil, fmt.Errorf("h5: object at %d: dataset without a layout", addr)
		}
		return o, nil // a group
	}
	n := 1
	for _, d := range o.Shape {
		n *= d
	}
	data := compact
	if data == nil {
		if layoutAddr == math.MaxUint64 {
			data = nil // not allocated: only an empty dataset may be
		} else if data, err = f.slice(layoutAddr, layoutSize); err != nil {
			return nil, err
		}
	}
	if len(dtype) < 8 {
		return nil, fmt.Errorf("h5: object at %d: no datatype", addr)
	}
	class, size := dtype[0]&0x0f, le.Uint32(dtype[4:])
	bitfield0 := dtype[1]
	want := func(elem int) error {
		if len(data) != n*elem {
			return fmt.Errorf("h5: object at %d: %d bytes of data for %d elements of %d bytes", addr, len(data), n, elem)
		}
		return nil
	}
	switch {
	case class == 1 && size == 4 && bitfield0&1 == 0:
		if err := want(4); err != nil {
			return nil, err
		}
		o.F32 = make([]float32, n)
		for i := range o.F32 {
			o.F32[i] = math.Float32frombits(le.Uint32(data[4*i:]))
		}
	case class == 1 && size == 8 && bitfield0&1 == 0:
		if err := want(8); err != nil {
			return nil, err
		}
		o.F64 = make([]float64, n)
		for i := range o.F64 {
			o.F64[i] = math.Float64frombits(le.Uint64(data[8*i:]))
		}
	case class == 0 && size == 8 && bitfield0&1 == 0 && bitfield0&0x08 != 0:
		if err := want(8); err != nil {
			return nil, err
		}
		o.I64 = make([]int64, n)
		for i := range o.I64 {
			o.I64[i] = int64(le.Uint64(data[8*i:]))
		}
	case class == 9 && bitfield0&0x0f == 1: // variable-length string
		if err := want(16); err != nil {
			return nil, err
		}
		o.Str = make([]string, n)
		for i := range o.Str {
			e := data[16*i:]
			if o.Str[i], err = f.heapString(uint64(le.Uint32(e)), le.Uint64(e[4:]), le.Uint32(e[12:])); err != nil {
				return nil, fmt.Errorf("h5: object at %d element %d: %w", addr, i, err)
			}
		}
	default:
		return nil, fmt.Errorf("h5: object at %d: datatype class %d size %d bits %#x not in the subset", addr, class, size, bitfield0)
	}
	return o, nil
}

// heapString returns object idx of the global heap collection at coll,
// which must be n bytes long.
func (f *h5) heapString(n, coll uint64, idx uint32) (string, error) {
	le := binary.LittleEndian
	hdr, err := f.slice(coll, 16)
	if err != nil {
		return "", err
	}
	if string(hdr[:4]) != "GCOL" || hdr[4] != 1 {
		return "", fmt.Errorf("global heap at %d: signature %q version %d", coll, hdr[:4], hdr[4])
	}
	end := coll + le.Uint64(hdr[8:])
	for at := coll + 16; at+16 <= end; {
		oh, err := f.slice(at, 16)
		if err != nil {
			return "", err
		}
		id, size := le.Uint16(oh), le.Uint64(oh[8:])
		if id == 0 {
			break // free space
		}
		if uint32(id) == idx {
			if size != n {
				return "", fmt.Errorf("heap object %d has %d bytes, element says %d", id, size, n)
			}
			s, err := f.slice(at+16, size)
			return string(s), err
		}
		at += 16 + (size+7)/8*8
	}
	return "", fmt.Errorf("global heap at %d has no object %d", coll, idx)
}

// path follows the links from the root group along names.
func (f *h5) path(names ...string) (*h5Object, error) {
	addr, err := f.root()
	if err != nil {
		return nil, err
	}
	for i, name := range names {
		o, err := f.object(addr)
		if err != nil {
			return nil, err
		}
		a, ok := o.Links[name]
		if !ok {
			return nil, fmt.Errorf("h5: no %q in /%s", name, joinPath(names[:i]))
		}
		addr = a
	}
	return f.object(addr)
}

func joinPath(names []string) string {
	var b bytes.Buffer
	for i, n := range names {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(n)
	}
	return b.String()
}

// readGraph reads a NIR file into a Graph: the version, metadata, nodes
// (type and every parameter) and edges, in the file's link order for
// nodes (name order; the caller compares by name).
func readGraph(data []byte) (*Graph, error) {
	f := &h5{b: data}
	ver, err := f.path("version")
	if err != nil {
		return nil, err
	}
	if len(ver.Str) != 1 || ver.Shape != nil {
		return nil, fmt.Errorf("version: %+v", ver)
	}
	g := &Graph{Version: ver.Str[0]}
	typ, err := f.path("node", "type")
	if err != nil {
		return nil, err
	}
	if len(typ.Str) != 1 || typ.Str[0] != "NIRGraph" {
		return nil, fmt.Errorf("node/type %v", typ.Str)
	}
	nodes, err := f.path("node", "nodes")
	if err != nil {
		return nil, err
	}
	for name := range nodes.Links {
		grp, err := f.path("node", "nodes", name)
		if err != nil {
			return nil, err
		}
		n := Node{Name: name}
		for pname := range grp.Links {
			o, err := f.path("node", "nodes", name, pname)
			if err != nil {
				return nil, err
			}
			if pname == "type" {
				if len(o.Str) != 1 {
					return nil, fmt.Errorf("node %s: type %+v", name, o)
				}
				n.Type = o.Str[0]
				continue
			}
			if o.F32 == nil && o.I64 == nil {
				return nil, fmt.Errorf("node %s param %s: neither float32 nor int64", name, pname)
			}
			n.Params = append(n.Params, Param{Name: pname, Shape: o.Shape, F32: o.F32, I64: o.I64})
		}
		g.Nodes = append(g.Nodes, n)
	}
	edges, err := f.path("node", "edges")
	if err != nil {
		return nil, err
	}
	if len(edges.Shape) != 2 || edges.Shape[1] != 2 || edges.Str == nil {
		return nil, fmt.Errorf("edges: shape %v", edges.Shape)
	}
	for i := 0; i < edges.Shape[0]; i++ {
		g.Edges = append(g.Edges, Edge{Src: edges.Str[2*i], Dst: edges.Str[2*i+1]})
	}
	if root, err := f.path("node"); err == nil {
		if _, ok := root.Links["metadata"]; ok {
			md, err := f.path("node", "metadata")
			if err != nil {
				return nil, err
			}
			g.Metadata = map[string]string{}
			for k := range md.Links {
				o, err := f.path("node", "metadata", k)
				if err != nil {
					return nil, err
				}
				if len(o.Str) != 1 {
					return nil, fmt.Errorf("metadata %s: %+v", k, o)
				}
				g.Metadata[k] = o.Str[0]
			}
		}
	}
	return g, nil
}
