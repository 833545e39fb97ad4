//go:build amd64 && !noasm

package snnrt

import "golang.org/x/sys/cpu"

// The AVX2+FMA event kernels in event_amd64.s; see visitGo for what they
// compute. The caller guarantees every index and offset (eventSyn builds
// them).

//go:noescape
func visit64(acc, w *float32, vis *visitRef, nvis int, bs, off *int32, val *float32)

//go:noescape
func visit32(acc, w *float32, vis *visitRef, nvis int, bs, off *int32, val *float32)

//go:noescape
func visit16(acc, w *float32, vis *visitRef, nvis int, bs, off *int32, val *float32)

//go:noescape
func visit8(acc, w *float32, vis *visitRef, nvis int, bs, off *int32, val *float32)

// The AVX-512F twins of visit64, visit32 and visit16 (same loops, Z
// registers instead of pairs of Y registers, bit-identical results).

//go:noescape
func visit64x512(acc, w *float32, vis *visitRef, nvis int, bs, off *int32, val *float32)

//go:noescape
func visit32x512(acc, w *float32, vis *visitRef, nvis int, bs, off *int32, val *float32)

//go:noescape
func visit16x512(acc, w *float32, vis *visitRef, nvis int, bs, off *int32, val *float32)

// haveEventAsm reports whether the CPU runs the assembly event kernels.
func haveEventAsm() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

// haveVisit512 reports whether the CPU (and OS, which must save the Z
// registers; x/sys/cpu checks that) runs the AVX-512 visit kernels.
func haveVisit512() bool { return haveEventAsm() && cpu.X86.HasAVX512F }

// visitAsm runs the assembly kernel of width 64, 32, 16 or 8: with zmm
// (which requires haveVisit512) the AVX-512 kernels for widths 64, 32 and
// 16, which issue half the load and FMA uops per event of the AVX2 ones
// (width 8 always runs visit8). off and val must not be empty (pad them by
// one element), and vis must have capacity for one more visit, whose input
// index is valid in bs (the kernels load the range of the next visit
// ahead).
func visitAsm(width int, zmm bool, acc, w []float32, vis []visitRef, bs, off []int32, val []float32) {
	if len(vis) == 0 {
		return
	}
	if cap(vis) == len(vis) {
		panic("snnrt: visitAsm: no visit beyond the last")
	}
	a, wp, vp, bp, op, xp := &acc[0], &w[0], &vis[0], &bs[0], &off[0], &val[0]
	switch {
	case width == 64 && zmm:
		visit64x512(a, wp, vp, len(vis), bp, op, xp)
	case width == 32 && zmm:
		visit32x512(a, wp, vp, len(vis), bp, op, xp)
	case width == 16 && zmm:
		visit16x512(a, wp, vp, len(vis), bp, op, xp)
	case width == 64:
		visit64(a, wp, vp, len(vis), bp, op, xp)
	case width == 32:
		visit32(a, wp, vp, len(vis), bp, op, xp)
	case width == 16:
		visit16(a, wp, vp, len(vis), bp, op, xp)
	case width == 8:
		visit8(a, wp, vp, len(vis), bp, op, xp)
	default:
		panic("snnrt: visitAsm: bad width")
	}
}

//go:noescape
func ifSubtract8(v, x, theta *float32, c, p int, mask *uint8)

// ifSubtract runs ifSubtract8 on p positions of c channels (c%8 == 0).
func ifSubtract(v, x, theta []float32, c, p int, mask []uint8) {
	if p == 0 {
		return
	}
	_, _, _, _ = v[c*p-1], x[c*p-1], theta[c-1], mask[c*p/8-1]
	ifSubtract8(&v[0], &x[0], &theta[0], c, p, &mask[0])
}

//go:noescape
func ifCharge8(v, x, theta *float32, cnt *int32, c, p int, mask *uint8)

// ifCharge runs ifCharge8 on p positions of c channels (c%8 == 0); cnt is
// nil for neurons that cannot take spikes back.
func ifCharge(v, x, theta []float32, cnt []int32, c, p int, mask []uint8) {
	if p == 0 {
		return
	}
	_, _, _, _ = v[c*p-1], x[c*p-1], theta[c-1], mask[c*p/8-1]
	var cp *int32
	if cnt != nil {
		_ = cnt[c*p-1]
		cp = &cnt[0]
	}
	ifCharge8(&v[0], &x[0], &theta[0], cp, c, p, &mask[0])
}

//go:noescape
func ifBurst8(v, x, theta *float32, cnt, ks *int32, c, p int, mask *uint8)

// ifBurst runs ifBurst8 on p positions of c channels (c%8 == 0); cnt is
// nil for neurons that cannot take spikes back.
func ifBurst(v, x, theta []float32, cnt, ks []int32, c, p int, mask []uint8) {
	if p == 0 {
		return
	}
	_, _, _, _, _ = v[c*p-1], x[c*p-1], theta[c-1], ks[c*p-1], mask[c*p/8-1]
	var cp *int32
	if cnt != nil {
		_ = cnt[c*p-1]
		cp = &cnt[0]
	}
	ifBurst8(&v[0], &x[0], &theta[0], cp, &ks[0], c, p, &mask[0])
}

//go:noescape
func ifBurstEmit8(v, x, theta *float32, cnt *int32, c, p int, ch *int32, val *float32, start, pos *int32, lut *packLUT) (n int)

// ifBurstEmit runs ifBurstEmit8 (see ifBurstEmitGo) on p positions of c
// channels (c%8 == 0).
func ifBurstEmit(v, x, theta []float32, cnt []int32, c, p int, ch []int32, val []float32, start, pos []int32, lut *packLUT) int {
	if p == 0 {
		return 0
	}
	_, _, _, _, _ = v[c*p-1], x[c*p-1], theta[c-1], start[p], pos[p-1]
	_, _ = ch[c*p+7], val[c*p+7]
	var cp *int32
	if cnt != nil {
		_ = cnt[c*p-1]
		cp = &cnt[0]
	}
	return ifBurstEmit8(&v[0], &x[0], &theta[0], cp, c, p, &ch[0], &val[0], &start[0], &pos[0], lut)
}

//go:noescape
func transpose8Strip(dst *float32, dstStride int, src *float32, srcStride int, n int)

// transposeBlocks transposes the [c][p] image src into [p][c] dst for
// c and p multiples of 8 and reports true, or does nothing and reports
// false.
func transposeBlocks(dst, src []float32, c, p int) bool {
	if c%8 != 0 || p%8 != 0 || !haveEventAsm() {
		return false
	}
	_, _ = dst[c*p-1], src[c*p-1]
	for c0 := 0; c0 < c; c0 += 8 {
		transpose8Strip(&dst[c0], c, &src[c0*p], p, p/8)
	}
	return true
}

//go:noescape
func emitNonzero8(acc, div *float32, c, p int, ch *int32, val *float32, start *int32, lut *packLUT) (n int)

// emitNonzero runs emitNonzero8 (see emitNonzeroGo) on p positions of c
// channels (c%8 == 0).
func emitNonzero(acc, div []float32, c, p int, ch []int32, val []float32, start []int32, lut *packLUT) int {
	if p == 0 {
		return 0
	}
	_, _, _ = acc[c*p-1], div[p-1], start[p]
	_, _ = ch[c*p+7], val[c*p+7]
	return emitNonzero8(&acc[0], &div[0], c, p, &ch[0], &val[0], &start[0], lut)
}
