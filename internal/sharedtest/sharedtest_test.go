package sharedtest

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestCI(t *testing.T) {
	tests := []struct {
		v    string
		want bool
	}{
		{"", false}, {"0", false}, {"false", false}, {"FALSE", false},
		{"true", true}, {"1", true}, {"yes", true},
	}
	for _, tc := range tests {
		t.Setenv("CI", tc.v)
		if got := CI(); got != tc.want {
			t.Errorf("CI=%q: CI() = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestDir(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !strings.Contains(string(mod), "module github.com/ann2snn/ann2snn") {
		t.Fatalf("module root %s: go.mod %q, %v", root, mod, err)
	}
	t.Setenv(EnvSharedDir, "")
	if d, err := Dir(); err != nil || d != filepath.Join(filepath.Dir(root), "shared") {
		t.Errorf("Dir() = %q, %v; want ../shared beside %s", d, err, root)
	}
	t.Setenv(EnvSharedDir, "/elsewhere/data")
	if d, err := Dir(); err != nil || d != "/elsewhere/data" {
		t.Errorf("with %s set: Dir() = %q, %v", EnvSharedDir, d, err)
	}
}

// recorder is a testing.TB that records whether Skip or Fatal ended the
// test; both end the calling goroutine like the real ones.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Skip(args ...any)      { r.skipped = true; runtime.Goexit() }
func (r *recorder) Fatalf(string, ...any) { r.failed = true; runtime.Goexit() }

func TestMissing(t *testing.T) {
	tests := []struct {
		ci         string
		skip, fail bool
	}{
		{"", true, false},
		{"false", true, false},
		{"true", false, true},
	}
	for _, tc := range tests {
		t.Setenv("CI", tc.ci)
		t.Setenv(EnvSharedDir, t.TempDir())
		r := &recorder{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			Path(r, "no", "such", "file")
		}()
		<-done
		if r.skipped != tc.skip || r.failed != tc.fail {
			t.Errorf("CI=%q: skipped %v failed %v, want %v %v", tc.ci, r.skipped, r.failed, tc.skip, tc.fail)
		}
	}
	t.Setenv("CI", "true")
	dir := t.TempDir()
	t.Setenv(EnvSharedDir, dir)
	if got := Path(t, "."); got != filepath.Join(dir, ".") {
		t.Errorf("Path of an existing directory = %q", got)
	}
}
