package apicheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/ann2snn/ann2snn"

// publicPackages are the packages a user of the module imports. The test
// fails if a package of the module outside internal/ and cmd/ is missing,
// so that a new public package is checked too.
var publicPackages = []string{
	module + "/calibrate",
	module + "/convert",
	module + "/dataset",
	module + "/finetune",
	module + "/importer",
	module + "/snnrt",
	module + "/snnrt/nir",
}

// isInternal reports whether path is an internal package of any module.
func isInternal(path string) bool {
	return strings.HasSuffix(path, "/internal") || strings.Contains(path, "/internal/") || strings.HasPrefix(path, "internal/")
}

// moduleRoot returns the directory holding go.mod (go test runs in the
// package directory, two levels below it).
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root: %v", err)
	}
	return root
}

// exportData lists the module's packages and the export data of the
// public ones and their dependencies (go list -export builds them).
func exportData(t *testing.T, root string) (all []string, files map[string]string) {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-f", "{{.ImportPath}}", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./...: %v", err)
	}
	all = strings.Fields(string(out))
	cmd = exec.Command("go", append([]string{"list", "-export", "-deps", "-json=ImportPath,Export,Error"}, publicPackages...)...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("go list -export: %v\n%s", err, stderr.Bytes())
	}
	touchSources(t, root)
	files = map[string]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath, Export string
			Error              *struct{ Err string }
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if p.Error != nil {
			t.Fatalf("%s: %s", p.ImportPath, p.Error.Err)
		}
		files[p.ImportPath] = p.Export
	}
	return all, files
}

// touchSources reads go.mod and every Go file of the module (outside
// testdata): go test caches a result keyed by the files the test opened,
// and the export data it reads comes from a go list it runs, so without
// this an edit of a public package would not rerun the test.
func touchSources(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (d.Name() == "testdata" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".go") || d.Name() == "go.mod") {
			_, err = os.ReadFile(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPublicPackagesListed(t *testing.T) {
	all, _ := exportData(t, moduleRoot(t))
	for _, p := range all {
		rel := strings.TrimPrefix(strings.TrimPrefix(p, module), "/")
		if isInternal(p) || rel == "" || strings.HasPrefix(rel, "cmd/") || strings.HasPrefix(rel, "bench") || strings.HasPrefix(rel, "models") {
			continue
		}
		if !slices.Contains(publicPackages, p) {
			t.Errorf("public package %s is not in publicPackages: add it so its API is checked", p)
		}
	}
}

func TestNoInternalTypes(t *testing.T) {
	_, files := exportData(t, moduleRoot(t))
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := files[path]
		if !ok || f == "" {
			return nil, fmt.Errorf("no export data for %q", path)
		}
		return os.Open(f)
	})
	for _, path := range publicPackages {
		pkg, err := imp.Import(path)
		if err != nil {
			t.Fatalf("import %s: %v", path, err)
		}
		for _, v := range exportedLeaks(pkg) {
			t.Errorf("%s", v)
		}
	}
}

// exportedLeaks returns one line per exported name of pkg whose type
// mentions a type of an internal package.
func exportedLeaks(pkg *types.Package) []string {
	var out []string
	report := func(what string, typ types.Type) {
		if bad := internalTypes(typ, pkg); len(bad) > 0 {
			out = append(out, fmt.Sprintf("%s.%s mentions %s", pkg.Name(), what, strings.Join(bad, ", ")))
		}
	}
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		switch o := obj.(type) {
		case *types.TypeName:
			if o.IsAlias() {
				continue // a public name for the type, allowed
			}
			report(name, o.Type().Underlying())
			if n, ok := o.Type().(*types.Named); ok {
				for m := range n.Methods() {
					if m.Exported() {
						report(name+"."+m.Name(), m.Type())
					}
				}
				if tp := n.TypeParams(); tp != nil {
					for p := range tp.TypeParams() {
						report(name+"["+p.Obj().Name()+"]", p.Constraint())
					}
				}
			}
		default:
			report(name, o.Type())
		}
	}
	return out
}

// internalTypes returns the internal types typ mentions, without looking
// into named types declared outside pkg (each public package is checked
// on its own) or into aliases declared in public packages.
func internalTypes(typ types.Type, pkg *types.Package) []string {
	var bad []string
	seen := map[types.Type]bool{}
	var walk func(types.Type)
	walk = func(t types.Type) {
		if t == nil || seen[t] {
			return
		}
		seen[t] = true
		switch t := t.(type) {
		case *types.Alias:
			if p := t.Obj().Pkg(); p != nil && isInternal(p.Path()) {
				bad = append(bad, p.Path()+"."+t.Obj().Name())
			}
			// An alias declared in a public package is a public name.
		case *types.Named:
			if p := t.Obj().Pkg(); p != nil && isInternal(p.Path()) {
				bad = append(bad, p.Path()+"."+t.Obj().Name())
				return
			}
			if args := t.TypeArgs(); args != nil {
				for a := range args.Types() {
					walk(a)
				}
			}
		case *types.Pointer:
			walk(t.Elem())
		case *types.Slice:
			walk(t.Elem())
		case *types.Array:
			walk(t.Elem())
		case *types.Map:
			walk(t.Key())
			walk(t.Elem())
		case *types.Chan:
			walk(t.Elem())
		case *types.Signature:
			for v := range t.Params().Variables() {
				walk(v.Type())
			}
			for v := range t.Results().Variables() {
				walk(v.Type())
			}
		case *types.Struct:
			for f := range t.Fields() {
				if f.Exported() || f.Embedded() {
					walk(f.Type())
				}
			}
		case *types.Interface:
			for m := range t.Methods() {
				if m.Exported() {
					walk(m.Type())
				}
			}
			for e := range t.EmbeddedTypes() {
				walk(e)
			}
		case *types.Union:
			for i := range t.Len() {
				walk(t.Term(i).Type())
			}
		case *types.TypeParam:
			walk(t.Constraint())
		}
	}
	walk(typ)
	return bad
}

// TestInternalTypesDetected checks the checker on a package built here:
// an exported function returning an internal type is reported, one
// returning a public alias of it is not.
func TestInternalTypesDetected(t *testing.T) {
	internal := types.NewPackage("example.com/m/internal/k", "k")
	geom := types.NewNamed(types.NewTypeName(token.NoPos, internal, "Geom", nil), types.NewStruct(nil, nil), nil)
	pub := types.NewPackage("example.com/m/pub", "pub")
	alias := types.NewAlias(types.NewTypeName(token.NoPos, pub, "Geom", nil), geom)
	result := func(t types.Type) *types.Signature {
		return types.NewSignatureType(nil, nil, nil, nil, types.NewTuple(types.NewVar(token.NoPos, pub, "", t)), false)
	}
	pub.Scope().Insert(alias.Obj())
	pub.Scope().Insert(types.NewFunc(token.NoPos, pub, "Bad", result(types.NewSlice(types.NewPointer(geom)))))
	pub.Scope().Insert(types.NewFunc(token.NoPos, pub, "Good", result(alias)))
	field := types.NewField(token.NoPos, pub, "G", geom, false)
	st := types.NewNamed(types.NewTypeName(token.NoPos, pub, "Layer", nil), types.NewStruct([]*types.Var{field}, nil), nil)
	pub.Scope().Insert(st.Obj())
	got := exportedLeaks(pub)
	want := []string{
		"pub.Bad mentions example.com/m/internal/k.Geom",
		"pub.Layer mentions example.com/m/internal/k.Geom",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
