//go:build !amd64 || noasm

package snnrt

func haveEventAsm() bool { return false }

func visitAsm(width int, zmm bool, acc, w []float32, vis []visitRef, bs, off []int32, val []float32) {
	panic("snnrt: no assembly event kernels on this platform")
}

// haveVisit512 reports false: no assembly, so no AVX-512 kernels.
func haveVisit512() bool { return false }

func ifSubtract(v, x, theta []float32, c, p int, mask []uint8) { ifSubtractGo(v, x, theta, c, p, mask) }

func ifCharge(v, x, theta []float32, cnt []int32, c, p int, mask []uint8) {
	ifChargeGo(v, x, theta, cnt, c, p, mask)
}

func transposeBlocks(dst, src []float32, c, p int) bool { return false }

func ifBurst(v, x, theta []float32, cnt, ks []int32, c, p int, mask []uint8) {
	ifBurstGo(v, x, theta, cnt, ks, c, p, mask)
}

func ifBurstEmit(v, x, theta []float32, cnt []int32, c, p int, ch []int32, val []float32, start, pos []int32, lut *packLUT) int {
	return ifBurstEmitGo(v, x, theta, cnt, c, p, ch, val, start, pos)
}

func emitNonzero(acc, div []float32, c, p int, ch []int32, val []float32, start []int32, lut *packLUT) int {
	return emitNonzeroGo(acc, div, c, p, ch, val, start)
}
