package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ann2snn/ann2snn/internal/sharedtest"
)

// readmeCommand is one command line of README.md: an indented line that
// runs ann2snn, and the section it is in.
type readmeCommand struct {
	section string // the "## " heading above it
	line    string
}

// readmeCommands returns the indented command lines of README.md that run
// ann2snn ("ann2snn …", "go run ./cmd/ann2snn …", shell lines calling
// it), in order.
func readmeCommands(t *testing.T, readme string) []readmeCommand {
	t.Helper()
	f, err := os.Open(readme)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds []readmeCommand
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "## ") {
			section = strings.TrimPrefix(l, "## ")
			continue
		}
		if !strings.HasPrefix(l, "    ") || strings.Contains(l, "──") { // the pipeline diagram
			continue
		}
		l = strings.TrimSpace(l)
		if regexp.MustCompile(`(^|[\s;&])(ann2snn|go run \./cmd/ann2snn) `).MatchString(l) {
			cmds = append(cmds, readmeCommand{section, l})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cmds
}

// shellLine turns a README command line into what the test runs: without
// its trailing comment and optional [flags], without .ci/setup and go test
// (this test is part of go test), with the built binary for go run, and,
// when small, with --limit 64 on the commands that read a data set (a
// later --limit on the line wins), one finetune epoch and one bench pass.
func shellLine(line string, small bool) string {
	line = regexp.MustCompile(`\s{2,}#.*$`).ReplaceAllString(line, "")
	line = regexp.MustCompile(`\s*\[[^\]]*\]`).ReplaceAllString(line, "")
	var parts []string
	for _, p := range strings.Split(line, "&&") {
		p = strings.TrimSpace(p)
		if p == ".ci/setup" || strings.HasPrefix(p, "go test") {
			continue
		}
		parts = append(parts, strings.ReplaceAll(p, "go run ./cmd/ann2snn", "ann2snn"))
	}
	line = strings.Join(parts, " && ")
	if small {
		line = regexp.MustCompile(`\bann2snn (convert|eval|bench|finetune|calibrate-exit) `).ReplaceAllString(line, "ann2snn $1 --limit 64 ")
		line = regexp.MustCompile(`\bann2snn bench `).ReplaceAllString(line, "ann2snn bench --repeat 1 ")
		line = regexp.MustCompile(`--epochs \d+`).ReplaceAllString(line, "--epochs 1")
	}
	return line
}

func TestShellLine(t *testing.T) {
	for _, tc := range []struct {
		in    string
		small bool
		want  string
	}{
		{".ci/setup && mkdir -p out && go run ./cmd/ann2snn convert models/m.onnx -o out/m.snn && go run ./cmd/ann2snn eval out/m.snn", true,
			"mkdir -p out && ann2snn convert --limit 64 models/m.onnx -o out/m.snn && ann2snn eval --limit 64 out/m.snn"},
		{"ann2snn eval m.snn --timesteps 1,2 [--report] [--plot DIR]", true, "ann2snn eval --limit 64 m.snn --timesteps 1,2"},
		{"ann2snn bench m.snn --batch 64      # comment", true, "ann2snn bench --repeat 1 --limit 64 m.snn --batch 64"},
		{"ann2snn finetune m.snn --epochs 3 -o t.snn", true, "ann2snn finetune --limit 64 m.snn --epochs 1 -o t.snn"},
		{"ann2snn calibrate-exit m.snn -o e.snn", true, "ann2snn calibrate-exit --limit 64 m.snn -o e.snn"},
		{"ann2snn eval out/l.snn --timesteps 1,2,4,8", false, "ann2snn eval out/l.snn --timesteps 1,2,4,8"},
		{".ci/setup && go test ./...", true, ""},
	} {
		if got := shellLine(tc.in, tc.small); got != tc.want {
			t.Errorf("shellLine(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

// readmeEnv builds ann2snn and returns a working directory for README
// commands (models/ of the module, model.onnx = the bundled LeNet, out/)
// and the environment that puts the binary first on PATH.
func readmeEnv(t *testing.T, root string) (dir string, env []string) {
	t.Helper()
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "ann2snn"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir = t.TempDir()
	if err := os.Symlink(filepath.Join(root, "models"), filepath.Join(dir, "models")); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "models", "lenet_mnist.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.onnx"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "CI=1")
	return dir, env
}

// runShell runs line with bash in dir and returns its stdout.
func runShell(t *testing.T, dir string, env []string, line string) string {
	t.Helper()
	cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", line)
	cmd.Dir, cmd.Env = dir, env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", line, err, out, stderr.String())
	}
	t.Logf("%.1fs  %s", time.Since(start).Seconds(), line)
	return string(out)
}

// TestREADME runs every command line of README.md, in order, against the
// built binary (with --limit 64 where it reads data), and reruns the
// commands beside the bundled model's results row on the full MNIST test
// set, checking that they print the row's numbers.
func TestREADME(t *testing.T) {
	root, err := sharedtest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmds := readmeCommands(t, filepath.Join(root, "README.md"))
	if len(cmds) < 10 {
		t.Fatalf("found %d command lines in README.md: the parser is broken", len(cmds))
	}
	dir, env := readmeEnv(t, root)
	var results []string
	for _, c := range cmds {
		if strings.Contains(c.line, "../shared") {
			shared := sharedtest.Path(t) // fails under CI when missing, else skips
			c.line = strings.ReplaceAll(c.line, "../shared", shared)
		}
		if strings.HasPrefix(c.section, "Results") {
			results = append(results, c.line)
			continue
		}
		if line := shellLine(c.line, true); line != "" {
			runShell(t, dir, env, line)
		}
	}
	// The quick start wrote its .snn under out/ (git-ignored), not into the repository.
	if _, err := os.Stat(filepath.Join(dir, "out", "lenet_mnist.snn")); err != nil {
		t.Errorf("the quick start did not write out/lenet_mnist.snn: %v", err)
	}
	checkResultsRow(t, root, results, dir, env)
}

// checkResultsRow runs the Results section's commands (full test set) and
// checks the README's models/lenet_mnist row against the ANN accuracy and
// the per-T accuracies that eval prints.
func checkResultsRow(t *testing.T, root string, lines []string, dir string, env []string) {
	t.Helper()
	if len(lines) != 2 || !strings.Contains(lines[0], " convert ") || !strings.Contains(lines[1], " eval ") {
		t.Fatalf("Results section: want a convert and an eval line beside the bundled model's row, got %q", lines)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var header, row []string
	cells := func(l string) []string {
		var c []string
		for _, s := range strings.Split(strings.Trim(l, "| "), "|") {
			c = append(c, strings.TrimSpace(s))
		}
		return c
	}
	prev := ""
	for _, l := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(l, "| models/lenet_mnist |") {
			row = cells(l)
			break
		}
		if strings.HasPrefix(l, "| model |") {
			prev = l
		}
	}
	header = cells(prev)
	if row == nil || len(header) != len(row) || len(row) < 4 {
		t.Fatalf("README: no models/lenet_mnist row under a \"| model |\" header (header %q, row %q)", header, row)
	}
	if m := regexp.MustCompile(`--timesteps (\d+)`).FindStringSubmatch(lines[0]); m == nil || row[2] != "T="+m[1] {
		t.Errorf("row says converted for %q; the convert command is %q", row[2], lines[0])
	}
	runShell(t, dir, env, shellLine(lines[0], false))
	out := runShell(t, dir, env, shellLine(lines[1], false))
	if !strings.Contains(out, "(test, 10000 images)") {
		t.Errorf("the eval did not run on the full MNIST test set:\n%s", out)
	}
	ann := regexp.MustCompile(`(?m)^ANN\s+([0-9.]+)%`).FindStringSubmatch(out)
	if ann == nil || ann[1] != row[1] {
		t.Errorf("README ANN accuracy %s; eval printed %v", row[1], ann)
	}
	for i := 3; i < len(header); i++ {
		tcol := strings.TrimPrefix(header[i], "T=")
		m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(tcol) + `\s+([0-9.]+)\s`).FindStringSubmatch(out)
		if m == nil {
			t.Errorf("eval printed no row for T=%s:\n%s", tcol, out)
			continue
		}
		if m[1] != row[i] {
			t.Errorf("README says %s%% at T=%s; the command beside it prints %s%%", row[i], tcol, m[1])
		}
	}
}
