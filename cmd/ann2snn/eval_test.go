package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/ann"
	"github.com/ann2snn/ann2snn/snnrt"
)

// writeNPY writes a little-endian .npy file (format 1.0) of the given
// dtype descr ("<f4" or "<i8"), shape and raw data.
func writeNPY(t *testing.T, path, descr string, shape []int, data []byte) {
	t.Helper()
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	hdr := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, tuple)
	for (10+len(hdr)+1)%64 != 0 {
		hdr += " "
	}
	hdr += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(hdr)), byte(len(hdr)>>8))
	b = append(b, hdr...)
	if err := os.WriteFile(path, append(b, data...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// npyData writes images [N,D] as float32 and labels [N] as int64 into dir
// and returns the --data spec for them.
func npyData(t *testing.T, dir string, d int, images []float32, labels []int) string {
	t.Helper()
	var img, lab []byte
	for _, v := range images {
		img = binary.LittleEndian.AppendUint32(img, math.Float32bits(v))
	}
	for _, l := range labels {
		lab = binary.LittleEndian.AppendUint64(lab, uint64(l))
	}
	ip, lp := filepath.Join(dir, "images.npy"), filepath.Join(dir, "labels.npy")
	writeNPY(t, ip, "<f4", []int{len(labels), d}, img)
	writeNPY(t, lp, "<i8", []int{len(labels)}, lab)
	return "npy:" + ip + "," + lp
}

// readLogits reads a --logits file.
func readLogits(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%4 != 0 {
		t.Fatalf("%s: %d bytes, not a whole number of float32", path, len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// TestEvalLogitsSNN evaluates a one-layer SNN whose read-out is a linear
// layer of the input: under direct encoding its output summed over T steps
// is T·(W·x + b), derived here by hand.
func TestEvalLogitsSNN(t *testing.T) {
	dir := t.TempDir()
	m := &snnrt.Model{Input: snnrt.Shape{C: 1, H: 1, W: 3}, Metadata: map[string]string{dataset.MetaScale: "1"}}
	m.MustAppend(snnrt.Layer{Name: "fc", Kind: snnrt.KindLinear, Inputs: []int{snnrt.InputIndex},
		W: []float32{1, 2, 0, 0, -1, 1}, B: []float32{0.5, -0.25}})
	model := filepath.Join(dir, "lin.snn")
	if err := m.Save(model); err != nil {
		t.Fatal(err)
	}
	data := npyData(t, dir, 3, []float32{1, 0.5, 0, 0, 0.25, 2}, []int{0, 0})
	out := filepath.Join(dir, "logits.bin")
	code, stdout, stderr := runCLI(t, "eval", model, "--data", data, "--timesteps", "1,3", "--logits", out, "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// Image 0: W·x+b = (1+1+0.5, -0.5+0-0.25) = (2.5, -0.75); image 1:
	// (0+0.5+0.5, -0.25+2-0.25) = (1, 1.5). Times T = 3.
	want := []float32{7.5, -2.25, 3, 4.5}
	got := readLogits(t, out)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("logits %v, want %v", got, want)
	}
	var res snnEval
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	// Image 0 is right (class 0), image 1 is not (class 1 wins).
	if acc := res.Timesteps[1].Accuracy; acc != 0.5 {
		t.Errorf("accuracy at T=3 %v, want 0.5", acc)
	}
}

// TestEvalLogitsANN checks that the ANN logits file holds the executor's
// output for every image, in order, and that its argmax agrees with the
// reported accuracy.
func TestEvalLogitsANN(t *testing.T) {
	const n = 40
	out := filepath.Join(t.TempDir(), "logits.bin")
	code, stdout, stderr := runCLI(t, "eval", lenet, "--data", "mnist", "--limit", fmt.Sprint(n), "--batch", "16", "--logits", out, "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := readLogits(t, out)
	if len(got) != n*10 {
		t.Fatalf("%d logits, want %d images × 10 classes", len(got), n)
	}
	g, err := importer.Load(lenet)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := ann.New(g)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dataset.Open("mnist", dataset.Test)
	if err != nil {
		t.Fatal(err)
	}
	pre, _, err := dataset.PreprocessFromMeta(g.Meta)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, n*ds.ImageSize())
	if _, err := ds.Batch(x, 0, n, pre); err != nil {
		t.Fatal(err)
	}
	want, err := ex.Run(x, n)
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for i := range n {
		for j := range 10 {
			if got[i*10+j] != want[i*10+j] {
				t.Fatalf("image %d class %d: logit %v, executor says %v", i, j, got[i*10+j], want[i*10+j])
			}
		}
		if argmax(got[i*10:(i+1)*10]) == ds.Label(i) {
			correct++
		}
	}
	var res annEval
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Accuracy != float64(correct)/n {
		t.Errorf("accuracy %v, argmax of the logits file gives %v", res.Accuracy, float64(correct)/n)
	}
}

func TestEvalLogitsBadPath(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, path, msg string
		code            int
	}{
		{"missing directory", filepath.Join(dir, "absent", "l.bin"), "no such file or directory", exitBadInput},
		{"directory", dir, "a directory: not a regular file", exitBadInput},
		{"device", os.DevNull, "a character device: not a regular file", exitBadInput},
		{"the model", lenet, "overwrite the model", exitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, "eval", lenet, "--data", "mnist", "--limit", "8", "--logits", tc.path)
			if code != tc.code || !strings.Contains(stderr, tc.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, tc.code, tc.msg)
			}
		})
	}
}
