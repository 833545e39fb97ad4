package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
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
