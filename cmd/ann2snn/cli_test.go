package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// TestHelpOnStdout: --help prints the command's usage on stdout (so that
// "ann2snn eval --help | less" shows it), nothing on stderr, exit 0.
func TestHelpOnStdout(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"eval", "--help"}, {"convert", "-h"},
		{"inspect", "--help"}, {"bench", "-help"}, {"finetune", "--help"}, {"export", "--help"}, {"merge", "--help"}} {
		code, stdout, stderr := runCLI(t, args...)
		if code != exitOK || stderr != "" || !strings.Contains(stdout, "Usage") {
			t.Errorf("%v: exit %d, stdout %d bytes (Usage: %v), stderr %q: want 0, the usage on stdout, empty stderr",
				args, code, len(stdout), strings.Contains(stdout, "Usage"), stderr)
		}
	}
	if _, stdout, _ := runCLI(t, "eval", "--help"); !strings.Contains(stdout, "-data string") {
		t.Errorf("eval --help does not list --data:\n%s", stdout)
	}
}

// TestFlagErrorOneLine: a bad flag is one line that names the command and
// the flag and says how to get help, not the whole usage.
func TestFlagErrorOneLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		cmd  string
		flag string
	}{
		{[]string{"eval", "--nope", lenet}, "eval", "-nope"},
		{[]string{"convert", lenet, "--timesteps", "x"}, "convert", "-timesteps"},
		{[]string{"bench", "--batch"}, "bench", "-batch"},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
		want := "run 'ann2snn " + tc.cmd + " --help'"
		if code != exitUsage || stdout != "" || len(lines) != 1 || !strings.HasPrefix(stderr, "ann2snn "+tc.cmd+": ") ||
			!strings.Contains(stderr, tc.flag) || !strings.Contains(stderr, want) {
			t.Errorf("%v: exit %d, stderr %q: want exit 1 and one line naming %q, %q and %q", tc.args, code, stderr, tc.cmd, tc.flag, want)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, stdout, stderr := runCLI(t, args...)
		if code != exitOK || stderr != "" || !regexp.MustCompile(`^ann2snn \S+\n$`).MatchString(stdout) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	rev := "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"tagged module", debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{"clean checkout", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "false"}}}, "devel-0123456789ab"},
		{"modified checkout", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "true"}}}, "devel-0123456789ab+modified"},
		{"no vcs", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
	} {
		if got := versionOf(&tc.bi); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestInterruptedMessage: a cancelled command says "interrupted", not
// "context canceled", and exits 130.
func TestInterruptedMessage(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"convert", lenet, "--calib", "16", "-o", filepath.Join(t.TempDir(), "m.snn")}, &out, &errb)
	msg := errb.String()
	if code != exitInterrupted || !strings.HasPrefix(msg, "ann2snn convert: ") || !strings.HasSuffix(msg, "interrupted\n") ||
		strings.Count(msg, "\n") != 1 || strings.Contains(msg, "context canceled") {
		t.Errorf("exit %d, stderr %q: want %d and one line \"ann2snn convert: … interrupted\"", code, msg, exitInterrupted)
	}
}

func TestRatioX(t *testing.T) {
	for _, tc := range []struct {
		a, b float64
		want string
	}{
		{1, 4, "0.25x"},
		{3, 2, "1.50x"},
		{0, 0, "n/a"}, // a model without MACs: no ANN energy
		{1, 0, "n/a"},
		{math.NaN(), 1, "n/a"},
	} {
		if got := ratioX(tc.a, tc.b); got != tc.want {
			t.Errorf("ratioX(%v, %v) = %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestDocHintsExist: every "docs/X.md" the command's messages name exists,
// and every "docs/cli.md, section S" is a heading of docs/cli.md.
func TestDocHintsExist(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	cli, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	docRe := regexp.MustCompile(`docs/[a-z_]+\.md`)
	secRe := regexp.MustCompile(`docs/cli\.md, section ([a-z]+)`)
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range docRe.FindAllString(string(src), -1) {
			seen++
			if _, err := os.Stat(filepath.Join("../..", doc)); err != nil {
				t.Errorf("%s names %s: %v", f, doc, err)
			}
		}
		for _, m := range secRe.FindAllStringSubmatch(string(src), -1) {
			if !strings.Contains(string(cli), "\n## "+m[1]+"\n") {
				t.Errorf("%s points to section %q of docs/cli.md, which has no such heading", f, m[1])
			}
		}
	}
	if seen == 0 {
		t.Error("no docs/*.md named in the sources: the test reads the wrong directory")
	}
}

// TestInspectSNN: inspect reads a .snn model and shows its IF layers with
// their thresholds, T and the recorded metadata (data set, tool version).
func TestInspectSNN(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.snn")
	if code, _, stderr := runCLI(t, "convert", lenet, "--calib", "64", "--timesteps", "4", "-o", out); code != exitOK {
		t.Fatalf("convert without --data: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runCLI(t, "inspect", out)
	if code != exitOK {
		t.Fatalf("inspect: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"(SNN)", "tuned for T=4", "θ median", "ann2snn.dataset          mnist", "ann2snn.tool_version", "ann2snn.source_sha256", "if"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, stdout)
		}
	}
	// The thresholds of a layer with one θ: min = median = max.
	if r := thetaRange([]float32{3, 1, 2, 5}); *r != [3]float32{1, 2, 5} {
		t.Errorf("thetaRange: %v, want [1 2 5]", *r)
	}
	if r := thetaRange([]float32{0.5}); *r != [3]float32{0.5, 0.5, 0.5} {
		t.Errorf("thetaRange one value: %v", *r)
	}
	// export of the default (signed burst) model names the convert flags.
	code, _, stderr = runCLI(t, "export", out, "--format", "nir", "-o", filepath.Join(t.TempDir(), "m.nir"))
	if code != exitBadInput || !strings.Contains(stderr, "--max-spikes 1") || !strings.Contains(stderr, "--signed=false") {
		t.Errorf("export of a default model: exit %d, %q: want 2 naming --max-spikes 1 and --signed=false", code, stderr)
	}
}
