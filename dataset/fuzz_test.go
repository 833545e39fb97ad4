package dataset

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Each fuzz target checks that a reader returns an error or a result
// consistent with its input, and never panics or over-allocates.

func FuzzIDX(f *testing.F) {
	f.Add(idxBytes([]uint32{3}, []byte{7, 2, 1}))
	f.Add(idxBytes([]uint32{2, 2, 3}, seq(12)))
	f.Add(gz(f, idxBytes([]uint32{1, 4, 4}, seq(16))))
	f.Add(idxBytes([]uint32{60000, 28, 28}, seq(10)))
	f.Add([]byte{0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ReadIDX(bytes.NewReader(b))
		if err != nil {
			return
		}
		n := 1
		for _, d := range a.Dims {
			n *= d
		}
		if n != len(a.Data) {
			t.Fatalf("dims %v but %d values", a.Dims, len(a.Data))
		}
		if b[0] != 0x1f && len(b) != 4+4*len(a.Dims)+n {
			t.Fatalf("accepted %d bytes for dims %v", len(b), a.Dims)
		}
	})
}

func FuzzCIFAR(f *testing.F) {
	f.Add(cifarRecords(1))
	f.Add(cifarRecords(9, 0))
	f.Add(gz(f, cifarRecords(3)))
	f.Add(cifarRecords(11))
	f.Add([]byte{0x1f, 0x8b, 8, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ReadCIFAR10(bytes.NewReader(b))
		if err != nil {
			return
		}
		if d.Shape() != [3]int{3, 32, 32} {
			t.Fatalf("shape %v", d.Shape())
		}
		if b[0] != 0x1f && len(b) != d.Len()*cifarRecord {
			t.Fatalf("accepted %d bytes as %d records", len(b), d.Len())
		}
		x, err := d.Batch(make([]float32, d.ImageSize()), d.Len()-1, 1, Preprocess{Scale: 1.0 / 255})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range x {
			if v < 0 || v > 1 {
				t.Fatalf("pixel %v outside [0,1]", v)
			}
		}
	})
}

func FuzzNPY(f *testing.F) {
	f.Add(npyBytes(1, "<f4", false, []int{2, 1}, f32Bytes(1, 2)))
	f.Add(npyBytes(2, "|u1", false, []int{1, 1, 2, 2}, seq(4)))
	f.Add(npyBytes(3, "<i8", false, []int{2}, i64Bytes(1, 2)))
	f.Add(npyBytes(1, "<f8", true, []int{1}, f64Bytes(1)))
	f.Add(npyBytes(1, ">i4", false, []int{1}, seq(4)))
	f.Add(gz(f, npyBytes(1, "<i2", false, []int{3}, seq(6))))
	f.Add(rawNPY("{'descr': '|u1', 'fortran_order': False, 'shape': (2L, 1L), }", []byte{5, 6}))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ReadNPY(bytes.NewReader(b))
		if err != nil {
			return
		}
		n := len(a.Uint8) + len(a.Int64) + len(a.Float32) + len(a.Float64)
		if a.Len() != n {
			t.Fatalf("shape %v but %d values", a.Shape, n)
		}
	})
}

// FuzzImage feeds bytes to the image-folder decoding path (format sniffing,
// header check, decoder, RGB conversion, resize and crop): a bad file is an
// error naming it, never a panic.
func FuzzImage(f *testing.F) {
	for _, name := range []string{"10_ten/a_gray.PNG", "9_nine/palette.png", "9_nine/bits.png", "Zebra/rgb16.png", "apple/sub/gray.jpeg", "apple/photo.jpg", "apple/sub/deeper/s422.jpg", "Zebra/g100.PGM", "Zebra/c999.ppm", "Zebra/lossy_odd.webp", "Zebra/lossy_alpha.webp", "Zebra/rgb.tif"} {
		b, err := os.ReadFile(filepath.Join(folderDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("BM"))
	f.Add([]byte("II*\x00\x08\x00\x00\x00"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	f.Fuzz(func(t *testing.T, b []byte) {
		const name = "class/fuzz.png"
		img, err := decodeRGB(name, b, 1<<16)
		if err != nil {
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if img.w <= 0 || img.h <= 0 || len(img.pix) != 3*img.w*img.h || img.w*img.h > 1<<16 {
			t.Fatalf("decoded %d×%d with %d values", img.w, img.h, len(img.pix))
		}
		out := ImageOptions{Resize: 5, Crop: 4}.apply(img)
		if out.w != 4 || out.h != 4 || len(out.pix) != 48 {
			t.Fatalf("resize 5 crop 4 gave %d×%d", out.w, out.h)
		}
	})
}
