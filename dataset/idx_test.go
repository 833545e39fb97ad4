package dataset

import (
	"bytes"
	"errors"
	"io/fs"
	"slices"
	"testing"
)

func TestReadIDX(t *testing.T) {
	labels := idxBytes([]uint32{5}, []byte{7, 2, 1, 0, 4})
	images := idxBytes([]uint32{2, 3, 4}, seq(24))
	tests := []struct {
		name string
		in   []byte
		dims []int
		want string // see checkErr
	}{
		{"labels", labels, []int{5}, ""},
		{"images", images, []int{2, 3, 4}, ""},
		{"labels gz", gz(t, labels), []int{5}, ""},
		{"images gz", gz(t, images), []int{2, 3, 4}, ""},
		{"zero images", idxBytes([]uint32{0, 28, 28}, nil), []int{0, 28, 28}, ""},
		{"empty", nil, nil, "truncated"},
		{"short magic", []byte{0, 0, 8}, nil, "truncated"},
		{"wrong magic", append([]byte{1, 2, 8, 1}, labels[4:]...), nil, "bad magic"},
		{"unknown type", append([]byte{0, 0, 0x42, 1}, labels[4:]...), nil, "format"},
		{"float type", append([]byte{0, 0, 0x0d, 1}, labels[4:]...), nil, "unsupported"},
		{"zero dims", []byte{0, 0, 8, 0}, nil, "format"},
		{"too many dims", []byte{0, 0, 8, 200}, nil, "format"},
		{"truncated dims", labels[:6], nil, "truncated"},
		{"truncated data", images[:len(images)-1], nil, "truncated"},
		{"truncated gz", gz(t, images)[:30], nil, "format"},
		{"trailing data", append(slices.Clone(labels), 9), nil, "trailing"},
		{"claims more", idxBytes([]uint32{1000, 28, 28}, seq(100)), nil, "truncated"},
		{"huge dims", idxBytes([]uint32{1 << 31, 1 << 31, 1 << 31}, nil), nil, "too large"},
		{"huge gz claim", gz(t, idxBytes([]uint32{60000, 28, 28}, nil)), nil, "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadIDX(bytes.NewReader(tt.in))
			checkErr(t, err, tt.want)
			if err != nil {
				return
			}
			if !slices.Equal(got.Dims, tt.dims) {
				t.Errorf("dims %v, want %v", got.Dims, tt.dims)
			}
		})
	}
}

// TestReadIDXFileClaims checks that a file whose header claims more than
// the file holds is rejected before allocation, plain or gzip.
func TestReadIDXFileClaims(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"plain", idxBytes([]uint32{60000, 28, 28}, seq(1000)), "file holds"},
		{"gz", gz(t, idxBytes([]uint32{1 << 20, 1 << 20, 1}, seq(1000))), "compressed file can hold"},
		{"ok", idxBytes([]uint32{10}, seq(10)), ""},
		{"ok gz", gz(t, idxBytes([]uint32{10}, seq(10))), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, tt.name, tt.data)
			got, err := ReadIDXFile(p)
			checkErr(t, err, tt.want)
			if err == nil && !bytes.Equal(got.Data, seq(10)) {
				t.Errorf("data %v", got.Data)
			}
		})
	}
	if _, err := ReadIDXFile(dir + "/missing"); err == nil {
		t.Error("missing file: no error")
	}
}

func TestLoadIDX(t *testing.T) {
	dir := t.TempDir()
	img := writeFile(t, dir, "img", idxBytes([]uint32{3, 2, 2}, seq(12)))
	lab := writeFile(t, dir, "lab", gz(t, idxBytes([]uint32{3}, []byte{4, 5, 6})))
	lab2 := writeFile(t, dir, "lab2", idxBytes([]uint32{2}, []byte{4, 5}))
	tests := []struct {
		name, img, lab string
		want           string
	}{
		{"ok", img, lab, ""},
		{"count mismatch", img, lab2, "3 images but"},
		{"swapped", lab, img, "want 3"},
		{"missing", img, dir + "/none", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := LoadIDX(tt.img, tt.lab)
			checkErr(t, err, tt.want)
			if err != nil {
				return
			}
			if d.Len() != 3 || d.Shape() != [3]int{1, 2, 2} || d.Label(2) != 6 {
				t.Errorf("got %d images %v, label(2) %d", d.Len(), d.Shape(), d.Label(2))
			}
		})
	}
}

// TestRealIDX loads MNIST and Fashion-MNIST from their local copies.
func TestRealIDX(t *testing.T) {
	tests := []struct {
		spec  string
		split Split
		n     int
		first []int
	}{
		{"mnist", Test, 10000, []int{7, 2, 1, 0, 4, 1, 4, 9, 5, 9}},
		{"mnist", Train, 60000, []int{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}},
		{"fashion-mnist", Test, 10000, []int{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}},
		{"fashion-mnist", Train, 60000, []int{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.spec+"/"+tt.split.String(), func(t *testing.T) {
			d, err := Open(tt.spec, tt.split)
			if errors.Is(err, fs.ErrNotExist) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Len() != tt.n || d.Shape() != [3]int{1, 28, 28} || d.NumClasses() != 10 || d.IsFloat() {
				t.Fatalf("got %d images %v, %d classes, float %v", d.Len(), d.Shape(), d.NumClasses(), d.IsFloat())
			}
			for i, l := range tt.first {
				if d.Label(i) != l {
					t.Errorf("label %d = %d, want %d", i, d.Label(i), l)
				}
			}
			counts := make([]int, 10)
			for i := 0; i < d.Len(); i++ {
				counts[d.Label(i)]++
			}
			for c, n := range counts {
				if n < tt.n/20 {
					t.Errorf("class %d has only %d images", c, n)
				}
			}
			// Pixels span 0..255 and image borders are background.
			x, err := d.Batch(make([]float32, 784), 0, 1, Preprocess{})
			if err != nil {
				t.Fatal(err)
			}
			if lo, hi := slices.Min(x), slices.Max(x); lo != 0 || hi != 255 {
				t.Errorf("image 0 pixels in [%v,%v], want [0,255]", lo, hi)
			}
		})
	}
}
