package snnrt

// simulateAdaptive is simulate under an exit policy (Config.Exit): after
// every step each live image's accumulated output is checked, and an
// image that exits leaves the chunk. The chunk stays compact: the last
// live image moves into the exited image's slot (its state, input,
// accumulator and random stream), so every later step runs on live
// images only, event lists, dense fallbacks and batched kernels alike.
// Images are simulated independently, so moving them changes no result.
// acc (the first nimg·classes of w.acc) is cleared by the caller.
func (w *simWorker) simulateAdaptive(r *Result, xs []float32, first, nimg int) {
	s := w.s
	m, cfg := s.m, s.cfg
	p := cfg.Exit
	inLen, classes := m.Input.Len(), m.Layers[m.Output].Shape.Len()
	xin := w.xin[:nimg*inLen]
	copy(xin, xs)
	for j := range nimg {
		w.slot[j], w.track[j] = j, ExitState{}
	}
	acc := w.acc
	live := nimg
	for t := 0; t < cfg.T && live > 0; t++ {
		select {
		case <-w.done:
			return // RunContext reports ctx.Err(); r is discarded
		default:
		}
		w.step(t, xin[:live*inLen], live)
		for j, v := range w.dense[m.Output][:live*classes] {
			acc[j] += v
		}
		last := t+1 == cfg.T
		for j := 0; j < live; {
			img := first + w.slot[j]
			row := acc[j*classes : (j+1)*classes]
			copy(r.acc[(t*r.N+img)*classes:], row)
			if last {
				r.Steps[img] = cfg.T
				j++
				continue
			}
			if !w.track[j].Update(p, row, t+1) {
				j++
				continue
			}
			r.Steps[img] = t + 1
			for u := t + 1; u < cfg.T; u++ {
				copy(r.acc[(u*r.N+img)*classes:], row)
			}
			live--
			if j < live {
				w.moveImage(live, j) // slot j is checked next
			}
		}
	}
}

// moveImage moves the image in slot src of the chunk into slot dst: every
// buffer that carries state from one step to the next (membranes, spike
// counts, max-pool state, the outputs of constant layers, the input, the
// accumulated output, the Poisson stream and the exit state).
func (w *simWorker) moveImage(src, dst int) {
	s := w.s
	for i := range s.m.Layers {
		moveSlot(w.v[i], w.cap, src, dst)
		moveSlot(w.prev[i], w.cap, src, dst)
		moveSlot(w.cnt[i], w.cap, src, dst)
		if sl := &s.layers[i]; sl.constant && !sl.alias {
			moveSlot(w.out[i], w.cap, src, dst)
			if len(w.dense[i]) > 0 && (len(w.out[i]) == 0 || &w.dense[i][0] != &w.out[i][0]) {
				moveSlot(w.dense[i], w.cap, src, dst)
			}
			moveSlot(w.nhwc[i], w.cap, src, dst)
		}
	}
	moveSlot(w.xin, w.cap, src, dst)
	moveSlot(w.acc, w.cap, src, dst)
	w.pcgs[dst] = w.pcgs[src] // w.rngs[dst] reads w.pcgs[dst]
	w.slot[dst], w.track[dst] = w.slot[src], w.track[src]
}

// moveSlot copies image src's part of b (cap images of len(b)/cap
// elements each; nil for none) over image dst's.
func moveSlot[E float32 | int32](b []E, cap, src, dst int) {
	if len(b) == 0 {
		return
	}
	n := len(b) / cap
	copy(b[dst*n:(dst+1)*n], b[src*n:(src+1)*n])
}
