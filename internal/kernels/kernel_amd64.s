//go:build amd64 && !noasm

#include "textflag.h"

// Micro-kernel of Sgemm: a 6×16 tile of C held in Y0..Y11 (two YMM
// registers per row). Keep in sync with kernel6x16Go in kernel.go.
//
//	acc[r][j] = Σ_{p<kc} a[p*6+r] · b[p*16+j]        (p ascending, one FMA each)
//	load == 0: C[r][j] = alpha·acc[r][j]
//	load != 0: C[r][j] = alpha·acc[r][j] + beta·C[r][j]   (one FMA on beta·C)
//
// a is a packed A micro-panel (kc × 6), b a packed B micro-panel (kc × 16),
// C row r starts at c + r*ldc floats.

// ROW multiplies the B row (Y12, Y13) by the broadcast A value at off(AX)
// and accumulates into the two registers of one C row.
#define ROW(off, acc0, acc1) \
	VBROADCASTSS off(AX), Y14; \
	VFMADD231PS  Y12, Y14, acc0; \
	VFMADD231PS  Y13, Y14, acc1

// STORE writes alpha·(acc0,acc1) to the C row at R8 and advances R8.
#define STORE(acc0, acc1) \
	VMULPS  acc0, Y14, acc0; \
	VMULPS  acc1, Y14, acc1; \
	VMOVUPS acc0, (R8); \
	VMOVUPS acc1, 32(R8); \
	ADDQ    DX, R8

// UPDATE writes alpha·(acc0,acc1) + beta·C to the C row at R8 and advances R8.
#define UPDATE(acc0, acc1) \
	VMULPS      (R8), Y15, Y12; \
	VMULPS      32(R8), Y15, Y13; \
	VFMADD231PS acc0, Y14, Y12; \
	VFMADD231PS acc1, Y14, Y13; \
	VMOVUPS     Y12, (R8); \
	VMOVUPS     Y13, 32(R8); \
	ADDQ        DX, R8

// func kernel6x16AVX2(kc int, a, b, c *float32, ldc int, alpha, beta float32, load int)
TEXT ·kernel6x16AVX2(SB), NOSPLIT, $0-56
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), R8
	MOVQ ldc+32(FP), DX
	SHLQ $2, DX              // row stride of C in bytes

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	TESTQ CX, CX
	JEQ   done

loop:
	// One k step: B row of 16 floats, 6 broadcasts of A, 12 FMAs.
	VMOVUPS (BX), Y12
	VMOVUPS 32(BX), Y13
	ROW(0, Y0, Y1)
	ROW(4, Y2, Y3)
	ROW(8, Y4, Y5)
	ROW(12, Y6, Y7)
	ROW(16, Y8, Y9)
	ROW(20, Y10, Y11)
	PREFETCHT0 512(BX)
	ADDQ $24, AX
	ADDQ $64, BX
	DECQ CX
	JNZ  loop

done:
	VBROADCASTSS alpha+40(FP), Y14
	MOVQ         load+48(FP), CX
	TESTQ        CX, CX
	JNE          update

	STORE(Y0, Y1)
	STORE(Y2, Y3)
	STORE(Y4, Y5)
	STORE(Y6, Y7)
	STORE(Y8, Y9)
	STORE(Y10, Y11)
	VZEROUPPER
	RET

update:
	VBROADCASTSS beta+44(FP), Y15
	UPDATE(Y0, Y1)
	UPDATE(Y2, Y3)
	UPDATE(Y4, Y5)
	UPDATE(Y6, Y7)
	UPDATE(Y8, Y9)
	UPDATE(Y10, Y11)
	VZEROUPPER
	RET
