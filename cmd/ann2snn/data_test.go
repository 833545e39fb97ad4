package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ann2snn/ann2snn/dataset"
)

// The .npy files and the image folder are made by numpy and Pillow
// (dataset/testdata/gen_images.py): f32.npy = (u8/255 - mean)/std.
const (
	u8NPY     = "npy:../../dataset/testdata/npy/u8.npy,../../dataset/testdata/npy/labels.npy"
	f32NPY    = "npy:../../dataset/testdata/npy/f32.npy,../../dataset/testdata/npy/labels.npy"
	imgFolder = "imagefolder:../../dataset/testdata/imagefolder"
)

var (
	imagenetMeta = map[string]string{
		dataset.MetaScale: "0.00392156862745098",
		dataset.MetaMean:  "0.485,0.456,0.406",
		dataset.MetaStd:   "0.229,0.224,0.225",
	}
	imagenetMean = []float32{0.485, 0.456, 0.406}
	imagenetStd  = []float32{0.229, 0.224, 0.225}
)

// writePixelFloats writes a float32 .npy [1,3,2,2] of 0..255 values.
func writePixelFloats(t *testing.T) string {
	t.Helper()
	hdr := "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 2, 2), }"
	hdr += strings.Repeat(" ", 128-10-len(hdr)-1) + "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(hdr)), 0)
	b = append(b, hdr...)
	for i := range 12 {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(i*20)))
	}
	p := filepath.Join(t.TempDir(), "pix.npy")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPreprocessRule(t *testing.T) {
	pixFloats := "npy:" + writePixelFloats(t)
	tests := []struct {
		name              string
		data              string
		meta              map[string]string
		scale, mean, std  string
		want              dataset.Preprocess
		source, warn, err string // warn, err: substrings ("" = none)
	}{
		{name: "pixels default", data: u8NPY,
			want: dataset.Preprocess{Scale: 1.0 / 255}, source: "default for pixels"},
		{name: "pixels, model", data: u8NPY, meta: imagenetMeta,
			want:   dataset.Preprocess{Scale: 1.0 / 255, Mean: imagenetMean, Std: imagenetStd},
			source: "model metadata"},
		{name: "pixels, model mean only keeps /255", data: u8NPY, meta: map[string]string{dataset.MetaMean: "0.5"},
			want: dataset.Preprocess{Scale: 1.0 / 255, Mean: []float32{0.5}}, source: "model metadata"},
		{name: "pixels, model + flag", data: u8NPY, meta: imagenetMeta, mean: "0.5",
			want:   dataset.Preprocess{Scale: 1.0 / 255, Mean: []float32{0.5}, Std: imagenetStd},
			source: "model metadata + flags"},
		{name: "pixels, scale flag", data: u8NPY, scale: "1",
			want: dataset.Preprocess{Scale: 1}, source: "flags"},
		{name: "float as given", data: f32NPY,
			want: dataset.Preprocess{}, source: "float values used as given"},
		{name: "float, model not applied", data: f32NPY, meta: imagenetMeta,
			want: dataset.Preprocess{}, source: "float values used as given",
			warn: "the model records preprocessing for pixels (scale 1/255, mean 0.485,0.456,0.406, std 0.229,0.224,0.225), not applied"},
		{name: "float, flags only", data: f32NPY, meta: imagenetMeta, scale: "1/255",
			want: dataset.Preprocess{Scale: 1.0 / 255}, source: "flags"},
		{name: "float 0..255", data: pixFloats,
			want: dataset.Preprocess{}, source: "float values used as given", warn: "[0, 220], used as given (scale 1): if they are 0..255 pixels pass --scale 1/255"},
		{name: "float 0..255 scaled", data: pixFloats, scale: "1/255",
			want: dataset.Preprocess{Scale: 1.0 / 255}, source: "flags"},
		{name: "bad scale", data: u8NPY, scale: "1/0", err: "--scale"},
		{name: "bad mean", data: u8NPY, mean: "a", err: "--mean"},
		{name: "mean for 2 channels", data: u8NPY, mean: "1,2", err: "2 mean values for 3 channels"},
		{name: "bad model metadata", data: u8NPY, meta: map[string]string{dataset.MetaStd: "0"}, err: "model metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var warn bytes.Buffer
			d := dataFlags{data: tt.data, split: "test", batch: 4, scale: tt.scale, mean: tt.mean, std: tt.std, warn: &warn}
			_, pre, err := d.load(tt.meta)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(pre, tt.want) {
				t.Errorf("preprocess %+v, want %+v", pre, tt.want)
			}
			if d.applied.Source != tt.source {
				t.Errorf("source %q, want %q", d.applied.Source, tt.source)
			}
			switch {
			case tt.warn == "" && warn.Len() > 0:
				t.Errorf("unexpected warning %q", warn.String())
			case tt.warn != "" && (!strings.Contains(warn.String(), "warning: "+tt.data+" holds float values") ||
				!strings.Contains(warn.String(), tt.warn)):
				t.Errorf("warning %q, want %q", warn.String(), tt.warn)
			}
			if got := len(d.applied.Warnings); (tt.warn != "") != (got > 0) {
				t.Errorf("%d warnings recorded for --json", got)
			}
		})
	}
}

// TestFloatNPYUsedAsGiven is the case of issue 12: numpy's normalised
// float images (f32.npy) fed to a model that records ImageNet
// preprocessing must reach the network as saved, equal to the uint8
// pixels preprocessed by that metadata, not divided by 255 again.
func TestFloatNPYUsedAsGiven(t *testing.T) {
	batch := func(spec string) []float32 {
		d := dataFlags{data: spec, split: "test", batch: 4, warn: new(bytes.Buffer)}
		ds, pre, err := d.openFor("model.onnx", []int{3, 2, 2}, imagenetMeta)
		if err != nil {
			t.Fatal(err)
		}
		x, err := ds.Batch(make([]float32, ds.Len()*ds.ImageSize()), 0, ds.Len(), pre)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	fromPixels, fromFloats := batch(u8NPY), batch(f32NPY)
	for i := range fromPixels {
		if d := math.Abs(float64(fromPixels[i] - fromFloats[i])); d > 1e-6 {
			t.Fatalf("value %d: pixels give %v, float file %v", i, fromPixels[i], fromFloats[i])
		}
	}
}

func TestImageFolderFlags(t *testing.T) {
	tests := []struct {
		name         string
		resize, crop string // flag values; "" = not given
		meta         map[string]string
		line, err    string
	}{
		{name: "flags", resize: "16", crop: "12", meta: imagenetMeta,
			line: "data " + imgFolder + " (26 images, 4 classes, uint8 pixels) preprocessing: resize 16, crop 12, scale 1/255, mean 0.485,0.456,0.406, std 0.229,0.224,0.225 (model metadata)"},
		{name: "from model", meta: map[string]string{dataset.MetaResize: "16", dataset.MetaCrop: "12"},
			line: "data " + imgFolder + " (26 images, 4 classes, uint8 pixels) preprocessing: resize 16, crop 12, scale 1/255 (default for pixels)"},
		{name: "flag overrides model", crop: "12", meta: map[string]string{dataset.MetaResize: "16", dataset.MetaCrop: "99"},
			line: "data " + imgFolder + " (26 images, 4 classes, uint8 pixels) preprocessing: resize 16, crop 12, scale 1/255 (default for pixels)"},
		{name: "sizes differ", resize: "16", err: "use a centre crop"},
		{name: "model input differs", crop: "10", err: "images have shape [3 10 10], model wants [3 12 12] (use --resize/--crop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := dataFlags{data: imgFolder, split: "test", batch: 4, warn: new(bytes.Buffer)}
			if tt.resize != "" {
				d.resize.Set(tt.resize)
			}
			if tt.crop != "" {
				d.crop.Set(tt.crop)
			}
			_, _, err := d.openFor("model.onnx", []int{3, 12, 12}, tt.meta)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := d.applied.String(); got != tt.line {
				t.Errorf("line\n%s\nwant\n%s", got, tt.line)
			}
		})
	}
}

func TestDataFlagErrors(t *testing.T) {
	var crop optInt
	if err := crop.Set("-3"); err == nil {
		t.Error("--crop -3 accepted")
	}
	d := dataFlags{data: u8NPY, split: "test", batch: 4}
	d.crop.Set("224")
	_, _, err := d.load(nil)
	var ue *usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "imagefolder:DIR only") {
		t.Errorf("--crop with npy data: %v", err)
	}
}

func TestDataInfoLineAndMeta(t *testing.T) {
	named := dataInfo{Spec: "cifar10", Split: "test", Images: 10000, Classes: 10, Values: "pixels", Scale: 1.0 / 255,
		Mean: []float32{0.4914, 0.4822, 0.4465}, Std: []float32{0.247, 0.2435, 0.2616}, Source: "flags"}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	absX := filepath.Join(wd, "x.npy") // the spec is recorded with absolute paths
	float := dataInfo{Spec: "npy:x.npy", Images: 32, Values: "float", Scale: 1, Source: "float values used as given"}
	for _, tc := range []struct {
		info dataInfo
		line string
		meta map[string]string
	}{
		{named, "data cifar10 (test, 10000 images, 10 classes, uint8 pixels) preprocessing: scale 1/255, mean 0.4914,0.4822,0.4465, std 0.247,0.2435,0.2616 (flags)",
			map[string]string{dataset.MetaDataset: "cifar10", dataset.MetaScale: "0.003921569", dataset.MetaMean: "0.4914,0.4822,0.4465", dataset.MetaStd: "0.247,0.2435,0.2616"}},
		// Float data record the source's pixel preprocessing, unchanged.
		{float, "data npy:x.npy (32 images, unlabeled, float values) preprocessing: scale 1 (float values used as given)",
			map[string]string{dataset.MetaDataset: "npy:" + absX, dataset.MetaScale: "0.00392156862745098", dataset.MetaMean: "0.485,0.456,0.406", dataset.MetaStd: "0.229,0.224,0.225"}},
	} {
		if got := tc.info.String(); got != tc.line {
			t.Errorf("line\n%s\nwant\n%s", got, tc.line)
		}
		if got := tc.info.meta(imagenetMeta); !reflect.DeepEqual(got, tc.meta) {
			t.Errorf("%s: meta %v, want %v", tc.info.Spec, got, tc.meta)
		}
	}
	// The recorded scale reads back as the applied one.
	p, _, err := dataset.PreprocessFromMeta(named.meta(nil))
	if err != nil || p.Scale != float32(1.0/255) {
		t.Errorf("recorded scale reads back as %v (%v)", p.Scale, err)
	}
}

func TestAbsDataSpec(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ spec, want string }{
		{"mnist", "mnist"},
		{"cifar10", "cifar10"},
		{" fashion-mnist ", "fashion-mnist"},
		{"cifar10:data/c10", "cifar10:" + filepath.Join(wd, "data", "c10")},
		{"cifar10:/srv/c10", "cifar10:/srv/c10"},
		{"npy:a.npy,b.npy", "npy:" + filepath.Join(wd, "a.npy") + "," + filepath.Join(wd, "b.npy")},
		{"idx:/x/i,l", "idx:/x/i," + filepath.Join(wd, "l")},
		{"imagefolder:../img", "imagefolder:" + filepath.Join(filepath.Dir(wd), "img")},
	} {
		if got := absDataSpec(tc.spec); got != tc.want {
			t.Errorf("absDataSpec(%q) = %q, want %q", tc.spec, got, tc.want)
		}
	}
}

// TestDataFromModel: without --data the data set is the model's
// ann2snn.dataset, and the header says so; without either the error says
// that --data is required.
func TestDataFromModel(t *testing.T) {
	d := dataFlags{split: "test", batch: 4}
	_, _, err := d.load(map[string]string{dataset.MetaDataset: u8NPY})
	if err != nil {
		t.Fatal(err)
	}
	if d.data != u8NPY || !d.applied.FromModel || !strings.Contains(d.applied.String(), "from the model's metadata") {
		t.Errorf("data %q, header %q: want %q from the model's metadata", d.data, d.applied, u8NPY)
	}
	d = dataFlags{split: "test", batch: 4}
	_, _, err = d.load(map[string]string{dataset.MetaScale: "1"})
	var ue *usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--data is required") {
		t.Errorf("no --data, no ann2snn.dataset: %v", err)
	}
}
