package snnrt

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
)

// TestBench checks what Bench reports beside the timings against the
// reference Run of all images: SOPs per image, accuracy, spike density
// per IF layer, agreement of the event and dense paths (Run is the dense
// path's definition), and that every engine and hook runs as configured.
func TestBench(t *testing.T) {
	const n, T = 9, 4
	for _, tc := range simNets(t)[:6] {
		src := testImages(tc.m, n, 21)
		ref, err := Run(tc.m, src.x, n, Config{T: T})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			batch, repeat int
			scaling       bool
		}{{4, 1, false}, {0, 2, true}} {
			var refImages, before, passes int
			cfg := BenchConfig{T: T, Batch: c.batch, Repeat: c.repeat, Scaling: c.scaling, ReferenceName: "ref",
				Reference:   func(x []float32, k int) error { refImages += k; return nil },
				BeforeTimed: func() error { before++; return nil },
				Pass:        func(pass, of int, a, b float64) { passes++ }}
			rep, err := Bench(context.Background(), tc.m, src, cfg)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			batch := c.batch
			if batch == 0 {
				batch = DefaultBatch
			}
			// The reference: one warm-up batch, then every image per pass.
			if want := min(batch, n) + c.repeat*n; refImages != want || before != 1 || passes != c.repeat {
				t.Errorf("%s: reference ran %d images (want %d), BeforeTimed %d, Pass %d times", tc.name, refImages, want, before, passes)
			}
			if rep.Images != n || rep.Timesteps != T || rep.Batch != batch || rep.Repeats != c.repeat || rep.ANNReference != "ref" {
				t.Errorf("%s: settings %+v", tc.name, rep)
			}
			if want := float64(ref.SOPs(T)) / n; rep.SOPsPerImage != want {
				t.Errorf("%s: %v SOPs/image, Run %v", tc.name, rep.SOPsPerImage, want)
			}
			if want := float64(countCorrect(ref.Predictions(T), src.labels)) / n; rep.AccuracySNN != want {
				t.Errorf("%s: accuracy %v, Run %v", tc.name, rep.AccuracySNN, want)
			}
			if rep.Agreement != 1 || rep.MaxRelLogitDiff > 1e-5 {
				t.Errorf("%s: event vs dense: agreement %v, max rel logit diff %v", tc.name, rep.Agreement, rep.MaxRelLogitDiff)
			}
			if len(rep.Layers) != len(tc.m.Layers) {
				t.Fatalf("%s: %d layers", tc.name, len(rep.Layers))
			}
			for i, l := range rep.Layers {
				st := ref.Layers[i]
				var want float64
				if st.Neurons > 0 {
					want = float64(st.Spikes) / float64(st.Neurons*n*T)
				}
				if l.Index != i || l.Name != tc.m.Layers[i].Name || l.Neurons != st.Neurons || math.Abs(l.Density-want) > 1e-12 {
					t.Errorf("%s: layer %d: %+v, want density %v", tc.name, i, l, want)
				}
			}
			if rep.SNNImagesPerS <= 0 || rep.DenseImagesPerS <= 0 || rep.ANNImagesPerS <= 0 || (rep.Scaling > 0) != c.scaling {
				t.Errorf("%s: speeds %v, %v, %v; scaling %v", tc.name, rep.SNNImagesPerS, rep.DenseImagesPerS, rep.ANNImagesPerS, rep.Scaling)
			}
		}
	}
}

// TestBenchExit checks the accuracies, mean T and SOPs of BenchExit
// against the definition of the exit policy on the reference Run.
func TestBenchExit(t *testing.T) {
	const n, T, maxT = 8, 3, 6
	for _, tc := range simNets(t)[:6] {
		src := testImages(tc.m, n, 22)
		ref, err := Run(tc.m, src.x, n, Config{T: maxT})
		if err != nil {
			t.Fatal(err)
		}
		p := ExitPolicy{Signal: ExitMargin, Threshold: medianMargin(ref, 2), MinT: 2}
		steps := p.Steps(ref)
		var correct, sops, sum int64
		for i, s := range steps {
			one, err := Run(tc.m, src.x[i*src.per:(i+1)*src.per], 1, Config{T: maxT})
			if err != nil {
				t.Fatal(err)
			}
			sops += one.SOPs(s)
			sum += int64(s)
			if ref.Predictions(s)[i] == src.labels[i] {
				correct++
			}
		}
		fixedSOPs := 0.0
		if small, err := Run(tc.m, src.x, n, Config{T: T}); err == nil {
			fixedSOPs = float64(small.SOPs(T)) / n
		}
		var passes int
		rep, err := BenchExit(context.Background(), tc.m, src, BenchConfig{T: T, Batch: 3, Repeat: 2, Exit: &p, ExitMaxT: maxT,
			Pass: func(pass, of int, fixed, adaptive float64) { passes++ }})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		want := BenchExitReport{Images: n, Policy: p.String(), FixedT: T, MaxT: maxT, Repeats: 2,
			FixedAccuracy:    float64(countCorrect(ref.Predictions(T), src.labels)) / n,
			AdaptiveAccuracy: float64(correct) / n, MeanT: float64(sum) / n, FixedSOPsPerImage: fixedSOPs, AdaptiveSOPs: float64(sops) / n}
		got := *rep
		got.FixedImagesPerS, got.FixedRange, got.AdaptiveImagesPS, got.AdaptiveRange, got.Speedup, got.SpeedupRange = 0, [2]float64{}, 0, [2]float64{}, 0, [2]float64{}
		if got != want || passes != 2 || rep.Speedup <= 0 {
			t.Errorf("%s:\n got %+v\nwant %+v (passes %d)", tc.name, *rep, want, passes)
		}
	}
}

func TestBenchErrors(t *testing.T) {
	m := smallNet(t, 1, false, IF{})
	src := testImages(m, 4, 1)
	refErr := errors.New("reference failed")
	for _, tc := range []struct {
		name  string
		exit  bool // BenchExit instead of Bench
		src   Batches
		cfg   BenchConfig
		setup bool
		is    error
	}{
		{"negative T", false, src, BenchConfig{T: -1}, true, nil},
		{"negative repeat", false, src, BenchConfig{Repeat: -2}, true, nil},
		{"no policy", true, src, BenchConfig{}, true, nil},
		{"reference", false, src, BenchConfig{Reference: func([]float32, int) error { return refErr }}, false, refErr},
		{"data", false, &sliceSource{x: src.x, labels: src.labels, per: src.per, err: refErr}, BenchConfig{}, false, refErr},
	} {
		var err error
		if tc.exit {
			_, err = BenchExit(context.Background(), m, tc.src, tc.cfg)
		} else {
			_, err = Bench(context.Background(), m, tc.src, tc.cfg)
		}
		checkErrorKind(t, tc.name, err, tc.setup, tc.is)
	}
}

func TestMedianRange(t *testing.T) {
	for _, tc := range []struct {
		v   []float64
		med float64
		rg  [2]float64
	}{
		{nil, 0, [2]float64{}},
		{[]float64{3}, 3, [2]float64{3, 3}},
		{[]float64{5, 1, 3}, 3, [2]float64{1, 5}},
		{[]float64{4, 1, 3, 10}, 3.5, [2]float64{1, 10}},
	} {
		v := slices.Clone(tc.v)
		med, rg := medianRange(tc.v)
		if med != tc.med || rg != tc.rg || !slices.Equal(v, tc.v) {
			t.Errorf("medianRange(%v) = %v, %v; want %v, %v (input unchanged)", v, med, rg, tc.med, tc.rg)
		}
	}
}
