package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ann2snn/ann2snn/finetune"
)

// TestFinetuneVal runs finetune --val on LeNet converted for T = 1 and
// checks the --json contract of the validation (the curve's points, the
// kept point among them, no checkpoint sidecars left), the text output's
// kept line, and the usage errors of --val and --val-every.
func TestFinetuneVal(t *testing.T) {
	dir := t.TempDir()
	snn := lenetT1(t, dir)
	out := filepath.Join(dir, "tuned.snn")
	base := []string{"finetune", snn, "--data", "mnist", "--timesteps", "1", "--batch", "32", "--limit", "160",
		"--epochs", "2", "--eval-limit", "16", "-o", out}
	args := func(extra ...string) []string { return append(append([]string(nil), base...), extra...) }

	code, stdout, stderr := runCLI(t, args("--val", "64", "--val-every", "2", "--json")...)
	if code != exitOK {
		t.Fatalf("--val: exit %d: %s", code, stderr)
	}
	var res finetuneResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	// 160 − 64 = 96 training images: 3 steps an epoch; points after 0, 2,
	// 3 (epoch end), 4 and 6 (epoch end, also a multiple of 2) steps.
	var steps []int
	kept := false
	for _, p := range res.Val {
		steps = append(steps, p.Steps)
		kept = kept || res.Kept != nil && p == *res.Kept
	}
	if res.Images != 96 || res.ValImages != 64 || len(res.Epochs) != 2 || !slices.Equal(steps, []int{0, 2, 3, 4, 6}) {
		t.Fatalf("train %d, val %d images, %d epochs, points after steps %v; want 96, 64, 2, [0 2 3 4 6]", res.Images, res.ValImages, len(res.Epochs), steps)
	}
	if !kept || res.Epochs[0].ValAcc == nil || *res.Epochs[0].ValAcc != res.Val[2].Accuracy {
		t.Fatalf("kept %+v is not a curve point, or epoch 1's val_accuracy differs from the point after 3 steps", res.Kept)
	}
	for _, s := range []string{finetune.StateSuffix, finetune.BestSuffix} {
		if _, err := os.Stat(out + s); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("finished --val run left OUT%s (%v)", s, err)
		}
	}
	code, stdout, stderr = runCLI(t, args("--val", "64", "--epochs", "1")...)
	if code != exitOK || !strings.Contains(stdout, "kept the model at ") || !strings.Contains(stdout, "validation at the start: accuracy") {
		t.Fatalf("--val text: exit %d, stdout:\n%s\nstderr: %s", code, stdout, stderr)
	}

	for _, tc := range []struct {
		extra []string
		msg   string
	}{
		{[]string{"--val-every", "2"}, "--val-every needs --val"},
		{[]string{"--val", "-1"}, "must not be negative"},
		{[]string{"--val", "160"}, "--val 160: want fewer than the 160 training images"},
	} {
		code, _, stderr := runCLI(t, args(tc.extra...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want usage error mentioning %q", tc.extra, code, stderr, tc.msg)
		}
	}
}

// lenetT1 converts the bundled LeNet for T = 1 (16 calibration images)
// into dir and returns the .snn's path.
func lenetT1(t *testing.T, dir string) string {
	t.Helper()
	snn := filepath.Join(dir, "lenet.snn")
	if code, _, stderr := runCLI(t, "convert", lenet, "--data", "mnist", "--calib", "16", "--timesteps", "1", "-o", snn); code != exitOK {
		t.Fatalf("convert: %s", stderr)
	}
	return snn
}
