package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const lenet = "../../models/lenet_mnist.onnx"

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.onnx")
	if err := os.WriteFile(garbage, []byte("not a model at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	garbageSNN := filepath.Join(dir, "garbage.snn")
	if err := os.WriteFile(garbageSNN, []byte("not a spiking model either"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no args", nil, exitUsage, "Usage"},
		{"unknown command", []string{"frobnicate"}, exitUsage, "unknown command"},
		{"bad flag", []string{"eval", "--nope", lenet}, exitUsage, "nope"},
		{"missing data", []string{"eval", garbageSNN}, exitBadInput, "garbage.snn"},
		{"missing file", []string{"inspect", filepath.Join(dir, "absent.onnx")}, exitBadInput, "absent.onnx"},
		{"garbage file", []string{"inspect", garbage}, exitBadInput, "garbage.onnx"},
		{"bad data set", []string{"eval", lenet, "--data", "imagenet"}, exitBadInput, "imagenet"},
		{"overwrite input", []string{"convert", lenet, "--data", "mnist", "-o", lenet}, exitUsage, "overwrite"},
		{"finetune overwrite input", []string{"finetune", garbageSNN, "--data", "mnist", "-o", garbageSNN}, exitUsage, "overwrite"},
		{"export overwrite input", []string{"export", garbageSNN, "-o", garbageSNN}, exitUsage, "overwrite"},
		{"bad timesteps", []string{"convert", lenet, "--data", "mnist", "--timesteps", "0"}, exitUsage, "timesteps"},
		// Errors say what to do.
		{"missing file hint", []string{"inspect", filepath.Join(dir, "absent.onnx")}, exitBadInput, "(check the path)"},
		{"garbage file hint", []string{"inspect", garbage}, exitBadInput, "export it again"},
		{"garbage snn hint", []string{"eval", garbageSNN, "--data", "mnist"}, exitBadInput, "convert the model again"},
		{"wrong data hint", []string{"eval", lenet, "--data", "cifar10:" + dir}, exitBadInput, "point cifar10:DIR at"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.msg) {
				t.Errorf("stderr %q does not mention %q", stderr, tc.msg)
			}
		})
	}
}

func TestInspectLeNetMACs(t *testing.T) {
	code, out, stderr := runCLI(t, "inspect", "--json", lenet)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res struct {
		MACs   int64 `json:"macs"`
		Params int   `json:"params"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	// Hand count: conv1 24·24·16·(1·5·5) + conv2 8·8·32·(16·5·5)
	// + fc1 512·128 + fc2 128·10.
	want := int64(24*24*16*25 + 8*8*32*16*25 + 512*128 + 128*10)
	if res.MACs != want {
		t.Errorf("MACs %d, want %d", res.MACs, want)
	}
}

func TestConvertEvalRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("converts and simulates a model")
	}
	out := filepath.Join(t.TempDir(), "lenet.snn")
	code, _, stderr := runCLI(t, "convert", lenet, "--data", "mnist", "--calib", "128", "--correct-images", "64", "--timesteps", "4", "-o", out)
	if code != exitOK {
		t.Fatalf("convert: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runCLI(t, "eval", out, "--data", "mnist", "--limit", "200", "--timesteps", "2,4", "--json")
	if code != exitOK {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	var res snnEval
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Kind != "snn" || res.Images != 200 || len(res.Timesteps) != 2 || len(res.Layers) != 3 {
		t.Fatalf("unexpected result %+v", res)
	}
	if acc := res.Timesteps[1].Accuracy; acc < 0.95 {
		t.Errorf("SNN accuracy at T=4 is %.3f on 200 MNIST images, want >= 0.95", acc)
	}
	if res.ANNAccuracy < 0.97 {
		t.Errorf("ANN accuracy %.3f, want >= 0.97", res.ANNAccuracy)
	}
	// --cpuprofile: written whole, or refused up front for a missing directory.
	prof := filepath.Join(filepath.Dir(out), "bench.prof")
	if code, _, stderr := runCLI(t, "bench", out, "--data", "mnist", "--limit", "16", "--repeat", "1", "--no-ann", "--cpuprofile", prof); code != exitOK {
		t.Fatalf("bench --cpuprofile: exit %d: %s", code, stderr)
	}
	if fi, err := os.Stat(prof); err != nil || fi.Size() == 0 {
		t.Errorf("bench --cpuprofile wrote no profile: %v", err)
	}
	missing := filepath.Join(filepath.Dir(out), "absent", "bench.prof")
	if code, _, stderr := runCLI(t, "bench", out, "--data", "mnist", "--limit", "16", "--repeat", "1", "--no-ann", "--cpuprofile", missing); code != exitBadInput || !strings.Contains(stderr, "no such file or directory") {
		t.Errorf("bench --cpuprofile into a missing directory: exit %d, %q", code, stderr)
	}
}

// TestConvertDeterministic checks that the same seed gives the same .snn
// bytes and the same eval numbers on one core and on two.
func TestConvertDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("converts a model twice")
	}
	dir := t.TempDir()
	var files [][]byte
	var evals []string
	for i, procs := range []int{1, 2} {
		prev := runtime.GOMAXPROCS(procs)
		out := filepath.Join(dir, fmt.Sprintf("m%d.snn", i))
		code, _, stderr := runCLI(t, "convert", lenet, "--data", "mnist", "--calib", "96", "--correct-images", "32", "--timesteps", "2", "--seed", "7", "-o", out)
		if code != exitOK {
			runtime.GOMAXPROCS(prev)
			t.Fatalf("convert with GOMAXPROCS=%d: %s", procs, stderr)
		}
		code, stdout, stderr := runCLI(t, "eval", out, "--data", "mnist", "--limit", "64", "--timesteps", "1,2,4", "--json", "--ann", lenet)
		runtime.GOMAXPROCS(prev)
		if code != exitOK {
			t.Fatalf("eval: %s", stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
		var res snnEval
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatal(err)
		}
		evals = append(evals, fmt.Sprint(res.ANNAccuracy, res.Timesteps, res.Layers))
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Error(".snn bytes differ between GOMAXPROCS=1 and 2")
	}
	if evals[0] != evals[1] {
		t.Errorf("eval differs between GOMAXPROCS=1 and 2:\n%s\n%s", evals[0], evals[1])
	}
}

// TestCLIReferenceUpToDate keeps docs/cli.md in step with the flags.
func TestCLIReferenceUpToDate(t *testing.T) {
	var buf bytes.Buffer
	writeReference(context.Background(), &buf)
	want, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Error("docs/cli.md is stale: run `go run ./cmd/ann2snn help --markdown > docs/cli.md`")
	}
}
