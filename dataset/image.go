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
		return imageCodec{"tiff", tiff.DecodeConfig, tiff.Decode}, nil
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return imageCodec{"webp", webp.DecodeConfig, webp.Decode}, nil
	case len(head) >= 2 && head[0] == 'P' && head[1] >= '1' && head[1] <= '7':
		return imageCodec{}, &UnsupportedError{Path: path, Format: "image", Feature: "netpbm (.ppm/.pgm) images; convert them to PNG"}
	}
	return imageCodec{}, formatErr(path, "image", nil, "not a PNG, JPEG, BMP, TIFF or WebP file")
}

// imageConfig reads the width and height of the image file (named path)
// that r reads, from its header.
func imageConfig(path string, r *bufio.Reader) (w, h int, err error) {
	head, _ := r.Peek(12)
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
	w, h, err := imageConfig(path, bufio.NewReader(bytes.NewReader(b)))
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
//   - JPEG YCbCr uses Go's decoder and color.YCbCrToRGB, which differ from
//     libjpeg's (Pillow's) IDCT, chroma upsampling and rounding by a few
//     levels; CMYK uses color.CMYKToRGB.
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
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := range w {
				set(x, y, row[4*x], row[4*x+1], row[4*x+2])
			}
		}
	case *image.NRGBA64:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+8*w]
			for x := range w {
				set(x, y, row[8*x], row[8*x+2], row[8*x+4])
			}
		}
	case *image.RGBA64:
		if !m.Opaque() {
			convertGeneric(out, img)
			break
		}
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+8*w]
			for x := range w {
				set(x, y, row[8*x], row[8*x+2], row[8*x+4])
			}
		}
	case *image.RGBA:
		if !m.Opaque() {
			convertGeneric(out, img)
			break
		}
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := range w {
				set(x, y, row[4*x], row[4*x+1], row[4*x+2])
			}
		}
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
