//go:build amd64 && !noasm

#include "textflag.h"

// Event kernels of the Simulator: for every tap t of taps (ntaps pairs of
// float offsets {acc, w}) and every event e (channel ch[e], value val[e]),
// in that order,
//
//	acc[t.acc : t.acc+W] += val[e] · w[t.w + ch[e]·ld : ... + W]   (one FMA per element)
//
// for a fixed width W of 64, 32, 16 or 8 floats held in YMM registers while
// the events of one tap are summed. Keep in sync with fmaRowsGo in
// event.go (TestFMARowsKernels compares them).

// func fmaRows64(acc, w *float32, ld int, taps *tapRef, ntaps int, ch *int32, val *float32, nev int)
TEXT ·fmaRows64(SB), NOSPLIT, $0-64
	MOVQ acc+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ ld+16(FP), DX
	SHLQ $2, DX
	MOVQ taps+24(FP), R8
	MOVQ ntaps+32(FP), R9
	MOVQ ch+40(FP), R10
	MOVQ val+48(FP), R11
	MOVQ nev+56(FP), R12
	TESTQ R9, R9
	JLE fmaRows64_done

fmaRows64_tap:
	MOVQ 0(R8), AX
	LEAQ (DI)(AX*4), AX
	MOVQ 8(R8), BX
	LEAQ (SI)(BX*4), BX
	VMOVUPS 0(AX), Y0
	VMOVUPS 32(AX), Y1
	VMOVUPS 64(AX), Y2
	VMOVUPS 96(AX), Y3
	VMOVUPS 128(AX), Y4
	VMOVUPS 160(AX), Y5
	VMOVUPS 192(AX), Y6
	VMOVUPS 224(AX), Y7
	XORQ CX, CX
	CMPQ CX, R12
	JGE fmaRows64_store

fmaRows64_ev:
	MOVLQSX (R10)(CX*4), R13
	IMULQ DX, R13
	ADDQ BX, R13
	VBROADCASTSS (R11)(CX*4), Y15
	VFMADD231PS 0(R13), Y15, Y0
	VFMADD231PS 32(R13), Y15, Y1
	VFMADD231PS 64(R13), Y15, Y2
	VFMADD231PS 96(R13), Y15, Y3
	VFMADD231PS 128(R13), Y15, Y4
	VFMADD231PS 160(R13), Y15, Y5
	VFMADD231PS 192(R13), Y15, Y6
	VFMADD231PS 224(R13), Y15, Y7
	INCQ CX
	CMPQ CX, R12
	JLT fmaRows64_ev

fmaRows64_store:
	VMOVUPS Y0, 0(AX)
	VMOVUPS Y1, 32(AX)
	VMOVUPS Y2, 64(AX)
	VMOVUPS Y3, 96(AX)
	VMOVUPS Y4, 128(AX)
	VMOVUPS Y5, 160(AX)
	VMOVUPS Y6, 192(AX)
	VMOVUPS Y7, 224(AX)
	ADDQ $16, R8
	DECQ R9
	JNZ fmaRows64_tap

fmaRows64_done:
	VZEROUPPER
	RET

// func fmaRows32(acc, w *float32, ld int, taps *tapRef, ntaps int, ch *int32, val *float32, nev int)
TEXT ·fmaRows32(SB), NOSPLIT, $0-64
	MOVQ acc+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ ld+16(FP), DX
	SHLQ $2, DX
	MOVQ taps+24(FP), R8
	MOVQ ntaps+32(FP), R9
	MOVQ ch+40(FP), R10
	MOVQ val+48(FP), R11
	MOVQ nev+56(FP), R12
	TESTQ R9, R9
	JLE fmaRows32_done

fmaRows32_tap:
	MOVQ 0(R8), AX
	LEAQ (DI)(AX*4), AX
	MOVQ 8(R8), BX
	LEAQ (SI)(BX*4), BX
	VMOVUPS 0(AX), Y0
	VMOVUPS 32(AX), Y1
	VMOVUPS 64(AX), Y2
	VMOVUPS 96(AX), Y3
	XORQ CX, CX
	CMPQ CX, R12
	JGE fmaRows32_store

fmaRows32_ev:
	MOVLQSX (R10)(CX*4), R13
	IMULQ DX, R13
	ADDQ BX, R13
	VBROADCASTSS (R11)(CX*4), Y15
	VFMADD231PS 0(R13), Y15, Y0
	VFMADD231PS 32(R13), Y15, Y1
	VFMADD231PS 64(R13), Y15, Y2
	VFMADD231PS 96(R13), Y15, Y3
	INCQ CX
	CMPQ CX, R12
	JLT fmaRows32_ev

fmaRows32_store:
	VMOVUPS Y0, 0(AX)
	VMOVUPS Y1, 32(AX)
	VMOVUPS Y2, 64(AX)
	VMOVUPS Y3, 96(AX)
	ADDQ $16, R8
	DECQ R9
	JNZ fmaRows32_tap

fmaRows32_done:
	VZEROUPPER
	RET

// func fmaRows16(acc, w *float32, ld int, taps *tapRef, ntaps int, ch *int32, val *float32, nev int)
TEXT ·fmaRows16(SB), NOSPLIT, $0-64
	MOVQ acc+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ ld+16(FP), DX
	SHLQ $2, DX
	MOVQ taps+24(FP), R8
	MOVQ ntaps+32(FP), R9
	MOVQ ch+40(FP), R10
	MOVQ val+48(FP), R11
	MOVQ nev+56(FP), R12
	TESTQ R9, R9
	JLE fmaRows16_done

fmaRows16_tap:
	MOVQ 0(R8), AX
	LEAQ (DI)(AX*4), AX
	MOVQ 8(R8), BX
	LEAQ (SI)(BX*4), BX
	VMOVUPS 0(AX), Y0
	VMOVUPS 32(AX), Y1
	XORQ CX, CX
	CMPQ CX, R12
	JGE fmaRows16_store

fmaRows16_ev:
	MOVLQSX (R10)(CX*4), R13
	IMULQ DX, R13
	ADDQ BX, R13
	VBROADCASTSS (R11)(CX*4), Y15
	VFMADD231PS 0(R13), Y15, Y0
	VFMADD231PS 32(R13), Y15, Y1
	INCQ CX
	CMPQ CX, R12
	JLT fmaRows16_ev

fmaRows16_store:
	VMOVUPS Y0, 0(AX)
	VMOVUPS Y1, 32(AX)
	ADDQ $16, R8
	DECQ R9
	JNZ fmaRows16_tap

fmaRows16_done:
	VZEROUPPER
	RET

// func fmaRows8(acc, w *float32, ld int, taps *tapRef, ntaps int, ch *int32, val *float32, nev int)
TEXT ·fmaRows8(SB), NOSPLIT, $0-64
	MOVQ acc+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ ld+16(FP), DX
	SHLQ $2, DX
	MOVQ taps+24(FP), R8
	MOVQ ntaps+32(FP), R9
	MOVQ ch+40(FP), R10
	MOVQ val+48(FP), R11
	MOVQ nev+56(FP), R12
	TESTQ R9, R9
	JLE fmaRows8_done

fmaRows8_tap:
	MOVQ 0(R8), AX
	LEAQ (DI)(AX*4), AX
	MOVQ 8(R8), BX
	LEAQ (SI)(BX*4), BX
	VMOVUPS 0(AX), Y0
	XORQ CX, CX
	CMPQ CX, R12
	JGE fmaRows8_store

fmaRows8_ev:
	MOVLQSX (R10)(CX*4), R13
	IMULQ DX, R13
	ADDQ BX, R13
	VBROADCASTSS (R11)(CX*4), Y15
	VFMADD231PS 0(R13), Y15, Y0
	INCQ CX
	CMPQ CX, R12
	JLT fmaRows8_ev

fmaRows8_store:
	VMOVUPS Y0, 0(AX)
	ADDQ $16, R8
	DECQ R9
	JNZ fmaRows8_tap

fmaRows8_done:
	VZEROUPPER
	RET
