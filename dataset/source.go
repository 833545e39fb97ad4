package dataset

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// maxGzipRatio bounds the decoded size of gzip data: deflate cannot expand
// by more than about 1032:1, so a file of S bytes decodes to at most
// maxGzipRatio*S bytes.
const maxGzipRatio = 1040

// chunk is the first allocation when the decoded size is not known
// exactly; buffers then double, so that a false size claim costs at most
// O(bytes actually read).
const chunk = 64 << 10

// input is a byte stream, gzip-compressed or plain (detected by the gzip
// magic bytes 1f 8b), with what is known about how many decoded bytes it can
// still yield.
type input struct {
	path, format string
	r            io.Reader
	read         int64 // decoded bytes consumed so far
	max          int64 // upper bound on total decoded bytes; -1 if unknown
	exact        bool  // max is the exact decoded size (plain file)
	hint         int64 // expected total decoded size, <= max; -1 if unknown
	file         *os.File
}

// openInput opens path for reading; the caller must call close.
func openInput(path, format string) (*input, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("dataset: %s is not a regular file", path)
	}
	in, err := newInput(path, format, f, st.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	in.file = f
	if !in.exact && st.Size() >= 18 {
		// The gzip trailer ends with ISIZE, the decoded size mod 2^32 of
		// the last member. Use it only as an allocation hint.
		var b [4]byte
		if _, err := f.ReadAt(b[:], st.Size()-4); err == nil {
			in.hint = min(int64(binary.LittleEndian.Uint32(b[:])), in.max)
		}
	}
	return in, nil
}

// newInput wraps r, whose size in bytes is size (-1 if unknown).
func newInput(path, format string, r io.Reader, size int64) (*input, error) {
	in := &input{path: path, format: format, max: -1, hint: -1}
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, in.errf(err, "bad gzip header")
		}
		in.r = zr
		if size >= 0 {
			in.max = size * maxGzipRatio
		}
		return in, nil
	}
	in.r = br
	if size >= 0 {
		in.max, in.exact, in.hint = size, true, size
	}
	return in, nil
}

func (in *input) close() {
	if in.file != nil {
		in.file.Close()
	}
}

func (in *input) errf(err error, msg string, args ...any) error {
	return formatErr(in.path, in.format, err, msg, args...)
}

func (in *input) unsupported(feature string, args ...any) error {
	return &UnsupportedError{Path: in.path, Format: in.format, Feature: fmt.Sprintf(feature, args...)}
}

// left returns an upper bound on the decoded bytes still available, or -1.
func (in *input) left() int64 {
	if in.max < 0 {
		return -1
	}
	return in.max - in.read
}

// readErr converts an error from io.ReadFull into a FormatError.
func (in *input) readErr(err error, what string, want, got int64) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return in.errf(nil, "truncated: %s needs %d bytes, got %d", what, want, got)
	}
	return in.errf(err, "reading %s", what)
}

// readFull fills p.
func (in *input) readFull(p []byte, what string) error {
	n, err := io.ReadFull(in.r, p)
	in.read += int64(n)
	if err != nil {
		return in.readErr(err, what, int64(len(p)), int64(n))
	}
	return nil
}

// readN reads exactly n bytes. A claim larger than the input can hold is
// rejected before allocating; otherwise memory grows with the bytes
// actually read.
func (in *input) readN(n int64, what string) ([]byte, error) {
	if n < 0 || n > int64(maxInt) {
		return nil, in.errf(nil, "%s: invalid size %d", what, n)
	}
	if l := in.left(); l >= 0 && n > l {
		if in.exact {
			return nil, in.errf(nil, "header claims %d bytes of %s, file holds %d", n, what, l)
		}
		return nil, in.errf(nil, "header claims %d bytes of %s, more than the compressed file can hold", n, what)
	}
	if in.exact {
		buf := make([]byte, n)
		return buf, in.readFull(buf, what)
	}
	start := min(n, chunk)
	if h := in.hint - in.read; h > start {
		start = min(n, h)
	}
	buf := make([]byte, 0, start)
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, int(min(n-int64(len(buf)), int64(cap(buf)))))
		}
		m, err := io.ReadFull(in.r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		in.read += int64(m)
		if err != nil {
			return nil, in.readErr(err, what, n, int64(len(buf)))
		}
	}
	return buf, nil
}

// readAll appends all remaining bytes to dst.
func (in *input) readAll(dst []byte, what string) ([]byte, error) {
	if in.exact {
		n := in.left()
		if n > int64(maxInt-len(dst)) {
			return nil, in.errf(nil, "%s too large", what)
		}
		dst = slices.Grow(dst, int(n))
		start := len(dst)
		dst = dst[:start+int(n)]
		if err := in.readFull(dst[start:], what); err != nil {
			return nil, err
		}
		return dst, in.expectEOF(what)
	}
	if h := in.hint - in.read; h > 0 && h <= int64(maxInt-len(dst)) {
		dst = slices.Grow(dst, int(h))
	}
	for {
		if len(dst) == cap(dst) {
			// Probe for EOF before growing, so that an exact hint
			// does not cause a useless doubling.
			var b [1]byte
			m, err := io.ReadFull(in.r, b[:])
			if m == 0 {
				if errors.Is(err, io.EOF) {
					return dst, nil
				}
				return nil, in.errf(err, "reading %s", what)
			}
			in.read++
			dst = append(dst, b[0])
			dst = slices.Grow(dst, max(chunk, len(dst)))
		}
		m, err := in.r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+m]
		in.read += int64(m)
		if in.max >= 0 && in.read > in.max {
			return nil, in.errf(nil, "%s decodes to more than %d bytes", what, in.max)
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return nil, in.errf(err, "reading %s", what)
		}
	}
}

// expectEOF checks that no bytes follow (and, for gzip, that the checksum
// at the end of the stream is valid).
func (in *input) expectEOF(what string) error {
	var b [1]byte
	n, err := io.ReadFull(in.r, b[:])
	if n > 0 {
		return in.errf(nil, "trailing data after %s (%d bytes expected in all)", what, in.read)
	}
	if !errors.Is(err, io.EOF) {
		return in.errf(err, "reading after %s", what)
	}
	return nil
}

const maxInt = int(^uint(0) >> 1)
