package snnrt

import (
	"math"
	"math/bits"
)

// ifSubtractGo is the portable twin of ifSubtract8 (if_amd64.s; keep in
// sync): one step of p positions × c channels (c%8 == 0) of the common IF
// neuron (one spike at most, reset by subtraction, not signed): u = v + x,
// s = u ≥ θ[ch], v = s ? u − θ[ch] : u, bit j of mask[i] = s of neuron
// 8i+j. Both compute exactly what IF.step computes for this neuron.
func ifSubtractGo(v, x, theta []float32, c, p int, mask []uint8) {
	for q := 0; q < p; q++ {
		vv, xx := v[q*c:(q+1)*c], x[q*c:(q+1)*c]
		for b := 0; b < c; b += 8 {
			var m uint8
			for j := 0; j < 8; j++ {
				u := vv[b+j] + xx[b+j]
				if th := theta[b+j]; u >= th {
					u -= th
					m |= 1 << j
				}
				vv[b+j] = u
			}
			mask[(q*c+b)/8] = m
		}
	}
}

// ifNHWCMasked runs one step of the common IF neuron (see ifSubtractGo)
// on one image of an NHWC layer: v, x [p][c]; it appends the spikes to ev,
// writes them into the NCHW map d if not nil (d must be zero), and returns
// the spike and SOP counts. fan is the fan-out per neuron ([p][c]), or, if
// fanPos is not nil, the same for every channel of position q: fanPos[q].
// mask is scratch of c·p/8 bytes.
func ifNHWCMasked(v, x, theta []float32, c, p int, fan, fanPos []int64, ev *events, d []float32, mask []uint8, asm bool) (spikes, sops int64) {
	mask = mask[:c*p/8]
	if asm {
		ifSubtract(v, x, theta, c, p, mask)
	} else {
		ifSubtractGo(v, x, theta, c, p, mask)
	}
	bpp := c / 8
	chs, vals := ev.ch[:cap(ev.ch)], ev.val[:cap(ev.val)]
	n := len(ev.ch)
	for q := 0; q < p; q++ {
		n0 := n
		for j, b := range mask[q*bpp : (q+1)*bpp] {
			for b != 0 {
				ch := j*8 + bits.TrailingZeros8(b)
				b &= b - 1
				th := theta[ch]
				chs[n], vals[n] = int32(ch), th
				n++
				if fanPos == nil {
					sops += fan[q*c+ch]
				}
				if d != nil {
					d[ch*p+q] = th
				}
			}
		}
		ev.start[q+1] = int32(n)
		if fanPos != nil {
			sops += int64(n-n0) * fanPos[q]
		}
	}
	spikes = int64(n - len(ev.ch))
	ev.ch, ev.val = chs[:n], vals[:n]
	return spikes, sops
}

// ifChargeGo is the portable twin of ifCharge8 (if_amd64.s; keep in sync):
// for p positions × c channels (c%8 == 0) it stores u = v + x into v and
// sets bit j of mask[i] when neuron 8i+j may fire: u ≥ θ[ch], or, with cnt
// not nil (signed neurons), u < 0 and cnt > 0.
func ifChargeGo(v, x, theta []float32, cnt []int32, c, p int, mask []uint8) {
	for q := 0; q < p; q++ {
		for b := 0; b < c; b += 8 {
			var m uint8
			for j := 0; j < 8; j++ {
				i := q*c + b + j
				u := v[i] + x[i]
				v[i] = u
				if u >= theta[b+j] || (cnt != nil && u < 0 && cnt[i] > 0) {
					m |= 1 << j
				}
			}
			mask[i8(q, c, b)] = m
		}
	}
}

func i8(q, c, b int) int { return (q*c + b) / 8 }

// packLUT lists, for each 8-bit mask, the indices of its set bits in
// ascending order (padded with 0): the permutation that left-packs the
// lanes of a mask, as ifBurstEmit8 does. Row 255 is 0, 1, …, 7.
type packLUT [256][8]int32

func newPackLUT() *packLUT {
	var t packLUT
	for m := range t {
		n := 0
		for j := 0; j < 8; j++ {
			if m>>j&1 == 1 {
				t[m][n] = int32(j)
				n++
			}
		}
	}
	return &t
}

// ifBurstEmitGo is the portable twin of ifBurstEmit8 (if_amd64.s; keep in
// sync): ifBurstGo on p positions × c channels (c%8 == 0), emitting the
// firing neurons' channels and values k·θ at ch[n:], val[n:] (n from 0),
// with start[q+1] = n after position q and pos[q] = Σ|k| over position q.
// It returns n. ch and val need c·p + 7 elements (the assembly stores 8 at
// a time).
func ifBurstEmitGo(v, x, theta []float32, cnt []int32, c, p int, ch []int32, val []float32, start, pos []int32) int {
	return burstEmitGo(v, x, theta, cnt, c, p, ch, val, start, pos, func(u, th float32, i int) int32 { return burstK(u, th, cnt, i) })
}

// burstEmitGo is the loop of ifBurstEmitGo and ifBurstEmitMGo: fire
// returns the signed spike count k of neuron i with charged membrane u and
// threshold th.
func burstEmitGo(v, x, theta []float32, cnt []int32, c, p int, ch []int32, val []float32, start, pos []int32, fire func(u, th float32, i int) int32) int {
	n := 0
	for q := 0; q < p; q++ {
		var qs int32
		for b := 0; b < c; b++ {
			i := q*c + b
			th := theta[b]
			u := v[i] + x[i]
			if k := fire(u, th, i); k != 0 {
				fk := float32(k)
				u -= fk * th
				if cnt != nil {
					cnt[i] += k
				}
				ch[n], val[n] = int32(b), fk*th
				n++
				qs += max(k, -k)
			}
			v[i] = u
		}
		start[q+1] = int32(n)
		pos[q] = qs
	}
	return n
}

// burstK is IF.fire for M = 2 without a division (see fire) for neuron i
// with charged membrane u and threshold th; cnt is nil for unsigned
// neurons.
func burstK(u, th float32, cnt []int32, i int) int32 {
	switch {
	case u >= th:
		if u >= 2*th {
			return 2
		}
		return 1
	case cnt != nil && u < 0 && cnt[i] > 0:
		if -u > th && cnt[i] > 1 {
			return -2
		}
		return -1
	}
	return 0
}

// ifBurstEmitMGo is the portable twin of ifBurstEmitM16 (if_amd64.s;
// keep in sync): ifBurstEmitGo for IF neurons firing up to m ≥ 1 spikes
// per step (reset by subtraction, signed when cnt is not nil), with k from
// burstKM. It returns the number of events n.
func ifBurstEmitMGo(v, x, theta []float32, cnt []int32, c, p int, ch []int32, val []float32, start, pos []int32, m int) int {
	fm := float32(m)
	return burstEmitGo(v, x, theta, cnt, c, p, ch, val, start, pos, func(u, th float32, i int) int32 { return burstKM(u, th, cnt, i, fm) })
}

// burstKM is IF.fire for M = fm ≥ 1 in the form the vector kernel
// computes it, for neuron i with charged membrane u and threshold th (cnt
// nil for unsigned neurons): with q = u/θ rounded once as fire rounds it,
// fire truncates q ≥ 1, which is ⌊q⌋, and rounds −u/θ = −q up, which is
// −⌊q⌋; clipping at M in float32 before the conversion covers fire's
// q ≥ M test (q may be huge or infinite).
func burstKM(u, th float32, cnt []int32, i int, fm float32) int32 {
	q := u / th
	switch {
	case u >= th:
		return int32(min(floor32(q), fm))
	case cnt != nil && u < 0 && cnt[i] > 0:
		return -min(int32(max(min(-floor32(q), fm), 1)), cnt[i])
	}
	return 0
}

// floor32 is ⌊q⌋ (exact: every float32 floor is a float32).
func floor32(q float32) float32 { return float32(math.Floor(float64(q))) }

// ifBurstGo is the portable twin of ifBurst8 (if_amd64.s; keep in sync):
// one step of p positions × c channels (c%8 == 0) of IF neurons firing up
// to two spikes per step, reset by subtraction, signed when cnt is not
// nil. It computes k = IF.fire(u) for M = 2, stores v = u − k·θ, cnt += k
// and ks = k, and sets bit j of mask[i] when neuron 8i+j fires (k ≠ 0).
func ifBurstGo(v, x, theta []float32, cnt, ks []int32, c, p int, mask []uint8) {
	for q := 0; q < p; q++ {
		for b := 0; b < c; b += 8 {
			var m uint8
			for j := 0; j < 8; j++ {
				i := q*c + b + j
				th := theta[b+j]
				u := v[i] + x[i]
				k := burstK(u, th, cnt, i)
				ks[i] = k
				if k != 0 {
					u -= float32(k) * th
					if cnt != nil {
						cnt[i] += k
					}
					m |= 1 << j
				}
				v[i] = u
			}
			mask[i8(q, c, b)] = m
		}
	}
}

// ifNHWCFlagged runs one step of IF neurons n other than the classic one
// (signed, burst or resetting to zero; c%8 == 0) on one image of an NHWC
// layer, as ifNHWCMasked does for the classic neuron. For the default
// burst (M = 2, reset by subtraction) a vector kernel does all of it
// (charge, fire, reset, count; see ifBurstGo) and leaves each neuron's k in
// ks; otherwise a vector kernel charges every neuron and flags the few that
// may fire (see ifChargeGo), and only those go through fire. Either way the
// scalar loop visits the firing neurons alone, to emit their events. cnt is
// nil for unsigned neurons; ks is scratch of c·p. It returns the spike and
// SOP counts (|k| per neuron firing k spikes).
func ifNHWCFlagged(n *IF, lut *packLUT, v, x, theta []float32, cnt, ks []int32, c, p int, fan, fanPos []int64, ev *events, d []float32, mask []uint8, asm bool) (spikes, sops int64) {
	mask = mask[:c*p/8]
	m := n.maxSpikes()
	sub := n.Reset == ResetBySubtraction
	fired := m == 2 && sub // ks holds every neuron's k
	// The common case, all vectorised: fire, reset, count and emit. For
	// M ≠ 2 only with the AVX-512 kernel: elsewhere the division for
	// every neuron costs more than fire for the flagged ones.
	if sub && fanPos != nil && d == nil && len(ev.ch) == 0 && (m == 2 || asm && haveBurstMAsm()) {
		pos := ks[:p] // Σ|k| per position
		chs, vals := ev.ch[:cap(ev.ch)], ev.val[:cap(ev.val)]
		var ne int
		switch {
		case m != 2:
			ne = ifBurstEmitM(v, x, theta, cnt, c, p, chs, vals, ev.start, pos, m)
		case asm:
			ne = ifBurstEmit(v, x, theta, cnt, c, p, chs, vals, ev.start, pos, lut)
		default:
			ne = ifBurstEmitGo(v, x, theta, cnt, c, p, chs, vals, ev.start, pos)
		}
		ev.ch, ev.val = chs[:ne], vals[:ne]
		for q, k := range pos {
			spikes += int64(k)
			sops += int64(k) * fanPos[q]
		}
		return spikes, sops
	}
	fm := float32(m)
	switch {
	case fired && asm:
		ifBurst(v, x, theta, cnt, ks, c, p, mask)
	case fired:
		ifBurstGo(v, x, theta, cnt, ks, c, p, mask)
	case asm:
		ifCharge(v, x, theta, cnt, c, p, mask)
	default:
		ifChargeGo(v, x, theta, cnt, c, p, mask)
	}
	bpp := c / 8
	chs, vals := ev.ch[:cap(ev.ch)], ev.val[:cap(ev.val)]
	ne := len(ev.ch)
	for q := 0; q < p; q++ {
		var qs int64 // spikes at position q
		for jb, b := range mask[q*bpp : (q+1)*bpp] {
			for b != 0 {
				ch := jb*8 + bits.TrailingZeros8(b)
				b &= b - 1
				j := q*c + ch
				th := theta[ch]
				var k int
				if fired {
					k = int(ks[j])
				} else {
					u := v[j]
					var nc int32
					if cnt != nil {
						nc = cnt[j]
					}
					if k = n.fire(u, th, m, fm, nc); k == 0 {
						continue
					}
					if n.Reset == ResetToZero {
						v[j] = 0
					} else {
						v[j] = u - float32(k)*th
					}
					if cnt != nil {
						cnt[j] = nc + int32(k)
					}
				}
				val := float32(k) * th
				chs[ne], vals[ne] = int32(ch), val
				ne++
				a := int64(k)
				if a < 0 {
					a = -a
				}
				qs += a
				if fanPos == nil {
					sops += a * fan[j]
				}
				if d != nil {
					d[ch*p+q] = val
				}
			}
		}
		ev.start[q+1] = int32(ne)
		if fanPos != nil {
			sops += qs * fanPos[q]
		}
		spikes += qs
	}
	ev.ch, ev.val = chs[:ne], vals[:ne]
	return spikes, sops
}

// ifPlaneBurst runs one step of n·8 IF neurons of one channel plane (NCHW,
// threshold th) that fire up to two spikes per step, reset by
// subtraction, signed when cnt is not nil, as IF.step does: it writes
// k·θ into dst (every neuron) and returns the spike count Σ|k| and the
// SOPs Σ|k|·fan. ks and mask are scratch of len(v) and len(v)/8.
func ifPlaneBurst(v, x, dst []float32, cnt, ks []int32, mask []uint8, th float32, fan []int64, asm bool) (spikes, sops int64) {
	n := len(v)
	th8 := [8]float32{th, th, th, th, th, th, th, th}
	ks, mask, dst = ks[:n], mask[:n/8], dst[:n]
	if asm {
		ifBurst(v, x, th8[:], cnt, ks, 8, n/8, mask)
	} else {
		ifBurstGo(v, x, th8[:], cnt, ks, 8, n/8, mask)
	}
	clear(dst)
	for i, b := range mask {
		for b != 0 {
			j := i*8 + bits.TrailingZeros8(b)
			b &= b - 1
			k := ks[j]
			dst[j] = float32(k) * th
			a := int64(max(k, -k))
			spikes += a
			if fan != nil {
				sops += a * fan[j]
			}
		}
	}
	return spikes, sops
}
