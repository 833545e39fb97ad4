package dataset

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// maxImagePixels is the largest image decoded: Pillow's
// DecompressionBombError threshold, 2 × Image.MAX_IMAGE_PIXELS. The size is
// read from the header before any pixel buffer is allocated.
const maxImagePixels = 2 * 89478485

// imageCodec is one image file format and its decoder.
type imageCodec struct {
	name   string
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

// imageCodecFor returns the codec for a file that starts with head,
// recognised by content as Pillow does, not by file name, or an error
// naming path.
func imageCodecFor(path string, head []byte) (imageCodec, error) {
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return imageCodec{"png", png.DecodeConfig, png.Decode}, nil
	case bytes.HasPrefix(head, []byte{0xff, 0xd8}):
		return imageCodec{"jpeg", jpeg.DecodeConfig, jpeg.Decode}, nil
	case bytes.HasPrefix(head, []byte("BM")):
		return imageCodec{"bmp", bmp.DecodeConfig, bmp.Decode}, nil
	case bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")):
		return imageCodec{"tiff", tiffDecodeConfig, tiff.Decode}, nil
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return imageCodec{"webp", webp.DecodeConfig, webp.Decode}, nil
	case len(head) >= 2 && head[0] == 'P' && (head[1] == '5' || head[1] == '6'):
		return imageCodec{"netpbm", pnmDecodeConfig, pnmDecode}, nil
	case len(head) >= 2 && head[0] == 'P' && head[1] >= '1' && head[1] <= '7':
		return imageCodec{}, &UnsupportedError{Path: path, Format: "netpbm", Feature: fmt.Sprintf("P%c images (only binary P5 and P6 are decoded); convert them to PNG", head[1])}
	}
	return imageCodec{}, formatErr(path, "image", nil, "not a PNG, JPEG, BMP, TIFF, WebP or binary netpbm file")
}

// tiffDecodeConfig is tiff.DecodeConfig, given an io.ReaderAt. The TIFF
// header holds the offset of the directory that gives the size, and
// x/image/tiff reads a plain io.Reader into a buffer it grows to that
// offset before reading: a 150-byte file declaring an offset of 3 GB made
// it allocate 4 GiB (the FuzzImage hang; fatal under a 2 GB address-space
// limit). A reader that is not an io.ReaderAt is read to its end first, so
// memory is bounded by the file, not by what it declares.
func tiffDecodeConfig(r io.Reader) (image.Config, error) {
	if _, ok := r.(io.ReaderAt); !ok {
		b, err := io.ReadAll(r)
		if err != nil {
			return image.Config{}, err
		}
		r = bytes.NewReader(b)
	}
	return tiff.DecodeConfig(r)
}

// imageConfig reads the width and height of the image file (named path)
// that r reads, from its header.
func imageConfig(path string, r *bufio.Reader) (w, h int, err error) {
	head, _ := r.Peek(12)
	return imageConfigOf(path, head, r)
}

// imageConfigOf is imageConfig for a reader r whose first bytes are head.
func imageConfigOf(path string, head []byte, r io.Reader) (w, h int, err error) {
	codec, err := imageCodecFor(path, head)
	if err != nil {
		return 0, 0, err
	}
	cfg, err := configSafely(codec, r)
	if err != nil {
		return 0, 0, imageErr(path, codec.name, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return 0, 0, formatErr(path, codec.name, nil, "image is %d×%d", cfg.Width, cfg.Height)
	}
	return cfg.Width, cfg.Height, nil
}

// decodeRGB decodes the image file b (named path) and converts it to 8-bit
// RGB as Pillow's Image.convert("RGB") does (see toRGB). Images of more
// than maxPixels pixels are refused before their pixels are decoded.
func decodeRGB(path string, b []byte, maxPixels int) (rgbImage, error) {
	w, h, err := imageConfigOf(path, b, bytes.NewReader(b))
	if err != nil {
		return rgbImage{}, err
	}
	if int64(w)*int64(h) > int64(maxPixels) {
		return rgbImage{}, formatErr(path, "image", nil, "%d×%d pixels is more than the %d allowed (a decompression bomb?)", w, h, maxPixels)
	}
	codec, _ := imageCodecFor(path, b)
	img, err := decodeSafely(codec, b)
	if err != nil {
		return rgbImage{}, imageErr(path, codec.name, err)
	}
	r := img.Bounds()
	if r.Dx() != w || r.Dy() != h {
		return rgbImage{}, formatErr(path, codec.name, nil, "header says %d×%d, decoded %d×%d", w, h, r.Dx(), r.Dy())
	}
	if codec.name == "webp" {
		var y *image.YCbCr
		switch m := img.(type) {
		case *image.YCbCr:
			y = m
		case *image.NYCbCrA:
			y = &m.YCbCr // alpha is dropped, as convert("RGB") drops it
		}
		if y != nil {
			out := rgbImage{w: w, h: h, pix: make([]uint8, w*h*3)}
			if webpToRGB(y, out) {
				return out, nil
			}
		}
	}
	return toRGB(img), nil
}

// decodeSafely runs the codec's decoder, turning a panic inside it (a bug
// in a decoder on hostile input) into an error.
func decodeSafely(codec imageCodec, b []byte) (img image.Image, err error) {
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("decoder failed: %v", p)
		}
	}()
	return codec.decode(bytes.NewReader(b))
}

// configSafely is decodeSafely for the codec's header reader.
func configSafely(codec imageCodec, r io.Reader) (cfg image.Config, err error) {
	defer func() {
		if p := recover(); p != nil {
			cfg, err = image.Config{}, fmt.Errorf("decoder failed: %v", p)
		}
	}()
	return codec.config(r)
}

// imageErr wraps a decoder error: an *UnsupportedError for a valid file
// using a feature the decoder lacks, else a *FormatError.
func imageErr(path, format string, err error) error {
	var (
		pu png.UnsupportedError
		ju jpeg.UnsupportedError
		tu tiff.UnsupportedError
	)
	if errors.As(err, &pu) || errors.As(err, &ju) || errors.As(err, &tu) {
		return &UnsupportedError{Path: path, Format: format, Feature: err.Error()}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return formatErr(path, format, nil, "truncated")
	}
	return formatErr(path, format, err, "cannot decode")
}

// toRGB converts img to interleaved 8-bit RGB as Pillow's
// Image.convert("RGB") converts the image Image.open gives for the same
// file:
//
//   - gray (L, and 1-, 2-, 4-bit gray scaled to 8 bits) is copied to R, G
//     and B;
//   - alpha is dropped without compositing (RGBA, LA, and a palette's or
//     tRNS transparency alike);
//   - a palette (P) is looked up;
//   - 16-bit RGB(A) and gray+alpha keep the high byte (Pillow's ";16B"
//     raw modes);
//   - 16-bit gray is Pillow mode I, which convert("RGB") clips to 0..255:
//     min(v, 255), not v>>8;
//   - JPEG YCbCr 4:4:4, 4:2:2 and 4:2:0 is upsampled and converted as
//     libjpeg-turbo (Pillow's decoder) does by default (see
//     ycbcrLibjpeg); other subsamplings repeat each chroma sample and use
//     color.YCbCrToRGB. Go's inverse DCT still differs from libjpeg's by
//     a level or so. CMYK uses color.CMYKToRGB.
//   - lossy WebP is converted by decodeRGB, not here (see webpToRGB).
//
// Other image types go through color.NRGBAModel.
func toRGB(img image.Image) rgbImage {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	out := rgbImage{w: w, h: h, pix: make([]uint8, w*h*3)}
	set := func(x, y int, cr, cg, cb uint8) {
		i := (y*w + x) * 3
		out.pix[i], out.pix[i+1], out.pix[i+2] = cr, cg, cb
	}
	// interleaved copies R, G, B from pixels of bpp bytes whose channels
	// start c bytes apart (the high byte of 16-bit channels, as Pillow).
	interleaved := func(pix []uint8, stride, bpp, c int) {
		for y := range h {
			row := pix[y*stride : y*stride+bpp*w]
			for x := range w {
				set(x, y, row[bpp*x], row[bpp*x+c], row[bpp*x+2*c])
			}
		}
	}
	switch m := img.(type) {
	case *image.Gray:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range row {
				set(x, y, v, v, v)
			}
		}
	case *image.Gray16:
		for y := range h {
			for x := range w {
				v := uint8(min(m.Gray16At(r.Min.X+x, r.Min.Y+y).Y, 255))
				set(x, y, v, v, v)
			}
		}
	case *image.NRGBA:
		interleaved(m.Pix, m.Stride, 4, 1)
	case *image.NRGBA64:
		interleaved(m.Pix, m.Stride, 8, 2)
	case *image.RGBA64:
		if !m.Opaque() {
			convertGeneric(out, img)
			break
		}
		interleaved(m.Pix, m.Stride, 8, 2)
	case *image.RGBA:
		if !m.Opaque() {
			convertGeneric(out, img)
			break
		}
		interleaved(m.Pix, m.Stride, 4, 1)
	case *image.Paletted:
		var lut [256][3]uint8
		for i, c := range m.Palette {
			if i == len(lut) {
				break
			}
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			lut[i] = [3]uint8{n.R, n.G, n.B}
		}
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range row {
				set(x, y, lut[v][0], lut[v][1], lut[v][2])
			}
		}
	case *image.YCbCr:
		if ycbcrLibjpeg(m, out) {
			break
		}
		for y := range h {
			for x := range w {
				c := m.YCbCrAt(r.Min.X+x, r.Min.Y+y)
				cr, cg, cb := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
				set(x, y, cr, cg, cb)
			}
		}
	default:
		convertGeneric(out, img)
	}
	return out
}

// convertGeneric fills out from img through color.NRGBAModel, dropping
// alpha.
func convertGeneric(out rgbImage, img image.Image) {
	r := img.Bounds()
	for y := range out.h {
		for x := range out.w {
			c := color.NRGBAModel.Convert(img.At(r.Min.X+x, r.Min.Y+y)).(color.NRGBA)
			i := (y*out.w + x) * 3
			out.pix[i], out.pix[i+1], out.pix[i+2] = c.R, c.G, c.B
		}
	}
}

// ycbcrLibjpeg converts m to RGB in out as libjpeg-turbo does with its
// defaults (do_fancy_upsampling, JDCT_ISLOW aside): chroma is upsampled
// by jdsample.c's h2v1_fancy_upsample (4:2:2: each output sample is
// 3/4 of the nearer and 1/4 of the further chroma sample, rounded
// alternately down and up) or h2v2_fancy_upsample (4:2:0: the same
// triangle filter in both directions, with the rows above the first and
// below the last chroma row repeated), then jdcolor.c's ycc_rgb_convert
// tables (16-bit fixed point) map YCbCr to RGB. It reports false, doing
// nothing, for other subsamplings or an image not at the origin.
func ycbcrLibjpeg(m *image.YCbCr, out rgbImage) bool {
	var hs, vs int
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
		hs, vs = 1, 1
	case image.YCbCrSubsampleRatio422:
		hs, vs = 2, 1
	case image.YCbCrSubsampleRatio420:
		hs, vs = 2, 2
	default:
		return false
	}
	if m.Rect.Min != (image.Point{}) {
		return false
	}
	w, h := out.w, out.h
	cw, ch := (w+hs-1)/hs, (h+vs-1)/vs
	cb, cr := make([]uint8, 2*cw), make([]uint8, 2*cw) // one upsampled row
	colsum := make([]int, cw)
	// upsampleRow writes the upsampled chroma of output row y of plane
	// p into dst[:hs*cw].
	upsampleRow := func(dst []uint8, p []uint8, y int) {
		cy := y / vs
		near := p[cy*m.CStride : cy*m.CStride+cw]
		if hs == 1 {
			copy(dst, near)
			return
		}
		if vs == 1 { // h2v1_fancy_upsample
			if cw == 1 {
				dst[0], dst[1] = near[0], near[0]
				return
			}
			dst[0] = near[0]
			dst[1] = uint8((int(near[0])*3 + int(near[1]) + 2) >> 2)
			for i := 1; i < cw-1; i++ {
				v := int(near[i]) * 3
				dst[2*i] = uint8((v + int(near[i-1]) + 1) >> 2)
				dst[2*i+1] = uint8((v + int(near[i+1]) + 2) >> 2)
			}
			i := cw - 1
			dst[2*i] = uint8((int(near[i])*3 + int(near[i-1]) + 1) >> 2)
			dst[2*i+1] = near[i]
			return
		}
		// h2v2_fancy_upsample: the further row is above for even
		// output rows, below for odd ones.
		fy := cy - 1
		if y%2 == 1 {
			fy = cy + 1
		}
		fy = max(0, min(fy, ch-1))
		far := p[fy*m.CStride : fy*m.CStride+cw]
		for i := range colsum {
			colsum[i] = int(near[i])*3 + int(far[i])
		}
		if cw == 1 {
			dst[0], dst[1] = uint8((colsum[0]*4+8)>>4), uint8((colsum[0]*4+7)>>4)
			return
		}
		dst[0] = uint8((colsum[0]*4 + 8) >> 4)
		dst[1] = uint8((colsum[0]*3 + colsum[1] + 7) >> 4)
		for i := 1; i < cw-1; i++ {
			dst[2*i] = uint8((colsum[i]*3 + colsum[i-1] + 8) >> 4)
			dst[2*i+1] = uint8((colsum[i]*3 + colsum[i+1] + 7) >> 4)
		}
		i := cw - 1
		dst[2*i] = uint8((colsum[i]*3 + colsum[i-1] + 8) >> 4)
		dst[2*i+1] = uint8((colsum[i]*4 + 7) >> 4)
	}
	for y := range h {
		upsampleRow(cb, m.Cb, y)
		upsampleRow(cr, m.Cr, y)
		row := m.Y[y*m.YStride : y*m.YStride+w]
		for x, yv := range row {
			r, g, b := libjpegYCbCrToRGB(int(yv), int(cb[x]), int(cr[x]))
			i := (y*w + x) * 3
			out.pix[i], out.pix[i+1], out.pix[i+2] = r, g, b
		}
	}
	return true
}

// libjpegYCbCrToRGB is jdcolor.c's ycc_rgb_convert: with x = c − 128,
// R = Y + round(1.402·x_Cr), B = Y + round(1.772·x_Cb) and
// G = Y + floor((−0.34414·x_Cb − 0.71414·x_Cr)·2^16 + 2^15) / 2^16, each
// coefficient rounded to 16-bit fixed point, clamped to 0..255.
func libjpegYCbCrToRGB(y, cb, cr int) (r, g, b uint8) {
	const (
		scaleBits = 16
		half      = 1 << (scaleBits - 1)
		fixCrR    = 91881  // FIX(1.40200)
		fixCbB    = 116130 // FIX(1.77200)
		fixCrG    = 46802  // FIX(0.71414)
		fixCbG    = 22554  // FIX(0.34414)
	)
	xb, xr := cb-128, cr-128
	clamp := func(v int) uint8 { return uint8(max(0, min(v, 255))) }
	r = clamp(y + (fixCrR*xr+half)>>scaleBits)
	g = clamp(y + (-fixCbG*xb+half-fixCrG*xr)>>scaleBits)
	b = clamp(y + (fixCbB*xb+half)>>scaleBits)
	return r, g, b
}
