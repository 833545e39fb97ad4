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

// func gatherPanelAVX512(panel, x *float32, offs *int32, masks *uint32, taps, cg, hw int)
//
// Fills a B micro-panel of cg·taps rows of 32 lanes for Conv.fillGather:
// row ch·taps+t, lane l = x[ch·hw + offs[t·32+l]] where bit l of masks[t]
// is set, else 0. Keep in sync with the portable loop of fillGather
// (TestConvMatchesRef runs the geometries that take this path).
TEXT ·gatherPanelAVX512(SB), NOSPLIT, $0-56
	MOVQ panel+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ offs+16(FP), R8
	MOVQ masks+24(FP), R9
	MOVQ taps+32(FP), R10
	MOVQ cg+40(FP), R11
	MOVQ hw+48(FP), R12
	SHLQ $2, R12             // channel stride in bytes

gchan:
	XORQ BX, BX              // tap
	MOVQ R8, R13             // offsets of tap 0

gtap:
	MOVL       (R9)(BX*4), AX
	VMOVDQU32  (R13), Z1
	VMOVDQU32  64(R13), Z2
	KMOVW      AX, K1
	SHRL       $16, AX
	KMOVW      AX, K2
	VPXORD     Z0, Z0, Z0
	VPXORD     Z3, Z3, Z3
	VGATHERDPS (SI)(Z1*4), K1, Z0
	VGATHERDPS (SI)(Z2*4), K2, Z3
	VMOVUPS    Z0, (DI)
	VMOVUPS    Z3, 64(DI)
	ADDQ       $128, DI
	ADDQ       $128, R13
	INCQ       BX
	CMPQ       BX, R10
	JLT        gtap
	ADDQ       R12, SI
	DECQ       R11
	JNZ        gchan
	VZEROUPPER
	RET

// func im2colMaskedAVX512(panel, x *float32, offs *int, masks *uint32, taps2, cg, hw int)
//
// Fills a B micro-panel of cg·taps rows of 32 lanes for Conv.fillMasked
// (stride-1 panels of at most two runs), taps2 = 2·taps: row ch·taps+t is,
// for run s = 0, 1, lane l = x[ch·hw + offs[2t+s] + l] where bit l of masks[2t+s] is set, 0
// where no bit is set. Masked-off lanes are not read (AVX-512 masked loads
// do not touch them), so offs may point before x for padding. Keep in sync
// with fillRun (TestConvMatchesRef runs the geometries that take this path).
TEXT ·im2colMaskedAVX512(SB), NOSPLIT, $0-56
	MOVQ panel+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ offs+16(FP), R8
	MOVQ masks+24(FP), R9
	MOVQ taps2+32(FP), R10
	MOVQ cg+40(FP), R11
	MOVQ hw+48(FP), R12
	SHLQ $2, R12             // channel stride in bytes

mchan:
	XORQ BX, BX              // tap

mtap:
	MOVQ      (R8)(BX*8), DX
	MOVQ      8(R8)(BX*8), R13
	MOVL      (R9)(BX*4), AX
	MOVL      4(R9)(BX*4), CX
	KMOVW     AX, K1
	SHRL      $16, AX
	KMOVW     AX, K2
	KMOVW     CX, K3
	SHRL      $16, CX
	KMOVW     CX, K4
	VMOVUPS.Z (SI)(DX*4), K1, Z0
	VMOVUPS.Z 64(SI)(DX*4), K2, Z1
	VMOVUPS   (SI)(R13*4), K3, Z0
	VMOVUPS   64(SI)(R13*4), K4, Z1
	VMOVUPS   Z0, (DI)
	VMOVUPS   Z1, 64(DI)
	ADDQ      $128, DI
	ADDQ      $2, BX
	CMPQ      BX, R10
	JLT       mtap
	ADDQ      R12, SI
	DECQ      R11
	JNZ       mchan
	VZEROUPPER
	RET

// func im2colRunsAVX512(panel, x *float32, offs *int, masks *uint32, entries, runs, cg, hw int)
//
// Fills a B micro-panel of cg·taps rows of 32 lanes for a panel table of
// stride-1 panels of up to maxTableRuns runs (panelTable.fill), entries =
// taps·runs: row ch·taps+t is, for each run s < runs, lane l = x[ch·hw +
// offs[t·runs+s] + l] where bit l of masks[t·runs+s] is set, 0 where no bit
// is set. Masked-off lanes are not read, so offs may point before x for
// padding. It writes what im2colMaskedAVX512 writes for the same runs
// (TestConvPanelTables compares the outputs with the untabled path).
TEXT ·im2colRunsAVX512(SB), NOSPLIT, $0-64
	MOVQ panel+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ offs+16(FP), R8
	MOVQ masks+24(FP), R9
	MOVQ entries+32(FP), R10
	MOVQ runs+40(FP), R13
	MOVQ cg+48(FP), R11
	MOVQ hw+56(FP), R12
	SHLQ $2, R12             // channel stride in bytes
	CMPQ R13, $1
	JEQ  r1chan

rchan:
	XORQ BX, BX              // entry

rtap:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	MOVQ   R13, CX           // runs left in this tap

rrun:
	MOVQ      (R8)(BX*8), DX
	MOVL      (R9)(BX*4), AX
	KMOVW     AX, K1
	SHRL      $16, AX
	KMOVW     AX, K2
	VMOVUPS   (SI)(DX*4), K1, Z0
	VMOVUPS   64(SI)(DX*4), K2, Z1
	INCQ      BX
	DECQ      CX
	JNZ       rrun
	VMOVUPS   Z0, (DI)
	VMOVUPS   Z1, 64(DI)
	ADDQ      $128, DI
	CMPQ      BX, R10
	JLT       rtap
	ADDQ      R12, SI
	DECQ      R11
	JNZ       rchan
	VZEROUPPER
	RET

	// One run per tap (a whole output row): zero-masking loads, no merge.
r1chan:
	XORQ BX, BX              // entry = tap

r1tap:
	MOVQ      (R8)(BX*8), DX
	MOVL      (R9)(BX*4), AX
	KMOVW     AX, K1
	SHRL      $16, AX
	KMOVW     AX, K2
	VMOVUPS.Z (SI)(DX*4), K1, Z0
	VMOVUPS.Z 64(SI)(DX*4), K2, Z1
	VMOVUPS   Z0, (DI)
	VMOVUPS   Z1, 64(DI)
	ADDQ      $128, DI
	INCQ      BX
	CMPQ      BX, R10
	JLT       r1tap
	ADDQ      R12, SI
	DECQ      R11
	JNZ       r1chan
	VZEROUPPER
	RET
