package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// npyBytes builds an .npy file the way numpy.save does: the header dict
// padded with spaces and a newline to a multiple of 64 bytes.
func npyBytes(major byte, descr string, fortran bool, shape []int, data []byte) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	tuple := "(" + strings.Join(dims, ", ") + ")"
	if len(shape) == 1 {
		tuple = "(" + dims[0] + ",)"
	}
	fo := "False"
	if fortran {
		fo = "True"
	}
	hdr := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, fo, tuple)
	pre := 10
	if major > 1 {
		pre = 12
	}
	hdr += strings.Repeat(" ", 63-(pre+len(hdr))%64) + "\n"
	b := []byte("\x93NUMPY")
	b = append(b, major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(hdr)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(hdr)))
	}
	return append(append(b, hdr...), data...)
}

// rawNPY builds a version 1.0 .npy file with the given header text.
func rawNPY(hdr string, data []byte) []byte {
	b := []byte("\x93NUMPY\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(len(hdr)))
	return append(append(b, hdr...), data...)
}

func f32Bytes(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func f64Bytes(v ...float64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

func i64Bytes(v ...int64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	return b
}

func TestNPYHeaderPadding(t *testing.T) {
	for _, major := range []byte{1, 2, 3} {
		b := npyBytes(major, "<f4", false, []int{2, 3}, nil)
		if len(b)%64 != 0 || b[len(b)-1] != '\n' {
			t.Errorf("v%d: header length %d not padded like numpy", major, len(b))
		}
	}
}

func TestReadNPY(t *testing.T) {
	f32 := []float32{0, -1.5, 3.25, float32(math.Pi), 1e-30, 255}
	tests := []struct {
		name  string
		in    []byte
		shape []int
		check func(a *Array) bool
		want  string // see checkErr
	}{
		{"f4 v1", npyBytes(1, "<f4", false, []int{2, 3}, f32Bytes(f32...)), []int{2, 3},
			func(a *Array) bool { return slices.Equal(a.Float32, f32) }, ""},
		{"f4 v2", npyBytes(2, "<f4", false, []int{6}, f32Bytes(f32...)), []int{6},
			func(a *Array) bool { return slices.Equal(a.Float32, f32) }, ""},
		{"f4 v3 gz", gz(t, npyBytes(3, "<f4", false, []int{3, 2}, f32Bytes(f32...))), []int{3, 2},
			func(a *Array) bool { return slices.Equal(a.Float32, f32) }, ""},
		{"f8", npyBytes(1, "<f8", false, []int{2}, f64Bytes(0.1, -2e300)), []int{2},
			func(a *Array) bool { return slices.Equal(a.Float64, []float64{0.1, -2e300}) }, ""},
		{"u1", npyBytes(1, "|u1", false, []int{1, 2, 2}, []byte{0, 1, 254, 255}), []int{1, 2, 2},
			func(a *Array) bool { return bytes.Equal(a.Uint8, []byte{0, 1, 254, 255}) }, ""},
		{"i8", npyBytes(1, "<i8", false, []int{3}, i64Bytes(-1, 9, 1<<40)), []int{3},
			func(a *Array) bool { return slices.Equal(a.Int64, []int64{-1, 9, 1 << 40}) }, ""},
		{"i4", npyBytes(1, "<i4", false, []int{2}, []byte{0xff, 0xff, 0xff, 0xff, 7, 0, 0, 0}), []int{2},
			func(a *Array) bool { return slices.Equal(a.Int64, []int64{-1, 7}) }, ""},
		{"i2", npyBytes(1, "<i2", false, []int{2}, []byte{0xfe, 0xff, 7, 0}), []int{2},
			func(a *Array) bool { return slices.Equal(a.Int64, []int64{-2, 7}) }, ""},
		{"i1", npyBytes(1, "|i1", false, []int{2}, []byte{0xff, 7}), []int{2},
			func(a *Array) bool { return slices.Equal(a.Int64, []int64{-1, 7}) }, ""},
		{"scalar", npyBytes(1, "<f4", false, []int{}, f32Bytes(2)), []int{},
			func(a *Array) bool { return slices.Equal(a.Float32, []float32{2}) }, ""},
		{"empty", npyBytes(1, "<f4", false, []int{0, 5}, nil), []int{0, 5},
			func(a *Array) bool { return len(a.Float32) == 0 }, ""},
		{"py2 longs", rawNPY("{'descr': '|u1', 'fortran_order': False, 'shape': (2L, 1L), }             \n", []byte{5, 6}), []int{2, 1},
			func(a *Array) bool { return bytes.Equal(a.Uint8, []byte{5, 6}) }, ""},
		{"fortran", npyBytes(1, "<f4", true, []int{2, 3}, f32Bytes(f32...)), nil, nil, "fortran_order"},
		{"big-endian", npyBytes(1, ">f4", false, []int{6}, f32Bytes(f32...)), nil, nil, "big-endian"},
		{"complex", npyBytes(1, "<c8", false, []int{1}, make([]byte, 8)), nil, nil, "unsupported"},
		{"unicode", npyBytes(1, "<U10", false, []int{1}, make([]byte, 40)), nil, nil, "unsupported"},
		{"version 4", append([]byte("\x93NUMPY\x04\x00"), npyBytes(1, "<f4", false, []int{1}, f32Bytes(1))[8:]...), nil, nil, "unsupported"},
		{"bad magic", append([]byte("\x93NUMPZ"), npyBytes(1, "<f4", false, []int{1}, f32Bytes(1))[6:]...), nil, nil, "bad magic"},
		{"empty file", nil, nil, nil, "truncated"},
		{"truncated header", npyBytes(1, "<f4", false, []int{6}, nil)[:30], nil, nil, "truncated"},
		{"truncated data", npyBytes(1, "<f4", false, []int{6}, f32Bytes(f32...))[:80], nil, nil, "truncated"},
		{"trailing data", npyBytes(1, "<f4", false, []int{1}, f32Bytes(1, 2)), nil, nil, "trailing"},
		{"claims more", npyBytes(1, "<f8", false, []int{1000, 1000}, f32Bytes(1, 2)), nil, nil, "truncated"},
		{"huge dims", npyBytes(1, "<f8", false, []int{1 << 30, 1 << 30, 1 << 30}, nil), nil, nil, "too large"},
		{"bad header", rawNPY("{'a' ", nil), nil, nil, "bad header"},
		{"missing key", rawNPY("{'descr':'<f4'}", nil), nil, nil, "want keys"},
		{"negative dim", rawNPY("{'descr':'<f4','fortran_order':False,'shape':(-1,)}", nil), nil, nil, "bad header"},
		{"structured", rawNPY("{'descr':[('a','<f4')], }", nil), nil, nil, "structured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ReadNPY(bytes.NewReader(tt.in))
			checkErr(t, err, tt.want)
			if err != nil {
				return
			}
			if !slices.Equal(a.Shape, tt.shape) || a.Len() != len(a.Uint8)+len(a.Int64)+len(a.Float32)+len(a.Float64) {
				t.Errorf("shape %v (len %d), want %v", a.Shape, a.Len(), tt.shape)
			}
			if !tt.check(a) {
				t.Errorf("values wrong: %+v", a)
			}
		})
	}
}

// TestLoadNPY round-trips image and label arrays through files.
func TestLoadNPY(t *testing.T) {
	dir := t.TempDir()
	u8 := seq(2 * 3 * 2 * 2)
	f := make([]float32, 2*3*2*2)
	for i := range f {
		f[i] = float32(i) / 4
	}
	files := map[string][]byte{
		"u8.npy":       npyBytes(1, "|u1", false, []int{2, 3, 2, 2}, u8),
		"f32.npy":      npyBytes(1, "<f4", false, []int{2, 3, 2, 2}, f32Bytes(f...)),
		"f64.npy.gz":   gz(t, npyBytes(2, "<f8", false, []int{2, 12}, f64Bytes(0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 3.25, 3.5, 3.75, 4, 4.25, 4.5, 4.75, 5, 5.25, 5.5, 5.75))),
		"hw.npy":       npyBytes(1, "|u1", false, []int{2, 4, 3}, u8),
		"lab.npy":      npyBytes(1, "<i8", false, []int{2}, i64Bytes(3, 1)),
		"lab2d.npy":    npyBytes(1, "|u1", false, []int{2, 1}, []byte{3, 1}),
		"lab3.npy":     npyBytes(1, "<i8", false, []int{3}, i64Bytes(3, 1, 0)),
		"labneg.npy":   npyBytes(1, "<i8", false, []int{2}, i64Bytes(3, -1)),
		"labf.npy":     npyBytes(1, "<f4", false, []int{2}, f32Bytes(3, 1)),
		"labshape.npy": npyBytes(1, "<i8", false, []int{1, 2}, i64Bytes(3, 1)),
		"vec.npy":      npyBytes(1, "<f4", false, []int{5}, f32Bytes(1, 2, 3, 4, 5)),
	}
	for name, b := range files {
		writeFile(t, dir, name, b)
	}
	p := func(name string) string { return dir + "/" + name }
	tests := []struct {
		name, img, lab string
		shape          [3]int
		float          bool
		first          float32 // Batch value of image 1, element 1, Scale 1
		want           string
	}{
		{"u8 NCHW", "u8.npy", "lab.npy", [3]int{3, 2, 2}, false, 13, ""},
		{"f32 NCHW", "f32.npy", "lab2d.npy", [3]int{3, 2, 2}, true, 3.25, ""},
		{"f64 flat gz", "f64.npy.gz", "lab.npy", [3]int{1, 1, 12}, true, 3.25, ""},
		{"u8 NHW", "hw.npy", "", [3]int{1, 4, 3}, false, 13, ""},
		{"label count", "u8.npy", "lab3.npy", [3]int{}, false, 0, "2 images but"},
		{"negative label", "u8.npy", "labneg.npy", [3]int{}, false, 0, "out of range"},
		{"float labels", "u8.npy", "labf.npy", [3]int{}, false, 0, "unsupported"},
		{"label shape", "u8.npy", "labshape.npy", [3]int{}, false, 0, "label array has shape"},
		{"1-D images", "vec.npy", "", [3]int{}, false, 0, "want [N,C,H,W]"},
		{"missing", "none.npy", "", [3]int{}, false, 0, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab := ""
			if tt.lab != "" {
				lab = p(tt.lab)
			}
			d, err := LoadNPY(p(tt.img), lab)
			checkErr(t, err, tt.want)
			if err != nil {
				return
			}
			if d.Len() != 2 || d.Shape() != tt.shape || d.IsFloat() != tt.float {
				t.Fatalf("got %d images %v float %v", d.Len(), d.Shape(), d.IsFloat())
			}
			wantLabels := []int{3, 1}
			if tt.lab == "" {
				wantLabels = []int{-1, -1}
			}
			if d.Label(0) != wantLabels[0] || d.Label(1) != wantLabels[1] || d.Labeled() != (tt.lab != "") {
				t.Errorf("labels %d %d", d.Label(0), d.Label(1))
			}
			x, err := d.Batch(make([]float32, 2*d.ImageSize()), 0, 2, Preprocess{})
			if err != nil {
				t.Fatal(err)
			}
			if x[d.ImageSize()+1] != tt.first {
				t.Errorf("image 1 element 1 = %v, want %v", x[d.ImageSize()+1], tt.first)
			}
		})
	}
	// The same through Open.
	d, err := Open("npy:"+p("u8.npy")+","+p("lab.npy"), Test)
	if err != nil || d.Len() != 2 || d.Label(0) != 3 {
		t.Errorf("Open npy: %v", err)
	}
}

// TestNPYFromNumpy reads the uint8 and float32 files written by numpy
// (testdata/gen_images.py): the float file holds (u8/255 - mean)/std as
// numpy computed it, so the uint8 pixels with that preprocessing and the
// float values with none must agree.
func TestNPYFromNumpy(t *testing.T) {
	u8, err := LoadNPY("testdata/npy/u8.npy", "testdata/npy/labels.npy")
	if err != nil {
		t.Fatal(err)
	}
	f32, err := LoadNPY("testdata/npy/f32.npy", "testdata/npy/labels.npy")
	if err != nil {
		t.Fatal(err)
	}
	if u8.IsFloat() || !f32.IsFloat() || u8.Shape() != [3]int{3, 2, 2} || f32.Shape() != u8.Shape() {
		t.Fatalf("u8: float %v shape %v; f32: float %v shape %v", u8.IsFloat(), u8.Shape(), f32.IsFloat(), f32.Shape())
	}
	for i, want := range []int{3, 0, 2, 1} {
		if u8.Label(i) != want || f32.Label(i) != want {
			t.Errorf("label %d: %d, %d; want %d", i, u8.Label(i), f32.Label(i), want)
		}
	}
	n := u8.Len() * u8.ImageSize()
	a, err := u8.Batch(make([]float32, n), 0, u8.Len(), Preprocess{Scale: 1.0 / 255, Mean: imagenetMean, Std: imagenetStd})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f32.Batch(make([]float32, n), 0, f32.Len(), Preprocess{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		// numpy divides by 255 where Batch multiplies by float32(1/255):
		// at most a few ulps apart on values of magnitude < 3.
		if d := a[i] - b[i]; d > 1e-6 || d < -1e-6 {
			t.Fatalf("value %d: uint8 pixels give %v, numpy's float file %v", i, a[i], b[i])
		}
	}
	lo, hi, ok := f32.FloatRange()
	if !ok || lo > -1.5 || hi < 1.5 || lo < -2.2 || hi > 2.7 {
		t.Errorf("FloatRange = %v, %v, %v; want normalised values", lo, hi, ok)
	}
	if _, _, ok := u8.FloatRange(); ok {
		t.Error("FloatRange of pixel data: ok")
	}
}

// TestLoadNPYNonFinite checks that NaN and ±Inf in float images are
// refused when the file is loaded, naming the file and the first bad image.
func TestLoadNPYNonFinite(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	tests := []struct {
		name string
		pix  []float32
		want string
	}{
		{"NaN in image 2", []float32{0, 1, 2, 3, nan, 5}, "image 2 holds NaN"},
		{"+Inf in image 0", []float32{inf, 1, 2, 3, 4, 5}, "image 0 holds +Inf"},
		{"-Inf in image 1", []float32{0, 1, -inf, 3, 4, 5}, "image 1 holds -Inf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.npy")
			var raw bytes.Buffer
			binary.Write(&raw, binary.LittleEndian, tc.pix)
			if err := os.WriteFile(path, npyBytes(1, "<f4", false, []int{3, 2}, raw.Bytes()), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadNPY(path, "")
			var fe *FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("LoadNPY: %v; want a *FormatError naming %s and %q", err, path, tc.want)
			}
		})
	}
	if _, err := FromFloat32(1, 1, 2, []float32{1, nan}, nil); err == nil {
		t.Error("FromFloat32 accepted a NaN")
	}
}
