//go:build amd64 && !noasm

#include "textflag.h"
#include "leftpack_amd64.h"

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

// func transpose8Strip(dst *float32, dstStride int, src *float32, srcStride int, n int)
//
// Transposes n 8×8 blocks along a strip of 8 rows: for each block b < n,
// dst[(8b+i)·dstStride+j] = src[j·srcStride+8b+i] (strides in floats).
// Keep in sync with the scalar loop of nchwToNHWC (TestTranspose compares
// them).
TEXT ·transpose8Strip(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), DX
	SHLQ $2, DX
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), CX
	SHLQ $2, CX
	MOVQ n+32(FP), R9
	LEAQ (CX)(CX*2), R10         // 3 rows
	LEAQ (SI)(CX*4), R11         // row 4
	TESTQ R9, R9
	JLE  tdone

tblk:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(CX*1), Y1
	VMOVUPS (SI)(CX*2), Y2
	VMOVUPS (SI)(R10*1), Y3
	VMOVUPS (R11), Y4
	VMOVUPS (R11)(CX*1), Y5
	VMOVUPS (R11)(CX*2), Y6
	VMOVUPS (R11)(R10*1), Y7
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
	ADDQ    DX, DI
	ADDQ    $32, SI
	ADDQ    $32, R11
	DECQ    R9
	JNZ     tblk

tdone:
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

// The steps shared by ifBurst8 and ifBurstEmit8, on 8 neurons at DI (v),
// SI (x), DX+4·CX (θ), BX (cnt), with Y4 = 0 and Y13 = int32 1.
//
// BURST_CHARGE: Y0 = u = v + x, Y1 = θ, Y2 = k ∈ {0, 1, 2} (int32).
#define BURST_CHARGE \
	VMOVUPS (DI), Y0; \
	VADDPS  (SI), Y0, Y0; \
	VMOVUPS (DX)(CX*4), Y1; \
	VADDPS  Y1, Y1, Y6; \
	VCMPPS  $0x1d, Y1, Y0, Y2; \
	VCMPPS  $0x1d, Y6, Y0, Y3; \
	VPADDD  Y3, Y2, Y2; \
	VPSUBD  Y2, Y4, Y2

// BURST_SIGNED: the take-back spikes of signed neurons: k −= 1 where u < 0
// and cnt > 0, and once more where −u > θ and cnt > 1; cnt += k, BX
// advances.
#define BURST_SIGNED \
	VMOVDQU  (BX), Y5; \
	VCMPPS   $0x11, Y4, Y0, Y3; \
	VPCMPGTD Y4, Y5, Y7; \
	VPAND    Y7, Y3, Y3; \
	VSUBPS   Y0, Y4, Y8; \
	VCMPPS   $0x1e, Y1, Y8, Y8; \
	VPCMPGTD Y13, Y5, Y7; \
	VPAND    Y7, Y8, Y8; \
	VPAND    Y3, Y8, Y8; \
	VPADDD   Y3, Y2, Y2; \
	VPADDD   Y8, Y2, Y2; \
	VPADDD   Y2, Y5, Y5; \
	VMOVDQU  Y5, (BX); \
	ADDQ     $32, BX

// BURST_RESET: Y9 = k·θ (exact for |k| ≤ 2), v = u − k·θ.
#define BURST_RESET \
	VCVTDQ2PS Y2, Y9; \
	VMULPS    Y1, Y9, Y9; \
	VSUBPS    Y9, Y0, Y0; \
	VMOVUPS   Y0, (DI)


// func ifBurst8(v, x, theta *float32, cnt, ks *int32, c, p int, mask *uint8)
//
// One step of p·c IF neurons (NHWC, c a multiple of 8) that fire up to two
// spikes per step (reset by subtraction), signed when cnt is not nil, 8
// channels at a time: u = v + x and
//
//	k = 2 if u ≥ 2θ, 1 if u ≥ θ,
//	    −min(2, cnt) if u < −θ and cnt > 0, −1 if u < 0 and cnt > 0, else 0
//	v = u − k·θ (k·θ is exact); cnt += k; ks = k
//
// and bit j of mask byte i is k ≠ 0 for neuron 8i+j. This is IF.fire for
// M = 2 without a division (see fire). Keep in sync with ifBurstGo in
// simif.go (TestIFBurstKernels compares them).
TEXT ·ifBurst8(SB), NOSPLIT, $0-64
	MOVQ v+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ theta+16(FP), DX
	MOVQ cnt+24(FP), BX
	MOVQ ks+32(FP), R11
	MOVQ c+40(FP), R8
	MOVQ p+48(FP), R9
	MOVQ mask+56(FP), R10
	TESTQ R9, R9
	JLE bdone
	VXORPS   Y4, Y4, Y4          // 0
	VPCMPEQD Y13, Y13, Y13
	VPSRLD   $31, Y13, Y13       // int32 1

bpos:
	XORQ CX, CX

bblk:
	BURST_CHARGE
	TESTQ   BX, BX
	JZ      bfire
	BURST_SIGNED

bfire:
	BURST_RESET
	VMOVDQU   Y2, (R11)
	VPCMPEQD  Y4, Y2, Y3         // k = 0
	VMOVMSKPS Y3, AX
	NOTL      AX
	MOVB      AL, (R10)
	ADDQ      $32, DI
	ADDQ      $32, SI
	ADDQ      $32, R11
	INCQ      R10
	ADDQ      $8, CX
	CMPQ      CX, R8
	JLT       bblk
	DECQ      R9
	JNZ       bpos

bdone:
	VZEROUPPER
	RET

// func ifBurstEmit8(v, x, theta *float32, cnt *int32, c, p int, ch *int32, val *float32, start, pos *int32, lut *[256][8]int32) (n int)
//
// ifBurst8 fused with the event output: for each block of 8 channels the
// firing neurons' channels and values k·θ are left-packed (lut[mask] lists
// the set bits of mask) and stored at ch[n:], val[n:] (8 at a time, so
// both need 7 elements of slack), n advancing by popcount(mask); after
// position q, start[q+1] = n and pos[q] = Σ|k| over its neurons. It
// returns n. Keep in sync with ifBurstEmitGo in simif.go.
TEXT ·ifBurstEmit8(SB), NOSPLIT, $0-96
	MOVQ v+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ theta+16(FP), DX
	MOVQ cnt+24(FP), BX
	MOVQ c+32(FP), R8
	MOVQ ch+48(FP), R10
	MOVQ val+56(FP), R11
	MOVQ start+64(FP), R12
	MOVQ pos+72(FP), R13
	MOVQ lut+80(FP), AX
	VMOVDQU  8160(AX), Y12       // lut[255] = 0, 1, …, 7
	VXORPS   Y4, Y4, Y4          // 0
	VPCMPEQD Y13, Y13, Y13
	VPSRLD   $31, Y13, Y13       // int32 1
	CMPQ     p+40(FP), $0
	JLE      edone

epos:
	XORQ  CX, CX
	VPXOR Y14, Y14, Y14          // Σ|k| of this position, per lane

eblk:
	BURST_CHARGE
	TESTQ   BX, BX
	JZ      efire
	BURST_SIGNED

efire:
	BURST_RESET
	VPABSD    Y2, Y3
	VPADDD    Y3, Y14, Y14
	VPCMPEQD  Y4, Y2, Y3         // k = 0
	VMOVMSKPS Y3, AX
	XORL      $0xff, AX          // k ≠ 0
	JZ        enext
	LEFT_PACK(Y9, lut+80(FP), R9) // the firing lanes' values k·θ and channels

enext:
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $8, CX
	CMPQ CX, R8
	JLT  eblk
	MOVQ R10, R9
	SUBQ ch+48(FP), R9
	SHRQ $2, R9
	MOVL R9, 4(R12)              // start[q+1] = n
	ADDQ $4, R12
	VEXTRACTI128 $1, Y14, X8
	VPADDD       X8, X14, X14
	VPSHUFD      $0x4e, X14, X8
	VPADDD       X8, X14, X14
	VPSHUFD      $0xb1, X14, X8
	VPADDD       X8, X14, X14
	VMOVD        X14, R9
	MOVL         R9, (R13)       // pos[q]
	ADDQ         $4, R13
	DECQ         p+40(FP)
	JNZ          epos

edone:
	SUBQ ch+48(FP), R10
	SHRQ $2, R10
	MOVQ R10, n+88(FP)
	VZEROUPPER
	RET

// iota16 is the int32 lane index 0, 1, …, 15 (the channel offsets of a
// block of ifBurstEmitM16).
DATA iota16<>+0(SB)/4, $0
DATA iota16<>+4(SB)/4, $1
DATA iota16<>+8(SB)/4, $2
DATA iota16<>+12(SB)/4, $3
DATA iota16<>+16(SB)/4, $4
DATA iota16<>+20(SB)/4, $5
DATA iota16<>+24(SB)/4, $6
DATA iota16<>+28(SB)/4, $7
DATA iota16<>+32(SB)/4, $8
DATA iota16<>+36(SB)/4, $9
DATA iota16<>+40(SB)/4, $10
DATA iota16<>+44(SB)/4, $11
DATA iota16<>+48(SB)/4, $12
DATA iota16<>+52(SB)/4, $13
DATA iota16<>+56(SB)/4, $14
DATA iota16<>+60(SB)/4, $15
GLOBL iota16<>(SB), RODATA|NOPTR, $64

// func ifBurstEmitM16(v, x, theta *float32, cnt *int32, c, p int, ch *int32, val *float32, start, pos *int32, m int) (n int)
//
// ifBurstEmit8 for any burst size M = m ≥ 1 (AVX-512F, BMI2, POPCNT), 16
// channels at a time (the last block of a position may be 8): u = v + x,
// q = u/θ (rounded once, as IF.fire divides) and
//
//	k = min(⌊q⌋, M)                           if u ≥ θ
//	  = −min(max(min(−⌊q⌋, M), 1), cnt)       if cnt ≠ nil, u < 0, cnt > 0
//	  = 0                                     otherwise
//
// which is IF.fire's k: its truncation of q ≥ 1 is ⌊q⌋, and its rounding
// up of −u/θ = −q is −⌊q⌋ (both clipped at M before the conversion, so
// ±Inf and huge quotients give M as fire's q ≥ M test does). Then
// val = float32(k)·θ (rounded), v = u − val (not fused, as Go computes
// u − float32(k)·θ), cnt += k, and the firing lanes' channels and values
// are compressed and stored with a lane mask of popcount elements (no
// slack needed). After position q, start[q+1] = n and pos[q] = Σ|k|. It
// returns n. Keep in sync with ifBurstEmitMGo in simif.go
// (TestIFBurstEmitM compares them with IF.step).
TEXT ·ifBurstEmitM16(SB), NOSPLIT, $0-96
	MOVQ v+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ theta+16(FP), DX
	MOVQ cnt+24(FP), BX
	MOVQ c+32(FP), R8
	MOVQ p+40(FP), R9
	MOVQ ch+48(FP), R10
	MOVQ val+56(FP), R11
	MOVQ start+64(FP), R12
	MOVQ pos+72(FP), R13
	MOVQ m+80(FP), AX
	VPBROADCASTD AX, Z20
	VCVTDQ2PS    Z20, Z20        // M
	MOVL         $0x3f800000, AX
	VPBROADCASTD AX, Z21         // 1.0
	VMOVDQU32    iota16<>(SB), Z22
	VPXORD       Z23, Z23, Z23   // 0
	TESTQ        R9, R9
	JLE          mdone

mpos:
	XORQ   CX, CX
	VPXORD Z14, Z14, Z14         // Σ|k| of this position, per lane
	MOVL   $0xffff, AX
	KMOVW  AX, K1                // the block's lanes

mblk:
	MOVQ  R8, AX
	SUBQ  CX, AX
	CMPQ  AX, $16
	JGE   mfull
	MOVL  $0xff, AX              // the last 8 channels
	KMOVW AX, K1

mfull:
	VMOVUPS.Z   (DI)(CX*4), K1, Z0
	VMOVUPS.Z   (SI)(CX*4), K1, Z1
	VADDPS      Z1, Z0, Z0       // u
	VMOVUPS.Z   (DX)(CX*4), K1, Z1 // θ
	VDIVPS      Z1, Z0, Z2       // q = u/θ
	VRNDSCALEPS $0x09, Z2, Z3    // ⌊q⌋
	VCMPPS      $0x1d, Z1, Z0, K1, K2 // u ≥ θ
	VMINPS      Z20, Z3, Z4
	VCVTTPS2DQ  Z4, Z4
	VMOVDQA32.Z Z4, K2, Z8       // k of the positive side, else 0
	TESTQ       BX, BX
	JZ          mreset
	VMOVDQU32.Z (BX)(CX*4), K1, Z6 // cnt
	VCMPPS      $0x11, Z23, Z0, K1, K3 // u < 0
	VPCMPGTD    Z23, Z6, K3, K3  // and cnt > 0
	VSUBPS      Z3, Z23, Z5      // −⌊q⌋ = ⌈−u/θ⌉
	VMINPS      Z20, Z5, Z5
	VMAXPS      Z21, Z5, Z5
	VCVTTPS2DQ  Z5, Z5
	VPMINSD     Z6, Z5, Z5
	VPSUBD      Z5, Z23, K3, Z8  // k = −min(…, cnt)
	VPADDD      Z8, Z6, Z6
	VMOVDQU32   Z6, K1, (BX)(CX*4)
	KORW        K3, K2, K2

mreset:
	VCVTDQ2PS Z8, Z9
	VMULPS    Z1, Z9, Z9         // k·θ
	VSUBPS    Z9, Z0, Z0         // v = u − k·θ
	VMOVUPS   Z0, K1, (DI)(CX*4)
	VPABSD    Z8, Z8
	VPADDD    Z8, Z14, Z14
	KORTESTW  K2, K2
	JZ        mnext
	VCOMPRESSPS  Z9, K2, Z10     // the firing lanes' values
	VPBROADCASTD CX, Z11
	VPADDD       Z22, Z11, Z11
	VPCOMPRESSD  Z11, K2, Z11    // and channels
	KMOVW        K2, AX
	POPCNTL      AX, AX
	MOVL         $0xffff, R14
	BZHIL        AX, R14, R14
	KMOVW        R14, K3         // the first popcount lanes
	VMOVUPS      Z10, K3, (R11)
	VMOVDQU32    Z11, K3, (R10)
	LEAQ         (R10)(AX*4), R10
	LEAQ         (R11)(AX*4), R11

mnext:
	ADDQ $16, CX
	CMPQ CX, R8
	JLT  mblk
	LEAQ (DI)(R8*4), DI
	LEAQ (SI)(R8*4), SI
	TESTQ BX, BX
	JZ   mend
	LEAQ (BX)(R8*4), BX

mend:
	MOVQ R10, AX
	SUBQ ch+48(FP), AX
	SHRQ $2, AX
	MOVL AX, 4(R12)              // start[q+1] = n
	ADDQ $4, R12
	VEXTRACTI64X4 $1, Z14, Y8
	VPADDD        Y8, Y14, Y8
	VEXTRACTI128  $1, Y8, X9
	VPADDD        X9, X8, X8
	VPSHUFD       $0x4e, X8, X9
	VPADDD        X9, X8, X8
	VPSHUFD       $0xb1, X8, X9
	VPADDD        X9, X8, X8
	VMOVD         X8, AX
	MOVL          AX, (R13)      // pos[q]
	ADDQ          $4, R13
	DECQ          R9
	JNZ           mpos

mdone:
	SUBQ ch+48(FP), R10
	SHRQ $2, R10
	MOVQ R10, n+88(FP)
	VZEROUPPER
	RET
