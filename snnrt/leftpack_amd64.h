// LEFT_PACK stores the lanes of vals whose bit is set in the 8-bit mask AX
// at (R11), left-packed, and their channels CX + lane at (R10), then
// advances R10 and R11 by the popcount n. lut is the address of a packLUT
// (lut[mask] lists the set bits of mask; row 255 is 0, 1, …, 7, kept in
// Y12). It clobbers AX, n, Y5, Y6 and Y7; the stores write 8 elements, so
// both destinations need 7 elements of slack. Shared by ifBurstEmit8 and
// emitNonzero8.
#define LEFT_PACK(vals, lut, n) \
	POPCNTL   AX, n; \
	SHLQ      $5, AX; \
	ADDQ      lut, AX; \
	VMOVDQU   (AX), Y5; \
	VPERMPS   vals, Y5, Y6; \
	VMOVUPS   Y6, (R11); \
	VMOVD     CX, X7; \
	VPBROADCASTD X7, Y7; \
	VPADDD    Y12, Y7, Y7; \
	VPERMD    Y7, Y5, Y7; \
	VMOVDQU   Y7, (R10); \
	LEAQ      (R10)(n*4), R10; \
	LEAQ      (R11)(n*4), R11
