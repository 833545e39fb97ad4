package snnrt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func encode(t testing.TB, m *Model) []byte {
	t.Helper()
	var b bytes.Buffer
	n, err := m.WriteTo(&b)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(b.Len()) {
		t.Fatalf("WriteTo returned %d, wrote %d", n, b.Len())
	}
	return b.Bytes()
}

func decode(b []byte) (*Model, error) { return ReadModel(bytes.NewReader(b), int64(len(b))) }

// fixCRC recomputes the trailing checksum after a deliberate edit.
func fixCRC(b []byte) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], castagnoli))
	return b
}

func TestFileRoundTrip(t *testing.T) {
	models := map[string]*Model{
		"branchy":  branchyNet(t, 11),
		"small":    smallNet(t, 2, true, IF{V0: []float32{0.25}, Signed: true, MaxSpikes: 2}),
		"no-meta0": smallNet(t, 4, false, IF{Reset: ResetToZero}),
	}
	for name, m := range models {
		t.Run(name, func(t *testing.T) {
			b := encode(t, m)
			got, err := decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Fatalf("decoded model differs:\n got %+v\nwant %+v", got, m)
			}
			if b2 := encode(t, got); !bytes.Equal(b, b2) {
				t.Fatal("re-encoding is not bit-identical")
			}
			if off := prefixLen + binary.LittleEndian.Uint64(b[12:]); off%8 != 0 {
				t.Fatalf("data section at offset %d, not 8-aligned", off)
			}
		})
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.snn")
	m := branchyNet(t, 1)
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatal("loaded model differs")
	}
	// A failed save (invalid model) leaves the old file and no temp file.
	bad := *m
	bad.Output = 99
	if err := bad.Save(path); err == nil {
		t.Fatal("saving an invalid model succeeded")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("directory holds %d entries after a failed save, want 1", len(ents))
	}
	if _, err := Load(path); err != nil {
		t.Fatalf("old file damaged: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.snn")); err == nil {
		t.Fatal("loading a missing file succeeded")
	}
}

func TestReadModelErrors(t *testing.T) {
	m := smallNet(t, 2, false, IF{})
	good := encode(t, m)
	hlen := int(binary.LittleEndian.Uint64(good[12:]))
	var format *FormatError
	var unsupported *UnsupportedError
	var layerErr *LayerError
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	// patchHeader replaces old by new in the JSON header (same length) and
	// fixes the checksum, making a well-checksummed but malformed file.
	patchHeader := func(old, new string) []byte {
		if len(old) != len(new) {
			t.Fatalf("patch %q → %q changes the length", old, new)
		}
		b := bytes.Clone(good)
		h := b[prefixLen : prefixLen+hlen]
		i := bytes.Index(h, []byte(old))
		if i < 0 {
			t.Fatalf("%q not in header %s", old, h)
		}
		copy(h[i:], new)
		return fixCRC(b)
	}
	nanW := edit(func(b []byte) []byte {
		binary.LittleEndian.PutUint32(b[prefixLen+hlen+8:], math.Float32bits(float32(math.NaN())))
		return fixCRC(b)
	})
	tests := []struct {
		name   string
		b      []byte
		target any
		is     error
	}{
		{"empty", nil, &format, nil},
		{"magic", edit(func(b []byte) []byte { b[0] = 'X'; return b }), &format, nil},
		{"version", edit(func(b []byte) []byte { b[8] = 2; return b }), &unsupported, nil},
		{"bit flip in data", edit(func(b []byte) []byte { b[len(b)-40] ^= 1; return b }), &format, ErrChecksum},
		{"bit flip in header", edit(func(b []byte) []byte { b[prefixLen+3] ^= 4; return b }), &format, ErrChecksum},
		{"checksum", edit(func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b }), &format, ErrChecksum},
		{"truncated", good[:len(good)-9], &format, nil},
		{"truncated header", good[:30], &format, nil},
		{"absurd header length", edit(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[12:], 1<<62)
			return b
		}), &format, nil},
		{"appended bytes", append(bytes.Clone(good), 0, 0, 0, 0), &format, nil},
		{"NaN weight", nanW, &layerErr, nil},
		{"unknown dtype", patchHeader(`"float32"`, `"float64"`), &unsupported, nil},
		{"unknown kind", patchHeader(`"kind":"flatten"`, `"kind":"flutter"`), &unsupported, nil},
		{"bad reset", patchHeader(`"reset":"subtract"`, `"reset":"subtrac!"`), &format, nil},
		{"unknown field", patchHeader(`"signed"`, `"signet"`), &format, nil},
		{"wrong format name", patchHeader(`ann2snn.snn`, `ann2snn.xxx`), &format, nil},
		{"bad input index", patchHeader(`"inputs":[0]`, `"inputs":[9]`), &layerErr, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decode(tc.b)
			if err == nil {
				t.Fatalf("no error, model %+v", got)
			}
			if !errors.As(err, tc.target) {
				t.Fatalf("error %v (%T) is not %T", err, err, tc.target)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v does not wrap %v", err, tc.is)
			}
		})
	}
	// The NaN error names the layer.
	if _, err := decode(nanW); !errors.As(err, &layerErr) || layerErr.Name != "conv1" {
		t.Fatalf("NaN weight error %v does not name layer conv1", err)
	}
	// A reader that ends early gives ErrTruncated.
	if _, err := ReadModel(bytes.NewReader(good[:100]), int64(len(good))); !errors.Is(err, ErrTruncated) {
		t.Fatalf("short reader: %v, want ErrTruncated", err)
	}
}

func FuzzReadModel(f *testing.F) {
	good := encode(f, branchyNet(f, 3))
	f.Add(good)
	f.Add(encode(f, smallNet(f, 1, true, IF{MaxSpikes: 3, V0: []float32{0.1}})))
	f.Add(good[:len(good)/2])
	f.Add([]byte(Magic))
	f.Add([]byte{})
	// A checksummed file with a small, editable header so the fuzzer can
	// explore the JSON decoding past the CRC.
	tiny := &Model{Input: Shape{1, 1, 2}}
	tiny.MustAppend(Layer{Kind: KindIF, Inputs: []int{-1}, IF: IF{Theta: []float32{1}}})
	tiny.MustAppend(Layer{Kind: KindLinear, Inputs: []int{0}, W: []float32{1, 2}})
	f.Add(encode(f, tiny))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, data := range [][]byte{b, fixCRCIfLong(b)} {
			m, err := decode(data)
			if err != nil {
				continue
			}
			if err := m.Validate(); err != nil {
				t.Fatalf("ReadModel returned an invalid model: %v", err)
			}
			if !bytes.Equal(encode(t, m), data) {
				// Equal models may serialise differently only if the
				// input was not canonical; re-decoding must still work.
				if _, err := decode(encode(t, m)); err != nil {
					t.Fatal(err)
				}
			}
			// Simulate only small models: Validate admits up to
			// MaxImageBytes per image, and allocating (and clearing) a
			// few hundred MiB per input would stall the fuzzer.
			if m.ImageBytes() <= 1<<22 && totalNeurons(m) <= 1<<14 {
				x := make([]float32, m.Input.Len())
				if _, err := Run(m, x, 1, Config{T: 2}); err != nil {
					t.Fatalf("Run on a valid model: %v", err)
				}
			}
		}
	})
}

// fixCRCIfLong returns b with a correct checksum, so that mutations reach
// the header decoder.
func fixCRCIfLong(b []byte) []byte {
	if len(b) < prefixLen+trailerLen {
		return b
	}
	return fixCRC(b)
}

func totalNeurons(m *Model) int {
	s := 0
	for _, l := range m.Layers {
		s += l.Shape.Len()
	}
	return s
}
