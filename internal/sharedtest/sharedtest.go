package sharedtest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// EnvSharedDir names the environment variable that overrides the shared
// directory.
const EnvSharedDir = "ANN2SNN_SHARED_DIR"

// CI reports whether the CI environment variable asks for strict tests: it
// is set and is not "0" or "false" (any case).
func CI() bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv("CI")))
	return v != "" && v != "0" && v != "false"
}

// ModuleRoot returns the directory of the nearest go.mod at or above the
// working directory.
func ModuleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("sharedtest: %w", err)
	}
	for dir := wd; ; {
		if st, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && st.Mode().IsRegular() {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("sharedtest: no go.mod at or above %s: %w", wd, fs.ErrNotExist)
		}
		dir = up
	}
}

// Dir returns the shared directory: $ANN2SNN_SHARED_DIR, else ../shared
// relative to the module root. It does not check that the directory
// exists; see Path.
func Dir() (string, error) {
	if d := os.Getenv(EnvSharedDir); d != "" {
		return d, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(root), "shared"), nil
}

// Path returns the shared file or directory named by elem (joined below
// Dir, e.g. Path(t, "models", "lenet_mnist.onnx")). If it does not exist
// it calls Missing, which skips t, or fails it under CI.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		Missing(t, "%v", err)
		return ""
	}
	return Require(t, filepath.Join(append([]string{dir}, elem...)...))
}

// Require returns path if it exists and otherwise calls Missing.
func Require(t testing.TB, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		Missing(t, "%v (set %s or place the shared data beside the module)", err, EnvSharedDir)
	}
	return path
}

// Missing reports data that a test needs and cannot find: it skips t, or
// fails it (t.Fatalf) when CI reports true. Like Skip and Fatal it does not
// return.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := "missing test data: " + fmt.Sprintf(format, args...)
	if CI() {
		t.Fatalf("%s (CI is set: missing data fails the test)", msg)
	}
	t.Skip(msg)
}

// MissingErr calls Missing if err says that something does not exist
// (errors.Is(err, fs.ErrNotExist)) and t.Fatal for any other non-nil err.
func MissingErr(t testing.TB, err error) {
	t.Helper()
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		Missing(t, "%v", err)
	default:
		t.Fatal(err)
	}
}
