package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/ann2snn/ann2snn/finetune"
	"github.com/ann2snn/ann2snn/internal/plots"
)

// gradFlags are finetune's gradient-report and adaptive-surrogate flags.
type gradFlags struct {
	report     bool
	surrogates string
	every      int
	plot       string
	directions int
	images     int
	eps        float64
	weights    bool
	anneal     float64
	autoWidth  bool
}

func (g *gradFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&g.report, "grad-report", false, "measure the surrogate gradient against finite differences of the spiking loss (per IF layer and step: norm, cosine, size ratio) at the start, print it and exit without training")
	fs.StringVar(&g.surrogates, "grad-surrogates", "", "with --grad-report: compare these surrogates (comma-separated, as --surrogate) against one finite-difference reference")
	fs.IntVar(&g.every, "grad-every", 0, "during training, measure the gradient report every N steps, at the start and at the end (0 = never)")
	fs.StringVar(&g.plot, "grad-plot", "", "with --grad-every: write a PNG of each IF layer's cosine (mean over steps) against the training step")
	fs.IntVar(&g.directions, "grad-directions", 8, "gradient report: random directions per probe")
	fs.IntVar(&g.images, "grad-images", 0, "gradient report: training images measured on, in whole batches (0 = one batch)")
	fs.Float64Var(&g.eps, "grad-eps", 0.2, "gradient report: perturbation std relative to the threshold (inputs) or the weights' rms")
	fs.BoolVar(&g.weights, "grad-weights", false, "gradient report: also probe every conv and linear weight tensor")
	fs.Float64Var(&g.anneal, "width-anneal", 0, "anneal the surrogate's width from A times its width to its width over training (cosine; 0 or 1 = fixed)")
	fs.BoolVar(&g.autoWidth, "auto-width", false, "choose a surrogate width factor per IF layer (0.25..4) by agreement with finite differences before training (Dspike-style)")
}

// check validates the flags.
func (g *gradFlags) check() error {
	switch {
	case g.every < 0 || g.images < 0:
		return &usageError{"--grad-every and --grad-images must not be negative"}
	case g.directions < 1:
		return &usageError{"--grad-directions must be at least 1"}
	case g.plot != "" && g.every == 0:
		return &usageError{"--grad-plot needs --grad-every"}
	case g.surrogates != "" && !g.report:
		return &usageError{"--grad-surrogates needs --grad-report"}
	}
	if err := checkFloatFlag("grad-eps", g.eps, 1e-6, 10); err != nil {
		return err
	}
	if g.anneal > 0 && g.anneal < 1 {
		return &usageError{fmt.Sprintf("--width-anneal %v: want 0 (off) or a factor ≥ 1", g.anneal)}
	}
	return checkFloatFlag("width-anneal", g.anneal, 0, 1e3)
}

func (g *gradFlags) reportConfig(seed uint64) finetune.ReportConfig {
	return finetune.ReportConfig{Directions: g.directions, Epsilon: float32(g.eps), Images: g.images, Seed: seed, Weights: g.weights}
}

// compare runs --grad-report: one report per --grad-surrogates entry
// (or the configured surrogate), printed as tables or, with asJSON, as
// {"reports": [...]}.
func (g *gradFlags) compare(ctx context.Context, tr *finetune.Trainer, seed uint64, w io.Writer, asJSON bool) error {
	var surs []finetune.Surrogate
	if g.surrogates != "" {
		for _, s := range strings.Split(g.surrogates, ",") {
			sur, err := finetune.ParseSurrogate(s)
			if err != nil {
				return &usageError{"--grad-surrogates: " + err.Error()}
			}
			surs = append(surs, sur)
		}
	}
	reps, err := tr.GradReports(ctx, g.reportConfig(seed), surs)
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(w).Encode(struct {
			Reports []*finetune.GradReport `json:"reports"`
		}{reps})
	}
	for _, r := range reps {
		printGradReport(w, r)
	}
	return nil
}

// printGradReport writes rep as a table.
func printGradReport(w io.Writer, rep *finetune.GradReport) {
	fmt.Fprintf(w, "gradient report at epoch %d step %d: surrogate %s, loss %.4f, %d images, %d directions, eps %.3g\n",
		rep.Epoch+1, rep.Step, rep.Surrogate, rep.Loss, rep.Images, rep.Directions, rep.Epsilon)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\tname\tof\tstep\t|grad|\tcosine\tratio\t")
	for _, p := range rep.Probes {
		step := fmt.Sprint(p.Step)
		if p.Step < 0 {
			step = "all"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%.3g\t%.3f\t%.3g\t\n", p.Layer, p.Name, p.What, step, p.Norm, p.Cosine, p.Ratio)
	}
	tw.Flush()
	fmt.Fprintf(w, "mean cosine: inputs %.3f", rep.MeanCosine)
	if rep.MeanCosineW != 0 {
		fmt.Fprintf(w, ", weights %.3f", rep.MeanCosineW)
	}
	fmt.Fprintln(w)
}

// plotGradSeries draws each IF layer's cosine (mean over its steps)
// against the global training step of each report.
func plotGradSeries(path string, reps []*finetune.GradReport, stepsPerEpoch int) error {
	byLayer := map[int]*plots.Series{}
	for _, r := range reps {
		sum, cnt := map[int]float64{}, map[int]int{}
		names := map[int]string{}
		for _, p := range r.Probes {
			if p.What != "input" {
				continue
			}
			sum[p.Layer] += p.Cosine
			cnt[p.Layer]++
			names[p.Layer] = p.Name
		}
		for l, s := range sum {
			se := byLayer[l]
			if se == nil {
				se = &plots.Series{Name: names[l]}
				byLayer[l] = se
			}
			se.X = append(se.X, float64(r.Epoch*stepsPerEpoch+r.Step))
			se.Y = append(se.Y, s/float64(cnt[l]))
		}
	}
	layers := make([]int, 0, len(byLayer))
	for l := range byLayer {
		layers = append(layers, l)
	}
	sort.Ints(layers)
	series := make([]plots.Series, len(layers))
	for i, l := range layers {
		series[i] = *byLayer[l]
	}
	return plots.Lines(path, "surrogate vs finite-difference gradient", "training step", "cosine (mean over time steps)", series)
}
