package dataset

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"runtime"
	"strings"
	"testing"
)

// tinyTIFF is an 8-byte little-endian TIFF header whose first directory
// is at offset ifd, followed by tail.
func tinyTIFF(ifd uint32, tail []byte) []byte {
	b := []byte("II*\x00\x00\x00\x00\x00")
	binary.LittleEndian.PutUint32(b[4:], ifd)
	return append(b, tail...)
}

// tiffDeclaring is a little-endian TIFF whose one directory declares a
// w×h 8-bit gray image (and no pixel data).
func tiffDeclaring(w, h uint32) []byte {
	b := tinyTIFF(8, nil)
	entries := []struct {
		tag, typ uint16
		val      uint32
	}{
		{256, 4, w}, // ImageWidth, LONG
		{257, 4, h}, // ImageLength, LONG
		{258, 3, 8}, // BitsPerSample, SHORT
		{262, 3, 1}, // PhotometricInterpretation: black is zero
		{273, 4, 0}, // StripOffsets
		{279, 4, 0}, // StripByteCounts
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(entries)))
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.typ)
		b = binary.LittleEndian.AppendUint32(b, 1)
		b = binary.LittleEndian.AppendUint32(b, e.val)
	}
	return binary.LittleEndian.AppendUint32(b, 0) // no next directory
}

// pngDeclaring is a PNG signature and IHDR chunk declaring a w×h 8-bit
// RGB image, and nothing else.
func pngDeclaring(w, h uint32) []byte {
	ihdr := []byte("IHDR")
	ihdr = binary.BigEndian.AppendUint32(ihdr, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // depth 8, RGB, deflate, filter 0, no interlace
	b := []byte("\x89PNG\r\n\x1a\n")
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, ihdr...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
}

// bmpDeclaring is a BITMAPINFOHEADER BMP declaring a w×h 24-bit image
// without pixels.
func bmpDeclaring(w, h int32) []byte {
	b := []byte("BM")
	b = binary.LittleEndian.AppendUint32(b, 54) // file size
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 54) // pixel offset
	b = binary.LittleEndian.AppendUint32(b, 40) // header size
	b = binary.LittleEndian.AppendUint32(b, uint32(w))
	b = binary.LittleEndian.AppendUint32(b, uint32(h))
	b = binary.LittleEndian.AppendUint16(b, 1)  // planes
	b = binary.LittleEndian.AppendUint16(b, 24) // bits per pixel
	return append(b, make([]byte, 24)...)
}

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestImageDeclaredSizes: small files that declare a huge image, or a
// TIFF directory far beyond their end, are refused with an error naming
// the file, by decodeRGB and by the header scan (imageConfig, reading a
// stream), without allocating more than a few MB. The TIFF offsets are
// the FuzzImage hang: x/image/tiff grew a buffer to the declared offset
// (4 GiB for 0xc0c0c0c0) when the reader was not an io.ReaderAt.
func TestImageDeclaredSizes(t *testing.T) {
	const path = "class/crafted.img"
	const limit = 8 << 20
	cases := []struct {
		name    string
		b       []byte
		wantMsg string // in decodeRGB's error
	}{
		{"tiff directory at 3 GB", tinyTIFF(0xc0c0c0c0, bytes.Repeat([]byte{0xc0}, 140)), "tiff"},
		{"tiff directory at 4 GB", tinyTIFF(0xffffff00, nil), "tiff"},
		{"big-endian tiff directory at 2 GB", []byte("MM\x00*\x7f\xff\xff\xf0"), "tiff"},
		{"tiff of 100000×100000", tiffDeclaring(100000, 100000), "decompression bomb"},
		{"png of 100000×100000", pngDeclaring(100000, 100000), "decompression bomb"},
		{"bmp of 100000×100000", bmpDeclaring(100000, 100000), "decompression bomb"},
		{"bmp of 100000×-100000 (top-down)", bmpDeclaring(100000, -100000), "decompression bomb"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if n := allocated(func() { _, err = decodeRGB(path, tc.b, maxImagePixels) }); n > limit {
				t.Errorf("decodeRGB allocated %d bytes for a %d-byte file", n, len(tc.b))
			}
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("decodeRGB: error %v, want one naming %s and saying %q", err, path, tc.wantMsg)
			}
			var w, h int
			if n := allocated(func() { w, h, err = imageConfig(path, bufio.NewReader(bytes.NewReader(tc.b))) }); n > limit {
				t.Errorf("imageConfig allocated %d bytes for a %d-byte file", n, len(tc.b))
			}
			if err != nil && !strings.Contains(err.Error(), path) {
				t.Errorf("imageConfig: error %v does not name %s", err, path)
			}
			if err == nil && int64(w)*int64(h) <= maxImagePixels {
				t.Errorf("imageConfig: %d×%d, no error: the size check would let it through", w, h)
			}
		})
	}
}
