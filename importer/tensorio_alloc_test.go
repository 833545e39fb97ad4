package importer

import (
	"errors"
	"runtime"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// TestDecodeTensorChecksDataBeforeAllocating: a few hundred bytes that
// declare a tensor of ~2.3e8 elements (the FuzzTensor crasher's shape) are
// refused without allocating for the declared shape.
func TestDecodeTensorChecksDataBeforeAllocating(t *testing.T) {
	dims := []uint64{4722720, 3, 4, 4}
	tests := []struct {
		name string
		data func(b []byte) []byte
	}{
		{"raw_data", func(b []byte) []byte {
			b = protowire.AppendTag(b, 9, protowire.BytesType)
			return protowire.AppendBytes(b, make([]byte, 384))
		}},
		{"float_data", func(b []byte) []byte {
			b = protowire.AppendTag(b, 4, protowire.BytesType)
			return protowire.AppendBytes(b, make([]byte, 4*96))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b []byte
			for _, d := range dims {
				b = protowire.AppendTag(b, 1, protowire.VarintType)
				b = protowire.AppendVarint(b, d)
			}
			b = protowire.AppendTag(b, 2, protowire.VarintType)
			b = protowire.AppendVarint(b, 1) // FLOAT
			b = tc.data(b)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, _, err := DecodeTensor(b)
			runtime.ReadMemStats(&after)
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("DecodeTensor: got %v, want a *FormatError", err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
				t.Errorf("allocated %d bytes before refusing the tensor", got)
			}
		})
	}
}
