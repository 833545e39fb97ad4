package apicheck

import (
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestExternalModule proves that the public API can be used from outside
// the module: it builds a throwaway module in a temporary directory,
//
//	module example.com/ann2snnuser
//	require github.com/ann2snn/ann2snn v0.0.0
//	replace github.com/ann2snn/ann2snn => <this checkout>
//
// with a program that imports every public package, copies each public
// package's example_test.go there (they must be external test packages,
// package foo_test, so they can use only exported API) with the package's
// testdata, and runs go vet and go test on it. GOPROXY=off and
// GOFLAGS=-mod=mod make it work offline from the module cache. It takes
// about 35 s on two loaded cores (it compiles the examples' test binaries) and is
// skipped under -short.
func TestExternalModule(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short: builds and runs the public packages' examples in a throwaway module outside this one (~35 s)")
	}
	root := moduleRoot(t)
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", fmt.Sprintf("module example.com/ann2snnuser\n\ngo 1.26\n\nrequire %s v0.0.0\n\nreplace %s => %s\n", module, module, root))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write("go.sum", string(sum))

	var imports strings.Builder
	for _, p := range publicPackages {
		fmt.Fprintf(&imports, "\t_ %q\n", p)
	}
	write("main.go", "// Command ann2snnuser imports every public package of ann2snn.\npackage main\n\nimport (\n"+imports.String()+")\n\nfunc main() {}\n")

	fset := token.NewFileSet()
	for _, p := range publicPackages {
		rel := strings.TrimPrefix(p, module+"/")
		src := filepath.Join(root, filepath.FromSlash(rel))
		files, err := filepath.Glob(filepath.Join(src, "*example*_test.go"))
		if err != nil {
			t.Fatal(err)
		}
		examples := 0
		for _, f := range files {
			text, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			af, err := parser.ParseFile(fset, f, text, parser.PackageClauseOnly)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Base(rel) + "_test"; af.Name.Name != want {
				t.Errorf("%s: package %s, want %s (examples must use only the exported API)", f, af.Name.Name, want)
				continue
			}
			examples += strings.Count(string(text), "\nfunc Example")
			write(filepath.Join(rel, filepath.Base(f)), string(text))
		}
		if examples == 0 {
			t.Errorf("%s: no Example in an external test package (%s/*example*_test.go)", p, rel)
		}
		if st, err := os.Stat(filepath.Join(src, "testdata")); err == nil && st.IsDir() {
			if err := os.Symlink(filepath.Join(src, "testdata"), filepath.Join(dir, filepath.FromSlash(rel), "testdata")); err != nil {
				t.Fatal(err)
			}
		}
	}
	if t.Failed() {
		return
	}
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
	for _, args := range [][]string{{"vet", "./..."}, {"test", "-count=1", "./..."}} {
		start := time.Now()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s in the external module: %v\n%s", strings.Join(args, " "), err, out)
		}
		t.Logf("go %s (%.1f s):\n%s", strings.Join(args, " "), time.Since(start).Seconds(), out)
		if args[0] == "test" {
			for _, p := range publicPackages {
				rel := strings.TrimPrefix(p, module+"/")
				if !slices.ContainsFunc(strings.Split(string(out), "\n"), func(line string) bool {
					return strings.HasPrefix(line, "ok") && strings.Contains(line, "example.com/ann2snnuser/"+rel+"\t")
				}) {
					t.Errorf("go test in the external module did not report ok for %s", rel)
				}
			}
		}
	}
}
