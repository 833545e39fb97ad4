package hdf5

import "testing"

// TestLookup3 checks the test vectors published with lookup3.c (driver5).
func TestLookup3(t *testing.T) {
	tests := []struct {
		in   string
		init uint32
		want uint32
	}{
		{"", 0, 0xdeadbeef},
		{"", 0xdeadbeef, 0xbd5b7dde},
		{"Four score and seven years ago", 0, 0x17770551},
		{"Four score and seven years ago", 1, 0xcd628161},
	}
	for _, tc := range tests {
		if got := lookup3([]byte(tc.in), tc.init); got != tc.want {
			t.Errorf("lookup3(%q, %#x) = %#x, want %#x", tc.in, tc.init, got, tc.want)
		}
	}
}
