package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ann2snn/ann2snn/snnrt"
)

// The hostile-input battery of issue 14, in the short form CI runs: each
// case runs the real command (this test binary re-executed as ann2snn,
// see TestMain) and requires its exit status, a one-line message with a
// given substring and no Go panic or goroutine dump, no output file left
// behind, and its input files unchanged. Cases whose point is memory run
// under `prlimit --as=2000000000` (2 GB of address space): the tool must
// refuse or stay within it, not crash. docs/reliability.md lists the
// cases and their results.

// batteryFixtures are the files the cases read, made once per test run.
type batteryFixtures struct {
	dir      string
	snn      string // LeNet converted with T = 2
	concat   string // crafted: a Concat reading a 3×32×32 input 20,000 times, twice
	flatten  string // crafted: 65,537 Flatten layers
	padConv  string // crafted: a 1×1 conv with 23,000 pixels of padding
	nanNPY   string // float images with a NaN in image 3
	badLabel string // npy:IMAGES,LABELS with label 12 in image 5 (LeNet has 10 classes)
	noLabels string // npy:IMAGES without labels
	fifo     string
	devLink  string // symbolic link to /dev/null
}

var (
	fixturesOnce sync.Once
	fixtures     *batteryFixtures
	fixturesErr  error
)

// getFixtures makes the battery's files once (the conversion takes about
// a second) in a directory that TestMain removes.
func getFixtures(t *testing.T) *batteryFixtures {
	t.Helper()
	fixturesOnce.Do(func() { fixtures, fixturesErr = makeFixtures() })
	if fixturesErr != nil {
		t.Fatal(fixturesErr)
	}
	return fixtures
}

func makeFixtures() (*batteryFixtures, error) {
	dir, err := os.MkdirTemp("", "ann2snn-battery-")
	if err != nil {
		return nil, err
	}
	f := &batteryFixtures{dir: dir}
	f.snn = filepath.Join(dir, "lenet.snn")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"convert", lenet, "--data", "mnist", "--calib", "32", "--timesteps", "2", "-o", f.snn}, &out, &errb); code != exitOK {
		return nil, fmt.Errorf("convert: %s", errb.String())
	}
	cifar := [3]int{3, 32, 32}
	cat := make([]int, 20000)
	for i := range cat {
		cat[i] = snnrt.InputIndex
	}
	f.concat = filepath.Join(dir, "concat.snn")
	if err := writeCraftedSNN(f.concat, cifar, []map[string]any{
		{"name": "cat", "kind": "concat", "inputs": cat, "shape": [3]int{60000, 32, 32}},
		{"name": "cat2", "kind": "concat", "inputs": []int{0}, "shape": [3]int{60000, 32, 32}},
	}, nil, nil); err != nil {
		return nil, err
	}
	var flat []map[string]any
	for i := range snnrt.MaxLayers + 1 {
		flat = append(flat, map[string]any{"name": "f", "kind": "flatten", "inputs": []int{i - 1}, "shape": [3]int{3072, 1, 1}})
	}
	f.flatten = filepath.Join(dir, "flatten.snn")
	if err := writeCraftedSNN(f.flatten, cifar, flat, nil, nil); err != nil {
		return nil, err
	}
	pad := 23000
	f.padConv = filepath.Join(dir, "padconv.snn")
	if err := writeCraftedSNN(f.padConv, [3]int{1, 1, 1}, []map[string]any{{"name": "c", "kind": "conv", "inputs": []int{-1},
		"shape": [3]int{1, 2*pad + 1, 2*pad + 1}, "params": map[string]int{"W": 0},
		"conv": map[string]int{"c": 1, "h": 1, "w": 1, "k": 1, "kh": 1, "kw": 1, "stride_h": 1, "stride_w": 1,
			"pad_t": pad, "pad_l": pad, "pad_b": pad, "pad_r": pad, "dil_h": 1, "dil_w": 1, "group": 1}}},
		[]map[string]any{{"name": "W", "dtype": "float32", "shape": []int{1, 1, 1, 1}, "offset": 0, "length": 4}}, []float32{1}); err != nil {
		return nil, err
	}
	img := make([]float32, 8*28*28)
	for i := range img {
		img[i] = float32(i%7) / 7
	}
	img[3*28*28+100] = float32(math.NaN())
	f.nanNPY = filepath.Join(dir, "nan.npy")
	if err := os.WriteFile(f.nanNPY, npyFile("<f4", []int{8, 1, 28, 28}, img), 0o644); err != nil {
		return nil, err
	}
	pix := make([]uint8, 8*28*28)
	labels := []int64{0, 1, 2, 3, 4, 12, 6, 7}
	imgs := filepath.Join(dir, "img.npy")
	lab := filepath.Join(dir, "lab.npy")
	if err := os.WriteFile(imgs, npyFile("|u1", []int{8, 1, 28, 28}, pix), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(lab, npyFile("<i8", []int{8}, labels), 0o644); err != nil {
		return nil, err
	}
	f.badLabel, f.noLabels = "npy:"+imgs+","+lab, "npy:"+imgs
	f.fifo = filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(f.fifo, 0o644); err != nil {
		return nil, err
	}
	f.devLink = filepath.Join(dir, "devnull-link")
	if err := os.Symlink(os.DevNull, f.devLink); err != nil {
		return nil, err
	}
	return f, nil
}

// writeCraftedSNN writes a .snn file with the given layers and tensors,
// unvalidated, as a hostile writer would (format: docs/format.md).
func writeCraftedSNN(path string, input [3]int, layers, tensors []map[string]any, data []float32) error {
	if tensors == nil {
		tensors = []map[string]any{}
	}
	hdr, err := json.Marshal(map[string]any{"format": snnrt.FormatName, "input": input, "output": len(layers) - 1,
		"layers": layers, "tensors": tensors, "data_len": 4 * len(data)})
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString(snnrt.Magic)
	binary.Write(&b, binary.LittleEndian, uint32(snnrt.FormatVersion))
	binary.Write(&b, binary.LittleEndian, uint64(len(hdr)))
	b.Write(hdr)
	binary.Write(&b, binary.LittleEndian, data)
	binary.Write(&b, binary.LittleEndian, crc32.Checksum(b.Bytes(), crc32.MakeTable(crc32.Castagnoli)))
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// npyFile returns an .npy (version 1) file of the little-endian values v.
func npyFile(descr string, shape []int, v any) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s,), }", descr, strings.Join(dims, ", "))
	h += strings.Repeat(" ", 63-(10+len(h))%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	binary.Write(&b, binary.LittleEndian, v)
	return b.Bytes()
}

// batteryCase is one hostile input.
type batteryCase struct {
	name   string
	args   []string
	code   int
	msg    string // a substring of stderr (exit ≠ 0) or stdout (exit 0)
	not    string // a substring stdout must not hold ("" for none)
	memory bool   // run under prlimit --as=2000000000
	stdout string // a file to use as stdout ("" for a pipe)
}

func batteryCases(f *batteryFixtures) []batteryCase {
	out := filepath.Join(f.dir, "out.snn") // never created by a refused case
	ft := func(extra ...string) []string {
		return append([]string{"finetune", f.snn, "--data", "mnist", "--timesteps", "2", "--epochs", "1", "--subset", "32", "--eval-limit", "16", "-o", out}, extra...)
	}
	conv := func(extra ...string) []string {
		return append([]string{"convert", lenet, "--data", "mnist", "--calib", "16", "-o", out}, extra...)
	}
	return []batteryCase{
		// 1. Output targets that are not regular files, refused before any work.
		{name: "convert -o /dev/null", args: conv("-o", os.DevNull), code: exitBadInput, msg: "a character device: not a regular file"},
		{name: "convert -o FIFO", args: conv("-o", f.fifo), code: exitBadInput, msg: "a FIFO: not a regular file"},
		{name: "convert -o directory", args: conv("-o", f.dir), code: exitBadInput, msg: "a directory: not a regular file"},
		{name: "convert -o link to /dev/null", args: conv("-o", f.devLink), code: exitBadInput, msg: "writing /dev/null: a character device"},
		{name: "convert -o missing directory", args: conv("-o", filepath.Join(f.dir, "absent", "x.snn")), code: exitBadInput, msg: "no such file or directory"},
		{name: "finetune -o /dev/null", args: ft("-o", os.DevNull), code: exitBadInput, msg: "a character device"},
		{name: "export -o FIFO", args: []string{"export", f.snn, "-o", f.fifo}, code: exitBadInput, msg: "a FIFO"},
		{name: "eval --logits /dev/null", args: []string{"eval", lenet, "--data", "mnist", "--limit", "8", "--logits", os.DevNull}, code: exitBadInput, msg: "a character device"},
		{name: "eval --plot missing directory", args: []string{"eval", f.snn, "--data", "mnist", "--plot", filepath.Join(f.dir, "absent")}, code: exitBadInput, msg: "no such file or directory"},
		{name: "bench --cpuprofile FIFO", args: []string{"bench", f.snn, "--data", "mnist", "--cpuprofile", f.fifo}, code: exitBadInput, msg: "a FIFO"},
		// 2. Crafted .snn files: refused by the reader, in bounded memory.
		{name: "Concat of the input 20000 times", args: []string{"eval", f.concat, "--data", "cifar10:/nonexistent"}, code: exitBadInput, msg: "MaxImageBytes", memory: true},
		{name: "65537 Flatten layers", args: []string{"eval", f.flatten, "--data", "mnist"}, code: exitBadInput, msg: "MaxLayers", memory: true},
		{name: "conv with 23000 pixels of padding", args: []string{"bench", f.padConv, "--data", "mnist"}, code: exitBadInput, msg: "MaxImageBytes", memory: true},
		{name: "inspect of a crafted .snn", args: []string{"export", f.concat, "-o", filepath.Join(f.dir, "x.nir")}, code: exitBadInput, msg: "MaxImageBytes", memory: true},
		// 3. Sizes from flags, bounded by the data.
		{name: "eval SNN --batch 1e9", args: []string{"eval", f.snn, "--data", "mnist", "--limit", "32", "--timesteps", "2", "--batch", "1000000000"}, code: exitOK, msg: "accuracy", memory: true},
		{name: "eval ANN --batch 1e9", args: []string{"eval", lenet, "--data", "mnist", "--limit", "32", "--batch", "1000000000"}, code: exitOK, msg: "(batch 32)", memory: true},
		{name: "bench --chunk 1e9", args: []string{"bench", f.snn, "--data", "mnist", "--limit", "32", "--repeat", "1", "--no-ann", "--chunk", "1000000000"}, code: exitOK, msg: "", memory: true},
		{name: "finetune --batch 1e9", args: ft("--batch", "1000000000"), code: exitOK, msg: "test acc", memory: true},
		// 4. Exit codes and when errors are found.
		{name: "NaN in float images (SNN eval)", args: []string{"eval", f.snn, "--data", "npy:" + f.nanNPY}, code: exitBadInput, msg: "image 3 holds NaN"},
		{name: "NaN in float images (ANN eval)", args: []string{"eval", lenet, "--data", "npy:" + f.nanNPY}, code: exitBadInput, msg: "image 3 holds NaN"},
		{name: "NaN in float images (convert)", args: []string{"convert", lenet, "--data", "npy:" + f.nanNPY, "-o", out}, code: exitBadInput, msg: "image 3 holds NaN"},
		{name: "label outside the classes (ANN)", args: []string{"eval", lenet, "--data", f.badLabel}, code: exitBadInput, msg: "image 5 has label 12"},
		{name: "label outside the classes (SNN)", args: []string{"eval", f.snn, "--data", f.badLabel, "--timesteps", "2"}, code: exitBadInput, msg: "image 5 has label 12"},
		{name: "unlabeled data (ANN)", args: []string{"eval", lenet, "--data", f.noLabels}, code: exitOK, msg: "n/a (unlabeled data)", not: "0.00%"},
		{name: "unlabeled data (SNN)", args: []string{"eval", f.snn, "--data", f.noLabels, "--timesteps", "2"}, code: exitOK, msg: "n/a", not: "0.00%"},
		{name: "unlabeled data (ANN, JSON)", args: []string{"eval", lenet, "--data", f.noLabels, "--json"}, code: exitOK, msg: `"labeled":false`},
		{name: "unlabeled data (SNN, JSON)", args: []string{"eval", f.snn, "--data", f.noLabels, "--timesteps", "2", "--json"}, code: exitOK, msg: `"labeled":false`},
		{name: "stdout on a full disk", args: []string{"inspect", lenet}, code: exitBadInput, msg: "writing the output", stdout: "/dev/full"},
		{name: "--lr Inf", args: ft("--lr", "Inf"), code: exitUsage, msg: "--lr +Inf"},
		{name: "--momentum NaN", args: ft("--optimizer", "sgd", "--momentum", "NaN"), code: exitUsage, msg: "--momentum NaN"},
		{name: "--rate-reg NaN", args: ft("--rate-reg", "NaN"), code: exitUsage, msg: "--rate-reg NaN"},
		{name: "--std -1", args: []string{"eval", lenet, "--data", "mnist", "--std", "-1"}, code: exitUsage, msg: "want > 0"},
		{name: "--max-spikes -1", args: conv("--max-spikes", "-1"), code: exitUsage, msg: "--max-spikes -1"},
		{name: "--max-spikes 5000", args: conv("--max-spikes", "5000"), code: exitUsage, msg: "--max-spikes 5000"},
		{name: "--correct-images -1", args: conv("--correct-images", "-1"), code: exitUsage, msg: "--correct-images -1"},
		{name: "--report-images -1", args: []string{"eval", f.snn, "--data", "mnist", "--report", "--report-images", "-1"}, code: exitUsage, msg: "--report-images -1"},
		{name: "convert --timesteps 0", args: conv("--timesteps", "0"), code: exitUsage, msg: fmt.Sprintf("want 1..%d", maxTimesteps)},
		{name: "convert --timesteps too many", args: conv("--timesteps", "100000"), code: exitUsage, msg: fmt.Sprintf("want 1..%d", maxTimesteps)},
		{name: "eval --timesteps too many", args: []string{"eval", f.snn, "--data", "mnist", "--timesteps", "100000"}, code: exitUsage, msg: fmt.Sprintf("want 1..%d", maxTimesteps)},
		{name: "bench --timesteps too many", args: []string{"bench", f.snn, "--data", "mnist", "--timesteps", "100000"}, code: exitUsage, msg: fmt.Sprintf("want 1..%d", maxTimesteps)},
		{name: "finetune --timesteps too many", args: ft("--timesteps", "100000"), code: exitUsage, msg: fmt.Sprintf("want 1..%d", maxTimesteps)},
	}
}

// TestBattery runs the battery; see the comment above batteryFixtures.
func TestBattery(t *testing.T) {
	f := getFixtures(t)
	prlimit, perr := exec.LookPath("prlimit")
	for _, tc := range batteryCases(f) {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.memory {
				if perr != nil {
					if os.Getenv("CI") != "" {
						t.Fatalf("prlimit (util-linux) is required in CI: %v", perr)
					}
					t.Skipf("prlimit (util-linux) not found: cannot bound the memory of this case: %v", perr)
				}
			}
			inputs := inputHashes(t, args)
			out := filepath.Join(f.dir, "out.snn")
			os.Remove(out)
			code, stdout, stderr, dt := runChild(t, prlimit, tc.memory, tc.stdout, args...)
			t.Logf("exit %d in %v: %s", code, dt.Round(time.Millisecond), strings.TrimSpace(firstLine(stderr)))
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			where := stdout
			if tc.code != exitOK {
				where = stderr
			}
			if !strings.Contains(where, tc.msg) {
				t.Errorf("output does not mention %q; stdout:\n%s\nstderr:\n%s", tc.msg, stdout, stderr)
			}
			if tc.not != "" && strings.Contains(stdout, tc.not) {
				t.Errorf("stdout holds %q:\n%s", tc.not, stdout)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic:") || strings.Contains(stderr, "fatal error") {
				t.Errorf("a Go crash instead of a message:\n%s", stderr)
			}
			if tc.code != exitOK {
				if n := strings.Count(strings.TrimSpace(stderr), "\n"); n > 2 { // a data header or warning may precede the error line
					t.Errorf("%d lines on stderr, want one clear line:\n%s", n+1, stderr)
				}
				if _, err := os.Stat(out); err == nil {
					t.Errorf("a refused run left %s", out)
				}
			}
			for p, h := range inputs {
				if inputHashes(t, []string{p})[p] != h {
					t.Errorf("input %s changed", p)
				}
			}
			if fi, err := os.Lstat(os.DevNull); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
				t.Fatalf("%s is no longer a character device", os.DevNull)
			}
		})
	}
}

// runChild runs ann2snn args in a child process (under prlimit --as if
// limited), with stdout to the file stdoutPath if not empty.
func runChild(t *testing.T, prlimit string, limited bool, stdoutPath string, args ...string) (code int, stdout, stderr string, dt time.Duration) {
	t.Helper()
	name, argv := os.Args[0], args
	if limited {
		name, argv = prlimit, append([]string{"--as=2000000000", os.Args[0]}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, argv...)
	cmd.Env = append(os.Environ(), "ANN2SNN_TEST_MAIN=1", "GOMAXPROCS=2")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdoutPath != "" {
		fo, err := os.OpenFile(stdoutPath, os.O_WRONLY, 0)
		if err != nil {
			t.Skipf("%s: %v", stdoutPath, err)
		}
		defer fo.Close()
		cmd.Stdout = fo
	}
	start := time.Now()
	err := cmd.Run()
	dt = time.Since(start)
	if err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String(), dt
}

// inputHashes returns the SHA-256 of every regular file named in args (an
// argument or the part after "npy:" and commas).
func inputHashes(t *testing.T, args []string) map[string][32]byte {
	h := map[string][32]byte{}
	for _, a := range args {
		for _, p := range strings.Split(strings.TrimPrefix(a, "npy:"), ",") {
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				h[p] = sha256.Sum256(b)
			}
		}
	}
	return h
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

// TestInterruptEveryCommand sends SIGINT to each long-running command a
// moment after it started and requires exit status 130 within 1.5 s (the
// grace is 1 s; the rest is slack for a loaded machine), with no output
// file left by a command that writes one at the end.
func TestInterruptEveryCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs each command for about a second")
	}
	f := getFixtures(t)
	out := filepath.Join(f.dir, "interrupted.snn")
	tests := []struct {
		name string
		args []string
	}{
		{"convert", []string{"convert", lenet, "--data", "mnist", "--calib", "60000", "--bias", "joint", "-o", out}},
		{"eval SNN", []string{"eval", f.snn, "--data", "mnist", "--timesteps", "4096"}},
		{"eval ANN", []string{"eval", lenet, "--data", "mnist", "--split", "train", "--batch", "1"}},
		{"bench", []string{"bench", f.snn, "--data", "mnist", "--limit", "10000", "--repeat", "100", "--no-ann"}},
		{"finetune", []string{"finetune", f.snn, "--data", "mnist", "--timesteps", "2", "--epochs", "3", "-o", out}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(out)
			cmd := exec.Command(os.Args[0], tc.args...)
			cmd.Env = append(os.Environ(), "ANN2SNN_TEST_MAIN=1")
			var errb bytes.Buffer
			cmd.Stderr = &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(700 * time.Millisecond)
			sent := time.Now()
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			dt := time.Since(sent)
			t.Logf("exit %d %v after SIGINT: %s", cmd.ProcessState.ExitCode(), dt.Round(time.Millisecond), firstLine(errb.String()))
			if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitInterrupted, errb.String())
			}
			if dt > 1500*time.Millisecond {
				t.Errorf("took %v to stop", dt)
			}
			if tc.name == "convert" {
				if _, err := os.Stat(out); err == nil {
					t.Errorf("interrupted convert left %s", out)
				}
			}
		})
	}
}

// TestOutputThroughSymlink checks the documented symbolic-link rule at the
// command line: an output naming a link to a regular file replaces that
// file and keeps the link; a link to a device is refused (TestBattery).
func TestOutputThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "logits.bin")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.bin")
	if err := os.Symlink("logits.bin", link); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "eval", lenet, "--data", "mnist", "--limit", "8", "--logits", link); code != exitOK {
		t.Fatalf("eval --logits link: exit %d: %s", code, stderr)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v", err)
	}
	if b, err := os.ReadFile(target); err != nil || len(b) != 8*10*4 {
		t.Errorf("the link's target holds %d bytes (%v), want 8 images × 10 logits × 4", len(b), err)
	}
}
