package dataset

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The expectations under testdata/imagefolder_expected were computed by
// Pillow 9.4 and torchvision 0.14 (testdata/gen_images.py).

const (
	folderDir = "testdata/imagefolder"
	expectDir = "testdata/imagefolder_expected"
)

var imagenetMean, imagenetStd = []float32{0.485, 0.456, 0.406}, []float32{0.229, 0.224, 0.225}

// folderSample is one line of order.txt: torchvision's ImageFolder sample.
type folderSample struct {
	label int
	rel   string
}

func readOrder(t *testing.T) []folderSample {
	t.Helper()
	f, err := os.Open(filepath.Join(expectDir, "order.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []folderSample
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l, rel, ok := strings.Cut(sc.Text(), "\t")
		n, err := strconv.Atoi(l)
		if !ok || err != nil {
			t.Fatalf("order.txt: bad line %q", sc.Text())
		}
		out = append(out, folderSample{n, rel})
	}
	return out
}

// stem is the name gen_images.py gives the expectations of an image.
func stem(rel string) string {
	return strings.NewReplacer("/", "_", " ", "_").Replace(rel)
}

func isJPEG(rel string) bool {
	ext := strings.ToLower(filepath.Ext(rel))
	return ext == ".jpg" || ext == ".jpeg"
}

// readU8 reads an expected uint8 [H,W,3] image.
func readU8(t *testing.T, name string) rgbImage {
	t.Helper()
	a, err := ReadNPYFile(filepath.Join(expectDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if a.DType != Uint8 || len(a.Shape) != 3 || a.Shape[2] != 3 {
		t.Fatalf("%s: %s %v, want uint8 [H,W,3]", name, a.DType, a.Shape)
	}
	return rgbImage{w: a.Shape[1], h: a.Shape[0], pix: a.Uint8}
}

// pixelDiff returns the largest and the mean absolute difference.
func pixelDiff(a, b []uint8) (maxd int, mean float64) {
	sum := 0
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		maxd = max(maxd, d)
		sum += d
	}
	return maxd, float64(sum) / float64(len(a))
}

// JPEG tolerances. toRGB upsamples chroma and converts YCbCr exactly as
// libjpeg-turbo (Pillow's decoder) does, but Go's image/jpeg inverse DCT
// (the MPEG-2 reference one) and libjpeg's JDCT_ISLOW round differently:
// ±1 in a Y, Cb or Cr sample, which the colour conversion turns into up
// to ±1.8 (Cb→B) per channel, and sums of such errors in the upsampled
// chroma. Measured on the test JPEGs (4:2:0, 4:2:2, gray, CMYK, odd sizes,
// strong colour noise): max 3, mean < 0.07 levels. Replicating chroma
// instead of interpolating it (Go's own conversion) gives max 41, mean
// 7.5 on photo.jpg, and a wrong colour space or channel order is off by
// tens.
const (
	jpegMaxDiff  = 6
	jpegMeanDiff = 0.3
)

func TestImageFolderOrder(t *testing.T) {
	want := readOrder(t)
	d, err := LoadImageFolder(folderDir, ImageOptions{Resize: 16, Crop: 12})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != len(want) {
		t.Fatalf("%d images, torchvision lists %d", d.Len(), len(want))
	}
	if d.Shape() != [3]int{3, 12, 12} || d.IsFloat() || !d.FromFiles() {
		t.Errorf("shape %v, float %v, from files %v", d.Shape(), d.IsFloat(), d.FromFiles())
	}
	for i, s := range want {
		rel, err := filepath.Rel(folderDir, d.files.paths[i])
		if err != nil || rel != s.rel || d.Label(i) != s.label {
			t.Errorf("image %d: %s label %d, torchvision: %s label %d", i, rel, d.Label(i), s.rel, s.label)
		}
	}
	if got, want := d.ClassNames(), []string{"10_ten", "9_nine", "Zebra", "apple"}; !slices.Equal(got, want) {
		t.Errorf("classes %q, want %q", got, want)
	}
	// First and Subset keep the files, in their new order.
	first := d.First(3)
	sub, err := d.Subset([]int{5, 0})
	if err != nil {
		t.Fatal(err)
	}
	if first.Len() != 3 || sub.Label(0) != want[5].label || !strings.HasSuffix(sub.files.paths[1], want[0].rel) {
		t.Errorf("First/Subset lost the file order")
	}
}

// TestImageFolderPipeline compares Batch with torchvision's ImageFolder +
// Resize(16), CenterCrop(12), ToTensor(), Normalize(mean, std).
func TestImageFolderPipeline(t *testing.T) {
	want, err := ReadNPYFile(filepath.Join(expectDir, "folder.npy"))
	if err != nil {
		t.Fatal(err)
	}
	order := readOrder(t)
	d, err := LoadImageFolder(folderDir, ImageOptions{Resize: 16, Crop: 12})
	if err != nil {
		t.Fatal(err)
	}
	pre := Preprocess{Scale: 1.0 / 255, Mean: imagenetMean, Std: imagenetStd}
	got, err := d.Batch(make([]float32, d.Len()*d.ImageSize()), 0, d.Len(), pre)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(want.Shape, []int{d.Len(), 3, 12, 12}) {
		t.Fatalf("folder.npy shape %v", want.Shape)
	}
	size := d.ImageSize()
	for i, s := range order {
		g, w := got[i*size:(i+1)*size], want.Float32[i*size:(i+1)*size]
		var maxd float64
		for j := range g {
			maxd = max(maxd, math.Abs(float64(g[j]-w[j])))
		}
		// PNG: the same uint8 pixels; torchvision divides by 255 where
		// Batch multiplies by float32(1/255), an ulp or two apart.
		// JPEG: decoder differences, in pixel levels over the smallest std.
		tol := 1e-5
		if isJPEG(s.rel) {
			tol = jpegMaxDiff / 255.0 / 0.224
		}
		if maxd > tol {
			t.Errorf("%s: max |Go - torchvision| = %g, want <= %g", s.rel, maxd, tol)
		}
	}
}

// TestImageRGB compares decoding + convert("RGB") with Pillow's.
func TestImageRGB(t *testing.T) {
	for _, s := range readOrder(t) {
		t.Run(s.rel, func(t *testing.T) {
			path := filepath.Join(folderDir, s.rel)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeRGB(path, b, maxImagePixels)
			if err != nil {
				t.Fatal(err)
			}
			want := readU8(t, stem(s.rel)+".rgb.npy")
			if got.w != want.w || got.h != want.h {
				t.Fatalf("%d×%d, Pillow %d×%d", got.w, got.h, want.w, want.h)
			}
			maxd, mean := pixelDiff(got.pix, want.pix)
			if isJPEG(s.rel) {
				t.Logf("JPEG decode vs Pillow: max diff %d, mean %.3f", maxd, mean)
				if maxd > jpegMaxDiff || mean > jpegMeanDiff {
					t.Errorf("JPEG decode: max diff %d, mean %.2f; want <= %d, %.1f", maxd, mean, jpegMaxDiff, jpegMeanDiff)
				}
				return
			}
			if maxd != 0 {
				t.Errorf("max diff %d from Pillow (mean %.3f)", maxd, mean)
			}
		})
	}
}

// TestImageTransforms applies the transforms to Pillow's own decoded
// pixels, so that JPEG images test resize and crop exactly too.
func TestImageTransforms(t *testing.T) {
	for _, s := range readOrder(t) {
		src := readU8(t, stem(s.rel)+".rgb.npy")
		for _, tc := range []struct {
			suffix string
			opt    ImageOptions
		}{
			{"r16c12", ImageOptions{Resize: 16, Crop: 12}},
			{"c24", ImageOptions{Crop: 24}},
			{"r7", ImageOptions{Resize: 7}},
		} {
			want := readU8(t, stem(s.rel)+"."+tc.suffix+".npy")
			got := tc.opt.apply(src)
			if w, h := tc.opt.outSize(src.w, src.h); w != want.w || h != want.h {
				t.Errorf("%s %s: outSize %d×%d, torchvision %d×%d", s.rel, tc.opt, w, h, want.w, want.h)
			}
			if got.w != want.w || got.h != want.h {
				t.Errorf("%s %s: %d×%d, torchvision %d×%d", s.rel, tc.opt, got.w, got.h, want.w, want.h)
				continue
			}
			if maxd, mean := pixelDiff(got.pix, want.pix); maxd != 0 {
				t.Errorf("%s %s: max diff %d from torchvision (mean %.3f)", s.rel, tc.opt, maxd, mean)
			}
		}
	}
}

// TestResizeBilinear compares the resampler with Pillow's
// Image.resize(BILINEAR) for up-, down- and mixed scaling.
func TestResizeBilinear(t *testing.T) {
	src := readU8(t, "resize_src.npy")
	for _, sz := range [][2]int{{5, 3}, {16, 11}, {37, 23}, {50, 37}, {100, 7}, {12, 60}, {36, 22}, {1, 1}} {
		want := readU8(t, fmt.Sprintf("resize_%dx%d.npy", sz[0], sz[1]))
		got := resizeBilinear(src, sz[0], sz[1])
		if got.w != want.w || got.h != want.h {
			t.Fatalf("%v: got %d×%d, Pillow %d×%d", sz, got.w, got.h, want.w, want.h)
		}
		if maxd, mean := pixelDiff(got.pix, want.pix); maxd != 0 {
			t.Errorf("%d×%d: max diff %d from Pillow (mean %.3f)", sz[0], sz[1], maxd, mean)
		}
	}
}

// TestCropOffset checks torchvision's centre-crop rounding by hand:
// top = int(round((n-m)/2)) with half to even, padding (m-n)//2 before.
func TestCropOffset(t *testing.T) {
	for _, tc := range []struct{ n, m, want int }{
		{10, 10, 0}, {11, 10, 0}, {12, 10, 1}, {13, 10, 2}, {14, 10, 2}, {15, 10, 2}, {17, 10, 4},
		{9, 10, 0}, {8, 10, -1}, {7, 10, -1}, {1, 10, -4},
	} {
		if got := cropOffset(tc.n, tc.m); got != tc.want {
			t.Errorf("cropOffset(%d, %d) = %d, want %d", tc.n, tc.m, got, tc.want)
		}
	}
}

func TestResizedSize(t *testing.T) {
	// torchvision: short side -> n, long -> int(n*long/short).
	for _, tc := range []struct{ w, h, n, ww, wh int }{
		{500, 375, 256, 341, 256}, {375, 500, 256, 256, 341}, {640, 480, 256, 341, 256},
		{40, 30, 16, 21, 16}, {13, 17, 16, 16, 20}, {100, 100, 7, 7, 7}, {3, 1000, 2, 2, 666},
	} {
		if w, h := resizedSize(tc.w, tc.h, tc.n); w != tc.ww || h != tc.wh {
			t.Errorf("resizedSize(%d, %d, %d) = %d×%d, want %d×%d", tc.w, tc.h, tc.n, w, h, tc.ww, tc.wh)
		}
	}
}

// copyTree copies the files of the test folder into a temporary one.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if e.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestImageFolderErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the folder
		opt   ImageOptions
		open  string // error substring from LoadImageFolder ("" = none)
		batch string // then from Batch over all images
	}{
		{"missing dir", func(t *testing.T, dir string) string { return filepath.Join(dir, "nope") }, ImageOptions{}, "no such file", ""},
		{"no classes", func(t *testing.T, dir string) string { return dir }, ImageOptions{}, "no class sub-directory", ""},
		{"empty class", func(t *testing.T, dir string) string {
			os.MkdirAll(filepath.Join(dir, "a"), 0o755)
			writeFile(t, filepath.Join(dir, "a"), "x.txt", []byte("hi"))
			return dir
		}, ImageOptions{}, `class "a" has no image file`, ""},
		{"sizes differ", func(t *testing.T, dir string) string { return copyTree(t, folderDir) }, ImageOptions{Resize: 16}, "use a centre crop", ""},
		{"negative crop", func(t *testing.T, dir string) string { return copyTree(t, folderDir) }, ImageOptions{Crop: -1}, "crop -1", ""},
		{"corrupt png", func(t *testing.T, dir string) string {
			d := copyTree(t, folderDir)
			p := filepath.Join(d, "9_nine", "rgba.png")
			b, _ := os.ReadFile(p)
			writeFile(t, filepath.Join(d, "9_nine"), "rgba.png", b[:len(b)/2])
			return d
		}, ImageOptions{Crop: 12}, "", "9_nine/rgba.png"},
		{"not an image", func(t *testing.T, dir string) string {
			d := copyTree(t, folderDir)
			writeFile(t, filepath.Join(d, "Zebra"), "fake.jpg", []byte("hello, world"))
			return d
		}, ImageOptions{Crop: 12}, "", "Zebra/fake.jpg: not a PNG, JPEG"},
		{"plain netpbm", func(t *testing.T, dir string) string {
			d := copyTree(t, folderDir)
			writeFile(t, filepath.Join(d, "Zebra"), "x.pgm", []byte("P2 1 1 255\n0\n"))
			return d
		}, ImageOptions{Crop: 12}, "", "Zebra/x.pgm: unsupported: P2 images"},
		{"truncated netpbm", func(t *testing.T, dir string) string {
			d := copyTree(t, folderDir)
			writeFile(t, filepath.Join(d, "Zebra"), "x.ppm", []byte("P6 100 100 255\n\x00\x01"))
			return d
		}, ImageOptions{Crop: 12}, "", "Zebra/x.ppm: truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.setup(t, t.TempDir())
			d, err := LoadImageFolder(dir, tc.opt)
			if tc.open != "" {
				checkErr(t, err, tc.open)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = d.Batch(make([]float32, d.Len()*d.ImageSize()), 0, d.Len(), Preprocess{})
			checkErr(t, err, tc.batch)
		})
	}
}

func TestImageDecompressionBomb(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(folderDir, "10_ten", "b_rgb.png"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = decodeRGB("b_rgb.png", b, 40*30-1)
	var fe *FormatError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "b_rgb.png") {
		t.Errorf("error %v, want a FormatError naming the file", err)
	}
}

func TestOpenImageFolder(t *testing.T) {
	d, err := OpenWith("imagefolder:"+folderDir, Test, ImageOptions{Resize: 16, Crop: 12})
	if err != nil {
		t.Fatal(err)
	}
	if want := len(readOrder(t)); d.Len() != want || d.NumClasses() != 4 {
		t.Errorf("%d images, %d classes; want %d, 4", d.Len(), d.NumClasses(), want)
	}
	if _, err := OpenWith("npy:x.npy", Test, ImageOptions{Crop: 3}); err == nil || !strings.Contains(err.Error(), "only to imagefolder") {
		t.Errorf("crop on npy data: error %v", err)
	}
	if _, err := Open("imagefolder", Test); err == nil {
		t.Error("imagefolder without DIR: no error")
	}
}
