package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gz returns b gzip-compressed.
func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeFile writes b to name in a temporary directory and returns its path.
func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// idxBytes builds an IDX file with element type 0x08.
func idxBytes(dims []uint32, data []byte) []byte {
	b := []byte{0, 0, 0x08, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

// seq returns n bytes 0,1,2,... mod 256.
func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// checkErr checks err against a wanted outcome: "" means success, "format"
// a *FormatError, "unsupported" an *UnsupportedError, any other string a
// substring of the message.
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	var fe *FormatError
	var ue *UnsupportedError
	switch {
	case want == "":
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
	case err == nil:
		t.Fatalf("no error, want %s", want)
	case want == "format":
		if !errors.As(err, &fe) {
			t.Fatalf("error %v (%T), want *FormatError", err, err)
		}
	case want == "unsupported":
		if !errors.As(err, &ue) {
			t.Fatalf("error %v (%T), want *UnsupportedError", err, err)
		}
	default:
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q, want it to contain %q", err, want)
		}
	}
}
