package hdf5

import "math/bits"

// lookup3 returns Bob Jenkins' lookup3 hash ("hashlittle", byte-wise
// little-endian reading) of b with initial value init, the checksum that
// HDF5 stores in superblocks version 2+ and version 2 object headers
// (computed there with init = 0).
func lookup3(b []byte, init uint32) uint32 {
	a := 0xdeadbeef + uint32(len(b)) + init
	bb, c := a, a
	for len(b) > 12 {
		a += le32(b[0:4])
		bb += le32(b[4:8])
		c += le32(b[8:12])
		a, bb, c = mix(a, bb, c)
		b = b[12:]
	}
	if len(b) == 0 {
		return c
	}
	var tail [12]byte
	copy(tail[:], b)
	a += le32(tail[0:4])
	bb += le32(tail[4:8])
	c += le32(tail[8:12])
	return final(a, bb, c)
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func mix(a, b, c uint32) (uint32, uint32, uint32) {
	a -= c
	a ^= bits.RotateLeft32(c, 4)
	c += b
	b -= a
	b ^= bits.RotateLeft32(a, 6)
	a += c
	c -= b
	c ^= bits.RotateLeft32(b, 8)
	b += a
	a -= c
	a ^= bits.RotateLeft32(c, 16)
	c += b
	b -= a
	b ^= bits.RotateLeft32(a, 19)
	a += c
	c -= b
	c ^= bits.RotateLeft32(b, 4)
	b += a
	return a, b, c
}

func final(a, b, c uint32) uint32 {
	c ^= b
	c -= bits.RotateLeft32(b, 14)
	a ^= c
	a -= bits.RotateLeft32(c, 11)
	b ^= a
	b -= bits.RotateLeft32(a, 25)
	c ^= b
	c -= bits.RotateLeft32(b, 16)
	a ^= c
	a -= bits.RotateLeft32(c, 4)
	b ^= a
	b -= bits.RotateLeft32(a, 14)
	c ^= b
	c -= bits.RotateLeft32(b, 24)
	return c
}
