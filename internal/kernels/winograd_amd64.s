//go:build amd64 && !noasm

#include "textflag.h"

// Transforms of Winograd F(2×2, 3×3), 16 tiles per ZMM register. Keep in
// sync with winoInputGo and winoOutputGo in winograd.go
// (TestWinogradTransforms compares them bit for bit).

// winoIlv holds the VPERMI2PS indices that interleave two vectors a, b
// into a0 b0 a1 b1 … (first 16 indices: lanes 0–7, then lanes 8–15).
DATA winoIlv<>+0(SB)/4, $0
DATA winoIlv<>+4(SB)/4, $16
DATA winoIlv<>+8(SB)/4, $1
DATA winoIlv<>+12(SB)/4, $17
DATA winoIlv<>+16(SB)/4, $2
DATA winoIlv<>+20(SB)/4, $18
DATA winoIlv<>+24(SB)/4, $3
DATA winoIlv<>+28(SB)/4, $19
DATA winoIlv<>+32(SB)/4, $4
DATA winoIlv<>+36(SB)/4, $20
DATA winoIlv<>+40(SB)/4, $5
DATA winoIlv<>+44(SB)/4, $21
DATA winoIlv<>+48(SB)/4, $6
DATA winoIlv<>+52(SB)/4, $22
DATA winoIlv<>+56(SB)/4, $7
DATA winoIlv<>+60(SB)/4, $23
DATA winoIlv<>+64(SB)/4, $8
DATA winoIlv<>+68(SB)/4, $24
DATA winoIlv<>+72(SB)/4, $9
DATA winoIlv<>+76(SB)/4, $25
DATA winoIlv<>+80(SB)/4, $10
DATA winoIlv<>+84(SB)/4, $26
DATA winoIlv<>+88(SB)/4, $11
DATA winoIlv<>+92(SB)/4, $27
DATA winoIlv<>+96(SB)/4, $12
DATA winoIlv<>+100(SB)/4, $28
DATA winoIlv<>+104(SB)/4, $13
DATA winoIlv<>+108(SB)/4, $29
DATA winoIlv<>+112(SB)/4, $14
DATA winoIlv<>+116(SB)/4, $30
DATA winoIlv<>+120(SB)/4, $15
DATA winoIlv<>+124(SB)/4, $31
GLOBL winoIlv<>(SB), RODATA|NOPTR, $128

// WGATHER gathers patch element p (table offsets 4p of disp and mask,
// the mask word of this half) of the 16 lanes whose base offsets are in
// Z22 into dst; masked-off lanes are 0 and not read.
#define WGATHER(off, dst) \
	VPBROADCASTD off(R9), Z20; \
	VPADDD       Z22, Z20, Z20; \
	KMOVW        off(BX), K1; \
	VPXORD       dst, dst, dst; \
	VGATHERDPS   (SI)(Z20*4), K1, dst

// WROW gathers row a of the patches (elements 4a..4a+3, table offset
// off = 16a) and writes Bᵀ applied along the row, d0−d2, d1+d2, d2−d1,
// d1−d3, into h0..h3.
#define WROW(off, h0, h1, h2, h3) \
	WGATHER(off, Z16); \
	WGATHER(off+4, Z17); \
	WGATHER(off+8, Z18); \
	WGATHER(off+12, Z19); \
	VSUBPS Z18, Z16, h0; \
	VADDPS Z18, Z17, h1; \
	VSUBPS Z17, Z18, h2; \
	VSUBPS Z19, Z17, h3

// WCOL applies Bᵀ down column j (h0..h3 = rows 0..3 of the row-transformed
// patch) and stores V_{i,j} at AX + i·4·vstride (R11 = 4·vstride bytes,
// R12 = 12·vstride bytes).
#define WCOL(h0, h1, h2, h3) \
	VSUBPS  h2, h0, Z21; \
	VADDPS  h2, h1, Z23; \
	VSUBPS  h1, h2, Z24; \
	VSUBPS  h3, h1, Z25; \
	VMOVUPS Z21, (AX); \
	VMOVUPS Z23, (AX)(R11*1); \
	VMOVUPS Z24, (AX)(R11*2); \
	VMOVUPS Z25, (AX)(R12*1)

// func winoInputAVX512(v, x *float32, base, disp *int32, mask *uint32, cg, hw, vstride int)
//
// For each of cg channels (x advancing hw floats, v advancing 32 floats
// per channel) and each half of the 32 lanes: gathers the 16 patch
// elements of winoTable (base, disp, mask), computes V = Bᵀ·d·B and
// stores V_ξ (ξ = 4i+j) at v + ξ·vstride floats.
TEXT ·winoInputAVX512(SB), NOSPLIT, $0-64
	MOVQ v+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ base+16(FP), R8
	MOVQ disp+24(FP), R9
	MOVQ mask+32(FP), BX
	MOVQ cg+40(FP), CX
	MOVQ hw+48(FP), DX
	SHLQ $2, DX                // channel stride of x in bytes
	MOVQ vstride+56(FP), R10
	SHLQ $2, R10               // ξ stride of v in bytes
	MOVQ R10, R11
	SHLQ $2, R11               // 4·vstride
	LEAQ (R11)(R11*2), R12    // 12·vstride

wichan:
	MOVQ $2, R13

wihalf:
	VMOVDQU32 (R8), Z22
	WROW(0, Z0, Z1, Z2, Z3)
	WROW(16, Z4, Z5, Z6, Z7)
	WROW(32, Z8, Z9, Z10, Z11)
	WROW(48, Z12, Z13, Z14, Z15)
	MOVQ DI, AX
	WCOL(Z0, Z4, Z8, Z12)
	LEAQ (DI)(R10*1), AX
	WCOL(Z1, Z5, Z9, Z13)
	LEAQ (DI)(R10*2), AX
	WCOL(Z2, Z6, Z10, Z14)
	ADDQ R10, AX
	WCOL(Z3, Z7, Z11, Z15)
	ADDQ $64, DI              // the other 16 lanes
	ADDQ $2, BX
	ADDQ $64, R8
	DECQ R13
	JNZ  wihalf
	SUBQ $4, BX
	SUBQ $128, R8
	ADDQ DX, SI
	DECQ CX
	JNZ  wichan
	VZEROUPPER
	RET

// func winoOutputAVX512(s, m, bias *float32, k, groups, ms, ld int)
//
// For each channel kk < k and each group of 16 tiles (groups·16 = ld):
// loads M_ξ at m + ξ·ms + kk·ld floats, computes Y = Aᵀ·M·A + bias[kk]
// (rows first, as winoOutputGo) and writes the tile rows interleaved,
// y_a0 y_a1 per tile, to row a of s + kk·4·ld floats (rows 2·ld long).
TEXT ·winoOutputAVX512(SB), NOSPLIT, $0-56
	MOVQ      s+0(FP), DI
	MOVQ      m+8(FP), SI
	MOVQ      bias+16(FP), R8
	MOVQ      k+24(FP), CX
	MOVQ      groups+32(FP), R9
	MOVQ      ms+40(FP), R10
	SHLQ      $2, R10          // ξ stride of m in bytes
	LEAQ      (R10)(R10*2), R11 // 3·ms
	MOVQ      ld+48(FP), DX
	SHLQ      $3, DX           // 2·ld floats: row 1 of s in bytes
	VMOVDQU32 winoIlv<>+0(SB), Z29
	VMOVDQU32 winoIlv<>+64(SB), Z30

wochan:
	VBROADCASTSS (R8), Z28
	MOVQ         R9, R13

wogroup:
	MOVQ    SI, AX
	VMOVUPS (AX), Z0
	VMOVUPS (AX)(R10*1), Z1
	VMOVUPS (AX)(R10*2), Z2
	VMOVUPS (AX)(R11*1), Z3
	LEAQ    (AX)(R10*4), AX
	VMOVUPS (AX), Z4
	VMOVUPS (AX)(R10*1), Z5
	VMOVUPS (AX)(R10*2), Z6
	VMOVUPS (AX)(R11*1), Z7
	LEAQ    (AX)(R10*4), AX
	VMOVUPS (AX), Z8
	VMOVUPS (AX)(R10*1), Z9
	VMOVUPS (AX)(R10*2), Z10
	VMOVUPS (AX)(R11*1), Z11
	LEAQ    (AX)(R10*4), AX
	VMOVUPS (AX), Z12
	VMOVUPS (AX)(R10*1), Z13
	VMOVUPS (AX)(R10*2), Z14
	VMOVUPS (AX)(R11*1), Z15
	// r0j = m0j + m1j + m2j, r1j = m1j − m2j − m3j
	VADDPS Z4, Z0, Z16
	VADDPS Z8, Z16, Z16
	VSUBPS Z8, Z4, Z20
	VSUBPS Z12, Z20, Z20
	VADDPS Z5, Z1, Z17
	VADDPS Z9, Z17, Z17
	VSUBPS Z9, Z5, Z21
	VSUBPS Z13, Z21, Z21
	VADDPS Z6, Z2, Z18
	VADDPS Z10, Z18, Z18
	VSUBPS Z10, Z6, Z22
	VSUBPS Z14, Z22, Z22
	VADDPS Z7, Z3, Z19
	VADDPS Z11, Z19, Z19
	VSUBPS Z11, Z7, Z23
	VSUBPS Z15, Z23, Z23
	// y_a0 = r_a0 + r_a1 + r_a2 + bias, y_a1 = r_a1 − r_a2 − r_a3 + bias
	VADDPS Z17, Z16, Z24
	VADDPS Z18, Z24, Z24
	VADDPS Z28, Z24, Z24
	VSUBPS Z18, Z17, Z25
	VSUBPS Z19, Z25, Z25
	VADDPS Z28, Z25, Z25
	VADDPS Z21, Z20, Z26
	VADDPS Z22, Z26, Z26
	VADDPS Z28, Z26, Z26
	VSUBPS Z22, Z21, Z27
	VSUBPS Z23, Z27, Z27
	VADDPS Z28, Z27, Z27
	VMOVAPS   Z29, Z0
	VPERMI2PS Z25, Z24, Z0
	VMOVAPS   Z30, Z1
	VPERMI2PS Z25, Z24, Z1
	VMOVAPS   Z29, Z2
	VPERMI2PS Z27, Z26, Z2
	VMOVAPS   Z30, Z3
	VPERMI2PS Z27, Z26, Z3
	VMOVUPS   Z0, (DI)
	VMOVUPS   Z1, 64(DI)
	VMOVUPS   Z2, (DI)(DX*1)
	VMOVUPS   Z3, 64(DI)(DX*1)
	ADDQ      $64, SI
	ADDQ      $128, DI
	DECQ      R13
	JNZ       wogroup
	ADDQ      DX, DI           // skip row 1: next channel
	ADDQ      $4, R8
	DECQ      CX
	JNZ       wochan
	VZEROUPPER
	RET

// winoPerm holds VPERMI2PS indices for winoRowsAVX512: the even and the
// odd lanes of a pair of vectors, and a vector shifted down one lane with
// lane 0 or 1 of a second vector in lane 15.
DATA winoPerm<>+0(SB)/4, $0
DATA winoPerm<>+4(SB)/4, $2
DATA winoPerm<>+8(SB)/4, $4
DATA winoPerm<>+12(SB)/4, $6
DATA winoPerm<>+16(SB)/4, $8
DATA winoPerm<>+20(SB)/4, $10
DATA winoPerm<>+24(SB)/4, $12
DATA winoPerm<>+28(SB)/4, $14
DATA winoPerm<>+32(SB)/4, $16
DATA winoPerm<>+36(SB)/4, $18
DATA winoPerm<>+40(SB)/4, $20
DATA winoPerm<>+44(SB)/4, $22
DATA winoPerm<>+48(SB)/4, $24
DATA winoPerm<>+52(SB)/4, $26
DATA winoPerm<>+56(SB)/4, $28
DATA winoPerm<>+60(SB)/4, $30
DATA winoPerm<>+64(SB)/4, $1
DATA winoPerm<>+68(SB)/4, $3
DATA winoPerm<>+72(SB)/4, $5
DATA winoPerm<>+76(SB)/4, $7
DATA winoPerm<>+80(SB)/4, $9
DATA winoPerm<>+84(SB)/4, $11
DATA winoPerm<>+88(SB)/4, $13
DATA winoPerm<>+92(SB)/4, $15
DATA winoPerm<>+96(SB)/4, $17
DATA winoPerm<>+100(SB)/4, $19
DATA winoPerm<>+104(SB)/4, $21
DATA winoPerm<>+108(SB)/4, $23
DATA winoPerm<>+112(SB)/4, $25
DATA winoPerm<>+116(SB)/4, $27
DATA winoPerm<>+120(SB)/4, $29
DATA winoPerm<>+124(SB)/4, $31
DATA winoPerm<>+128(SB)/4, $1
DATA winoPerm<>+132(SB)/4, $2
DATA winoPerm<>+136(SB)/4, $3
DATA winoPerm<>+140(SB)/4, $4
DATA winoPerm<>+144(SB)/4, $5
DATA winoPerm<>+148(SB)/4, $6
DATA winoPerm<>+152(SB)/4, $7
DATA winoPerm<>+156(SB)/4, $8
DATA winoPerm<>+160(SB)/4, $9
DATA winoPerm<>+164(SB)/4, $10
DATA winoPerm<>+168(SB)/4, $11
DATA winoPerm<>+172(SB)/4, $12
DATA winoPerm<>+176(SB)/4, $13
DATA winoPerm<>+180(SB)/4, $14
DATA winoPerm<>+184(SB)/4, $15
DATA winoPerm<>+188(SB)/4, $16
DATA winoPerm<>+192(SB)/4, $1
DATA winoPerm<>+196(SB)/4, $2
DATA winoPerm<>+200(SB)/4, $3
DATA winoPerm<>+204(SB)/4, $4
DATA winoPerm<>+208(SB)/4, $5
DATA winoPerm<>+212(SB)/4, $6
DATA winoPerm<>+216(SB)/4, $7
DATA winoPerm<>+220(SB)/4, $8
DATA winoPerm<>+224(SB)/4, $9
DATA winoPerm<>+228(SB)/4, $10
DATA winoPerm<>+232(SB)/4, $11
DATA winoPerm<>+236(SB)/4, $12
DATA winoPerm<>+240(SB)/4, $13
DATA winoPerm<>+244(SB)/4, $14
DATA winoPerm<>+248(SB)/4, $15
DATA winoPerm<>+252(SB)/4, $17
GLOBL winoPerm<>(SB), RODATA|NOPTR, $256

// WLOADROW loads patch row a of 16 tiles of one tile row: the row starts
// at float offset off(R8) from SI, mask words at moff(R9) (columns 0–15,
// 16–31, 32–47 of the segment; zero for padding rows and columns),
// de-interleaves columns 2t+b into d_b (Z19–Z22) and writes Bᵀ applied
// along the row into h0..h3.
#define WLOADROW(off, moff, h0, h1, h2, h3) \
	MOVQ      off(R8), AX; \
	KMOVW     moff(R9), K1; \
	KMOVW     moff+2(R9), K3; \
	KMOVW     moff+4(R9), K4; \
	VMOVUPS.Z (SI)(AX*4), K1, Z16; \
	VMOVUPS.Z 64(SI)(AX*4), K3, Z17; \
	VMOVUPS.Z 128(SI)(AX*4), K4, Z18; \
	VMOVAPS   Z26, Z19; \
	VPERMI2PS Z17, Z16, Z19; \
	VMOVAPS   Z27, Z20; \
	VPERMI2PS Z17, Z16, Z20; \
	VMOVAPS   Z28, Z21; \
	VPERMI2PS Z18, Z19, Z21; \
	VMOVAPS   Z29, Z22; \
	VPERMI2PS Z18, Z20, Z22; \
	VSUBPS    Z21, Z19, h0; \
	VADDPS    Z21, Z20, h1; \
	VSUBPS    Z20, Z21, h2; \
	VSUBPS    Z22, Z20, h3

// WCOLM is WCOL with the stores masked by K2 (the segment's tiles).
#define WCOLM(h0, h1, h2, h3) \
	VSUBPS  h2, h0, Z23; \
	VADDPS  h2, h1, Z24; \
	VSUBPS  h1, h2, Z25; \
	VSUBPS  h3, h1, Z30; \
	VMOVUPS Z23, K2, (AX); \
	VMOVUPS Z24, K2, (AX)(R11*1); \
	VMOVUPS Z25, K2, (AX)(R11*2); \
	VMOVUPS Z30, K2, (AX)(R12*1)

// func winoRowsAVX512(v, x *float32, offs *int, masks *uint16, cg, hw, vstride, lanes int)
//
// The input transform of winoInputAVX512 for a segment of up to 16
// consecutive tiles of one tile row (a winoRowTable), with plain masked
// loads instead of gathers: for each of cg channels it writes V_ξ of the
// segment's tiles to lanes 0..15 at v + ξ·vstride floats, masked by
// lanes (a bit per tile), then advances x by hw and v by 32 floats.
TEXT ·winoRowsAVX512(SB), NOSPLIT, $0-64
	MOVQ      v+0(FP), DI
	MOVQ      x+8(FP), SI
	MOVQ      offs+16(FP), R8
	MOVQ      masks+24(FP), R9
	MOVQ      cg+32(FP), CX
	MOVQ      hw+40(FP), DX
	SHLQ      $2, DX
	MOVQ      vstride+48(FP), R10
	SHLQ      $2, R10
	MOVQ      R10, R11
	SHLQ      $2, R11          // 4·vstride
	LEAQ      (R11)(R11*2), R12 // 12·vstride
	MOVQ      lanes+56(FP), AX
	KMOVW     AX, K2
	VMOVDQU32 winoPerm<>+0(SB), Z26
	VMOVDQU32 winoPerm<>+64(SB), Z27
	VMOVDQU32 winoPerm<>+128(SB), Z28
	VMOVDQU32 winoPerm<>+192(SB), Z29

wrchan:
	WLOADROW(0, 0, Z0, Z1, Z2, Z3)
	WLOADROW(8, 8, Z4, Z5, Z6, Z7)
	WLOADROW(16, 16, Z8, Z9, Z10, Z11)
	WLOADROW(24, 24, Z12, Z13, Z14, Z15)
	MOVQ DI, AX
	WCOLM(Z0, Z4, Z8, Z12)
	LEAQ (DI)(R10*1), AX
	WCOLM(Z1, Z5, Z9, Z13)
	LEAQ (DI)(R10*2), AX
	WCOLM(Z2, Z6, Z10, Z14)
	ADDQ R10, AX
	WCOLM(Z3, Z7, Z11, Z15)
	ADDQ $128, DI
	ADDQ DX, SI
	DECQ CX
	JNZ  wrchan
	VZEROUPPER
	RET
