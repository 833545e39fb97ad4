//go:build amd64 && !noasm

#include "textflag.h"

// Elementwise epilogues, 16 lanes per step. Keep in sync with reluGo and
// quantizeGo in elementwise.go (TestElementwiseKernels compares them bit
// for bit). In Go's operand order VMAXPS b, a, d computes d = a > b ? a : b
// and VMINPS b, a, d computes d = a < b ? a : b: the second operand is
// returned when either is NaN or both are zeros, which is what the
// portable loops do.

// func reluAVX512(v *float32, n int)
TEXT ·reluAVX512(SB), NOSPLIT, $0-16
	MOVQ   v+0(FP), AX
	MOVQ   n+8(FP), CX
	VPXORD Z1, Z1, Z1

rloop:
	VMOVUPS (AX), Z0
	VMAXPS  Z1, Z0, Z0       // x > 0 ? x : 0
	VMOVUPS Z0, (AX)
	ADDQ    $64, AX
	SUBQ    $16, CX
	JNZ     rloop
	VZEROUPPER
	RET

// func quantizeAVX512(v *float32, n int, a, b, lo, hi, s float32)
TEXT ·quantizeAVX512(SB), NOSPLIT, $0-36
	MOVQ         v+0(FP), AX
	MOVQ         n+8(FP), CX
	VBROADCASTSS a+16(FP), Z1
	VBROADCASTSS b+20(FP), Z2
	VBROADCASTSS lo+24(FP), Z3
	VBROADCASTSS hi+28(FP), Z4
	VBROADCASTSS s+32(FP), Z5

qloop:
	VMOVUPS     (AX), Z0
	VMULPS      Z1, Z0, Z0   // y = x·a
	VADDPS      Z2, Z0, Z0   // y = y + b
	VRNDSCALEPS $9, Z0, Z0   // y = ⌊y⌋ (round down, no precision exception)
	VMAXPS      Z0, Z3, Z0   // y = lo > y ? lo : y
	VMINPS      Z0, Z4, Z0   // y = hi < y ? hi : y
	VMULPS      Z5, Z0, Z0   // y·s
	VMOVUPS     Z0, (AX)
	ADDQ        $64, AX
	SUBQ        $16, CX
	JNZ         qloop
	VZEROUPPER
	RET
