//go:build !amd64 || noasm

package snnrt

func haveEventAsm() bool { return false }

func fmaRowsAsm(width int, acc, w []float32, ld int, taps []tapRef, ch []int32, val []float32) {
	panic("snnrt: no assembly event kernels on this platform")
}
