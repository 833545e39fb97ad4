package calibrate

import (
	"context"
	"fmt"

	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/snnrt"
)

// Target is one IF layer to correct: its index in the model and the mean
// per channel of the ANN activation it should reproduce, clipped to what
// the neuron can emit (θ·MaxSpikes).
type Target struct {
	Layer int
	Mean  []float64
}

// ClippedMeans runs the images of src through ex, batch images at a time
// (fewer if their kept values would exceed DefaultMaxBytes), and returns, for each value in names, the per-channel mean of
// min(max(a, 0), limit[c]) over images and positions; limits[i] holds one
// value or one per channel. Sums are float64, one per image and channel,
// added in image order, so the result does not depend on batch or the
// number of workers. It checks ctx between reads and ANN passes and
// returns ctx.Err() (wrapped) once it is done.
func ClippedMeans(ctx context.Context, ex Executor, src Images, batch int, names []string, limits [][]float32) ([][]float64, error) {
	if len(limits) != len(names) {
		return nil, fmt.Errorf("calibrate: %d limits for %d values", len(limits), len(names))
	}
	batch, err := fitBatch(ex, names, batch, 0)
	if err != nil {
		return nil, err
	}
	per := importer.NumElements(ex.InputShape())
	sums := make([][]float64, len(names))
	counts := make([]int, len(names))
	err = batches(ctx, src, per, batch, func(_, k int, x []float32) error {
		return forward(ctx, ex, x, k, per, names, func(_ int, kept map[string]*importer.Tensor) error {
			for i, name := range names {
				t := kept[name]
				c := 1
				if len(t.Shape) > 1 {
					c = t.Shape[1]
				}
				if sums[i] == nil {
					sums[i] = make([]float64, c)
				}
				inner := len(t.Data) / (t.Shape[0] * c)
				for img := 0; img < t.Shape[0]; img++ {
					for ch := range c {
						lim := limits[i][min(ch, len(limits[i])-1)]
						var s float64
						for _, v := range t.Data[(img*c+ch)*inner : (img*c+ch+1)*inner] {
							s += float64(min(max(v, 0), lim))
						}
						sums[i][ch] += s
					}
				}
				counts[i] += t.Shape[0] * inner
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	for i := range sums {
		for ch := range sums[i] {
			sums[i][ch] /= float64(counts[i])
		}
	}
	return sums, nil
}

// SNNMeans simulates m on the images of src for t steps, batch images at
// a time, and returns, for each layer in layers, the per-channel mean of
// its output per step. The result does not depend on batch or the number
// of workers: each image's sums are kept apart and added in image order.
// The simulation checks ctx between batches and time steps
// (snnrt.Simulator.RunContext); SNNMeans returns ctx.Err() (wrapped) once
// it is done.
func SNNMeans(ctx context.Context, m *snnrt.Model, src Images, batch, t int, layers []int) ([][]float64, error) {
	slot := make(map[int]int, len(layers))
	sums := make([][]float64, len(layers))
	perImage := make([][][]float64, len(layers)) // [layer][image in batch][channel]
	for i, l := range layers {
		if l < 0 || l >= len(m.Layers) {
			return nil, fmt.Errorf("calibrate: layer %d of a model with %d layers", l, len(m.Layers))
		}
		slot[l] = i
		c := m.Layers[l].Shape.C
		sums[i] = make([]float64, c)
		perImage[i] = make([][]float64, min(max(batch, 1), src.Len()))
		for img := range perImage[i] {
			perImage[i][img] = make([]float64, c)
		}
	}
	cfg := snnrt.Config{T: t, Observe: func(layer, step, first, k int, out []float32) {
		i, ok := slot[layer]
		if !ok {
			return
		}
		sh := m.Layers[layer].Shape
		inner := sh.H * sh.W
		for img := range k {
			acc := perImage[i][first+img]
			for ch := range sh.C {
				var s float64
				for _, v := range out[(img*sh.C+ch)*inner : (img*sh.C+ch+1)*inner] {
					s += float64(v)
				}
				acc[ch] += s
			}
		}
	}}
	sim, err := snnrt.NewSimulator(m, cfg)
	if err != nil {
		return nil, err
	}
	err = batches(ctx, src, m.Input.Len(), batch, func(first, k int, x []float32) error {
		for i := range perImage {
			for img := range k {
				clear(perImage[i][img])
			}
		}
		if _, err := sim.RunContext(ctx, x, k); err != nil {
			return fmt.Errorf("calibrate: simulating images %d..%d: %w", first, first+k-1, err)
		}
		for i := range perImage {
			for img := range k {
				for ch, v := range perImage[i][img] {
					sums[i][ch] += v
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	n := src.Len()
	for i, l := range layers {
		sh := m.Layers[l].Shape
		for ch := range sums[i] {
			sums[i][ch] /= float64(n * t * sh.H * sh.W)
		}
	}
	return sums, nil
}

// CorrectBias applies the bias correction of Li et al. 2021 to m, layer by
// layer in the order of targets: it simulates the images of src for t
// steps, batch images at a time (memory grows with batch, not with the
// number of images),
// measures e[c] = target[c] − SNN mean[c] at the target layer, and adds e
// to the current the layer receives. When the IF layer reads a Conv or
// Linear layer that no other layer reads, e goes into that layer's bias;
// otherwise into the initial potential as V0 += e·t, the same charge over
// t steps. Sequential correction costs one simulation per target; with
// sequential false all targets are measured in one simulation and
// corrected together. The simulations stop when ctx is done (see
// SNNMeans); CorrectBias then returns ctx.Err() (wrapped) and m may be
// partly corrected.
func CorrectBias(ctx context.Context, m *snnrt.Model, src Images, batch, t int, targets []Target, sequential bool) error {
	readers := make([]int, len(m.Layers))
	for _, l := range m.Layers {
		for _, in := range l.Inputs {
			if in >= 0 {
				readers[in]++
			}
		}
	}
	groups := [][]Target{targets}
	if sequential {
		groups = groups[:0]
		for _, tg := range targets {
			groups = append(groups, []Target{tg})
		}
	}
	for _, group := range groups {
		layers := make([]int, len(group))
		for i, tg := range group {
			layers[i] = tg.Layer
		}
		means, err := SNNMeans(ctx, m, src, batch, t, layers)
		if err != nil {
			return err
		}
		for i, tg := range group {
			if err := apply(m, readers, tg, means[i], t); err != nil {
				return err
			}
		}
	}
	return nil
}

func apply(m *snnrt.Model, readers []int, tg Target, snn []float64, t int) error {
	l := &m.Layers[tg.Layer]
	if l.Kind != snnrt.KindIF {
		return fmt.Errorf("calibrate: layer %d (%s) is %v, not IF", tg.Layer, l.Name, l.Kind)
	}
	if len(tg.Mean) != len(snn) {
		return fmt.Errorf("calibrate: layer %d (%s): %d target channels, %d in the SNN", tg.Layer, l.Name, len(tg.Mean), len(snn))
	}
	src := l.Inputs[0]
	if src >= 0 && readers[src] == 1 && (m.Layers[src].Kind == snnrt.KindConv || m.Layers[src].Kind == snnrt.KindLinear) {
		p := &m.Layers[src]
		if p.B == nil {
			p.B = make([]float32, len(snn))
		}
		for c := range snn {
			p.B[c] += float32(tg.Mean[c] - snn[c])
		}
		return nil
	}
	v0 := make([]float32, len(snn))
	for c := range v0 {
		if len(l.IF.V0) > 0 {
			v0[c] = l.IF.V0[min(c, len(l.IF.V0)-1)]
		}
		v0[c] += float32((tg.Mean[c] - snn[c]) * float64(t))
	}
	l.IF.V0 = v0
	return nil
}

// simulate runs m on x with the event-driven simulator (same semantics as
// snnrt.Run, much faster on sparse spikes).
func simulate(m *snnrt.Model, x []float32, n int, cfg snnrt.Config) error {
	sim, err := snnrt.NewSimulator(m, cfg)
	if err != nil {
		return err
	}
	_, err = sim.Run(x, n)
	return err
}
