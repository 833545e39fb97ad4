package hdf5

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const python = "/usr/bin/python3"

// dumpScript prints every dataset of an HDF5 file as one JSON object:
// path -> {"dtype": numpy dtype string or "str", "shape": [...], "value": [...]},
// and every group as path -> "group". h5py decodes variable-length
// strings to bytes; they are printed as text, non-finite floats as
// Python's repr ("inf", "-inf", "nan").
const dumpScript = `
import sys, json, math, h5py
out = {}
def visit(name, obj):
    if isinstance(obj, h5py.Group):
        out[name] = "group"
        return
    v = obj[()]
    if h5py.check_string_dtype(obj.dtype) is not None:
        dt = "str"
        if obj.shape == ():
            v = [v.decode("utf-8")]
        else:
            v = [x.decode("utf-8") for x in v.reshape(-1)]
    else:
        dt = obj.dtype.str
        v = [x if not isinstance(x, float) or math.isfinite(x) else repr(x) for x in v.reshape(-1).tolist()]
    out[name] = {"dtype": dt, "shape": list(obj.shape), "value": v}
with h5py.File(sys.argv[1], "r") as f:
    f.visititems(visit)
json.dump(out, sys.stdout, sort_keys=True)
`

// needTools skips the test unless h5dump and h5py are available.
func needTools(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("h5dump"); err != nil {
		t.Skip("h5dump not found (Debian package hdf5-tools); skipping the check of written files")
	}
	if err := exec.Command(python, "-c", "import h5py").Run(); err != nil {
		t.Skipf("%s cannot import h5py (Debian package python3-h5py); skipping the check of written files", python)
	}
}

// h5pyDump writes f to a temporary file, checks it with h5dump and returns
// the h5py view of its contents.
func h5pyDump(t *testing.T, f *File) map[string]any {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.h5")
	var buf bytes.Buffer
	n, err := f.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo returned %d, wrote %d bytes", n, buf.Len())
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("h5dump", path).CombinedOutput(); err != nil {
		t.Fatalf("h5dump failed: %v\n%s", err, out)
	}
	out, err := exec.Command(python, "-c", dumpScript, path).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("h5py failed: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return m
}

func ds(dtype string, shape []int, value ...any) map[string]any {
	sh := make([]any, len(shape))
	for i, s := range shape {
		sh[i] = float64(s)
	}
	v := make([]any, len(value))
	for i, x := range value {
		switch x := x.(type) {
		case int:
			v[i] = float64(x)
		default:
			v[i] = x
		}
	}
	return map[string]any{"dtype": dtype, "shape": sh, "value": v}
}

func TestReadBack(t *testing.T) {
	needTools(t)
	many := func(r *Group) error {
		for i := range 20 {
			g, err := r.Group(fmt.Sprintf("g%02d", i))
			if err != nil {
				return err
			}
			if err := g.String("type", "IF"); err != nil {
				return err
			}
		}
		return nil
	}
	manyWant := map[string]any{}
	for i := range 20 {
		manyWant[fmt.Sprintf("g%02d", i)] = "group"
		manyWant[fmt.Sprintf("g%02d/type", i)] = ds("str", []int{}, "IF")
	}
	long := strings.Repeat("x", 300)
	tests := []struct {
		name  string
		build func(r *Group) error
		want  map[string]any
	}{
		{"empty", func(*Group) error { return nil }, map[string]any{}},
		{"scalars", func(r *Group) error {
			return errors.Join(
				r.Float32("f32", nil, []float32{1.5}),
				r.Float64("f64", nil, []float64{-2.25}),
				r.Int64("i64", nil, []int64{-7}),
				r.String("s", "1.0.7"),
			)
		}, map[string]any{
			"f32": ds("<f4", []int{}, 1.5),
			"f64": ds("<f8", []int{}, -2.25),
			"i64": ds("<i8", []int{}, -7),
			"s":   ds("str", []int{}, "1.0.7"),
		}},
		{"arrays", func(r *Group) error {
			return errors.Join(
				r.Float32("w", []int{2, 3}, []float32{1, 2, 3, 4, 5, float32(math.Inf(-1))}),
				r.Int64("stride", []int{2}, []int64{1, math.MaxInt64}),
				r.Float64("x", []int{1, 1, 2}, []float64{math.SmallestNonzeroFloat64, 1e300}),
				r.Strings("edges", []int{3, 2}, []string{"input", "conv0", "conv0", "if1", "if1", "output"}),
			)
		}, map[string]any{
			"w":      ds("<f4", []int{2, 3}, 1, 2, 3, 4, 5, "-inf"),
			"stride": ds("<i8", []int{2}, 1, float64(math.MaxInt64)),
			"x":      ds("<f8", []int{1, 1, 2}, math.SmallestNonzeroFloat64, 1e300),
			"edges":  ds("str", []int{3, 2}, "input", "conv0", "conv0", "if1", "if1", "output"),
		}},
		{"nested", func(r *Group) error {
			a, err := r.Group("node")
			if err != nil {
				return err
			}
			b, err := a.Group("nodes")
			if err != nil {
				return err
			}
			c, err := b.Group("conv0")
			if err != nil {
				return err
			}
			return errors.Join(a.String("type", "NIRGraph"), c.String("type", "Conv2d"),
				c.Int64("groups", nil, []int64{1}), r.String("version", "1.0.7"))
		}, map[string]any{
			"node":                    "group",
			"node/type":               ds("str", []int{}, "NIRGraph"),
			"node/nodes":              "group",
			"node/nodes/conv0":        "group",
			"node/nodes/conv0/type":   ds("str", []int{}, "Conv2d"),
			"node/nodes/conv0/groups": ds("<i8", []int{}, 1),
			"version":                 ds("str", []int{}, "1.0.7"),
		}},
		{"many links", many, manyWant},
		{"odd strings", func(r *Group) error {
			return errors.Join(
				r.Strings("s", []int{4}, []string{"", "é ü", long, "a\nb"}),
				r.String(long, "long name"),
				r.String("ünï", "utf-8 name"),
			)
		}, map[string]any{
			"s":   ds("str", []int{4}, "", "é ü", long, "a\nb"),
			long:  ds("str", []int{}, "long name"),
			"ünï": ds("str", []int{}, "utf-8 name"),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f File
			if err := tc.build(f.Root()); err != nil {
				t.Fatal(err)
			}
			got := h5pyDump(t, &f)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("h5py read\n%v\nwant\n%v", got, tc.want)
			}
		})
	}
}

// TestManyStrings crosses the 65535-object limit of one global heap
// collection.
func TestManyStrings(t *testing.T) {
	needTools(t)
	s := make([]string, 70000)
	for i := range s {
		s[i] = fmt.Sprint(i)
	}
	var f File
	if err := f.Root().Strings("s", []int{len(s)}, s); err != nil {
		t.Fatal(err)
	}
	got := h5pyDump(t, &f)["s"].(map[string]any)["value"].([]any)
	if len(got) != len(s) || got[0] != "0" || got[65535] != "65535" || got[69999] != "69999" {
		t.Errorf("read %d strings, first %v, [65535] %v, last %v", len(got), got[0], got[65535], got[len(got)-1])
	}
}

func TestErrors(t *testing.T) {
	var f File
	r := f.Root()
	if err := r.Int64("a", nil, []int64{1}); err != nil {
		t.Fatal(err)
	}
	var ne *NameError
	var se *ShapeError
	tests := []struct {
		name   string
		err    error
		target any
	}{
		{"duplicate", r.Int64("a", nil, []int64{1}), &ne},
		{"empty name", r.Float32("", nil, []float32{1}), &ne},
		{"slash", r.String("a/b", "x"), &ne},
		{"dot", func() error { _, err := r.Group("."); return err }(), &ne},
		{"scalar needs one value", r.Float32("b", nil, []float32{1, 2}), &se},
		{"dims product", r.Float64("c", []int{2, 2}, []float64{1, 2, 3}), &se},
		{"zero dim", r.Int64("d", []int{0}, nil), &se},
		{"negative dim", r.Int64("e", []int{-1}, []int64{1}), &se},
	}
	for _, tc := range tests {
		if tc.err == nil || !errors.As(tc.err, tc.target) {
			t.Errorf("%s: error %v, want %T", tc.name, tc.err, tc.target)
		}
	}
	if err := r.String("nul", "a\x00b"); err == nil {
		t.Error("string with NUL accepted")
	}
	if len(r.links) != 1 {
		t.Errorf("failed adds left %d links, want 1", len(r.links))
	}
}

// TestLayout checks fixed properties of the bytes without external tools:
// signature, superblock checksum, end-of-file address and determinism.
func TestLayout(t *testing.T) {
	build := func() []byte {
		var f File
		g, _ := f.Root().Group("node")
		g.String("type", "NIRGraph")
		g.Float32("w", []int{3}, []float32{1, 2, 3})
		var buf bytes.Buffer
		if _, err := f.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	b := build()
	if !bytes.HasPrefix(b, []byte(signature)) || b[8] != 2 {
		t.Fatalf("file starts % x", b[:9])
	}
	if got, want := le32(b[44:48]), lookup3(b[:44], 0); got != want {
		t.Errorf("superblock checksum %#x, want %#x", got, want)
	}
	if eof := uint64(le32(b[28:32])) | uint64(le32(b[32:36]))<<32; eof != uint64(len(b)) {
		t.Errorf("end-of-file address %d, file length %d", eof, len(b))
	}
	if !bytes.Equal(b, build()) {
		t.Error("two writes of the same content differ")
	}
}
