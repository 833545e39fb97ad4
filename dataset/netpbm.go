package dataset

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"strconv"
)

// This file decodes binary netpbm images (P5 graymap, P6 pixmap) as
// Pillow 9.4's PpmImagePlugin opens them and convert("RGB") converts them:
//
//   - the header is the magic, width, height and maxval, separated by
//     whitespace, with '#' comments up to the end of the line; pixels
//     start after the one whitespace byte that ends maxval;
//   - samples are 1 byte when maxval < 256, else 2 (big-endian);
//   - maxval 255 is taken as is; other maxvals are rescaled with Python's
//     round (half to even) to round(v/maxval·255), or, for a graymap with
//     maxval > 255 (Pillow mode I), to round(v/maxval·65535) (65535: v
//     as is), which convert("RGB") then clips to 255.
//
// Plain (ASCII) netpbm (P1, P2, P3) and bitmaps (P4) are not supported.

// pnmHeader is a parsed P5 or P6 header.
type pnmHeader struct {
	color         bool // P6
	w, h, maxval  int
	bytesPerValue int
}

// isSpace reports whether c is whitespace for Pillow's netpbm reader.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// readPNMHeader reads the header from r, leaving r at the first pixel.
func readPNMHeader(r *bufio.Reader) (pnmHeader, error) {
	var magic [2]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil || magic[0] != 'P' || (magic[1] != '5' && magic[1] != '6') {
		return pnmHeader{}, errors.New("not a binary netpbm (P5, P6) file")
	}
	if c, err := r.ReadByte(); err != nil || !isSpace(c) {
		return pnmHeader{}, errors.New("no whitespace after the magic number")
	}
	h := pnmHeader{color: magic[1] == '6'}
	for i, dst := range []*int{&h.w, &h.h, &h.maxval} {
		tok, err := readPNMToken(r)
		if err != nil {
			return pnmHeader{}, err
		}
		v, err := strconv.Atoi(tok)
		if err != nil || v <= 0 {
			return pnmHeader{}, fmt.Errorf("header value %d is %q, want a positive integer", i, tok)
		}
		*dst = v
	}
	if h.maxval >= 65536 {
		return pnmHeader{}, fmt.Errorf("maxval %d is not below 65536", h.maxval)
	}
	h.bytesPerValue = 1
	if h.maxval > 255 {
		h.bytesPerValue = 2
	}
	return h, nil
}

// readPNMToken skips whitespace and comments and returns the next token
// (at most 10 bytes), consuming the whitespace byte that ends it.
func readPNMToken(r *bufio.Reader) (string, error) {
	var tok []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			if len(tok) > 0 {
				return string(tok), nil
			}
			return "", errors.New("truncated header")
		}
		switch {
		case isSpace(c):
			if len(tok) > 0 {
				return string(tok), nil
			}
		case c == '#':
			for c != '\n' && c != '\r' {
				if c, err = r.ReadByte(); err != nil {
					return "", errors.New("truncated header")
				}
			}
		default:
			if tok = append(tok, c); len(tok) > 10 {
				return "", fmt.Errorf("header token %q… too long", tok)
			}
		}
	}
}

// pnmDecodeConfig is the netpbm image.Config reader of imageCodec.
func pnmDecodeConfig(r io.Reader) (image.Config, error) {
	h, err := readPNMHeader(bufio.NewReader(r))
	if err != nil {
		return image.Config{}, err
	}
	return image.Config{Width: h.w, Height: h.h}, nil
}

// pnmDecode is the netpbm decoder of imageCodec: an *image.Gray for P5,
// an *image.RGBA (opaque) for P6, with Pillow's rescaling and clipping
// (see the file comment) already applied.
func pnmDecode(r io.Reader) (image.Image, error) {
	br := bufio.NewReader(r)
	h, err := readPNMHeader(br)
	if err != nil {
		return nil, err
	}
	bands := 1
	if h.color {
		bands = 3
	}
	n := h.w * h.h * bands
	// Read what is there rather than allocate what the header claims.
	raw, err := io.ReadAll(io.LimitReader(br, int64(n)*int64(h.bytesPerValue)))
	if err != nil {
		return nil, err
	}
	if len(raw) < n*h.bytesPerValue {
		return nil, io.ErrUnexpectedEOF
	}
	// scale maps a sample to Pillow's 8-bit value.
	scale := func(v int) uint8 {
		switch {
		case h.maxval == 255:
			return uint8(v)
		case !h.color && h.maxval > 255:
			// Mode I: rescaled to 16 bits, then clipped by convert.
			if h.maxval != 65535 {
				v = min(65535, int(math.RoundToEven(float64(v)/float64(h.maxval)*65535)))
			}
			return uint8(min(v, 255))
		}
		return uint8(min(255, int(math.RoundToEven(float64(v)/float64(h.maxval)*255))))
	}
	value := func(i int) int {
		if h.bytesPerValue == 2 {
			return int(binary.BigEndian.Uint16(raw[2*i:]))
		}
		return int(raw[i])
	}
	rect := image.Rect(0, 0, h.w, h.h)
	if !h.color {
		g := image.NewGray(rect)
		for i := range n {
			g.Pix[i] = scale(value(i))
		}
		return g, nil
	}
	m := image.NewRGBA(rect)
	for p := range h.w * h.h {
		for c := range 3 {
			m.Pix[4*p+c] = scale(value(3*p + c))
		}
		m.Pix[4*p+3] = 255
	}
	return m, nil
}
