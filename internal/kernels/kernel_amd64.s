//go:build amd64 && !noasm

#include "textflag.h"

// Micro-kernels of Sgemm. Keep in sync with kernel6x32Go in kernel.go
// (TestMicroKernels compares them).
//
// kernel6x16AVX2: a 6×16 tile of C held in Y0..Y11 (two YMM registers per
// row); microKernel calls it twice for the two halves of a 6×32 tile.
//
//	acc[r][j] = Σ_{p<kc} a[p*6+r] · b[p*16+j]        (p ascending, one FMA each)
//	load == 0: C[r][j] = alpha·acc[r][j]
//	load != 0: C[r][j] = alpha·acc[r][j] + beta·C[r][j]   (one FMA on beta·C)
//
// a is a packed A micro-panel (kc × 6), b the first of kc rows of 16 floats
// that start ldb floats apart (a half of a kc × 32 B micro-panel), C row r
// starts at c + r*ldc floats.

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

// func kernel6x16AVX2(kc int, a, b, c *float32, ldc, ldb int, alpha, beta float32, load int)
TEXT ·kernel6x16AVX2(SB), NOSPLIT, $0-64
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), R8
	MOVQ ldc+32(FP), DX
	SHLQ $2, DX              // row stride of C in bytes
	MOVQ ldb+40(FP), R9
	SHLQ $2, R9              // row stride of B in bytes

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
	PREFETCHT0 1024(BX)
	ADDQ $24, AX
	ADDQ R9, BX
	DECQ CX
	JNZ  loop

done:
	VBROADCASTSS alpha+48(FP), Y14
	MOVQ         load+56(FP), CX
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
	VBROADCASTSS beta+52(FP), Y15
	UPDATE(Y0, Y1)
	UPDATE(Y2, Y3)
	UPDATE(Y4, Y5)
	UPDATE(Y6, Y7)
	UPDATE(Y8, Y9)
	UPDATE(Y10, Y11)
	VZEROUPPER
	RET

// kernel6x32AVX512: a 6×32 tile of C held in Z0..Z11 (two ZMM registers per
// row), same sums as kernel6x16AVX2 on both halves:
//
//	acc[r][j] = Σ_{p<kc} a[p*6+r] · b[p*32+j]        (p ascending, one FMA each)
//	load == 0: C[r][j] = alpha·acc[r][j]
//	load != 0: C[r][j] = alpha·acc[r][j] + beta·C[r][j]   (one FMA on beta·C)
//
// Per k step: two 64-byte loads of B, six broadcasts of A, twelve FMAs.

// ZROW multiplies the B row (Z12, Z13) by the broadcast A value at off(AX)
// and accumulates into the two registers of one C row.
#define ZROW(off, acc0, acc1) \
	VBROADCASTSS off(AX), Z14; \
	VFMADD231PS  Z12, Z14, acc0; \
	VFMADD231PS  Z13, Z14, acc1

// ZSTORE writes alpha·(acc0,acc1) to the C row at R8 and advances R8.
#define ZSTORE(acc0, acc1) \
	VMULPS  acc0, Z14, acc0; \
	VMULPS  acc1, Z14, acc1; \
	VMOVUPS acc0, (R8); \
	VMOVUPS acc1, 64(R8); \
	ADDQ    DX, R8

// ZUPDATE writes alpha·(acc0,acc1) + beta·C to the C row at R8 and advances R8.
#define ZUPDATE(acc0, acc1) \
	VMULPS      (R8), Z15, Z12; \
	VMULPS      64(R8), Z15, Z13; \
	VFMADD231PS acc0, Z14, Z12; \
	VFMADD231PS acc1, Z14, Z13; \
	VMOVUPS     Z12, (R8); \
	VMOVUPS     Z13, 64(R8); \
	ADDQ        DX, R8

// func kernel6x32AVX512(kc int, a, b, c *float32, ldc int, alpha, beta float32, load int)
TEXT ·kernel6x32AVX512(SB), NOSPLIT, $0-56
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), R8
	MOVQ ldc+32(FP), DX
	SHLQ $2, DX              // row stride of C in bytes

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

	TESTQ CX, CX
	JEQ   zdone

zloop:
	VMOVUPS (BX), Z12
	VMOVUPS 64(BX), Z13
	ZROW(0, Z0, Z1)
	ZROW(4, Z2, Z3)
	ZROW(8, Z4, Z5)
	ZROW(12, Z6, Z7)
	ZROW(16, Z8, Z9)
	ZROW(20, Z10, Z11)
	PREFETCHT0 1024(BX)
	ADDQ $24, AX
	ADDQ $128, BX
	DECQ CX
	JNZ  zloop

zdone:
	VBROADCASTSS alpha+40(FP), Z14
	MOVQ         load+48(FP), CX
	TESTQ        CX, CX
	JNE          zupdate

	ZSTORE(Z0, Z1)
	ZSTORE(Z2, Z3)
	ZSTORE(Z4, Z5)
	ZSTORE(Z6, Z7)
	ZSTORE(Z8, Z9)
	ZSTORE(Z10, Z11)
	VZEROUPPER
	RET

zupdate:
	VBROADCASTSS beta+44(FP), Z15
	ZUPDATE(Z0, Z1)
	ZUPDATE(Z2, Z3)
	ZUPDATE(Z4, Z5)
	ZUPDATE(Z6, Z7)
	ZUPDATE(Z8, Z9)
	ZUPDATE(Z10, Z11)
	VZEROUPPER
	RET

// kernelRowsAVX512: the first rows (1 ≤ rows < 6) rows of kernel6x32AVX512's
// tile, for the last, partial row tile of C (M not a multiple of 6): the
// same instructions per C element (FMAs over p ascending, then ZSTORE or
// ZUPDATE), so each written element is bit-identical to kernel6x32AVX512's,
// but only ⌈rows/2⌉·2 rows are computed and only rows rows are written.
// a is still a 6-row packed A micro-panel (kc × 6).

// ZLOOP is the k loop of kernelRowsAVX512 over body (the ZROWs of the
// computed rows), jumping to done when kc is exhausted.
#define ZLOOP(lbl, body, done) \
	TESTQ CX, CX; \
	JEQ   done; \
lbl: \
	VMOVUPS    (BX), Z12; \
	VMOVUPS    64(BX), Z13; \
	body; \
	PREFETCHT0 1024(BX); \
	ADDQ       $24, AX; \
	ADDQ       $128, BX; \
	DECQ       CX; \
	JNZ        lbl; \
	JMP        done

// func kernelRowsAVX512(kc int, a, b, c *float32, ldc int, alpha, beta float32, load, rows int)
TEXT ·kernelRowsAVX512(SB), NOSPLIT, $0-64
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), R8
	MOVQ ldc+32(FP), DX
	SHLQ $2, DX              // row stride of C in bytes
	MOVQ rows+56(FP), R9

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

	CMPQ R9, $2
	JGT  rows4
	ZLOOP(rloop2, ZROW(0, Z0, Z1); ZROW(4, Z2, Z3), rdone)

rows4:
	CMPQ R9, $4
	JGT  rows6
	ZLOOP(rloop4, ZROW(0, Z0, Z1); ZROW(4, Z2, Z3); ZROW(8, Z4, Z5); ZROW(12, Z6, Z7), rdone)

rows6:
	ZLOOP(rloop6, ZROW(0, Z0, Z1); ZROW(4, Z2, Z3); ZROW(8, Z4, Z5); ZROW(12, Z6, Z7); ZROW(16, Z8, Z9), rdone)

rdone:
	VBROADCASTSS alpha+40(FP), Z14
	MOVQ         load+48(FP), CX
	TESTQ        CX, CX
	JNE          rupdate

	ZSTORE(Z0, Z1)
	DECQ R9
	JEQ  rret
	ZSTORE(Z2, Z3)
	DECQ R9
	JEQ  rret
	ZSTORE(Z4, Z5)
	DECQ R9
	JEQ  rret
	ZSTORE(Z6, Z7)
	DECQ R9
	JEQ  rret
	ZSTORE(Z8, Z9)
	JMP  rret

rupdate:
	VBROADCASTSS beta+44(FP), Z15
	ZUPDATE(Z0, Z1)
	DECQ R9
	JEQ  rret
	ZUPDATE(Z2, Z3)
	DECQ R9
	JEQ  rret
	ZUPDATE(Z4, Z5)
	DECQ R9
	JEQ  rret
	ZUPDATE(Z6, Z7)
	DECQ R9
	JEQ  rret
	ZUPDATE(Z8, Z9)

rret:
	VZEROUPPER
	RET
