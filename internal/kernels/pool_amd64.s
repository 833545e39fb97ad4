//go:build amd64 && !noasm

#include "textflag.h"

// 2×2, stride-2 average pooling, 16 outputs per step. Keep in sync with
// avgPool2x2Go in pool.go (TestAvgPool2x2Kernels compares them bit for
// bit): each output is ((((0 + t0) + t1) + b0) + b1) · 0.25, rounded after
// each operation, where t0, t1 are the two inputs of the top row and b0,
// b1 those of the bottom row.

// poolEvenOdd holds the VPERMT2PS indices of the even (first 16) and odd
// (last 16) floats of a pair of ZMM registers.
DATA poolEvenOdd<>+0(SB)/4, $0
DATA poolEvenOdd<>+4(SB)/4, $2
DATA poolEvenOdd<>+8(SB)/4, $4
DATA poolEvenOdd<>+12(SB)/4, $6
DATA poolEvenOdd<>+16(SB)/4, $8
DATA poolEvenOdd<>+20(SB)/4, $10
DATA poolEvenOdd<>+24(SB)/4, $12
DATA poolEvenOdd<>+28(SB)/4, $14
DATA poolEvenOdd<>+32(SB)/4, $16
DATA poolEvenOdd<>+36(SB)/4, $18
DATA poolEvenOdd<>+40(SB)/4, $20
DATA poolEvenOdd<>+44(SB)/4, $22
DATA poolEvenOdd<>+48(SB)/4, $24
DATA poolEvenOdd<>+52(SB)/4, $26
DATA poolEvenOdd<>+56(SB)/4, $28
DATA poolEvenOdd<>+60(SB)/4, $30
DATA poolEvenOdd<>+64(SB)/4, $1
DATA poolEvenOdd<>+68(SB)/4, $3
DATA poolEvenOdd<>+72(SB)/4, $5
DATA poolEvenOdd<>+76(SB)/4, $7
DATA poolEvenOdd<>+80(SB)/4, $9
DATA poolEvenOdd<>+84(SB)/4, $11
DATA poolEvenOdd<>+88(SB)/4, $13
DATA poolEvenOdd<>+92(SB)/4, $15
DATA poolEvenOdd<>+96(SB)/4, $17
DATA poolEvenOdd<>+100(SB)/4, $19
DATA poolEvenOdd<>+104(SB)/4, $21
DATA poolEvenOdd<>+108(SB)/4, $23
DATA poolEvenOdd<>+112(SB)/4, $25
DATA poolEvenOdd<>+116(SB)/4, $27
DATA poolEvenOdd<>+120(SB)/4, $29
DATA poolEvenOdd<>+124(SB)/4, $31
GLOBL poolEvenOdd<>(SB), RODATA|NOPTR, $128

// POOL16 pools 32 top floats (Z0, Z1) and 32 bottom floats (Z2, Z3) into
// 16 outputs in Z4: Z30/Z31 hold the even/odd indices, Z29 zero, Z28 0.25.
#define POOL16 \
	VMOVAPS   Z0, Z4; \
	VPERMT2PS Z1, Z30, Z4; \
	VPERMT2PS Z1, Z31, Z0; \
	VMOVAPS   Z2, Z5; \
	VPERMT2PS Z3, Z30, Z5; \
	VPERMT2PS Z3, Z31, Z2; \
	VADDPS    Z4, Z29, Z4; \
	VADDPS    Z0, Z4, Z4; \
	VADDPS    Z5, Z4, Z4; \
	VADDPS    Z2, Z4, Z4; \
	VMULPS    Z28, Z4, Z4

// func avgPool2x2AVX512(dst, x *float32, rows, w, ow int, tlo, thi, tst int)
//
// For r < rows: dst[r·ow+i] = pool of x[2r·w+2i], x[2r·w+2i+1] (top) and
// x[(2r+1)·w+2i], x[(2r+1)·w+2i+1] (bottom), i < ow. The last ow mod 16
// outputs of a row load their inputs under the masks tlo (first 16 floats)
// and thi (next 16) and store under tst. rows ≥ 1, ow ≥ 1, w ≥ 2·ow.
TEXT ·avgPool2x2AVX512(SB), NOSPLIT, $0-64
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         rows+16(FP), R8
	MOVQ         w+24(FP), R9
	SHLQ         $2, R9              // input row stride in bytes
	MOVQ         ow+32(FP), R10
	MOVQ         tlo+40(FP), AX
	KMOVW        AX, K1
	MOVQ         thi+48(FP), AX
	KMOVW        AX, K2
	MOVQ         tst+56(FP), AX
	KMOVW        AX, K3
	VMOVDQU32    poolEvenOdd<>+0(SB), Z30
	VMOVDQU32    poolEvenOdd<>+64(SB), Z31
	VPXORD       Z29, Z29, Z29
	MOVL         $0x3e800000, AX     // 0.25
	VPBROADCASTD AX, Z28
	MOVQ         R10, R11
	SHRQ         $4, R11             // full steps of 16 outputs per row
	ANDQ         $15, R10            // outputs in the masked tail

prow:
	MOVQ  SI, BX                     // top row
	LEAQ  (SI)(R9*1), DX             // bottom row
	MOVQ  R11, CX
	TESTQ CX, CX
	JEQ   ptail

pstep:
	VMOVUPS (BX), Z0
	VMOVUPS 64(BX), Z1
	VMOVUPS (DX), Z2
	VMOVUPS 64(DX), Z3
	POOL16
	VMOVUPS Z4, (DI)
	ADDQ    $128, BX
	ADDQ    $128, DX
	ADDQ    $64, DI
	DECQ    CX
	JNZ     pstep

ptail:
	TESTQ     R10, R10
	JEQ       pnext
	VMOVUPS.Z (BX), K1, Z0
	VMOVUPS.Z 64(BX), K2, Z1
	VMOVUPS.Z (DX), K1, Z2
	VMOVUPS.Z 64(DX), K2, Z3
	POOL16
	VMOVUPS   Z4, K3, (DI)
	LEAQ      (DI)(R10*4), DI

pnext:
	LEAQ (SI)(R9*2), SI              // next pair of input rows
	DECQ R8
	JNZ  prow
	VZEROUPPER
	RET
