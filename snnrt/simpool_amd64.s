//go:build amd64 && !noasm

#include "textflag.h"
#include "leftpack_amd64.h"

// func emitNonzero8(acc, div *float32, c, p int, ch *int32, val *float32, start *int32, lut *packLUT) (n int)
//
// The output half of evPool.step, 8 channels at a time: for p positions
// of c channels (c%8 == 0) of the pooled sums acc ([p][c]), the non-zero
// sums divided by div[q] are left-packed (lut[mask] lists the set bits of
// mask) and stored with their channels at ch[n:], val[n:] (8 at a time,
// so both need 7 elements of slack), n advancing by popcount(mask); after
// position q, start[q+1] = n. It returns n. Keep in sync with
// emitNonzeroGo in simpool.go (TestEmitNonzero compares them).
TEXT ·emitNonzero8(SB), NOSPLIT, $0-72
	MOVQ acc+0(FP), DI
	MOVQ div+8(FP), DX
	MOVQ c+16(FP), R8
	MOVQ p+24(FP), R9
	MOVQ ch+32(FP), R10
	MOVQ val+40(FP), R11
	MOVQ start+48(FP), R12
	MOVQ lut+56(FP), BX
	MOVQ R10, R13                // ch, to count n
	VMOVDQU 8160(BX), Y12        // lut[255] = 0, 1, …, 7
	VXORPS  Y4, Y4, Y4           // 0
	TESTQ   R9, R9
	JLE     zdone

zpos:
	VBROADCASTSS (DX), Y1        // divisor of this position
	XORQ CX, CX

zblk:
	VMOVUPS   (DI), Y0
	VCMPPS    $0x04, Y4, Y0, Y3  // sum ≠ 0
	VMOVMSKPS Y3, AX
	TESTL     AX, AX
	JZ        znext
	VDIVPS    Y1, Y0, Y0
	LEFT_PACK(Y0, BX, R14)       // the non-zero lanes' values and channels

znext:
	ADDQ $32, DI
	ADDQ $8, CX
	CMPQ CX, R8
	JLT  zblk
	MOVQ R10, AX
	SUBQ R13, AX
	SHRQ $2, AX
	MOVL AX, 4(R12)              // start[q+1] = n
	ADDQ $4, R12
	ADDQ $4, DX
	DECQ R9
	JNZ  zpos

zdone:
	MOVQ R10, AX
	SUBQ R13, AX
	SHRQ $2, AX
	MOVQ AX, n+64(FP)
	VZEROUPPER
	RET
