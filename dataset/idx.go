package dataset

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
)

// IDX magic numbers (big-endian): two zero bytes, the element type (0x08 =
// unsigned byte) and the number of dimensions.
const (
	idxLabelMagic = 0x00000801 // [N] labels
	idxImageMagic = 0x00000803 // [N,H,W] images
	idxMaxDims    = 16
)

// IDX is a decoded IDX file (the format of MNIST and Fashion-MNIST): an
// unsigned-byte array of shape Dims, row-major.
type IDX struct {
	Dims []int
	Data []uint8 // product(Dims) values
}

// ReadIDX decodes an IDX stream, gzip-compressed or plain (detected by its
// first bytes). Only element type unsigned byte (0x08) is supported. It
// returns a *FormatError if the stream is malformed, truncated or longer
// than its header says, and an *UnsupportedError for other element types.
func ReadIDX(r io.Reader) (*IDX, error) {
	in, err := newInput("", "idx", r, -1)
	if err != nil {
		return nil, err
	}
	return readIDX(in)
}

// ReadIDXFile is ReadIDX for a file. A header claiming more data than the
// file can hold is rejected before any large allocation.
func ReadIDXFile(path string) (*IDX, error) {
	in, err := openInput(path, "idx")
	if err != nil {
		return nil, err
	}
	defer in.close()
	return readIDX(in)
}

func readIDX(in *input) (*IDX, error) {
	var hdr [4]byte
	if err := in.readFull(hdr[:], "magic"); err != nil {
		return nil, err
	}
	if hdr[0] != 0 || hdr[1] != 0 {
		return nil, in.errf(nil, "bad magic %#08x", binary.BigEndian.Uint32(hdr[:]))
	}
	if hdr[2] != 0x08 {
		switch hdr[2] {
		case 0x09, 0x0b, 0x0c, 0x0d, 0x0e:
			return nil, in.unsupported("element type %#02x (only unsigned byte 0x08)", hdr[2])
		}
		return nil, in.errf(nil, "bad magic %#08x: unknown element type %#02x", binary.BigEndian.Uint32(hdr[:]), hdr[2])
	}
	nd := int(hdr[3])
	if nd == 0 || nd > idxMaxDims {
		return nil, in.errf(nil, "bad magic %#08x: %d dimensions", binary.BigEndian.Uint32(hdr[:]), nd)
	}
	var db [4 * idxMaxDims]byte
	if err := in.readFull(db[:4*nd], "dimensions"); err != nil {
		return nil, err
	}
	dims := make([]int, nd)
	var total uint64 = 1
	overflow := false
	for i := range dims {
		d := binary.BigEndian.Uint32(db[4*i:])
		dims[i] = int(d)
		hi, lo := bits.Mul64(total, uint64(d))
		if hi != 0 || lo > 1<<62 {
			overflow = true
		}
		total = lo
	}
	if overflow {
		return nil, in.errf(nil, "dimensions %v too large", dims)
	}
	data, err := in.readN(int64(total), fmt.Sprintf("%v array", dims))
	if err != nil {
		return nil, err
	}
	if err := in.expectEOF("data"); err != nil {
		return nil, err
	}
	return &IDX{Dims: dims, Data: data}, nil
}

// LoadIDX loads a labeled image set from an IDX image file ([N,H,W], magic
// 0x00000803) and an IDX label file ([N], magic 0x00000801), each
// gzip-compressed or plain. Images get shape [1,H,W].
func LoadIDX(imagesPath, labelsPath string) (*Dataset, error) {
	img, err := ReadIDXFile(imagesPath)
	if err != nil {
		return nil, err
	}
	if len(img.Dims) != 3 {
		return nil, formatErr(imagesPath, "idx", nil, "image file has %d dimensions, want 3 (magic %#08x)", len(img.Dims), idxImageMagic)
	}
	lab, err := ReadIDXFile(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(lab.Dims) != 1 {
		return nil, formatErr(labelsPath, "idx", nil, "label file has %d dimensions, want 1 (magic %#08x)", len(lab.Dims), idxLabelMagic)
	}
	if img.Dims[0] != lab.Dims[0] {
		return nil, fmt.Errorf("dataset: %s has %d images but %s has %d labels", imagesPath, img.Dims[0], labelsPath, lab.Dims[0])
	}
	if img.Dims[1] == 0 || img.Dims[2] == 0 {
		return nil, formatErr(imagesPath, "idx", nil, "empty image shape %dx%d", img.Dims[1], img.Dims[2])
	}
	labels := make([]int, len(lab.Data))
	for i, l := range lab.Data {
		labels[i] = int(l)
	}
	return FromUint8(1, img.Dims[1], img.Dims[2], img.Data, labels)
}
