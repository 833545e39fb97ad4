package dataset

import "image"

// This file converts the YCbCr 4:2:0 image that golang.org/x/image/webp
// returns for a lossy (VP8) WebP file to RGB as libwebp, Pillow's decoder,
// does by default. VP8 samples are BT.601 "studio swing" (Y 16..235), not
// JFIF full range, so color.YCbCrToRGB would be off by several levels.

// webpYUVToRGB is libwebp's VP8YuvToRgb (dsp/yuv.h): 14-bit fixed point
// BT.601 limited-range conversion, clipped to 0..255.
func webpYUVToRGB(y, u, v int) (r, g, b uint8) {
	const fix2 = 6
	const mask2 = (256 << fix2) - 1
	multHi := func(v, coeff int) int { return (v * coeff) >> 8 }
	clip8 := func(v int) uint8 {
		switch {
		case v&^mask2 == 0:
			return uint8(v >> fix2)
		case v < 0:
			return 0
		}
		return 255
	}
	r = clip8(multHi(y, 19077) + multHi(v, 26149) - 14234)
	g = clip8(multHi(y, 19077) - multHi(u, 6419) - multHi(v, 13320) + 8708)
	b = clip8(multHi(y, 19077) + multHi(u, 33050) - 17685)
	return r, g, b
}

// webpToRGB writes m, a lossy WebP image, into out as libwebp's fancy
// upsampler (dsp/upsampling.c UpsampleRgbLinePair, driven by io_dec.c
// EmitFancyRGB) does: output row 0 and, for an even height, the last row
// use one chroma row; rows 2k+1 and 2k+2 blend chroma rows k and k+1
// (3:1 towards the nearer), and within a row chroma is blended 3:1 the
// same way, with libwebp's rounding. It reports false, doing nothing, for
// an image that is not 4:2:0 at the origin.
func webpToRGB(m *image.YCbCr, out rgbImage) bool {
	if m.SubsampleRatio != image.YCbCrSubsampleRatio420 || m.Rect.Min != (image.Point{}) {
		return false
	}
	w, h := out.w, out.h
	cw := (w + 1) / 2
	chroma := func(p []uint8, row int) []uint8 { return p[row*m.CStride : row*m.CStride+cw] }
	emit := func(y int, uv [2]int, x int) {
		r, g, b := webpYUVToRGB(int(m.Y[y*m.YStride+x]), uv[0], uv[1])
		i := (y*w + x) * 3
		out.pix[i], out.pix[i+1], out.pix[i+2] = r, g, b
	}
	// linePair is UpsampleRgbLinePair for output rows top (always) and
	// bottom (if >= 0), with chroma rows tu/tv (top) and cu/cv (current).
	linePair := func(top, bottom int, tu, tv, cu, cv []uint8) {
		lane := func(f func(tl, t, l, c int) int, x0, x1 int) [2]int {
			return [2]int{
				f(int(tu[x0]), int(tu[x1]), int(cu[x0]), int(cu[x1])),
				f(int(tv[x0]), int(tv[x1]), int(cv[x0]), int(cv[x1])),
			}
		}
		edgeTop := func(tl, _, l, _ int) int { return (3*tl + l + 2) >> 2 }
		edgeBottom := func(tl, _, l, _ int) int { return (3*l + tl + 2) >> 2 }
		emit(top, lane(edgeTop, 0, 0), 0)
		if bottom >= 0 {
			emit(bottom, lane(edgeBottom, 0, 0), 0)
		}
		diag12 := func(tl, t, l, c int) int { return (tl + t + l + c + 8 + 2*(t+l)) >> 3 }
		diag03 := func(tl, t, l, c int) int { return (tl + t + l + c + 8 + 2*(tl+c)) >> 3 }
		for x := 1; x <= (w-1)>>1; x++ {
			d12, d03 := lane(diag12, x-1, x), lane(diag03, x-1, x)
			tl, t := [2]int{int(tu[x-1]), int(tv[x-1])}, [2]int{int(tu[x]), int(tv[x])}
			l, c := [2]int{int(cu[x-1]), int(cv[x-1])}, [2]int{int(cu[x]), int(cv[x])}
			avg := func(a, b [2]int) [2]int { return [2]int{(a[0] + b[0]) >> 1, (a[1] + b[1]) >> 1} }
			emit(top, avg(d12, tl), 2*x-1)
			emit(top, avg(d03, t), 2*x)
			if bottom >= 0 {
				emit(bottom, avg(d03, l), 2*x-1)
				emit(bottom, avg(d12, c), 2*x)
			}
		}
		if w&1 == 0 {
			last := cw - 1
			emit(top, lane(edgeTop, last, last), w-1)
			if bottom >= 0 {
				emit(bottom, lane(edgeBottom, last, last), w-1)
			}
		}
	}
	linePair(0, -1, chroma(m.Cb, 0), chroma(m.Cr, 0), chroma(m.Cb, 0), chroma(m.Cr, 0))
	k := 0
	for y := 1; y+1 < h; y += 2 {
		linePair(y, y+1, chroma(m.Cb, k), chroma(m.Cr, k), chroma(m.Cb, k+1), chroma(m.Cr, k+1))
		k++
	}
	if h&1 == 0 && h > 1 {
		linePair(h-1, -1, chroma(m.Cb, k), chroma(m.Cr, k), chroma(m.Cb, k), chroma(m.Cr, k))
	}
	return true
}
