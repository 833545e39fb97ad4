//go:build amd64 && !noasm

#include "textflag.h"

// func ifSubtract8(v, x, theta *float32, c, p int, mask *uint8)
//
// One step of p·c IF neurons (NHWC, c a multiple of 8, one spike at most,
// reset by subtraction), 8 channels at a time:
//
//	u = v + x; s = u ≥ θ[ch]; v = s ? u − θ[ch] : u
//
// and bit j of mask byte i is s of neuron 8i+j. Keep in sync with
// ifSubtractGo in simif.go (TestIFSubtractKernels compares them).
TEXT ·ifSubtract8(SB), NOSPLIT, $0-48
	MOVQ v+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ theta+16(FP), DX
	MOVQ c+24(FP), R8
	MOVQ p+32(FP), R9
	MOVQ mask+40(FP), R10
	TESTQ R9, R9
	JLE done

pos:
	XORQ CX, CX

blk:
	VMOVUPS (DI), Y0
	VADDPS  (SI), Y0, Y0
	VMOVUPS (DX)(CX*4), Y1
	VCMPPS  $0x1d, Y1, Y0, Y2
	VANDPS  Y1, Y2, Y3
	VSUBPS  Y3, Y0, Y0
	VMOVUPS Y0, (DI)
	VMOVMSKPS Y2, AX
	MOVB    AL, (R10)
	ADDQ    $32, DI
	ADDQ    $32, SI
	INCQ    R10
	ADDQ    $8, CX
	CMPQ    CX, R8
	JLT     blk
	DECQ    R9
	JNZ     pos

done:
	VZEROUPPER
	RET

// func transpose8x8(dst *float32, dstStride int, src *float32, srcStride int)
//
// Transposes an 8×8 block: dst[i·dstStride+j] = src[j·srcStride+i]
// (strides in floats). Keep in sync with the scalar loop of nchwToNHWC
// (TestTranspose compares them).
TEXT ·transpose8x8(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), DX
	SHLQ $2, DX
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), CX
	SHLQ $2, CX
	VMOVUPS (SI), Y0
	ADDQ    CX, SI
	VMOVUPS (SI), Y1
	ADDQ    CX, SI
	VMOVUPS (SI), Y2
	ADDQ    CX, SI
	VMOVUPS (SI), Y3
	ADDQ    CX, SI
	VMOVUPS (SI), Y4
	ADDQ    CX, SI
	VMOVUPS (SI), Y5
	ADDQ    CX, SI
	VMOVUPS (SI), Y6
	ADDQ    CX, SI
	VMOVUPS (SI), Y7
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xee, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xee, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xee, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xee, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	VMOVUPS Y8, (DI)
	ADDQ    DX, DI
	VMOVUPS Y9, (DI)
	ADDQ    DX, DI
	VMOVUPS Y10, (DI)
	ADDQ    DX, DI
	VMOVUPS Y11, (DI)
	ADDQ    DX, DI
	VMOVUPS Y12, (DI)
	ADDQ    DX, DI
	VMOVUPS Y13, (DI)
	ADDQ    DX, DI
	VMOVUPS Y14, (DI)
	ADDQ    DX, DI
	VMOVUPS Y15, (DI)
	VZEROUPPER
	RET

// func ifCharge8(v, x, theta *float32, cnt *int32, c, p int, mask *uint8)
//
// Charge step of the general IF neuron for p positions × c channels
// (c%8 == 0): u = v + x is stored back into v, and bit j of mask[i] is set
// for neuron 8i+j if it may fire: u ≥ θ[ch], or, when cnt is not nil
// (signed neurons), u < 0 and cnt > 0. Keep in sync with ifChargeGo
// (TestIFCharge compares them).
TEXT ·ifCharge8(SB), NOSPLIT, $0-56
	MOVQ v+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ theta+16(FP), DX
	MOVQ cnt+24(FP), BX
	MOVQ c+32(FP), R8
	MOVQ p+40(FP), R9
	MOVQ mask+48(FP), R10
	TESTQ R9, R9
	JLE cdone
	VXORPS Y4, Y4, Y4

cpos:
	XORQ CX, CX

cblk:
	VMOVUPS (DI), Y0
	VADDPS  (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	VMOVUPS (DX)(CX*4), Y1
	VCMPPS  $0x1d, Y1, Y0, Y2   // u >= θ
	TESTQ   BX, BX
	JZ      cstore
	VCMPPS  $0x11, Y4, Y0, Y3   // u < 0
	VMOVDQU (BX), Y5
	VPCMPGTD Y4, Y5, Y5         // cnt > 0
	VANDPS  Y5, Y3, Y3
	VORPS   Y3, Y2, Y2
	ADDQ    $32, BX

cstore:
	VMOVMSKPS Y2, AX
	MOVB    AL, (R10)
	ADDQ    $32, DI
	ADDQ    $32, SI
	INCQ    R10
	ADDQ    $8, CX
	CMPQ    CX, R8
	JLT     cblk
	DECQ    R9
	JNZ     cpos

cdone:
	VZEROUPPER
	RET
