package snnrt

import "time"

// layerStep evaluates layer i at step t (0-based) for nimg images; cur is
// the encoded model input.
func (w *simWorker) layerStep(i, t int, cur []float32, nimg int) {
	s := w.s
	m := s.m
	l, sl := &m.Layers[i], &s.layers[i]
	switch sl.exec {
	case execEvent:
		w.eventStep(i, cur, nimg)
	case execIF:
		var sp, sops int64
		if sl.nhwc {
			src := l.Inputs[0]
			x := w.out[src]
			if s.layers[src].constant {
				x = w.nhwc[src]
			}
			L := l.Shape.Len()
			for img := 0; img < nimg; img++ {
				a, b := w.ifNHWC(i, img, x[img*L:(img+1)*L])
				sp += a
				sops += b
			}
		} else if hw := l.Shape.H * l.Shape.W; l.IF.maxSpikes() == 2 && l.IF.Reset == ResetBySubtraction && hw%8 == 0 {
			// The default neuron on NCHW maps: a vector kernel per channel
			// plane, bit-identical to IF.step.
			x := w.denseOf(l.Inputs[0], cur)
			fan := s.fan[i+1]
			for img := 0; img < nimg; img++ {
				for c := 0; c < l.Shape.C; c++ {
					off := (img*l.Shape.C + c) * hw
					var cnt []int32
					if l.IF.Signed {
						cnt = w.cnt[i][off : off+hw]
					}
					var ff []int64
					if fan != nil {
						ff = fan[c*hw : (c+1)*hw]
					}
					a, b := ifPlaneBurst(w.v[i][off:off+hw], x[off:off+hw], w.out[i][off:off+hw], cnt, w.ks, w.mask, sl.theta[c], ff, s.asm)
					sp += a
					sops += b
				}
			}
		} else {
			x := w.denseOf(l.Inputs[0], cur)
			sp, sops = l.IF.step(w.out[i], w.v[i], w.cnt[i], x, l.Shape, nimg, s.fan[i+1])
		}
		w.addSpikes(i, t, sp, sops)
	case execPoolEv:
		L := l.Shape.Len()
		for img := 0; img < nimg; img++ {
			var d []float32
			if sl.needDense {
				d = w.dense[i][img*L : (img+1)*L]
			}
			sl.pool.step(&w.ev[i][img], &w.ev[l.Inputs[0]][img], w.pool, d, s.lut, s.asm)
		}
	case execMaxPool:
		dst := w.out[i][:nimg*l.Shape.Len()]
		ev := maxPoolStep(dst, w.denseOf(l.Inputs[0], cur), w.v[i], w.prev[i], nimg, l.Pool, l.MaxPool)
		if s.spiking[i+1] {
			w.addSpikes(i, t, ev, eventSOPs(dst, s.fan[i+1], l.Shape.Len()))
		}
	default:
		if sl.alias {
			return // the output is the input's buffer
		}
		w.ins, w.shp = w.ins[:0], w.shp[:0]
		for _, src := range l.Inputs {
			w.ins = append(w.ins, w.denseOf(src, cur)[:nimg*m.shapeOf(src).Len()])
			w.shp = append(w.shp, m.shapeOf(src))
		}
		L := l.Shape.Len()
		var dst []float32 // nil for a constant conv read only in NHWC
		if w.out[i] != nil {
			dst = w.out[i][:nimg*L]
		}
		switch {
		case sl.convNHWC != nil:
			sl.convNHWC.Forward(w.nhwc[i][:nimg*L], w.ins[0], nimg, w.ws)
		case sl.conv != nil && sl.needNHWC:
			// Image by image (the GEMM is bit-identical whatever the
			// batch), each transposed while its NCHW result is still in
			// cache. Without NCHW consumers the NCHW result only passes
			// through one image of scratch.
			hw, inL := l.Shape.H*l.Shape.W, m.shapeOf(l.Inputs[0]).Len()
			for img := 0; img < nimg; img++ {
				d := w.tmp[:L]
				if sl.needDense {
					d = dst[img*L : (img+1)*L]
				}
				sl.conv.Forward(d, w.ins[0][img*inL:(img+1)*inL], 1, w.ws)
				nchwToNHWC(w.nhwc[i][img*L:(img+1)*L], d, l.Shape.C, hw)
			}
		case sl.conv != nil: // Conv, or Linear as a 1×1 conv: no allocation
			sl.conv.Forward(dst, w.ins[0], nimg, w.ws)
		default:
			denseForward(l, nil, w.ws, dst, w.ins, w.shp, nimg)
		}
		if sl.needNHWC && sl.conv == nil {
			hw := l.Shape.H * l.Shape.W
			for img := 0; img < nimg; img++ {
				nchwToNHWC(w.nhwc[i][img*L:(img+1)*L], dst[img*L:], l.Shape.C, hw)
			}
		}
	}
}

// eventStep evaluates an execEvent layer: per image, event-driven when its
// input events cost fewer operations than eventCostRatio⁻¹ × the dense
// MACs, else densely (those images are batched into one dense conv).
func (w *simWorker) eventStep(i int, cur []float32, nimg int) {
	s := w.s
	l, sl := &s.m.Layers[i], &s.layers[i]
	e := sl.ev
	src := l.Inputs[0]
	inLen, L := e.g.C*e.inP, l.Shape.Len()
	in := w.eventInput(i, cur)
	nd := 0
	w.eAcc, w.eEv = w.eAcc[:0], w.eEv[:0]
	for img := 0; img < nimg; img++ {
		ev := w.imageEvents(i, img, in)
		if w.useEvents(i, ev) {
			if !sl.fromEvents {
				e.accumulate(w.out[i][img*L:(img+1)*L], ev) // w.scan is reused
				continue
			}
			w.eAcc = append(w.eAcc, w.out[i][img*L:(img+1)*L])
			w.eEv = append(w.eEv, ev)
			continue
		}
		w.denseInput(w.dIn[nd*inLen:(nd+1)*inLen], in, src, img, ev, e.inP)
		w.dImg[nd] = img
		nd++
	}
	if len(w.eEv) > 0 {
		e.accumulateChunk(w.eAcc, w.eEv)
	}
	if nd > 0 {
		e.denseConv.Forward(w.dOut, w.dIn, nd, w.ws)
		for j, img := range w.dImg[:nd] {
			nchwToNHWC(w.out[i][img*L:(img+1)*L], w.dOut[j*L:], l.Shape.C, e.outP)
		}
	}
	if sl.needDense && e.outP > 1 {
		for img := 0; img < nimg; img++ {
			nhwcToNCHW(w.dense[i][img*L:(img+1)*L], w.out[i][img*L:], l.Shape.C, e.outP)
		}
	}
}

// eventInput returns the NCHW maps that event layer i scans for events,
// or nil when it reads its source's event lists.
func (w *simWorker) eventInput(i int, cur []float32) []float32 {
	if w.s.layers[i].fromEvents {
		return nil
	}
	return w.denseOf(w.s.m.Layers[i].Inputs[0], cur)
}

// imageEvents returns the input events of image img of event layer i: its
// source's event list, or the non-zeros of its NCHW map in (scanned into
// w.scan, which the next call reuses).
func (w *simWorker) imageEvents(i, img int, in []float32) *events {
	sl := &w.s.layers[i]
	if sl.fromEvents {
		return &w.ev[w.s.m.Layers[i].Inputs[0]][img]
	}
	e := sl.ev
	n := e.g.C * e.inP
	w.scan.scan(in[img*n:(img+1)*n], e.g.C, e.inP)
	return &w.scan
}

// useEvents reports whether event layer i accumulates ev event-driven:
// when its events cost fewer operations than eventCostRatio⁻¹ × the dense
// MACs. It counts the choice in the layer's profile.
func (w *simWorker) useEvents(i int, ev *events) bool {
	e := w.s.layers[i].ev
	if e.cost(ev)*w.s.costRatio <= e.denseMACs {
		w.prof[i].Event++
		return true
	}
	w.prof[i].Dense++
	return false
}

// denseInput writes the NCHW input map of image img of an event layer
// into d: from in (its dense source, nil when it reads event lists), from
// the source's NCHW map, or by scattering its events ev.
func (w *simWorker) denseInput(d, in []float32, src, img int, ev *events, positions int) {
	switch {
	case in != nil:
		copy(d, in[img*len(d):])
	case w.dense[src] != nil:
		copy(d, w.dense[src][img*len(d):])
	default:
		ev.scatter(d, positions)
	}
}

// eventIFStep evaluates the event layer i together with the NHWC IF layer
// i+1, its only reader (simLayer.fuseIF), image by image: each image's
// accumulator is charged into the membranes while it is still in cache,
// and one image's accumulator is all the layer keeps. Event or dense, per
// image, is chosen as in eventStep; a dense image runs the dense conv on
// its own (bit-identical whatever the batch).
func (w *simWorker) eventIFStep(i, t int, cur []float32, nimg int) {
	s := w.s
	l, sl := &s.m.Layers[i], &s.layers[i]
	e := sl.ev
	inLen, L := e.g.C*e.inP, l.Shape.Len()
	in := w.eventInput(i, cur)
	acc := w.out[i][:L]
	prof := s.cfg.Profile
	var spikes, sops int64
	for img := 0; img < nimg; img++ {
		var t0 time.Duration
		if prof {
			t0 = profClock()
		}
		ev := w.imageEvents(i, img, in)
		if w.useEvents(i, ev) {
			e.accumulate(acc, ev)
		} else {
			d := w.dIn[:inLen]
			w.denseInput(d, in, l.Inputs[0], img, ev, e.inP)
			e.denseConv.Forward(w.dOut[:L], d, 1, w.ws)
			nchwToNHWC(acc, w.dOut, l.Shape.C, e.outP)
		}
		var t1 time.Duration
		if prof {
			t1 = profClock()
			w.prof[i].Time += t1 - t0
		}
		a, b := w.ifNHWC(i+1, img, acc)
		spikes += a
		sops += b
		if prof {
			w.prof[i+1].Time += profClock() - t1
		}
	}
	w.addSpikes(i+1, t, spikes, sops)
}

// ifNHWC runs one step of the NHWC IF layer i for image img with input
// current x ([positions][C]): charge, fire, reset as IF.step does, and
// emits the spikes as events (and into the NCHW map if needed). It returns
// the spike and SOP counts.
func (w *simWorker) ifNHWC(i, img int, x []float32) (spikes, sops int64) {
	s := w.s
	l, sl := &s.m.Layers[i], &s.layers[i]
	n := &l.IF
	C, L := l.Shape.C, l.Shape.Len()
	P := L / C
	v := w.v[i][img*L : (img+1)*L]
	x = x[:L]
	var cnt []int32
	if w.cnt[i] != nil {
		cnt = w.cnt[i][img*L : (img+1)*L]
	}
	var d []float32
	if sl.needDense {
		d = w.dense[i][img*L : (img+1)*L]
		clear(d)
	}
	ev := &w.ev[i][img]
	ev.reset()
	theta, fan := sl.theta[:C], sl.fan[:L]
	m := n.maxSpikes()
	fm := float32(m)
	if !n.Signed && m == 1 && n.Reset == ResetBySubtraction && C%8 == 0 {
		return ifNHWCMasked(v, x, theta, C, P, fan, sl.fanPos, ev, d, w.mask, s.asm)
	}
	if !n.Signed && m == 1 && n.Reset == ResetBySubtraction {
		// The common neuron, unrolled: fire(u) = 1 iff u ≥ θ.
		for p := 0; p < P; p++ {
			vv, xx, ff := v[p*C:(p+1)*C], x[p*C:(p+1)*C], fan[p*C:(p+1)*C]
			for c := range vv {
				u := vv[c] + xx[c]
				if th := theta[c]; u >= th {
					u -= th
					ev.ch = append(ev.ch, int32(c))
					ev.val = append(ev.val, th)
					spikes++
					sops += ff[c]
					if d != nil {
						d[c*P+p] = th
					}
				}
				vv[c] = u
			}
			ev.closePos(p)
		}
		return spikes, sops
	}
	if C%8 == 0 {
		return ifNHWCFlagged(n, s.lut, v, x, theta, cnt, w.ks[:L], C, P, fan, sl.fanPos, ev, d, w.mask, s.asm)
	}
	for p := 0; p < P; p++ {
		vv, xx, tt := v[p*C:(p+1)*C], x[p*C:(p+1)*C], theta[:C]
		var cc []int32
		if cnt != nil {
			cc = cnt[p*C : (p+1)*C]
		}
		for c := range vv {
			// Most neurons stay silent: u < θ fires nothing unless u < 0
			// and the neuron can take back a spike; skip fire for them.
			u := vv[c] + xx[c]
			if u < tt[c] && (u >= 0 || cc == nil || cc[c] <= 0) {
				vv[c] = u
				continue
			}
			j := p*C + c
			var nc int32
			if cnt != nil {
				nc = cnt[j]
			}
			v[j] = u
			sp, so := n.emit(v, cnt, j, c, tt[c], m, fm, nc, fan[j], ev, d, p, P)
			spikes += sp
			sops += so
		}
		ev.closePos(p)
	}
	return spikes, sops
}

// emit fires neuron j (channel c, position p of P) of an NHWC IF layer
// whose membrane v[j] is already charged: it applies fire, the reset and
// the running count, appends the spike to ev and to the NCHW map d (if not
// nil), and returns the spike and SOP counts.
func (n *IF) emit(v []float32, cnt []int32, j, c int, th float32, m int, fm float32, nc int32, fan int64, ev *events, d []float32, p, P int) (spikes, sops int64) {
	u := v[j]
	k := n.fire(u, th, m, fm, nc)
	if k == 0 {
		return 0, 0
	}
	if n.Reset == ResetToZero {
		u = 0
	} else {
		u -= float32(k) * th
	}
	v[j] = u
	if cnt != nil {
		cnt[j] += int32(k)
	}
	a := int64(k)
	if a < 0 {
		a = -a
	}
	val := float32(k) * th
	ev.ch = append(ev.ch, int32(c))
	ev.val = append(ev.val, val)
	if d != nil {
		d[c*P+p] = val
	}
	return a, a * fan
}
