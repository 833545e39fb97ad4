//go:build !amd64 || noasm

package kernels

// kernel6x16AVX2 is never called on this platform (haveAVX2Kernel is false).
func kernel6x16AVX2(kc int, a, b, c *float32, ldc, ldb int, alpha, beta float32, load int) {
	panic("kernels: no assembly micro-kernel on this platform")
}

// kernel6x32AVX512 is never called on this platform (haveAVX512Kernel is
// false).
func kernel6x32AVX512(kc int, a, b, c *float32, ldc int, alpha, beta float32, load int) {
	panic("kernels: no assembly micro-kernel on this platform")
}

// haveAVX2Kernel reports whether the CPU runs the AVX2 micro-kernel.
func haveAVX2Kernel() bool { return false }

// haveAVX512Kernel reports whether the CPU runs the AVX-512 micro-kernel.
func haveAVX512Kernel() bool { return false }

// reluAVX512 is never called on this platform (haveAVX512Kernel is false).
func reluAVX512(v *float32, n int) { panic("kernels: no assembly kernels on this platform") }

// quantizeAVX512 is never called on this platform (haveAVX512Kernel is
// false).
func quantizeAVX512(v *float32, n int, a, b, lo, hi, s float32) {
	panic("kernels: no assembly kernels on this platform")
}

// gatherPanelAVX512 is never called on this platform (haveAVX512Kernel is
// false).
func gatherPanelAVX512(panel, x *float32, offs *int32, masks *uint32, taps, cg, hw int) {
	panic("kernels: no assembly kernels on this platform")
}

// im2colMaskedAVX512 is never called on this platform (haveAVX512Kernel is
// false).
func im2colMaskedAVX512(panel, x *float32, offs *int, masks *uint32, taps2, cg, hw int) {
	panic("kernels: no assembly kernels on this platform")
}

// im2colRunsAVX512 is never called on this platform (haveAVX512Kernel is
// false).
func im2colRunsAVX512(panel, x *float32, offs *int, masks *uint32, entries, runs, cg, hw int) {
	panic("kernels: no assembly kernels on this platform")
}

// kernelRowsAVX512 is never called on this platform (haveAVX512Kernel is
// false).
func kernelRowsAVX512(kc int, a, b, c *float32, ldc int, alpha, beta float32, load, rows int) {
	panic("kernels: no assembly micro-kernel on this platform")
}

// avgPool2x2AVX512 is never called on this platform (haveAVX512Kernel is
// false).
func avgPool2x2AVX512(dst, x *float32, rows, w, ow int, tlo, thi, tst int) {
	panic("kernels: no assembly kernels on this platform")
}

// directConvAVX512 is never called on this platform (haveAVX512Kernel is
// false, so no Conv has a direct path).
func directConvAVX512(dst, x, w *float32, offs *int, taps int, strips *int, nstrips, kblocks, p, flags int) {
	panic("kernels: no assembly kernels on this platform")
}
