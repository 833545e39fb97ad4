//go:build unix

package importer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// copyFile copies src to dst.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// withTimeout runs f and fails the test if it has not returned within 10
// s (a blocking open of a FIFO would otherwise hang the test binary).
func withTimeout(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("did not return within 10 s (blocked on a special file?)")
		return nil
	}
}

// TestLoadSpecialFiles checks that model paths that are not regular files,
// or are over the size limit, are refused with a *FileError before being
// read, and that a FIFO does not block.
func TestLoadSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join("testdata", "clip_opset13.onnx")
	st, err := os.Stat(model)
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.onnx")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	urandom := filepath.Join(dir, "urandom.onnx")
	if err := os.Symlink("/dev/urandom", urandom); err != nil {
		t.Fatal(err)
	}
	subdir := filepath.Join(dir, "dir.onnx")
	if err := os.Mkdir(subdir, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		max        int64
		want       string // in the *FileError's message; "" for success
	}{
		{"dev zero", "/dev/zero", 0, "not a regular file (a character device)"},
		{"fifo", fifo, 0, "not a regular file (a FIFO)"},
		{"symlink to urandom", urandom, 0, "not a regular file (a character device)"},
		{"directory", subdir, 0, "not a regular file (a directory)"},
		{"over the limit", model, st.Size() - 1, "over the limit"},
		{"missing", filepath.Join(dir, "missing.onnx"), 0, "no such file"},
		{"at the limit", model, st.Size(), ""},
		{"default limit", model, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := withTimeout(t, func() error {
				_, err := LoadWith(tt.path, Options{MaxModelBytes: tt.max})
				return err
			})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var fe *FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a *FileError containing %q", err, tt.want)
			}
		})
	}
}

// TestExternalDataSpecialFiles checks that an external data file reached
// through a symbolic link leaving the model directory, or one that is a
// device or a FIFO, is refused with a *FormatError, while a link inside
// the directory is followed.
func TestExternalDataSpecialFiles(t *testing.T) {
	const bin = "conv_external.bin"
	outside := t.TempDir()
	copyFile(t, filepath.Join("testdata", bin), filepath.Join(outside, bin))
	tests := []struct {
		name string
		make func(dir string) error // creates dir/conv_external.bin
		ok   bool
	}{
		{"regular", func(dir string) error {
			copyFile(t, filepath.Join("testdata", bin), filepath.Join(dir, bin))
			return nil
		}, true},
		{"symlink inside", func(dir string) error {
			copyFile(t, filepath.Join("testdata", bin), filepath.Join(dir, "real.bin"))
			return os.Symlink("real.bin", filepath.Join(dir, bin))
		}, true},
		{"symlink escaping (absolute)", func(dir string) error {
			return os.Symlink(filepath.Join(outside, bin), filepath.Join(dir, bin))
		}, false},
		{"symlink escaping (relative)", func(dir string) error {
			rel, err := filepath.Rel(dir, filepath.Join(outside, bin))
			if err != nil {
				return err
			}
			return os.Symlink(rel, filepath.Join(dir, bin))
		}, false},
		{"symlink to urandom", func(dir string) error {
			return os.Symlink("/dev/urandom", filepath.Join(dir, bin))
		}, false},
		{"fifo", func(dir string) error { return syscall.Mkfifo(filepath.Join(dir, bin), 0o600) }, false},
		{"directory", func(dir string) error { return os.Mkdir(filepath.Join(dir, bin), 0o755) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			model := filepath.Join(dir, "conv_external.onnx")
			copyFile(t, filepath.Join("testdata", "conv_external.onnx"), model)
			if err := tt.make(dir); err != nil {
				t.Fatal(err)
			}
			err := withTimeout(t, func() error {
				_, err := Load(model)
				return err
			})
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var fe *FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), "external data file") {
				t.Fatalf("got %v, want a *FormatError about the external data file", err)
			}
			t.Log(err)
		})
	}
}

// TestExternalDataBounds checks offset and length against the real file
// size before anything is read or allocated.
func TestExternalDataBounds(t *testing.T) {
	tests := []struct {
		name, off, length string
		want              int64
	}{
		{"offset past end", "2000", "", 4},
		{"huge offset", "9223372036854775807", "4", 4},
		{"length past end", "1100", "40", 40},
		{"too long for file", "0", "", 1 << 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ext := map[string]string{"location": "conv_external.bin", "offset": tt.off}
			if tt.length != "" {
				ext["length"] = tt.length
			}
			_, err := readExternal("testdata", "w", ext, tt.want)
			var fe *FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), "bytes") {
				t.Fatalf("got %v, want a *FormatError about the file's size", err)
			}
		})
	}
}
