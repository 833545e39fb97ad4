//go:build amd64 && !noasm

package kernels

import "golang.org/x/sys/cpu"

// kernel6x16AVX2 is the AVX2+FMA micro-kernel in kernel_amd64.s. It reads
// kc·6 floats at a, kc·16 floats at b and writes a 6×16 tile at c with row
// stride ldc; the caller checks the bounds.
//
//go:noescape
func kernel6x16AVX2(kc int, a, b, c *float32, ldc int, alpha, beta float32, load int)

// haveAsmKernel reports whether the CPU runs the assembly micro-kernel.
func haveAsmKernel() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }
