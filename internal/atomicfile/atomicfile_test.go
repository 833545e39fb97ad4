package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	if err := WriteFile(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		fill    func(w io.Writer) error
		want    string
		wantErr bool
	}{
		{"replaces", func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }, "new", false},
		{"failure keeps old", func(w io.Writer) error { w.Write([]byte("partial")); return errors.New("boom") }, "new", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Write(path, tc.fill)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tc.want {
				t.Errorf("content %q, want %q", got, tc.want)
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != 1 {
				t.Errorf("directory holds %d entries, want only the output (no temp files left)", len(ents))
			}
		})
	}
}

func TestWriteMissingDir(t *testing.T) {
	if err := WriteFile(filepath.Join(t.TempDir(), "no", "such", "f"), nil); err == nil {
		t.Fatal("want an error for a missing directory")
	}
}

// TestDestinations checks which destinations Check and Write accept: a
// regular file is replaced (through a symbolic link: the target, keeping
// the link), anything else that exists is refused with ErrNotRegular and
// left as it was, and a missing directory is an *Error naming the path.
func TestDestinations(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "reg")
	if err := os.WriteFile(reg, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("reg", link); err != nil {
		t.Fatal(err)
	}
	devLink := filepath.Join(dir, "devlink")
	if err := os.Symlink(os.DevNull, devLink); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink("new-target", dangling); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		wantFile   string // the file that receives the content; "" for a refusal
		notRegular bool   // the refusal wraps ErrNotRegular
	}{
		{"new file", filepath.Join(dir, "new"), filepath.Join(dir, "new"), false},
		{"regular file", reg, reg, false},
		{"link to a regular file", link, reg, false},
		{"dangling link", dangling, filepath.Join(dir, "new-target"), false},
		{"/dev/null", os.DevNull, "", true},
		{"link to /dev/null", devLink, "", true},
		{"FIFO", fifo, "", true},
		{"directory", sub, "", true},
		{"missing directory", filepath.Join(dir, "no", "f"), "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			real, cerr := Check(tc.path)
			werr := WriteFile(tc.path, []byte("new"))
			if tc.wantFile == "" {
				for _, err := range []error{cerr, werr} {
					var e *Error
					if !errors.As(err, &e) {
						t.Fatalf("err = %v, want an *Error", err)
					}
					if got := errors.Is(err, ErrNotRegular); got != tc.notRegular {
						t.Errorf("errors.Is(%v, ErrNotRegular) = %v, want %v", err, got, tc.notRegular)
					}
					if strings.Contains(err.Error(), ".tmp-") {
						t.Errorf("error %q names the temporary file", err)
					}
				}
				return
			}
			if cerr != nil || werr != nil {
				t.Fatalf("Check: %v, Write: %v", cerr, werr)
			}
			if real != tc.wantFile {
				t.Errorf("Check resolved %s to %s, want %s", tc.path, real, tc.wantFile)
			}
			if got, err := os.ReadFile(tc.wantFile); err != nil || string(got) != "new" {
				t.Errorf("%s holds %q (%v), want \"new\"", tc.wantFile, got, err)
			}
			if fi, err := os.Lstat(tc.path); err != nil || (tc.path != tc.wantFile && fi.Mode()&os.ModeSymlink == 0) {
				t.Errorf("the link %s was replaced (%v)", tc.path, err)
			}
		})
	}
	if fi, err := os.Stat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced (%v)", err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// TestReadOnlyDir checks that Check refuses a directory that takes no new
// file, before any work.
func TestReadOnlyDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes into read-only directories")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	if _, err := Check(filepath.Join(dir, "f")); err == nil {
		t.Fatal("Check accepted a file in a read-only directory")
	}
}

// TestFullDisk writes more than a small tmpfs holds: the error must be an
// *Error naming the destination (not the temporary file) and wrapping
// ENOSPC, and no file may be left. It needs root to mount the tmpfs.
func TestFullDisk(t *testing.T) {
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=16k"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	defer syscall.Unmount(dir, 0)
	path := filepath.Join(dir, "big.bin")
	err := WriteFile(path, make([]byte, 1<<20))
	var e *Error
	if !errors.As(err, &e) || e.Path != path || !errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), ".tmp-") {
		t.Fatalf("err = %v; want an *Error for %s wrapping ENOSPC", err, path)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("%d files left on the full disk", len(ents))
	}
}
