//go:build amd64 && !noasm

package kernels

import "golang.org/x/sys/cpu"

// kernel6x16AVX2 is the AVX2+FMA micro-kernel in kernel_amd64.s: a 6×16
// tile. It reads kc·6 floats at a, kc rows of 16 floats ldb floats apart at
// b and writes a 6×16 tile at c with row stride ldc; the caller checks the
// bounds.
//
//go:noescape
func kernel6x16AVX2(kc int, a, b, c *float32, ldc, ldb int, alpha, beta float32, load int)

// kernel6x32AVX512 is the AVX-512F micro-kernel in kernel_amd64.s: it reads
// kc·6 floats at a, kc·32 floats at b and writes a 6×32 tile at c with row
// stride ldc; the caller checks the bounds.
//
//go:noescape
func kernel6x32AVX512(kc int, a, b, c *float32, ldc int, alpha, beta float32, load int)

// haveAVX2Kernel reports whether the CPU runs kernel6x16AVX2.
func haveAVX2Kernel() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

// haveAVX512Kernel reports whether the CPU (and the OS, which must save the
// ZMM state) runs kernel6x32AVX512.
func haveAVX512Kernel() bool { return cpu.X86.HasAVX512F }

// reluAVX512 applies Relu to n floats at v; n is a positive multiple of 16.
//
//go:noescape
func reluAVX512(v *float32, n int)

// quantizeAVX512 applies Quantize to n floats at v; n is a positive
// multiple of 16.
//
//go:noescape
func quantizeAVX512(v *float32, n int, a, b, lo, hi, s float32)

// gatherPanelAVX512 fills cg·taps rows of 32 lanes of a packed B panel for
// Conv.fillGather (see elementwise_amd64.s); cg ≥ 1, taps ≥ 1, and every
// offset whose mask bit is set indexes x for every channel.
//
//go:noescape
func gatherPanelAVX512(panel, x *float32, offs *int32, masks *uint32, taps, cg, hw int)

// im2colMaskedAVX512 fills cg·taps rows of 32 lanes of a packed B panel
// for Conv.fillMasked (see elementwise_amd64.s); taps2 is 2·taps (two
// offset/mask pairs per tap), cg ≥ 1, taps ≥ 1.
//
//go:noescape
func im2colMaskedAVX512(panel, x *float32, offs *int, masks *uint32, taps2, cg, hw int)

// im2colRunsAVX512 fills cg·taps rows of 32 lanes of a packed B panel from
// a panel table of runs runs per tap (see elementwise_amd64.s); entries is
// taps·runs, runs ≥ 1, cg ≥ 1, taps ≥ 1.
//
//go:noescape
func im2colRunsAVX512(panel, x *float32, offs *int, masks *uint32, entries, runs, cg, hw int)

// kernelRowsAVX512 is kernel6x32AVX512 restricted to the first rows rows
// (1 ≤ rows < 6) of the tile (kernel_amd64.s): it reads the same 6-row A
// micro-panel and writes only rows rows of C, each element bit-identical to
// kernel6x32AVX512's; the caller checks the bounds.
//
//go:noescape
func kernelRowsAVX512(kc int, a, b, c *float32, ldc int, alpha, beta float32, load, rows int)

// avgPool2x2AVX512 is avgPool2x2 over rows output rows of ow outputs, 16
// per step (pool_amd64.s); tlo, thi and tst are the load and store masks
// of a row's last ow mod 16 outputs. rows ≥ 1, ow ≥ 1, w ≥ 2·ow, and the
// caller checks the bounds.
//
//go:noescape
func avgPool2x2AVX512(dst, x *float32, rows, w, ow int, tlo, thi, tst int)

// directConvAVX512 computes one image of a Conv on its direct path
// (kernel_direct_amd64.s, Conv.forwardDirect): for every strip and every
// block of 16 output channels, the sums over taps taps of one k block,
// combined with dst and the bias as flags says. The caller checks the
// bounds: every lane a strip's masks select reads inside the image for
// every tap.
//
//go:noescape
func directConvAVX512(dst, x, w *float32, offs *int, taps int, strips *int, nstrips, kblocks, p, flags int)
