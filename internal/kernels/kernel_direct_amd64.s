//go:build amd64 && !noasm

#include "textflag.h"

// directConvAVX512: a convolution without im2col for small unpadded,
// stride-1 layers (Conv.forwardDirect). Keep in sync with the GEMM path
// (TestConvDirect compares them bit for bit): every output is the same
// FMA chain over the taps of one k block, p ascending from +0, that the
// 6×32 micro-kernel computes, then combined as the micro-kernel's store
// and Conv.scatter do (one rounding per addition).
//
// Lanes are 16 consecutive output pixels of one image (a strip, at most
// two output-row runs, each a masked load of 16 input floats per tap);
// registers Z0..Z15 accumulate 16 output channels, whose weights are
// broadcast from memory.
//
// DFMA16 accumulates the 16 input floats in Z16 times the 16 weights of
// one tap at R11 into Z0..Z15.
#define DFMA16 \
	VFMADD231PS.BCST 0(R11), Z16, Z0; \
	VFMADD231PS.BCST 4(R11), Z16, Z1; \
	VFMADD231PS.BCST 8(R11), Z16, Z2; \
	VFMADD231PS.BCST 12(R11), Z16, Z3; \
	VFMADD231PS.BCST 16(R11), Z16, Z4; \
	VFMADD231PS.BCST 20(R11), Z16, Z5; \
	VFMADD231PS.BCST 24(R11), Z16, Z6; \
	VFMADD231PS.BCST 28(R11), Z16, Z7; \
	VFMADD231PS.BCST 32(R11), Z16, Z8; \
	VFMADD231PS.BCST 36(R11), Z16, Z9; \
	VFMADD231PS.BCST 40(R11), Z16, Z10; \
	VFMADD231PS.BCST 44(R11), Z16, Z11; \
	VFMADD231PS.BCST 48(R11), Z16, Z12; \
	VFMADD231PS.BCST 52(R11), Z16, Z13; \
	VFMADD231PS.BCST 56(R11), Z16, Z14; \
	VFMADD231PS.BCST 60(R11), Z16, Z15

// func directConvAVX512(dst, x, w *float32, offs *int, taps int, strips *int, nstrips, kblocks, p, flags int)
//
// offs[t] is the input offset of tap t (c·H·W + ky·W + kx); strips holds
// 5 ints per strip: first output pixel j0, the offset and 16-bit lane mask
// of the first run, the offset and mask of the second (lane l of a run
// reads x[off + l + offs[t]]). w holds, per block of 16 output channels,
// taps×16 weights (tap-major) and then the 16 biases. Output channel
// k of the block starting at channel kb·16 is written at dst[(kb·16+k)·p +
// j0 + l]. flags: bit 0 adds the acc to dst's value (dst = acc + dst), bit
// 1 adds the bias last; without bit 0 dst = acc (+ bias).
TEXT ·directConvAVX512(SB), NOSPLIT, $0-80
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ strips+40(FP), R8
	MOVQ nstrips+48(FP), R9
	MOVQ p+64(FP), R12
	SHLQ $2, R12                 // channel stride of dst in bytes

dstrip:
	MOVQ  0(R8), R13
	LEAQ  (DI)(R13*4), R13       // &dst[j0] of channel 0
	MOVQ  8(R8), AX
	LEAQ  (SI)(AX*4), AX         // first run
	MOVQ  16(R8), BX
	KMOVW BX, K1
	MOVQ  24(R8), BX
	MOVQ  32(R8), DX
	KMOVW DX, K2
	LEAQ  (SI)(BX*4), BX         // second run
	MOVQ  w+16(FP), R11
	MOVQ  kblocks+56(FP), R10

dblock:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	MOVQ offs+24(FP), DX
	MOVQ taps+32(FP), CX

dtap:
	MOVQ      (DX), R14
	VMOVUPS.Z (AX)(R14*4), K1, Z16
	VMOVUPS   (BX)(R14*4), K2, Z16
	DFMA16
	ADDQ      $8, DX
	ADDQ      $64, R11
	DECQ      CX
	JNZ       dtap

	// R11 points at the block's biases.
	MOVQ flags+72(FP), R14
	CMPQ R14, $1
	JEQ  dload
	CMPQ R14, $2
	JEQ  dbias
	CMPQ R14, $3
	JEQ  dloadbias
	VMOVUPS Z0, (R13)
	ADDQ R12, R13
	VMOVUPS Z1, (R13)
	ADDQ R12, R13
	VMOVUPS Z2, (R13)
	ADDQ R12, R13
	VMOVUPS Z3, (R13)
	ADDQ R12, R13
	VMOVUPS Z4, (R13)
	ADDQ R12, R13
	VMOVUPS Z5, (R13)
	ADDQ R12, R13
	VMOVUPS Z6, (R13)
	ADDQ R12, R13
	VMOVUPS Z7, (R13)
	ADDQ R12, R13
	VMOVUPS Z8, (R13)
	ADDQ R12, R13
	VMOVUPS Z9, (R13)
	ADDQ R12, R13
	VMOVUPS Z10, (R13)
	ADDQ R12, R13
	VMOVUPS Z11, (R13)
	ADDQ R12, R13
	VMOVUPS Z12, (R13)
	ADDQ R12, R13
	VMOVUPS Z13, (R13)
	ADDQ R12, R13
	VMOVUPS Z14, (R13)
	ADDQ R12, R13
	VMOVUPS Z15, (R13)
	ADDQ R12, R13
	JMP  dnext

dload:
	VADDPS (R13), Z0, Z0
	VMOVUPS Z0, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z1, Z1
	VMOVUPS Z1, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z2, Z2
	VMOVUPS Z2, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z3, Z3
	VMOVUPS Z3, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z4, Z4
	VMOVUPS Z4, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z5, Z5
	VMOVUPS Z5, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z6, Z6
	VMOVUPS Z6, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z7, Z7
	VMOVUPS Z7, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z8, Z8
	VMOVUPS Z8, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z9, Z9
	VMOVUPS Z9, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z10, Z10
	VMOVUPS Z10, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z11, Z11
	VMOVUPS Z11, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z12, Z12
	VMOVUPS Z12, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z13, Z13
	VMOVUPS Z13, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z14, Z14
	VMOVUPS Z14, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z15, Z15
	VMOVUPS Z15, (R13)
	ADDQ R12, R13
	JMP  dnext

dbias:
	VADDPS.BCST 0(R11), Z0, Z0
	VMOVUPS Z0, (R13)
	ADDQ R12, R13
	VADDPS.BCST 4(R11), Z1, Z1
	VMOVUPS Z1, (R13)
	ADDQ R12, R13
	VADDPS.BCST 8(R11), Z2, Z2
	VMOVUPS Z2, (R13)
	ADDQ R12, R13
	VADDPS.BCST 12(R11), Z3, Z3
	VMOVUPS Z3, (R13)
	ADDQ R12, R13
	VADDPS.BCST 16(R11), Z4, Z4
	VMOVUPS Z4, (R13)
	ADDQ R12, R13
	VADDPS.BCST 20(R11), Z5, Z5
	VMOVUPS Z5, (R13)
	ADDQ R12, R13
	VADDPS.BCST 24(R11), Z6, Z6
	VMOVUPS Z6, (R13)
	ADDQ R12, R13
	VADDPS.BCST 28(R11), Z7, Z7
	VMOVUPS Z7, (R13)
	ADDQ R12, R13
	VADDPS.BCST 32(R11), Z8, Z8
	VMOVUPS Z8, (R13)
	ADDQ R12, R13
	VADDPS.BCST 36(R11), Z9, Z9
	VMOVUPS Z9, (R13)
	ADDQ R12, R13
	VADDPS.BCST 40(R11), Z10, Z10
	VMOVUPS Z10, (R13)
	ADDQ R12, R13
	VADDPS.BCST 44(R11), Z11, Z11
	VMOVUPS Z11, (R13)
	ADDQ R12, R13
	VADDPS.BCST 48(R11), Z12, Z12
	VMOVUPS Z12, (R13)
	ADDQ R12, R13
	VADDPS.BCST 52(R11), Z13, Z13
	VMOVUPS Z13, (R13)
	ADDQ R12, R13
	VADDPS.BCST 56(R11), Z14, Z14
	VMOVUPS Z14, (R13)
	ADDQ R12, R13
	VADDPS.BCST 60(R11), Z15, Z15
	VMOVUPS Z15, (R13)
	ADDQ R12, R13
	JMP  dnext

dloadbias:
	VADDPS (R13), Z0, Z0
	VADDPS.BCST 0(R11), Z0, Z0
	VMOVUPS Z0, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z1, Z1
	VADDPS.BCST 4(R11), Z1, Z1
	VMOVUPS Z1, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z2, Z2
	VADDPS.BCST 8(R11), Z2, Z2
	VMOVUPS Z2, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z3, Z3
	VADDPS.BCST 12(R11), Z3, Z3
	VMOVUPS Z3, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z4, Z4
	VADDPS.BCST 16(R11), Z4, Z4
	VMOVUPS Z4, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z5, Z5
	VADDPS.BCST 20(R11), Z5, Z5
	VMOVUPS Z5, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z6, Z6
	VADDPS.BCST 24(R11), Z6, Z6
	VMOVUPS Z6, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z7, Z7
	VADDPS.BCST 28(R11), Z7, Z7
	VMOVUPS Z7, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z8, Z8
	VADDPS.BCST 32(R11), Z8, Z8
	VMOVUPS Z8, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z9, Z9
	VADDPS.BCST 36(R11), Z9, Z9
	VMOVUPS Z9, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z10, Z10
	VADDPS.BCST 40(R11), Z10, Z10
	VMOVUPS Z10, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z11, Z11
	VADDPS.BCST 44(R11), Z11, Z11
	VMOVUPS Z11, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z12, Z12
	VADDPS.BCST 48(R11), Z12, Z12
	VMOVUPS Z12, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z13, Z13
	VADDPS.BCST 52(R11), Z13, Z13
	VMOVUPS Z13, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z14, Z14
	VADDPS.BCST 56(R11), Z14, Z14
	VMOVUPS Z14, (R13)
	ADDQ R12, R13
	VADDPS (R13), Z15, Z15
	VADDPS.BCST 60(R11), Z15, Z15
	VMOVUPS Z15, (R13)
	ADDQ R12, R13

dnext:
	ADDQ $64, R11                // next block's weights
	DECQ R10
	JNZ  dblock
	ADDQ $40, R8
	DECQ R9
	JNZ  dstrip
	VZEROUPPER
	RET
