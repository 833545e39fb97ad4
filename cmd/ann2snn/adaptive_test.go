package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/snnrt"
)

// linearModel is a one-layer SNN whose output is the same every step:
// image 0 gives (2.5, −0.75), image 1 (1, 1.5) (see TestEvalLogitsSNN),
// so accumulated outputs are t times those and every margin (a₁−a₂)/t is
// 3.25 and 0.5.
func linearModel(t *testing.T) (model, data string) {
	dir := t.TempDir()
	m := &snnrt.Model{Input: snnrt.Shape{C: 1, H: 1, W: 3}, Metadata: map[string]string{dataset.MetaScale: "1"}}
	m.MustAppend(snnrt.Layer{Name: "fc", Kind: snnrt.KindLinear, Inputs: []int{snnrt.InputIndex},
		W: []float32{1, 2, 0, 0, -1, 1}, B: []float32{0.5, -0.25}})
	model = filepath.Join(dir, "lin.snn")
	if err := m.Save(model); err != nil {
		t.Fatal(err)
	}
	return model, npyData(t, dir, 3, []float32{1, 0.5, 0, 0, 0.25, 2}, []int{0, 0})
}

func TestEvalAdaptive(t *testing.T) {
	model, data := linearModel(t)
	for _, tc := range []struct {
		exit  string
		meanT float64
		hist  []int64
	}{
		// Image 0 (margin 3.25) exits after step 1, image 1 (0.5) runs to T = 4.
		{"margin:1", 2.5, []int64{1, 0, 0, 1}},
		{"margin:0.5", 1, []int64{2, 0, 0, 0}},
		{"margin:1,min=3", 3.5, []int64{0, 0, 1, 1}},
		// Arg-max never changes: both stop after 2 steps.
		{"none,stable=2", 2, []int64{0, 2, 0, 0}},
	} {
		code, stdout, stderr := runCLI(t, "eval", model, "--data", data, "--timesteps", "1,4", "--adaptive", "--exit", tc.exit, "--json")
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", tc.exit, code, stderr)
		}
		var res adaptiveEvalResult
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatal(err)
		}
		a := res.Adaptive
		// Image 0 is right, image 1 wrong whenever they stop; the input
		// costs 6 MACs per image and step (3 inputs × 2 outputs).
		if a.MeanT != tc.meanT || !slices.Equal(a.Histogram, tc.hist) || a.Accuracy != 0.5 || a.MACsPerImage != 6*tc.meanT {
			t.Errorf("%s: mean T %v, histogram %v, accuracy %v, MACs/image %v; want %v, %v, 0.5, %v",
				tc.exit, a.MeanT, a.Histogram, a.Accuracy, a.MACsPerImage, tc.meanT, tc.hist, 6*tc.meanT)
		}
		if got := res.Timesteps[1].MACsPerImage; got != 24 {
			t.Errorf("%s: fixed T=4 MACs/image %v, want 24", tc.exit, got)
		}
	}
	if code, _, _ := runCLI(t, "eval", model, "--data", data, "--adaptive"); code != exitUsage {
		t.Errorf("--adaptive without a policy: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := runCLI(t, "eval", model, "--data", data, "--exit", "margin:1"); code != exitUsage {
		t.Errorf("--exit without --adaptive: exit %d, want %d", code, exitUsage)
	}
}

// TestCalibrateExit checks that calibrate-exit records the policy with
// the smallest mean T that keeps the answers: here every policy keeps
// them (the arg-max never changes), so every image stops after step 1.
func TestCalibrateExit(t *testing.T) {
	model, data := linearModel(t)
	out := filepath.Join(filepath.Dir(model), "cal.snn")
	code, stdout, stderr := runCLI(t, "calibrate-exit", model, "--data", data, "--split", "test", "--timesteps", "4", "--reference", "2", "--tolerance", "0", "-o", out, "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res calibrateExitResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Chosen.MeanT != 1 || res.Chosen.Acc != 0.5 || res.Chosen.Agreement != 1 {
		t.Errorf("chosen %+v, want mean T 1, accuracy 0.5, agreement 1", res.Chosen)
	}
	m, err := snnrt.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	p, maxT, ok, err := snnrt.RecordedExit(m.Metadata)
	if err != nil || !ok || maxT != 4 || p.String() != res.Chosen.Policy {
		t.Fatalf("recorded %v, max T %d, %v, %v; want %s, 4", p, maxT, ok, err, res.Chosen.Policy)
	}
	code, stdout, stderr = runCLI(t, "eval", out, "--data", data, "--timesteps", "1,4", "--adaptive", "--json")
	if code != exitOK {
		t.Fatalf("eval of the calibrated model: exit %d: %s", code, stderr)
	}
	var ev adaptiveEvalResult
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Adaptive.MeanT != 1 || ev.Adaptive.Policy != res.Chosen.Policy {
		t.Errorf("eval --adaptive: policy %s, mean T %v; want %s, 1", ev.Adaptive.Policy, ev.Adaptive.MeanT, res.Chosen.Policy)
	}
	if code, _, _ := runCLI(t, "calibrate-exit", model, "--data", data, "--reference", "40", "--timesteps", "4", "-o", out); code != exitUsage {
		t.Errorf("--reference beyond --timesteps: exit %d, want %d", code, exitUsage)
	}
	// The input model is never modified: no -o, or -o naming the input,
	// is a usage error and leaves the file as it was.
	before, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{}, {"-o", model}} {
		argv := append([]string{"calibrate-exit", model, "--data", data, "--split", "test", "--timesteps", "4", "--reference", "2"}, args...)
		if code, _, stderr := runCLI(t, argv...); code != exitUsage {
			t.Errorf("calibrate-exit %v: exit %d, want %d (%s)", args, code, exitUsage, stderr)
		}
	}
	if after, err := os.ReadFile(model); err != nil || !bytes.Equal(before, after) {
		t.Errorf("calibrate-exit changed its input model (%v)", err)
	}
}
