package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/ann2snn/ann2snn/snnrt"
)

// benchAdaptiveResult is what bench --adaptive measures; its JSON form is
// a stable contract.
type benchAdaptiveResult struct {
	Model             string     `json:"model"`
	Images            int        `json:"images"`
	Policy            string     `json:"policy"`
	FixedT            int        `json:"fixed_t"`
	MaxT              int        `json:"max_t"`
	Repeats           int        `json:"repeats"`
	FixedImagesPerS   float64    `json:"fixed_images_per_s"`
	FixedRange        [2]float64 `json:"fixed_images_per_s_range"`
	AdaptiveImagesPS  float64    `json:"adaptive_images_per_s"`
	AdaptiveRange     [2]float64 `json:"adaptive_images_per_s_range"`
	Speedup           float64    `json:"speedup"`
	SpeedupRange      [2]float64 `json:"speedup_range"`
	FixedAccuracy     float64    `json:"fixed_accuracy"`
	AdaptiveAccuracy  float64    `json:"adaptive_accuracy"`
	MeanT             float64    `json:"mean_t"`
	FixedSOPsPerImage float64    `json:"fixed_sops_per_image"`
	AdaptiveSOPs      float64    `json:"adaptive_sops_per_image"`
	DataInfo          *dataInfo  `json:"data_info,omitempty"`
}

// benchAdaptive times the event-driven simulator at the fixed T
// (--timesteps) against the same simulator with the exit policy (max T:
// --max-t, else the calibrated one, else --timesteps), alternating within
// each pass.
func benchAdaptive(ctx context.Context, path string, f *benchFlags, stdout, stderr io.Writer) error {
	m, err := snnrt.Load(path)
	if err != nil {
		return badInput(err)
	}
	p, err := exitPolicyFor(f.exit, path, m.Metadata)
	if err != nil {
		return err
	}
	maxT := f.maxT
	if maxT == 0 {
		_, maxT, _, _ = recordedExit(m.Metadata)
	}
	if maxT == 0 {
		maxT = f.timesteps
	}
	if err := checkTimesteps(maxT); err != nil {
		return err
	}
	ds, x, err := f.benchImages(path, m)
	if err != nil {
		return err
	}
	N, per := ds.Len(), m.Input.Len()
	cfg := snnrt.Config{T: f.timesteps, Workers: f.workers, Chunk: min(f.chunk, N), MaxBytes: memoryBudget()}
	fixed, err := snnrt.NewSimulator(m, cfg)
	if err != nil {
		return badInput(err)
	}
	cfg.T, cfg.Exit = maxT, &p
	adaptive, err := snnrt.NewSimulator(m, cfg)
	if err != nil {
		return badInput(err)
	}
	res := benchAdaptiveResult{Model: path, Images: N, Policy: p.String(), FixedT: f.timesteps, MaxT: maxT, Repeats: f.repeat, DataInfo: &f.applied}
	// One untimed pass of each: warms the workers, gives accuracy and cost.
	var fixedCorrect, adCorrect int
	var fixedSOPs, adSOPs, steps int64
	for b := 0; b < N; b += f.batch {
		n := min(f.batch, N-b)
		rf, err := fixed.RunContext(ctx, x[b*per:(b+n)*per], n)
		if err != nil {
			return err
		}
		ra, err := adaptive.RunContext(ctx, x[b*per:(b+n)*per], n)
		if err != nil {
			return err
		}
		pf, pa := rf.Predictions(f.timesteps), ra.Predictions(maxT)
		for j := range n {
			if ds.Labeled() && pf[j] == ds.Label(b+j) {
				fixedCorrect++
			}
			if ds.Labeled() && pa[j] == ds.Label(b+j) {
				adCorrect++
			}
			steps += int64(ra.Steps[j])
		}
		fixedSOPs += rf.SOPs(f.timesteps)
		adSOPs += ra.SOPs(maxT)
	}
	res.FixedAccuracy, res.AdaptiveAccuracy = ratio(float64(fixedCorrect), float64(N)), ratio(float64(adCorrect), float64(N))
	res.MeanT = ratio(float64(steps), float64(N))
	res.FixedSOPsPerImage, res.AdaptiveSOPs = ratio(float64(fixedSOPs), float64(N)), ratio(float64(adSOPs), float64(N))
	timed := func(s *snnrt.Simulator) (float64, error) {
		t0 := time.Now()
		for b := 0; b < N; b += f.batch {
			n := min(f.batch, N-b)
			if _, err := s.RunContext(ctx, x[b*per:(b+n)*per], n); err != nil {
				return 0, err
			}
		}
		return float64(N) / time.Since(t0).Seconds(), nil
	}
	var fr, ar, sp []float64
	for rep := range f.repeat {
		a, err := timed(adaptive)
		if err != nil {
			return err
		}
		fx, err := timed(fixed)
		if err != nil {
			return err
		}
		fr, ar, sp = append(fr, fx), append(ar, a), append(sp, a/fx)
		fmt.Fprintf(stderr, "bench: pass %d/%d: fixed T=%d %.1f, adaptive %.1f images/s\n", rep+1, f.repeat, f.timesteps, fx, a)
	}
	res.FixedImagesPerS, res.FixedRange = medianRange(fr)
	res.AdaptiveImagesPS, res.AdaptiveRange = medianRange(ar)
	res.Speedup, res.SpeedupRange = medianRange(sp)
	if f.json {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintln(stdout, f.applied)
	fmt.Fprintf(stdout, "model     %s (%d images, %d timed passes)\n", path, N, f.repeat)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\taccuracy %\tmean T\tSOPs/image\timages/s (median)\trange\t")
	fmt.Fprintf(tw, "fixed T=%d\t%.2f\t%d\t%.0f\t%.1f\t%.1f–%.1f\t\n", f.timesteps, 100*res.FixedAccuracy, f.timesteps, res.FixedSOPsPerImage, res.FixedImagesPerS, res.FixedRange[0], res.FixedRange[1])
	fmt.Fprintf(tw, "adaptive %s (max T %d)\t%.2f\t%.3f\t%.0f\t%.1f\t%.1f–%.1f\t\n", res.Policy, maxT, 100*res.AdaptiveAccuracy, res.MeanT, res.AdaptiveSOPs, res.AdaptiveImagesPS, res.AdaptiveRange[0], res.AdaptiveRange[1])
	tw.Flush()
	fmt.Fprintf(stdout, "speedup   %.2fx (range %.2f–%.2f)\n", res.Speedup, res.SpeedupRange[0], res.SpeedupRange[1])
	return nil
}
