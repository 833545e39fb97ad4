package hdf5

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Sizes and constants of the subset written (see doc.go for the sections).
const (
	signature     = "\x89HDF\r\n\x1a\n"
	undefAddr     = math.MaxUint64 // "undefined address": all bits set
	superblockLen = 8 + 4 + 4*8 + 4
	ohdrPrefixLen = 4 + 1 + 1 + 4 // "OHDR", version, flags, 4-byte chunk size
	ohdrMsgHdrLen = 1 + 2 + 1     // type, size, flags
	checksumLen   = 4

	gcolHeaderLen = 16   // "GCOL", version, reserved, collection size
	gcolObjHdrLen = 16   // index, reference count, reserved, size
	gcolMinSize   = 4096 // the library's minimum collection size
	gcolMaxIndex  = math.MaxUint16
	vlenElemLen   = 4 + 8 + 4 // length, collection address, object index

	defaultMaxCompact = 8 // group-info default: links stored compactly
)

// Object header message types (IV.A.2).
const (
	msgDataspace = 0x0001
	msgLinkInfo  = 0x0002
	msgDatatype  = 0x0003
	msgFill      = 0x0005
	msgLink      = 0x0006
	msgLayout    = 0x0008
	msgGroupInfo = 0x000A
)

// object is a group or dataset placed in the file.
type object struct {
	group    *Group
	dset     *dataset
	children []int  // groups: indices of the members' objects, in link order
	addr     uint64 // object header address
	msgs     []message
	data     uint64 // dataset raw data address (undefAddr if none)
	raw      []byte // dataset raw data (string datasets: heap IDs)
}

type message struct {
	typ  uint8
	body []byte
}

// heapColl is one global heap collection and the strings it stores as
// objects 1..len(strs).
type heapColl struct {
	addr uint64
	size uint64
	strs []string
}

// WriteTo serialises the file to w and returns the number of bytes
// written. It may be called again after more objects were added.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	var objs []*object // depth-first order, root first
	var walk func(g *Group) int
	walk = func(g *Group) int {
		i := len(objs)
		o := &object{group: g}
		objs = append(objs, o)
		for _, l := range g.links {
			if l.group != nil {
				o.children = append(o.children, walk(l.group))
			} else {
				o.children = append(o.children, len(objs))
				objs = append(objs, &object{dset: l.dset})
			}
		}
		return i
	}
	walk(&f.root)

	// Global heap collections for the strings, right after the superblock.
	addr := uint64(superblockLen)
	var heaps []*heapColl
	type heapID struct {
		coll *heapColl
		idx  uint32
	}
	ids := map[*object][]heapID{}
	for _, o := range objs {
		if o.dset == nil || o.dset.typ != stringType {
			continue
		}
		for _, s := range o.dset.strs {
			need := uint64(gcolObjHdrLen + pad8(len(s)))
			if len(heaps) == 0 || len(heaps[len(heaps)-1].strs) == gcolMaxIndex {
				heaps = append(heaps, &heapColl{size: gcolHeaderLen})
			}
			h := heaps[len(heaps)-1]
			h.strs = append(h.strs, s)
			h.size += need
			ids[o] = append(ids[o], heapID{h, uint32(len(h.strs))})
		}
	}
	for _, h := range heaps {
		h.size = max(h.size, gcolMinSize)
		h.addr = addr
		addr += h.size
	}

	// Object headers: the messages of a group depend on its members'
	// addresses, whose header sizes do not, so size everything first.
	for _, o := range objs {
		if o.dset != nil {
			o.msgs = datasetMessages(o.dset, 0)
		}
	}
	for _, o := range objs {
		if o.group != nil {
			o.msgs = groupMessages(o.group, func(int) uint64 { return 0 })
		}
		o.addr = addr
		addr += ohdrLen(o.msgs)
	}
	// Raw data, 8-byte aligned.
	for _, o := range objs {
		d := o.dset
		if d == nil {
			continue
		}
		o.raw = d.raw
		if d.typ == stringType {
			o.raw = make([]byte, 0, vlenElemLen*len(d.strs))
			for i, id := range ids[o] {
				o.raw = binary.LittleEndian.AppendUint32(o.raw, uint32(len(d.strs[i])))
				o.raw = binary.LittleEndian.AppendUint64(o.raw, id.coll.addr)
				o.raw = binary.LittleEndian.AppendUint32(o.raw, id.idx)
			}
		}
		addr = uint64(pad8(int(addr)))
		o.data = addr
		addr += uint64(len(o.raw))
	}
	eof := addr

	// Now that addresses are known, build the final messages.
	for _, o := range objs {
		if o.group != nil {
			o.msgs = groupMessages(o.group, func(j int) uint64 { return objs[o.children[j]].addr })
		} else {
			o.msgs = datasetMessages(o.dset, o.data)
		}
	}

	cw := &countWriter{w: w}
	var buf bytes.Buffer
	buf.Write(superblock(objs[0].addr, eof))
	for _, h := range heaps {
		buf.Write(h.encode())
	}
	for _, o := range objs {
		if uint64(buf.Len()) != o.addr {
			return 0, fmt.Errorf("hdf5: internal error: object header at %d, planned %d", buf.Len(), o.addr)
		}
		buf.Write(ohdr(o.msgs))
	}
	if _, err := cw.Write(buf.Bytes()); err != nil {
		return cw.n, err
	}
	for _, o := range objs {
		if o.dset == nil {
			continue
		}
		if gap := int64(o.data) - cw.n; gap > 0 {
			if _, err := cw.Write(make([]byte, gap)); err != nil {
				return cw.n, err
			}
		}
		if _, err := cw.Write(o.raw); err != nil {
			return cw.n, err
		}
	}
	if uint64(cw.n) != eof {
		return cw.n, fmt.Errorf("hdf5: internal error: wrote %d bytes, planned %d", cw.n, eof)
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func pad8(n int) int { return (n + 7) &^ 7 }

// superblock encodes a version 2 superblock (II.A).
func superblock(root, eof uint64) []byte {
	b := make([]byte, 0, superblockLen)
	b = append(b, signature...)
	b = append(b, 2, 8, 8, 0)                          // version, size of offsets, size of lengths, consistency flags
	b = binary.LittleEndian.AppendUint64(b, 0)         // base address
	b = binary.LittleEndian.AppendUint64(b, undefAddr) // superblock extension address
	b = binary.LittleEndian.AppendUint64(b, eof)       // end of file address
	b = binary.LittleEndian.AppendUint64(b, root)      // root group object header address
	return binary.LittleEndian.AppendUint32(b, lookup3(b, 0))
}

// ohdrLen returns the encoded length of a version 2 object header.
func ohdrLen(msgs []message) uint64 {
	n := ohdrPrefixLen + checksumLen
	for _, m := range msgs {
		n += ohdrMsgHdrLen + len(m.body)
	}
	return uint64(n)
}

// ohdr encodes a version 2 object header with one chunk (IV.A.1.b).
func ohdr(msgs []message) []byte {
	chunk := 0
	for _, m := range msgs {
		chunk += ohdrMsgHdrLen + len(m.body)
	}
	b := make([]byte, 0, ohdrPrefixLen+chunk+checksumLen)
	b = append(b, "OHDR"...)
	b = append(b, 2, 0x02) // version; flags: chunk #0 size is 4 bytes
	b = binary.LittleEndian.AppendUint32(b, uint32(chunk))
	for _, m := range msgs {
		b = append(b, m.typ)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(m.body)))
		b = append(b, 0) // message flags
		b = append(b, m.body...)
	}
	return binary.LittleEndian.AppendUint32(b, lookup3(b, 0))
}

// groupMessages returns the Link Info, Group Info and Link messages of a
// compact group whose j-th member has its object header at addr(j).
func groupMessages(g *Group, addr func(j int) uint64) []message {
	linfo := []byte{0, 0}                                      // version 0, flags: no creation order
	linfo = binary.LittleEndian.AppendUint64(linfo, undefAddr) // fractal heap
	linfo = binary.LittleEndian.AppendUint64(linfo, undefAddr) // name index v2 B-tree
	ginfo := []byte{0, 0}                                      // version 0, flags: defaults
	if n := len(g.links); n > defaultMaxCompact {
		ginfo = []byte{0, 1} // link phase change values present
		ginfo = binary.LittleEndian.AppendUint16(ginfo, uint16(min(n, math.MaxUint16)))
		ginfo = binary.LittleEndian.AppendUint16(ginfo, 6)
	}
	msgs := []message{{msgLinkInfo, linfo}, {msgGroupInfo, ginfo}}
	for j, l := range g.links {
		msgs = append(msgs, message{msgLink, linkBody(l.name, addr(j))})
	}
	return msgs
}

// linkBody encodes a hard link message (IV.A.2.g, version 1).
func linkBody(name string, addr uint64) []byte {
	var flags byte
	if len(name) > math.MaxUint8 {
		flags = 1 // 2-byte name length
	}
	ascii := true
	for i := 0; i < len(name); i++ {
		if name[i] >= 0x80 {
			ascii = false
		}
	}
	if !ascii {
		flags |= 0x10 // character set field present
	}
	b := []byte{1, flags}
	if !ascii {
		b = append(b, 1) // UTF-8
	}
	if flags&1 != 0 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(name)))
	} else {
		b = append(b, byte(len(name)))
	}
	b = append(b, name...)
	return binary.LittleEndian.AppendUint64(b, addr)
}

// datasetMessages returns the Dataspace, Datatype, Fill Value and Data
// Layout messages of d with its raw data at addr.
func datasetMessages(d *dataset, addr uint64) []message {
	space := []byte{2, byte(len(d.dims)), 0, 1} // version 2, rank, flags, simple
	if d.dims == nil {
		space[3] = 0 // scalar
	}
	n := uint64(1)
	for _, x := range d.dims {
		space = binary.LittleEndian.AppendUint64(space, x)
		n *= x
	}
	var size uint64
	switch d.typ {
	case stringType:
		size = vlenElemLen * n
	default:
		size = uint64(len(d.raw))
	}
	layout := []byte{3, 1} // version 3, contiguous
	layout = binary.LittleEndian.AppendUint64(layout, addr)
	layout = binary.LittleEndian.AppendUint64(layout, size)
	// Fill value version 3: allocation time late (2), write time "if set" (2).
	fill := []byte{3, 2 | 2<<2}
	return []message{
		{msgDataspace, space},
		{msgDatatype, datatype(d.typ)},
		{msgFill, fill},
		{msgLayout, layout},
	}
}

// datatype encodes a version 1 datatype message (IV.A.2.d).
func datatype(t dtype) []byte {
	hdr := func(class byte, bits0, bits1, bits2 byte, size uint32) []byte {
		b := []byte{1<<4 | class, bits0, bits1, bits2}
		return binary.LittleEndian.AppendUint32(b, size)
	}
	fixed := func(size uint32, signed bool) []byte {
		var bits0 byte
		if signed {
			bits0 = 0x08
		}
		b := hdr(0, bits0, 0, 0, size)
		b = binary.LittleEndian.AppendUint16(b, 0)                 // bit offset
		return binary.LittleEndian.AppendUint16(b, uint16(size*8)) // bit precision
	}
	float := func(size uint32, expLoc, expSize, mantSize byte, bias uint32) []byte {
		// Little-endian, no padding, mantissa normalisation "implied MSB" (2),
		// sign bit at the top.
		b := hdr(1, 0x20, byte(size*8-1), 0, size)
		b = binary.LittleEndian.AppendUint16(b, 0)
		b = binary.LittleEndian.AppendUint16(b, uint16(size*8))
		b = append(b, expLoc, expSize, 0, mantSize)
		return binary.LittleEndian.AppendUint32(b, bias)
	}
	switch t {
	case float32Type:
		return float(4, 23, 8, 23, 127)
	case float64Type:
		return float(8, 52, 11, 52, 1023)
	case int64Type:
		return fixed(8, true)
	case stringType:
		// Variable-length string (type 1), null-terminated (0), UTF-8 (1);
		// base type: unsigned 8-bit integer.
		b := hdr(9, 1, 1, 0, vlenElemLen)
		return append(b, fixed(1, false)...)
	}
	panic(fmt.Sprintf("hdf5: unknown datatype %d", t))
}

// encode returns the bytes of a global heap collection (III.E).
func (h *heapColl) encode() []byte {
	b := make([]byte, 0, h.size)
	b = append(b, "GCOL"...)
	b = append(b, 1, 0, 0, 0)
	b = binary.LittleEndian.AppendUint64(b, h.size)
	for i, s := range h.strs {
		b = binary.LittleEndian.AppendUint16(b, uint16(i+1)) // object index
		b = binary.LittleEndian.AppendUint16(b, 1)           // reference count
		b = append(b, 0, 0, 0, 0)
		b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
		b = append(b, make([]byte, pad8(len(s))-len(s))...)
	}
	if free := int(h.size) - len(b); free >= gcolObjHdrLen {
		// Object 0 describes the free space, its size including its header.
		b = binary.LittleEndian.AppendUint16(b, 0)
		b = binary.LittleEndian.AppendUint16(b, 0)
		b = append(b, 0, 0, 0, 0)
		b = binary.LittleEndian.AppendUint64(b, uint64(free))
	}
	return append(b, make([]byte, int(h.size)-len(b))...)
}
