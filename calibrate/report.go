package calibrate

import (
	"fmt"
	"math"

	"github.com/ann2snn/ann2snn/snnrt"
)

// LayerComparison compares one SNN layer with the ANN value it replaces after T
// steps. With a the ANN activation clipped to what the layer can emit
// ([0, θ·MaxSpikes] for IF layers) and s the SNN's mean output per step
// (firing rate × θ), over all neurons and images:
//
//	MAE         = mean |s − a|
//	Correlation = Pearson correlation of s and a
//	Over, Under = share of neurons with s − a > q/2, a − s > q/2,
//	              where q = θ/T is one spike's worth of rate
type LayerComparison struct {
	Layer       int     `json:"layer"`
	Name        string  `json:"name"`
	T           int     `json:"t"`
	MAE         float64 `json:"mae"`
	MeanANN     float64 `json:"mean_ann"`
	Correlation float64 `json:"correlation"`
	Over        float64 `json:"over_firing"`
	Under       float64 `json:"under_firing"`
}

// moments accumulates the sums LayerComparison is computed from.
type moments struct {
	n, abs, sa, ss, saa, sss, sas, over, under float64
}

func (m *moments) add(o moments) {
	m.n += o.n
	m.abs += o.abs
	m.sa += o.sa
	m.ss += o.ss
	m.saa += o.saa
	m.sss += o.sss
	m.sas += o.sas
	m.over += o.over
	m.under += o.under
}

// CompareLayers simulates m on the n images x for the largest of ts steps
// and compares every IF layer i with the ANN value sources[i] computed by
// ex, after each T in ts (increasing). The result has one entry per IF
// layer and T, in layer order then T order. Results do not depend on the
// number of workers.
func CompareLayers(ex Executor, m *snnrt.Model, sources []string, x []float32, n int, ts []int) ([]LayerComparison, error) {
	var layers []int
	var names []string
	for i, l := range m.Layers {
		if l.Kind == snnrt.KindIF {
			if i >= len(sources) || sources[i] == "" {
				return nil, fmt.Errorf("calibrate: IF layer %d (%s) has no ANN source value", i, l.Name)
			}
			layers = append(layers, i)
			names = append(names, sources[i])
		}
	}
	if ex == nil {
		return nil, fmt.Errorf("calibrate: no ANN executor")
	}
	_, kept, err := ex.Forward(x, n, names)
	if err != nil {
		return nil, fmt.Errorf("calibrate: ANN pass: %w", err)
	}
	if err := checkKept(kept, names, n); err != nil {
		return nil, err
	}
	slot := map[int]int{}
	acc := make([][]float32, len(layers)) // accumulated output, [n·size]
	for k, l := range layers {
		slot[l] = k
		acc[k] = make([]float32, n*m.Layers[l].Shape.Len())
		if got, want := len(kept[names[k]].Data), len(acc[k]); got != want {
			return nil, fmt.Errorf("calibrate: layer %d (%s) has %d values, ANN value %q has %d", l, m.Layers[l].Name, want, names[k], got)
		}
	}
	tIndex := map[int]int{}
	for i, t := range ts {
		tIndex[t] = i
	}
	// part[k][ti][img] keeps each image's sums apart so that the reduction
	// below runs in a fixed order.
	part := make([][][]moments, len(layers))
	for k := range part {
		part[k] = make([][]moments, len(ts))
		for ti := range ts {
			part[k][ti] = make([]moments, n)
		}
	}
	cfg := snnrt.Config{T: ts[len(ts)-1], Observe: func(layer, t, first, k int, out []float32) {
		s, ok := slot[layer]
		if !ok {
			return
		}
		l := &m.Layers[layer]
		size := l.Shape.Len()
		a := acc[s][first*size : (first+k)*size]
		for j, v := range out {
			a[j] += v
		}
		ti, ok := tIndex[t]
		if !ok {
			return
		}
		ref := kept[names[s]].Data
		inner := l.Shape.H * l.Shape.W
		burst := float32(max(l.IF.MaxSpikes, 1))
		for img := range k {
			var mo moments
			base := (first + img) * size
			for j := range size {
				th := l.IF.Theta[min(j/inner, len(l.IF.Theta)-1)]
				av := float64(min(max(ref[base+j], 0), th*burst))
				sv := float64(acc[s][base+j]) / float64(t)
				q := float64(th) / float64(t)
				d := sv - av
				mo.n++
				mo.abs += math.Abs(d)
				mo.sa += av
				mo.ss += sv
				mo.saa += av * av
				mo.sss += sv * sv
				mo.sas += av * sv
				if d > q/2 {
					mo.over++
				} else if -d > q/2 {
					mo.under++
				}
			}
			part[s][ti][first+img] = mo
		}
	}}
	if err := simulate(m, x, n, cfg); err != nil {
		return nil, err
	}
	var out []LayerComparison
	for k, l := range layers {
		for ti, t := range ts {
			var mo moments
			for _, p := range part[k][ti] {
				mo.add(p)
			}
			e := LayerComparison{Layer: l, Name: m.Layers[l].Name, T: t, MAE: mo.abs / mo.n, MeanANN: mo.sa / mo.n,
				Over: mo.over / mo.n, Under: mo.under / mo.n}
			cov := mo.sas/mo.n - (mo.sa/mo.n)*(mo.ss/mo.n)
			va := mo.saa/mo.n - (mo.sa/mo.n)*(mo.sa/mo.n)
			vs := mo.sss/mo.n - (mo.ss/mo.n)*(mo.ss/mo.n)
			if va > 0 && vs > 0 {
				e.Correlation = cov / math.Sqrt(va*vs)
			}
			out = append(out, e)
		}
	}
	return out, nil
}
