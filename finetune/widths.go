package finetune

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Adaptive surrogate widths. Every IF layer's surrogate is
// Widen(Config.Surrogate, a) with a = anneal(step)·w_layer:
//
//   - Config.WidthAnneal = A0 > 1 anneals a from A0 at the first step to 1
//     at the last by a cosine, a(p) = 1 + (A0 − 1)·(1 + cos πp)/2 with p the
//     fraction of the schedule done: wide early (gradients reach the lower
//     layers), sharp late (close to the true step);
//   - Config.AutoWidth chooses w_layer per layer before the first step,
//     Dspike-style (Li et al. 2021: the temperature whose gradient agrees
//     best with a finite-difference gradient): from the output layer down,
//     each IF layer takes the factor of 0.25, 0.5, 1, 2, 4 whose surrogate
//     gradient at the layer's input has the highest cosine with the
//     finite-difference reference of GradReport (the gradient at a layer's
//     input depends only on the widths at and above it, so the greedy
//     order is exact layer by layer). The choice is recorded in the model's
//     metadata (finetune.widths) and restored by Resume.

// widthCandidates are the width factors AutoWidth chooses from.
func widthCandidates() []float32 { return []float32{0.25, 0.5, 1, 2, 4} }

const metaWidths = "finetune.widths"

// annealFactor returns the annealed width factor at global step s of
// total steps.
func annealFactor(a0 float32, s, total int) float32 {
	if a0 <= 1 || total <= 1 {
		return 1
	}
	p := float64(s) / float64(total-1)
	return float32(1 + float64(a0-1)*(1+math.Cos(math.Pi*min(p, 1)))/2)
}

// widthAt returns the width factor of IF layer i at the next step.
func (tr *Trainer) widthAt(i int) float32 {
	total := tr.StepsPerEpoch() * tr.cfg.epochs()
	a := annealFactor(tr.cfg.WidthAnneal, tr.epoch*tr.StepsPerEpoch()+tr.step, total)
	if w, ok := tr.widths[i]; ok {
		a *= w
	}
	return a
}

// applyWidths sets every IF layer's surrogate for the next step.
func (tr *Trainer) applyWidths() {
	for i := range tr.net.ifs {
		tr.net.setWidth(i, tr.widthAt(i))
	}
}

// ensureWidths chooses the per-layer widths (Config.AutoWidth) if they
// have not been chosen or restored yet.
func (tr *Trainer) ensureWidths(ctx context.Context) error {
	if !tr.cfg.AutoWidth || tr.widths != nil {
		return nil
	}
	w, err := tr.chooseWidths(ctx)
	if err != nil {
		return err
	}
	tr.widths = w
	return nil
}

// chooseWidths picks each IF layer's width factor (see the comment at the
// top of the file) on one batch of training images drawn with the seed,
// with the ReportConfig defaults.
func (tr *Trainer) chooseWidths(ctx context.Context) (map[int]float32, error) {
	nt := tr.net
	n := nt.opt.n
	rc := ReportConfig{Seed: tr.cfg.Seed}
	K := rc.directions()
	fd, err := newForwardNet(nt)
	if err != nil {
		return nil, err
	}
	x := make([]float32, n*nt.m.Input.Len())
	labels := make([]int, n)
	if err := tr.loadBatch(x, labels, tr.train.Sample(n, rc.Seed)); err != nil {
		return nil, err
	}
	widths := map[int]float32{}
	for i := range nt.ifs {
		widths[i] = 1
	}
	set := func() {
		total := tr.StepsPerEpoch() * tr.cfg.epochs()
		a := annealFactor(tr.cfg.WidthAnneal, tr.epoch*tr.StepsPerEpoch()+tr.step, total)
		for i, w := range widths {
			nt.setWidth(i, a*w)
		}
	}
	layers := sortedIFs(nt)
	slices.Reverse(layers)
	for _, l := range layers {
		if !nt.ifs[l].inGrad {
			continue
		}
		var specs []probeSpec
		for t := 0; t < nt.opt.t; t++ {
			specs = append(specs, probeSpec{layer: l, step: t, param: -1})
		}
		// Directions and the reference, once per layer.
		us := make([][][]float32, len(specs))
		ds := make([][]float64, len(specs))
		for i, s := range specs {
			for k := 0; k < K; k++ {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				u := tr.direction(fd, s, rc, 0, k)
				d, err := fdProjection(fd, s, u, x, labels)
				if err != nil {
					return nil, err
				}
				us[i] = append(us[i], u)
				ds[i] = append(ds[i], d)
			}
		}
		best, bestCos := float32(1), math.Inf(-1)
		for _, c := range widthCandidates() {
			widths[l] = c
			set()
			_, grads, err := tr.surrogateGrads(x, labels, specs)
			if err != nil {
				return nil, err
			}
			var cos float64
			for i := range specs {
				a := make([]float64, K)
				for k, u := range us[i] {
					a[k] = dot64(grads[i], u)
				}
				c, _ := cosineRatio(a, ds[i])
				cos += c / float64(len(specs))
			}
			if cos > bestCos {
				best, bestCos = c, cos
			}
		}
		widths[l] = best
	}
	return widths, nil
}

// formatWidths writes widths as "LAYER:FACTOR,..." in layer order.
func formatWidths(w map[int]float32) string {
	keys := make([]int, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d:%s", k, ftoa(w[k]))
	}
	return strings.Join(parts, ",")
}

// parseWidths reads formatWidths' form; nil for an empty string.
func parseWidths(s string) (map[int]float32, error) {
	if s == "" {
		return nil, nil
	}
	w := map[int]float32{}
	for _, part := range strings.Split(s, ",") {
		l, f, ok := strings.Cut(part, ":")
		li, err1 := strconv.Atoi(l)
		fv, err2 := strconv.ParseFloat(f, 32)
		if !ok || err1 != nil || err2 != nil || !(fv > 0) || math.IsInf(fv, 0) {
			return nil, fmt.Errorf("finetune: bad %s entry %q", metaWidths, part)
		}
		w[li] = float32(fv)
	}
	return w, nil
}

// Widths returns the per-layer width factors chosen by Config.AutoWidth
// (IF layer index → factor; nil before the choice or without AutoWidth).
func (tr *Trainer) Widths() map[int]float32 { return tr.widths }
