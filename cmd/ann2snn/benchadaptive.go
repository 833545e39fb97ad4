package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/ann2snn/ann2snn/snnrt"
)

// benchAdaptiveResult is what bench --adaptive measures; its JSON form is
// a stable contract (the fields of snnrt.BenchExitReport, between the
// model and the data).
type benchAdaptiveResult struct {
	Model string `json:"model"`
	snnrt.BenchExitReport
	DataInfo *dataInfo `json:"data_info,omitempty"`
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
	src, err := f.benchImages(path, m)
	if err != nil {
		return err
	}
	cfg := f.config()
	cfg.Scaling, cfg.Exit, cfg.ExitMaxT = false, &p, maxT
	cfg.Pass = func(pass, passes int, fixed, adaptive float64) {
		fmt.Fprintf(stderr, "bench: pass %d/%d: fixed T=%d %.1f, adaptive %.1f images/s\n", pass, passes, f.timesteps, fixed, adaptive)
	}
	rep, err := snnrt.BenchExit(ctx, m, src, cfg)
	if err != nil {
		return runErr(err)
	}
	res := benchAdaptiveResult{Model: path, BenchExitReport: *rep, DataInfo: &f.applied}
	if f.json {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintln(stdout, f.applied)
	fmt.Fprintf(stdout, "model     %s (%d images, %d timed passes)\n", path, res.Images, f.repeat)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\taccuracy %\tmean T\tSOPs/image\timages/s (median)\trange\t")
	fmt.Fprintf(tw, "fixed T=%d\t%.2f\t%d\t%.0f\t%.1f\t%.1f–%.1f\t\n", f.timesteps, 100*res.FixedAccuracy, f.timesteps, res.FixedSOPsPerImage, res.FixedImagesPerS, res.FixedRange[0], res.FixedRange[1])
	fmt.Fprintf(tw, "adaptive %s (max T %d)\t%.2f\t%.3f\t%.0f\t%.1f\t%.1f–%.1f\t\n", res.Policy, maxT, 100*res.AdaptiveAccuracy, res.MeanT, res.AdaptiveSOPs, res.AdaptiveImagesPS, res.AdaptiveRange[0], res.AdaptiveRange[1])
	tw.Flush()
	fmt.Fprintf(stdout, "speedup   %.2fx (range %.2f–%.2f)\n", res.Speedup, res.SpeedupRange[0], res.SpeedupRange[1])
	return nil
}
