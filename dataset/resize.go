package dataset

import (
	"fmt"
	"math"
)

// This file reproduces, bit for bit, what torchvision 0.14 does to a PIL
// image (Pillow 9.x) with Resize(n) and CenterCrop(m):
//
//   - the output size of Resize(n) is torchvision's
//     _compute_resized_output_size: the shorter side becomes n and the
//     longer int(n*long/short) (truncated); an image already of that size
//     is left alone;
//   - the resampling is Pillow's Image.resize(size, BILINEAR) for an RGB
//     image (libImaging/Resample.c): separable, horizontal pass first, a
//     triangle filter whose support is scaled by the reduction factor when
//     downscaling (so it antialiases, a box-like average over
//     in/out source pixels) and 1 when upscaling, weights normalised to sum
//     1 and rounded to 22-bit fixed point, each pass rounded and clipped
//     to uint8;
//   - CenterCrop(m) pads with zeros to at least m×m (left/top get the
//     floor of half the missing pixels) and then cuts at
//     top = round((h-m)/2), left = round((w-m)/2) with Python's round
//     (half to even).
//
// Images are interleaved RGB uint8, row after row, as Pillow holds them.

// pilPrecisionBits is Resample.c's PRECISION_BITS (32 - 8 - 2).
const pilPrecisionBits = 32 - 8 - 2

// rgbImage is an interleaved 8-bit RGB image: pixel (x, y) channel c is
// pix[(y*w+x)*3+c].
type rgbImage struct {
	w, h int
	pix  []uint8
}

// resizedSize returns the size torchvision's Resize(n) gives a w×h image:
// the shorter side becomes n, the longer int(n*long/short).
func resizedSize(w, h, n int) (nw, nh int) {
	short, long := w, h
	if w > h {
		short, long = h, w
	}
	newLong := int(float64(n*long) / float64(short))
	if w <= h {
		return n, newLong
	}
	return newLong, n
}

// pilCoeffs are the fixed-point filter weights of one resampling pass:
// output pixel i reads k[i*ksize : i*ksize+size[i]] times the source
// pixels first[i], first[i]+1, ...
type pilCoeffs struct {
	ksize       int
	first, size []int
	k           []int32
}

// pilBilinearCoeffs is Resample.c's precompute_coeffs with the bilinear
// filter (support 1) followed by normalize_coeffs_8bpc, for a pass from
// in to out pixels over the whole source (box [0, in)). Every
// floating-point step is the C code's, in the same order, in float64; the
// explicit float64 conversions forbid fused multiply-adds.
func pilBilinearCoeffs(in, out int) pilCoeffs {
	scale := float64(float32(in)) / float64(out)
	filterscale := max(scale, 1)
	support := 1.0 * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	c := pilCoeffs{ksize: ksize, first: make([]int, out), size: make([]int, out), k: make([]int32, out*ksize)}
	w := make([]float64, ksize)
	for xx := range out {
		center := float64(0 + float64(float64(xx)+0.5)*scale)
		ss := 1.0 / filterscale
		xmin := int(center - support + 0.5)
		xmin = max(xmin, 0)
		xmax := min(int(center+support+0.5), in) - xmin
		var ww float64
		for x := 0; x < xmax; x++ {
			t := float64(float64(float64(x+xmin)-center+0.5) * ss)
			if t < 0 {
				t = -t
			}
			v := 0.0
			if t < 1 {
				v = 1 - t
			}
			w[x] = v
			ww += v
		}
		for x := 0; x < xmax; x++ {
			if ww != 0 {
				w[x] /= ww
			}
			f := float64(w[x] * (1 << pilPrecisionBits))
			if w[x] < 0 {
				c.k[xx*ksize+x] = int32(-0.5 + f)
			} else {
				c.k[xx*ksize+x] = int32(0.5 + f)
			}
		}
		c.first[xx], c.size[xx] = xmin, xmax
	}
	return c
}

// clip8 is Resample.c's clip8: the fixed-point sum rounded (the sums start
// at one half) and clipped to 0..255.
func clip8(v int32) uint8 {
	switch {
	case v >= 1<<pilPrecisionBits<<8:
		return 255
	case v <= 0:
		return 0
	}
	return uint8(v >> pilPrecisionBits)
}

// resizeBilinear returns src resized to w×h as Pillow's
// Image.resize((w, h), Image.BILINEAR) does for an RGB image: a
// horizontal pass (if the width changes) into a uint8 image, then a
// vertical pass (if the height changes). w and h must be positive.
func resizeBilinear(src rgbImage, w, h int) rgbImage {
	if w == src.w && h == src.h {
		return src
	}
	cur := src
	if w != src.w {
		c := pilBilinearCoeffs(src.w, w)
		dst := rgbImage{w: w, h: src.h, pix: make([]uint8, w*src.h*3)}
		for y := 0; y < src.h; y++ {
			row := src.pix[y*src.w*3 : (y+1)*src.w*3]
			out := dst.pix[y*w*3 : (y+1)*w*3]
			for xx := 0; xx < w; xx++ {
				k := c.k[xx*c.ksize : xx*c.ksize+c.size[xx]]
				in := row[c.first[xx]*3:]
				s0, s1, s2 := int32(1<<(pilPrecisionBits-1)), int32(1<<(pilPrecisionBits-1)), int32(1<<(pilPrecisionBits-1))
				for x, kx := range k {
					p := in[x*3 : x*3+3]
					s0 += int32(p[0]) * kx
					s1 += int32(p[1]) * kx
					s2 += int32(p[2]) * kx
				}
				out[xx*3], out[xx*3+1], out[xx*3+2] = clip8(s0), clip8(s1), clip8(s2)
			}
		}
		cur = dst
	}
	if h != cur.h {
		c := pilBilinearCoeffs(cur.h, h)
		dst := rgbImage{w: cur.w, h: h, pix: make([]uint8, cur.w*h*3)}
		stride := cur.w * 3
		for yy := 0; yy < h; yy++ {
			k := c.k[yy*c.ksize : yy*c.ksize+c.size[yy]]
			out := dst.pix[yy*stride : (yy+1)*stride]
			for i := range out {
				s := int32(1 << (pilPrecisionBits - 1))
				for y, ky := range k {
					s += int32(cur.pix[(c.first[yy]+y)*stride+i]) * ky
				}
				out[i] = clip8(s)
			}
		}
		cur = dst
	}
	return cur
}

// centerCrop returns the m×m centre of src as torchvision's CenterCrop(m)
// computes it (see the file comment), padding with zeros first where src
// is smaller than m.
func centerCrop(src rgbImage, m int) rgbImage {
	if src.w == m && src.h == m {
		return src
	}
	// Offsets of the crop in src; negative where padding is needed.
	left, top := cropOffset(src.w, m), cropOffset(src.h, m)
	dst := rgbImage{w: m, h: m, pix: make([]uint8, m*m*3)}
	for y := 0; y < m; y++ {
		sy := y + top
		if sy < 0 || sy >= src.h {
			continue
		}
		for x := 0; x < m; x++ {
			sx := x + left
			if sx < 0 || sx >= src.w {
				continue
			}
			copy(dst.pix[(y*m+x)*3:(y*m+x)*3+3], src.pix[(sy*src.w+sx)*3:])
		}
	}
	return dst
}

// cropOffset returns where a centre crop of m pixels starts in a side of n
// pixels: int(round((n-m)/2.0)) with round half to even, or, when n < m,
// minus the zero padding torchvision puts before the image,
// -((m-n)//2).
func cropOffset(n, m int) int {
	if n < m {
		return -((m - n) / 2)
	}
	return int(math.RoundToEven(float64(n-m) / 2))
}

// ImageOptions say how image files of any size become images of one
// shape, as torchvision's transforms do to PIL images. The zero value
// keeps every image as decoded (they must then all have one size).
type ImageOptions struct {
	// Resize, when positive, resizes the shorter side to Resize pixels
	// (the longer to int(Resize*long/short)) with Pillow's antialiased
	// bilinear filter: torchvision's Resize(Resize).
	Resize int
	// Crop, when positive, cuts the centre Crop×Crop pixels after
	// resizing, padding with zeros where the image is smaller:
	// torchvision's CenterCrop(Crop).
	Crop int
}

// IsZero reports whether o leaves images as decoded.
func (o ImageOptions) IsZero() bool { return o.Resize == 0 && o.Crop == 0 }

// validate checks that the sizes are not negative and not absurd.
func (o ImageOptions) validate() error {
	const maxSide = 1 << 15
	if o.Resize < 0 || o.Resize > maxSide {
		return fmt.Errorf("dataset: resize %d out of range [0,%d]", o.Resize, maxSide)
	}
	if o.Crop < 0 || o.Crop > maxSide {
		return fmt.Errorf("dataset: crop %d out of range [0,%d]", o.Crop, maxSide)
	}
	return nil
}

// outSize returns the size an image of w×h pixels has after o.
func (o ImageOptions) outSize(w, h int) (int, int) {
	if o.Resize > 0 {
		w, h = resizedSize(w, h, o.Resize)
	}
	if o.Crop > 0 {
		w, h = o.Crop, o.Crop
	}
	return w, h
}

// apply resizes and crops img as o says.
func (o ImageOptions) apply(img rgbImage) rgbImage {
	if o.Resize > 0 {
		w, h := resizedSize(img.w, img.h, o.Resize)
		img = resizeBilinear(img, max(w, 1), max(h, 1))
	}
	if o.Crop > 0 {
		img = centerCrop(img, o.Crop)
	}
	return img
}

// String describes o as in the CLI's preprocessing line, e.g.
// "resize 256, crop 224"; "" for the zero value.
func (o ImageOptions) String() string {
	s := ""
	if o.Resize > 0 {
		s = fmt.Sprintf("resize %d", o.Resize)
	}
	if o.Crop > 0 {
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("crop %d", o.Crop)
	}
	return s
}
