//go:build !amd64 || noasm

package kernels

// kernel6x16AVX2 is never called on this platform (haveAsmKernel is false).
func kernel6x16AVX2(kc int, a, b, c *float32, ldc int, alpha, beta float32, load int) {
	panic("kernels: no assembly micro-kernel on this platform")
}

// haveAsmKernel reports whether the CPU runs the assembly micro-kernel.
func haveAsmKernel() bool { return false }
