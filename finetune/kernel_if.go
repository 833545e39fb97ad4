package finetune

import "github.com/ann2snn/ann2snn/snnrt"

// ifKernel is a layer of integrate-and-fire neurons unrolled over T steps.
// Inputs: x [T,N,C,H,W] (step-major) and θ (one value or one per channel);
// output: the spikes s·θ, [T,N,C,H,W]. Per neuron, with v₀ = V0, z = u/θ
// and the running count c_t = Σ_{τ≤t} s_τ (c₀ = 0):
//
//	u_t = v_{t−1} + x_t                           charge
//	s_t = Σ_{j=1..M} H(z_t − j)                   fire (M = max(MaxSpikes,1))
//	      − Σ_{j=1..M} [c_{t−1} ≥ j]·H⁺(−z_t − (j−1))   (signed neurons only)
//	v_t = u_t − s_t·θ   (ResetBySubtraction)      reset
//	v_t = u_t·(1 − H(z_t − 1))   (ResetToZero)
//	out_t = s_t·θ
//
// H(a) is 1 for a ≥ 0, H⁺(a) for a > 0: a signed neuron whose membrane
// falls below 0 takes back up to M of the spikes it has fired. The forward
// pass is snnrt's IF step, operation for operation. Backward is BPTT
// through the membrane, with H' replaced by the surrogate g and the gates
// [c ≥ j] held constant: ∂s/∂u = σ/θ and ∂s/∂θ = −zσ/θ where σ = Σ_j g(z − j)
// + Σ_j [c ≥ j]·g(−z − (j−1)). With smooth set, H and H⁺ are replaced by the
// surrogate's Primitive and the gates are all open (a count bound would
// make the smooth forward pass discontinuous), so the backward pass is the
// exact gradient of the forward pass (for tests).
type ifKernel struct {
	name   string
	t, n   int
	c, hw  int
	nTheta int
	v0     []float32 // per channel
	neuron snnrt.IF  // reset, burst and signed settings (θ and V0 are inputs and v0)
	m      int       // max(MaxSpikes, 1)
	sur    Surrogate
	smooth bool
	inGrad bool
	// perturb, when not nil ([T,N,C,H,W]), is added to the input in the
	// forward pass only: the finite-difference probes of GradReport.
	perturb []float32
	// record, when not nil ([T,N,C,H,W]), receives a copy of the gradient
	// of the loss with respect to the input after each backward pass.
	record []float32
}

func (k *ifKernel) id() string    { return k.name }
func (k *ifKernel) inLens() []int { return []int{k.t * k.n * k.c * k.hw, k.nTheta} }
func (k *ifKernel) outLen() int   { return k.t * k.n * k.c * k.hw }
func (k *ifKernel) diff() []bool  { return []bool{k.inGrad, true} }

func (k *ifKernel) theta(th []float32, c int) float32 {
	if len(th) == 1 {
		return th[0]
	}
	return th[c]
}

// offset returns the index of the first element of plane (n, c) at step t.
func (k *ifKernel) offset(t, n, c int) int { return ((t*k.n+n)*k.c + c) * k.hw }

// fire returns the spike count of membrane u with running count cnt
// (signed neurons): snnrt's integer count, or the smooth count of the
// surrogate's Primitive. It also returns the integer count, which drives
// the take-back gates in both modes.
func (k *ifKernel) fire(u, th, cnt float32) (s, hard float32) {
	hard = k.hardFire(u, th, cnt)
	if !k.smooth {
		return hard, hard
	}
	z := u / th
	for j := 1; j <= k.m; j++ {
		s += k.sur.Primitive(z - float32(j))
		if k.neuron.Signed {
			s -= k.sur.Primitive(-z - float32(j-1))
		}
	}
	return s, hard
}

// hardFire is snnrt's spike function, with counts as float32.
func (k *ifKernel) hardFire(u, th, cnt float32) float32 {
	return float32(k.neuron.Fire(u, th, int32(cnt)))
}

// sigma returns σ = ∂s/∂z of a neuron at z with running count cnt (before
// the step): Σ_j g(z − j) + Σ_j [cnt ≥ j]·g(−z − (j−1)), the gates all open
// in smooth mode.
func (k *ifKernel) sigma(z, cnt float32) float32 {
	var sig float32
	for j := 1; j <= k.m; j++ {
		sig += k.sur.Grad(z - float32(j))
		if k.neuron.Signed && (k.smooth || cnt >= float32(j)) {
			sig += k.sur.Grad(-z - float32(j-1))
		}
	}
	return sig
}

// afterFire returns the membrane after firing s spikes from u.
func (k *ifKernel) afterFire(u, s, th float32) float32 {
	switch {
	case k.neuron.Reset == snnrt.ResetToZero && k.smooth:
		return u * (1 - k.sur.Primitive(u/th-1))
	case s != 0 && k.neuron.Reset == snnrt.ResetToZero:
		return 0
	case s != 0:
		return u - s*th
	}
	return u
}

// charge runs steps 0..T−1 of plane (n, c) on membranes v and running
// counts cnt ([hw] each) and stores, per step, the charged membrane u
// (before the reset), the spike count and the running count before the
// step in us, ss and cs ([T·hw] each; all nil or none).
func (k *ifKernel) charge(x []float32, th float32, n, c int, v, cnt, us, ss, cs []float32, out []float32) {
	for j := range v {
		v[j] = k.v0[c]
	}
	clear(cnt)
	// Unsigned neurons that reset by subtraction with one or two spikes per
	// step (the classic neuron and the default burst) skip the general
	// spike function: k = [u ≥ θ] + [u ≥ 2θ], as IF.fire decides it.
	fast := k.m <= 2 && !k.smooth && !k.neuron.Signed && k.neuron.Reset == snnrt.ResetBySubtraction
	signed := k.neuron.Signed
	for t := 0; t < k.t; t++ {
		off := k.offset(t, n, c)
		xs := x[off : off+k.hw]
		var os []float32
		if out != nil {
			os = out[off : off+k.hw]
		}
		for j, xj := range xs {
			u := v[j] + xj
			var s float32
			switch {
			case fast:
				// Keep in sync with snnrt.IF.fire (TestForwardMatchesSnnrt).
				if u >= th {
					s = 1
					if k.m == 2 && u >= 2*th {
						s = 2
					}
				}
				v[j] = u - s*th
			case signed:
				var hard float32
				s, hard = k.fire(u, th, cnt[j])
				v[j] = k.afterFire(u, s, th)
				if us != nil {
					cs[t*k.hw+j] = cnt[j]
				}
				cnt[j] += hard
			default:
				s, _ = k.fire(u, th, 0)
				v[j] = k.afterFire(u, s, th)
			}
			if os != nil {
				os[j] = s * th
			}
			if us != nil {
				us[t*k.hw+j], ss[t*k.hw+j] = u, s
			}
		}
	}
}

func (k *ifKernel) forward(out []float32, in [][]float32) {
	x, th := in[0], in[1]
	if k.perturb != nil {
		xp := make([]float32, len(x))
		for i, v := range x {
			xp[i] = v + k.perturb[i]
		}
		x = xp
	}
	forEach(k.n, func(lo, hi int) {
		v, cnt := make([]float32, k.hw), make([]float32, k.hw)
		for n := lo; n < hi; n++ {
			for c := 0; c < k.c; c++ {
				k.charge(x, k.theta(th, c), n, c, v, cnt, nil, nil, nil, out)
			}
		}
	})
}

func (k *ifKernel) backward(gin [][]float32, in [][]float32, _, gout []float32) {
	x, th := in[0], in[1]
	parts := make([][]float32, reduceShards)
	forShards(k.n, reduceShards, func(sh, lo, hi int) {
		v, cnt := make([]float32, k.hw), make([]float32, k.hw)
		us := make([]float32, k.t*k.hw)
		ss := make([]float32, k.t*k.hw)
		cs := make([]float32, k.t*k.hw)
		gv := make([]float32, k.hw)
		gth := make([]float64, k.nTheta)
		zero := k.neuron.Reset == snnrt.ResetToZero
		fast := k.m == 1 && !zero && !k.neuron.Signed
		zs := make([]float32, k.hw)
		sigs := make([]float32, k.hw)
		for n := lo; n < hi; n++ {
			for c := 0; c < k.c; c++ {
				th0 := k.theta(th, c)
				k.charge(x, th0, n, c, v, cnt, us, ss, cs, nil)
				clear(gv)
				var gc float64
				for t := k.t - 1; t >= 0; t-- {
					off := k.offset(t, n, c)
					gos := gout[off : off+k.hw]
					var gx []float32
					if k.inGrad {
						gx = gin[0][off : off+k.hw]
					}
					ut, st := us[t*k.hw:(t+1)*k.hw], ss[t*k.hw:(t+1)*k.hw]
					var gsum float32
					if fast {
						// One spike, reset by subtraction: the common case.
						for j, u := range ut {
							zs[j] = u/th0 - 1
						}
						gradsInto(k.sur, sigs, zs)
						for j, g := range gos {
							z, sig := zs[j]+1, sigs[j]
							a := g - gv[j]
							gU := gv[j] + a*sig
							gsum += a * (st[j] - z*sig)
							gv[j] = gU
							if gx != nil {
								gx[j] = gU
							}
						}
						gc += float64(gsum)
						continue
					}
					ct := cs[t*k.hw : (t+1)*k.hw]
					for j, g := range gos {
						u, s := ut[j], st[j]
						z := u / th0
						var sig float32
						if k.neuron.Signed {
							sig = k.sigma(z, ct[j])
						} else {
							for i := 1; i <= k.m; i++ {
								sig += k.sur.Grad(z - float32(i))
							}
						}
						gV := gv[j]
						var gU, dth float32
						if zero {
							eta := k.sur.Grad(z - 1)
							h := float32(0)
							if k.smooth {
								h = k.sur.Primitive(z - 1)
							} else if s > 0 {
								h = 1
							}
							gU = g*sig + gV*((1-h)-z*eta)
							dth = g*(s-z*sig) + gV*z*z*eta
						} else {
							a := g - gV
							gU = gV + a*sig
							dth = a * (s - z*sig)
						}
						gsum += dth
						gv[j] = gU
						if gx != nil {
							gx[j] = gU
						}
					}
					gc += float64(gsum)
				}
				gth[c%k.nTheta] += gc
			}
		}
		p := make([]float32, k.nTheta)
		for i, v := range gth {
			p[i] = float32(v)
		}
		parts[sh] = p
	})
	sumPartials(gin[1], parts)
	if k.record != nil && gin[0] != nil {
		copy(k.record, gin[0])
	}
}

// maxPoolKernel is snnrt's spiking max pooling unrolled over T steps:
// input [T,N,C,H,W], output [T,N,C,OH,OW]. Per window, with cum_t the
// cumulative input and a_t the position of its maximum (first in row-major
// order on ties):
//
//	MaxPoolCumulative: out_t = cum_t[a_t] − cum_{t−1}[a_{t−1}]
//	MaxPoolGate:       out_t = x_t[a_t]
//
// Both are piecewise linear in x; the backward pass routes gradients
// through the winning positions (ties and switches are measure zero).
type maxPoolKernel struct {
	name   string
	t, n   int
	p      snnrt.PoolGeom
	mode   snnrt.MaxPoolMode
	inGrad bool
}

func (k *maxPoolKernel) id() string    { return k.name }
func (k *maxPoolKernel) inLens() []int { return []int{k.t * k.n * k.p.C * k.p.H * k.p.W} }
func (k *maxPoolKernel) outLen() int   { return k.t * k.n * k.p.C * k.p.OutH() * k.p.OutW() }
func (k *maxPoolKernel) diff() []bool  { return []bool{k.inGrad} }

// winners replays the forward pass of plane q (image·C + channel) and
// calls f(t, o, a, v) with the winner a and output v of every window o.
func (k *maxPoolKernel) winners(x []float32, q int, cum []float32, f func(t, o, a int, v float32)) {
	p := k.p
	hw := p.H * p.W
	oh, ow := p.OutH(), p.OutW()
	clear(cum)
	prev := make([]float32, oh*ow)
	np := k.n * p.C
	for t := 0; t < k.t; t++ {
		xs := x[(t*np+q)*hw:][:hw]
		for j, v := range xs {
			cum[j] += v
		}
		// Keep in sync with snnrt.maxPoolStep (TestForwardMatchesSnnrt).
		for oy := 0; oy < oh; oy++ {
			y0, y1, _ := poolWindow(oy, p.H, p.KH, max(p.StrideH, 1), p.PadT, p.PadB)
			for ox := 0; ox < ow; ox++ {
				x0, x1, _ := poolWindow(ox, p.W, p.KW, max(p.StrideW, 1), p.PadL, p.PadR)
				best := y0*p.W + x0
				for y := y0; y < y1; y++ {
					for xx := x0; xx < x1; xx++ {
						if cum[y*p.W+xx] > cum[best] {
							best = y*p.W + xx
						}
					}
				}
				o := oy*ow + ox
				var v float32
				if k.mode == snnrt.MaxPoolGate {
					v = xs[best]
				} else {
					v = cum[best] - prev[o]
					prev[o] = cum[best]
				}
				f(t, o, best, v)
			}
		}
	}
}

func (k *maxPoolKernel) forward(out []float32, in [][]float32) {
	p := k.p
	ohw := p.OutH() * p.OutW()
	np := k.n * p.C
	forEach(np, func(lo, hi int) {
		cum := make([]float32, p.H*p.W)
		for q := lo; q < hi; q++ {
			k.winners(in[0], q, cum, func(t, o, _ int, v float32) {
				out[(t*np+q)*ohw+o] = v
			})
		}
	})
}

func (k *maxPoolKernel) backward(gin [][]float32, in [][]float32, _, gout []float32) {
	p := k.p
	hw, ohw := p.H*p.W, p.OutH()*p.OutW()
	np := k.n * p.C
	forEach(np, func(lo, hi int) {
		cum := make([]float32, hw)
		win := make([]int, k.t*ohw)
		acc := make([]float32, hw)
		for q := lo; q < hi; q++ {
			k.winners(in[0], q, cum, func(t, o, a int, _ float32) { win[t*ohw+o] = a })
			if k.mode == snnrt.MaxPoolGate {
				for t := 0; t < k.t; t++ {
					g := gout[(t*np+q)*ohw:][:ohw]
					dx := gin[0][(t*np+q)*hw:][:hw]
					for o, a := range win[t*ohw : (t+1)*ohw] {
						dx[a] += g[o]
					}
				}
				continue
			}
			// out_t = M_t − M_{t−1} with M_t = Σ_{τ≤t} x_τ[a_t]:
			// dM_t = g_t − g_{t+1} and dx_τ = Σ_{t≥τ} dM_t·[a_t].
			clear(acc)
			for t := k.t - 1; t >= 0; t-- {
				g := gout[(t*np+q)*ohw:][:ohw]
				var next []float32
				if t+1 < k.t {
					next = gout[((t+1)*np+q)*ohw:][:ohw]
				}
				for o, a := range win[t*ohw : (t+1)*ohw] {
					dm := g[o]
					if next != nil {
						dm -= next[o]
					}
					acc[a] += dm
				}
				copy(gin[0][(t*np+q)*hw:][:hw], acc)
			}
		}
	})
}
