package snnrt

import (
	"context"
	"fmt"
)

// BenchExitReport is what BenchExit measures: the fixed run at T against
// the adaptive run with the exit policy. Speeds are the median over the
// passes with their [min, max] range. Its JSON form is part of the
// "ann2snn bench --adaptive --json" contract.
type BenchExitReport struct {
	Images int `json:"images"`
	// Policy is ExitPolicy.String() of the policy timed.
	Policy           string     `json:"policy"`
	FixedT           int        `json:"fixed_t"`
	MaxT             int        `json:"max_t"`
	Repeats          int        `json:"repeats"`
	FixedImagesPerS  float64    `json:"fixed_images_per_s"`
	FixedRange       [2]float64 `json:"fixed_images_per_s_range"`
	AdaptiveImagesPS float64    `json:"adaptive_images_per_s"`
	AdaptiveRange    [2]float64 `json:"adaptive_images_per_s_range"`
	// Speedup is adaptive over fixed images per second, per pass.
	Speedup           float64    `json:"speedup"`
	SpeedupRange      [2]float64 `json:"speedup_range"`
	FixedAccuracy     float64    `json:"fixed_accuracy"`
	AdaptiveAccuracy  float64    `json:"adaptive_accuracy"`
	MeanT             float64    `json:"mean_t"`
	FixedSOPsPerImage float64    `json:"fixed_sops_per_image"`
	AdaptiveSOPs      float64    `json:"adaptive_sops_per_image"`
}

// BenchExit times the event-driven Simulator at the fixed cfg.T against
// the same simulator with the exit policy cfg.Exit (max T: cfg.ExitMaxT,
// else cfg.T) on the images of src, read into memory first: one untimed
// pass of each (warm-up; accuracy, mean T and SOPs), then cfg.Repeat
// timed passes, adaptive then fixed in each. It is
// "ann2snn bench --adaptive".
func BenchExit(ctx context.Context, m *Model, src Batches, cfg BenchConfig) (*BenchExitReport, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.Exit == nil {
		return nil, &SetupError{fmt.Errorf("snnrt: BenchExit: no exit policy")}
	}
	maxT := cfg.ExitMaxT
	if maxT == 0 {
		maxT = cfg.T
	}
	x, labels, err := readAll(m, src)
	if err != nil {
		return nil, err
	}
	N, per := len(labels), m.Input.Len()
	simCfg := Config{T: cfg.T, Workers: cfg.Workers, Chunk: min(cfg.Chunk, N), MaxBytes: cfg.MaxBytes}
	fixed, err := NewSimulator(m, simCfg)
	if err != nil {
		return nil, &SetupError{err}
	}
	p := *cfg.Exit
	simCfg.T, simCfg.Exit = maxT, &p
	adaptive, err := NewSimulator(m, simCfg)
	if err != nil {
		return nil, &SetupError{err}
	}
	rep := &BenchExitReport{Images: N, Policy: p.String(), FixedT: cfg.T, MaxT: maxT, Repeats: cfg.Repeat}
	if err := rep.warmUp(ctx, fixed, adaptive, x, labels, per, cfg.Batch); err != nil {
		return nil, err
	}
	if cfg.BeforeTimed != nil {
		if err := cfg.BeforeTimed(); err != nil {
			return nil, err
		}
	}
	var fr, ar, sp []float64
	for pass := range cfg.Repeat {
		a, _, err := timePass(ctx, x, per, cfg.Batch, runner(ctx, adaptive))
		if err != nil {
			return nil, err
		}
		fx, _, err := timePass(ctx, x, per, cfg.Batch, runner(ctx, fixed))
		if err != nil {
			return nil, err
		}
		fr, ar, sp = append(fr, fx), append(ar, a), append(sp, a/fx)
		if cfg.Pass != nil {
			cfg.Pass(pass+1, cfg.Repeat, fx, a)
		}
	}
	rep.FixedImagesPerS, rep.FixedRange = medianRange(fr)
	rep.AdaptiveImagesPS, rep.AdaptiveRange = medianRange(ar)
	rep.Speedup, rep.SpeedupRange = medianRange(sp)
	return rep, nil
}

// warmUp runs one untimed pass of the fixed and adaptive simulators (it
// warms their workers) and sets the accuracies, mean T and SOPs of rep.
func (rep *BenchExitReport) warmUp(ctx context.Context, fixed, adaptive *Simulator, x []float32, labels []int, per, batch int) error {
	N := len(labels)
	var fixedCorrect, adCorrect int
	var fixedSOPs, adSOPs, steps int64
	for b := 0; b < N; b += batch {
		n := min(batch, N-b)
		rf, err := fixed.RunContext(ctx, x[b*per:(b+n)*per], n)
		if err != nil {
			return err
		}
		ra, err := adaptive.RunContext(ctx, x[b*per:(b+n)*per], n)
		if err != nil {
			return err
		}
		pf, pa := rf.Predictions(rep.FixedT), ra.Predictions(rep.MaxT)
		for j := range n {
			if pf[j] == labels[b+j] {
				fixedCorrect++
			}
			if pa[j] == labels[b+j] {
				adCorrect++
			}
			steps += int64(ra.Steps[j])
		}
		fixedSOPs += rf.SOPs(rep.FixedT)
		adSOPs += ra.SOPs(rep.MaxT)
	}
	rep.FixedAccuracy, rep.AdaptiveAccuracy = ratio(float64(fixedCorrect), float64(N)), ratio(float64(adCorrect), float64(N))
	rep.MeanT = ratio(float64(steps), float64(N))
	rep.FixedSOPsPerImage, rep.AdaptiveSOPs = ratio(float64(fixedSOPs), float64(N)), ratio(float64(adSOPs), float64(N))
	return nil
}
