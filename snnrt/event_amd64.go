//go:build amd64 && !noasm

package snnrt

import "golang.org/x/sys/cpu"

// The AVX2+FMA event kernels in event_amd64.s; see fmaRowsGo for what they
// compute. The caller checks every offset.

//go:noescape
func fmaRows64(acc, w *float32, ld int, taps *tapRef, ntaps int, ch *int32, val *float32, nev int)

//go:noescape
func fmaRows32(acc, w *float32, ld int, taps *tapRef, ntaps int, ch *int32, val *float32, nev int)

//go:noescape
func fmaRows16(acc, w *float32, ld int, taps *tapRef, ntaps int, ch *int32, val *float32, nev int)

//go:noescape
func fmaRows8(acc, w *float32, ld int, taps *tapRef, ntaps int, ch *int32, val *float32, nev int)

// haveEventAsm reports whether the CPU runs the assembly event kernels.
func haveEventAsm() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

// fmaRowsAsm runs the assembly kernel of width 64, 32, 16 or 8.
func fmaRowsAsm(width int, acc, w []float32, ld int, taps []tapRef, ch []int32, val []float32) {
	nev := len(ch)
	var cp *int32
	var vp *float32
	if nev > 0 {
		cp, vp = &ch[0], &val[0]
	}
	switch width {
	case 64:
		fmaRows64(&acc[0], &w[0], ld, &taps[0], len(taps), cp, vp, nev)
	case 32:
		fmaRows32(&acc[0], &w[0], ld, &taps[0], len(taps), cp, vp, nev)
	case 16:
		fmaRows16(&acc[0], &w[0], ld, &taps[0], len(taps), cp, vp, nev)
	case 8:
		fmaRows8(&acc[0], &w[0], ld, &taps[0], len(taps), cp, vp, nev)
	default:
		panic("snnrt: fmaRowsAsm: bad width")
	}
}
