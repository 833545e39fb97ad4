package progress

import (
	"bytes"
	"testing"
)

// TestSilentOffTerminal checks that a bar writing to a non-terminal (a
// pipe, a file, CI) prints nothing, so --json output stays clean.
func TestSilentOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "eval", 10)
	for range 10 {
		b.Add(1)
	}
	b.Done()
	if buf.Len() != 0 {
		t.Fatalf("bar wrote %q to a non-terminal", buf.String())
	}
	var zero Bar
	zero.Add(3)
	zero.Done()
	if IsTerminal(&buf) {
		t.Error("a bytes.Buffer is not a terminal")
	}
}

// TestDraw checks the line a terminal would see.
func TestDraw(t *testing.T) {
	var buf bytes.Buffer
	b := &Bar{w: &buf, label: "snn", total: 4}
	b.Add(2)
	b.Done()
	out := buf.String()
	if !bytes.Contains([]byte(out), []byte("snn [")) || !bytes.Contains([]byte(out), []byte("2/4")) {
		t.Errorf("unexpected bar output %q", out)
	}
}
