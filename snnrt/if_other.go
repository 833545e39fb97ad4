//go:build !amd64 || noasm

package snnrt

// haveBurstMAsm reports false: there is no ifBurstEmitM16 here.
func haveBurstMAsm() bool { return false }

// ifBurstEmitM is ifBurstEmitMGo where there is no assembly.
func ifBurstEmitM(v, x, theta []float32, cnt []int32, c, p int, ch []int32, val []float32, start, pos []int32, m int) int {
	return ifBurstEmitMGo(v, x, theta, cnt, c, p, ch, val, start, pos, m)
}
