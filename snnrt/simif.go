package snnrt

import "math/bits"

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
