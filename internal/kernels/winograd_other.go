//go:build !amd64 || noasm

package kernels

// winoInputAVX512 is never called on this platform (haveAVX512Kernel is
// false).
func winoInputAVX512(v, x *float32, base, disp *int32, mask *uint32, cg, hw, vstride int) {
	panic("kernels: no assembly kernels on this platform")
}

// winoOutputAVX512 is never called on this platform (haveAVX512Kernel is
// false).
func winoOutputAVX512(s, m, bias *float32, k, groups, ms, ld int) {
	panic("kernels: no assembly kernels on this platform")
}

// winoRowsAVX512 is never called on this platform (haveAVX512Kernel is
// false).
func winoRowsAVX512(v, x *float32, offs *int, masks *uint16, cg, hw, vstride, lanes int) {
	panic("kernels: no assembly kernels on this platform")
}
