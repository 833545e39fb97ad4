//go:build amd64 && !noasm

package snnrt

import "golang.org/x/sys/cpu"

// haveBurstMAsm reports whether the CPU runs ifBurstEmitM16 (AVX-512F with
// BMI2 and POPCNT). Zen 4/5 and Intel server cores do; AVX2-only cores
// keep the charge-and-flag path, which beats the Go twin there.
func haveBurstMAsm() bool {
	return cpu.X86.HasAVX512F && cpu.X86.HasBMI2 && cpu.X86.HasPOPCNT
}

//go:noescape
func ifBurstEmitM16(v, x, theta *float32, cnt *int32, c, p int, ch *int32, val *float32, start, pos *int32, m int) (n int)

// ifBurstEmitM runs ifBurstEmitM16 (see ifBurstEmitMGo) on p positions of
// c channels (c%8 == 0) for IF neurons firing up to m spikes per step; the
// caller checks haveBurstMAsm. Unlike ifBurstEmit it stores exactly n
// events (masked stores), so ch and val need no slack.
func ifBurstEmitM(v, x, theta []float32, cnt []int32, c, p int, ch []int32, val []float32, start, pos []int32, m int) int {
	if p == 0 {
		return 0
	}
	_, _, _, _, _ = v[c*p-1], x[c*p-1], theta[c-1], start[p], pos[p-1]
	_, _ = ch[c*p-1], val[c*p-1]
	var cp *int32
	if cnt != nil {
		_ = cnt[c*p-1]
		cp = &cnt[0]
	}
	return ifBurstEmitM16(&v[0], &x[0], &theta[0], cp, c, p, &ch[0], &val[0], &start[0], &pos[0], m)
}
