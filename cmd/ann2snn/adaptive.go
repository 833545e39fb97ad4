package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"text/tabwriter"

	"github.com/ann2snn/ann2snn/internal/plots"
	"github.com/ann2snn/ann2snn/internal/progress"
	"github.com/ann2snn/ann2snn/snnrt"
)

// recordedExit is snnrt.RecordedExit.
func recordedExit(meta map[string]string) (snnrt.ExitPolicy, int, bool, error) {
	return snnrt.RecordedExit(meta)
}

// exitPolicyFor returns the policy of --exit (flag, if not "") or else the
// one recorded in the model.
func exitPolicyFor(flag, path string, meta map[string]string) (snnrt.ExitPolicy, error) {
	if flag != "" {
		p, err := snnrt.ParseExitPolicy(flag)
		if err != nil {
			return p, &usageError{"--exit: " + err.Error()}
		}
		return p, nil
	}
	p, _, ok, err := recordedExit(meta)
	if err != nil {
		return p, badInput(fmt.Errorf("%s: %w", path, err))
	}
	if !ok {
		return p, &usageError{fmt.Sprintf("%s records no exit policy: run ann2snn calibrate-exit on it first, or pass --exit POLICY (e.g. margin:1.5,min=2)", path)}
	}
	return p, nil
}

// calibrateExitFlags are the flags of "ann2snn calibrate-exit".
type calibrateExitFlags struct {
	dataFlags
	maxT      int
	reference int
	tolerance float64
	criterion string
	out       string
	json      bool
}

// calibrateExitResult is what calibrate-exit prints with --json.
type calibrateExitResult struct {
	Model        string        `json:"model"`
	Output       string        `json:"output"`
	Images       int           `json:"images"`
	Split        string        `json:"split"`
	MaxT         int           `json:"max_t"`
	ReferenceT   int           `json:"reference_t"`
	ReferenceAcc float64       `json:"reference_accuracy"`
	Tolerance    float64       `json:"tolerance_points"`
	Criterion    string        `json:"criterion"`
	Chosen       exitOutcome   `json:"chosen"`
	Best         []exitOutcome `json:"best_per_family"`
	DataInfo     *dataInfo     `json:"data_info,omitempty"`
}

// exitOutcome is how an exit policy does on a set of images; part of the
// JSON contract of calibrate-exit and eval --adaptive.
type exitOutcome struct {
	Policy string  `json:"policy"`
	Acc    float64 `json:"accuracy"`
	MeanT  float64 `json:"mean_t"`
	// Agreement is, from calibrate-exit --criterion agreement, the
	// fraction of images whose answer is the fixed reference run's.
	Agreement float64 `json:"agreement,omitempty"`
}

// outcomesOf returns the JSON form of os.
func outcomesOf(os ...snnrt.ExitOutcome) []exitOutcome {
	out := make([]exitOutcome, len(os))
	for i, o := range os {
		out[i] = exitOutcome{Policy: o.Policy.String(), Acc: o.Accuracy, MeanT: o.MeanT, Agreement: o.Agreement}
	}
	return out
}

// parseCalibrateExit parses the arguments of calibrate-exit into its
// flags, the model path and the calibration settings.
func parseCalibrateExit(args []string, stderr io.Writer) (*calibrateExitFlags, string, snnrt.CalibrateExitConfig, error) {
	var f calibrateExitFlags
	var cfg snnrt.CalibrateExitConfig
	fs := newFlagSet("calibrate-exit", "model.snn", stderr)
	f.register(fs, "train")
	fs.IntVar(&f.maxT, "timesteps", 32, "the largest T of the adaptive runs (every image stops by then)")
	fs.IntVar(&f.reference, "reference", 16, "the fixed T whose accuracy the policy must keep")
	fs.Float64Var(&f.tolerance, "tolerance", 0.1, "what the policy may lose against the fixed --reference T, in percentage points (see --criterion)")
	fs.StringVar(&f.criterion, "criterion", "agreement", "what --tolerance bounds: agreement (images whose adaptive answer differs from the fixed --reference run's, in percent: a bound on the accuracy lost whatever the labels) or accuracy (the accuracy lost on these labels)")
	fs.StringVar(&f.out, "o", "", "write the model with the chosen policy here (required: the input model is never modified)")
	fs.BoolVar(&f.json, "json", false, "print one JSON object on stdout instead of a table")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, "", cfg, err
	}
	if len(pos) != 1 {
		return nil, "", cfg, &usageError{"want exactly one .snn model argument"}
	}
	if err := checkTimesteps(f.maxT); err != nil {
		return nil, "", cfg, err
	}
	if f.reference < 1 || f.reference > f.maxT {
		return nil, "", cfg, &usageError{fmt.Sprintf("--reference %d: want 1..--timesteps (%d)", f.reference, f.maxT)}
	}
	crit, err := snnrt.ParseExitCriterion(f.criterion)
	if err != nil {
		return nil, "", cfg, &usageError{"--criterion: " + err.Error()}
	}
	if !(f.tolerance >= 0) || math.IsInf(f.tolerance, 0) {
		return nil, "", cfg, &usageError{fmt.Sprintf("--tolerance %v: want a finite value ≥ 0", f.tolerance)}
	}
	if f.out == "" {
		return nil, "", cfg, &usageError{"-o is required: calibrate-exit writes the model with the chosen policy to a new file (the input is never modified)"}
	}
	if err := checkOutput("-o", f.out, pos[0]); err != nil {
		return nil, "", cfg, err
	}
	cfg = snnrt.CalibrateExitConfig{MaxT: f.maxT, Reference: f.reference, Tolerance: f.tolerance, Criterion: crit,
		Batch: f.batch, MaxBytes: memoryBudget()}
	return &f, pos[0], cfg, nil
}

func runCalibrateExit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, path, cfg, err := parseCalibrateExit(args, stderr)
	if err != nil {
		return err
	}
	m, err := snnrt.Load(path)
	if err != nil {
		return badInput(err)
	}
	ds, pre, err := f.openFor(path, snnInput(m), m.Metadata)
	if err != nil {
		return err
	}
	if err := checkLabels(ds, m.Layers[m.Output].Shape.Len(), path); err != nil {
		return err
	}
	if !ds.Labeled() || ds.Len() == 0 {
		return badInput(fmt.Errorf("calibrate-exit needs labeled images"))
	}
	bar := progress.New(stderr, "snn", ds.Len())
	cfg.Progress = bar.Add
	rep, err := snnrt.CalibrateExit(ctx, m, dataSource{ds, pre}, cfg)
	if err != nil {
		return calibrateExitErr(err)
	}
	bar.Done()
	chosen := outcomesOf(rep.Chosen)[0]
	res := calibrateExitResult{Model: path, Output: f.out, Images: rep.Images, Split: f.split, MaxT: f.maxT, ReferenceT: f.reference,
		ReferenceAcc: rep.ReferenceAccuracy, Tolerance: f.tolerance, Criterion: f.criterion,
		Chosen: chosen, Best: outcomesOf(rep.Best...), DataInfo: &f.applied}
	if m.Metadata == nil {
		m.Metadata = map[string]string{}
	}
	m.Metadata[snnrt.MetaExitPolicy] = chosen.Policy
	m.Metadata[snnrt.MetaExitMaxT] = strconv.Itoa(f.maxT)
	m.Metadata[snnrt.MetaExitCalibration] = fmt.Sprintf("%s split, %d images: fixed T=%d %.2f%%, adaptive %.2f%% at mean T %.3f (%s tolerance %g points, max T %d)",
		f.split, rep.Images, f.reference, 100*res.ReferenceAcc, 100*chosen.Acc, chosen.MeanT, f.criterion, f.tolerance, f.maxT)
	if err := m.Save(f.out); err != nil {
		return badInput(err)
	}
	if f.json {
		return json.NewEncoder(stdout).Encode(res)
	}
	printCalibrateExit(stdout, &res, cfg.Criterion, f.applied)
	return nil
}

// calibrateExitErr returns the error of calibrate-exit for an error of
// snnrt.CalibrateExit: a missed target says which flags to change.
func calibrateExitErr(err error) error {
	var no *snnrt.NoExitPolicyError
	if !errors.As(err, &no) {
		return runErr(err)
	}
	if no.Criterion == snnrt.ExitAgreement {
		return badInput(fmt.Errorf("no exit policy keeps the answers of fixed T=%d on all but %g%% of these images, not even stopping every image at T=%d (whose answers differ from T=%d's on %.2f%%): use --timesteps %d, --criterion accuracy or a larger --tolerance",
			no.Reference, no.Tolerance, no.MaxT, no.Reference, 100-100*no.MaxTAgreement, no.Reference))
	}
	return badInput(fmt.Errorf("no exit policy keeps the accuracy within %g points of fixed T=%d (%.2f%%) on these images, not even stopping every image at T=%d: raise --timesteps or --tolerance",
		no.Tolerance, no.Reference, 100*no.ReferenceAccuracy, no.MaxT))
}

// printCalibrateExit prints the table of calibrate-exit.
func printCalibrateExit(w io.Writer, res *calibrateExitResult, crit snnrt.ExitCriterion, applied dataInfo) {
	fmt.Fprintln(w, applied)
	fmt.Fprintf(w, "model     %s (%s split, %d images, max T %d)\n", res.Model, res.Split, res.Images, res.MaxT)
	if crit == snnrt.ExitAgreement {
		fmt.Fprintf(w, "target    answers of fixed T=%d (%.2f%% accurate) kept on all but %g%% of the images\n", res.ReferenceT, 100*res.ReferenceAcc, res.Tolerance)
	} else {
		fmt.Fprintf(w, "target    accuracy ≥ fixed T=%d %.2f%% − %g points\n", res.ReferenceT, 100*res.ReferenceAcc, res.Tolerance)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "best of family\taccuracy %\tagreement %\tmean T\t")
	for _, b := range res.Best {
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.3f\t\n", b.Policy, 100*b.Acc, 100*b.Agreement, b.MeanT)
	}
	tw.Flush()
	fmt.Fprintf(w, "chosen    %s: %.2f%% at mean T %.3f, recorded in %s\n", res.Chosen.Policy, 100*res.Chosen.Acc, res.Chosen.MeanT, res.Output)
}

// adaptiveResult is the adaptive part of eval --adaptive --json.
type adaptiveResult struct {
	Policy          string        `json:"policy"`
	MaxT            int           `json:"max_t"`
	Accuracy        float64       `json:"accuracy"`
	MeanT           float64       `json:"mean_t"`
	Histogram       []int64       `json:"t_histogram"` // images that stopped after t = 1..max T steps
	SOPsPerImage    float64       `json:"sops_per_image"`
	MACsPerImage    float64       `json:"macs_per_image"`
	EnergyUJ        float64       `json:"energy_uj_per_image"`
	ImagesPerS      float64       `json:"images_per_s"`
	FixedImagesPerS float64       `json:"fixed_images_per_s"` // the fixed max-T run's speed, same images
	Curves          []exitCurve   `json:"curves"`
	FixedCurve      []exitOutcome `json:"fixed_curve"` // accuracy at every fixed T (mean T = T)
}

// exitCurve is the accuracy against mean T of one family of policies
// (several thresholds), computed from the fixed run's trace.
type exitCurve struct {
	Family string        `json:"family"`
	Points []exitOutcome `json:"points"`
}

// adaptiveEvalResult is eval --adaptive's JSON: the fixed-T evaluation
// and the adaptive one.
type adaptiveEvalResult struct {
	snnEval
	Adaptive adaptiveResult `json:"adaptive"`
}

// checkAdaptiveFlags refuses the eval options --adaptive does not combine
// with.
func checkAdaptiveFlags(f *evalFlags) error {
	if !f.adaptive {
		if f.exit != "" {
			return &usageError{"--exit needs --adaptive"}
		}
		return nil
	}
	switch {
	case f.shardSpec != "":
		return &usageError{"--adaptive cannot be sharded"}
	case f.report, f.logits != "", f.asNIR:
		return &usageError{"--adaptive does not combine with --report, --logits or --as-nir"}
	}
	return nil
}

// evalAdaptive evaluates m on src at the fixed T of ts (one fixed run of
// the largest, whose trace also gives the accuracy-vs-mean-T curves,
// capped at that T) and adaptively with the exit policy (max T: the one
// calibrate-exit recorded with the policy, else the largest of ts),
// image batch by image batch, and prints or writes both. sums receives
// the fixed counts (with the ANN's, already counted).
func evalAdaptive(ctx context.Context, m *snnrt.Model, path string, f *evalFlags, src dataSource, run *evalRun, sums *snnSums, analog bool, stdout, stderr io.Writer) error {
	ts := run.Timesteps
	p, err := exitPolicyFor(f.exit, path, m.Metadata)
	if err != nil {
		return err
	}
	adT := ts[len(ts)-1] // the adaptive run's max T: the calibrated one for the recorded policy
	if _, maxT, ok, _ := recordedExit(m.Metadata); f.exit == "" && ok && maxT > 0 {
		adT = maxT
	}
	bar := progress.New(stderr, "snn", src.Len())
	rep, err := snnrt.Evaluate(ctx, m, src, snnrt.EvalConfig{Timesteps: ts, Batch: f.batch, MaxBytes: memoryBudget(),
		Analog: analog, Exit: &p, ExitMaxT: adT, Progress: bar.Add})
	if err != nil {
		return runErr(err)
	}
	bar.Done()
	sums.addReport(m, rep)
	res := adaptiveEvalResult{snnEval: snnResult(run, sums), Adaptive: adaptiveOf(rep.Adaptive, sums.BusyS, rep.Trace)}
	if f.plotDir != "" {
		if err := writeSNNPlots(f.plotDir, &res.snnEval); err != nil {
			return err
		}
		if err := writeAdaptivePlot(filepath.Join(f.plotDir, "accuracy_vs_mean_t.png"), filepath.Base(path), &res.Adaptive); err != nil {
			return err
		}
	}
	if f.json {
		return json.NewEncoder(stdout).Encode(res)
	}
	printSNNEval(stdout, &res.snnEval)
	printAdaptive(stdout, &res.snnEval, &res.Adaptive)
	return nil
}

// adaptiveOf computes the reported adaptive numbers of ad and the curves
// from tr, the fixed run's trace whose simulation took fixedBusy seconds.
func adaptiveOf(ad *snnrt.AdaptiveCounts, fixedBusy float64, tr *snnrt.ExitTrace) adaptiveResult {
	N, p := float64(ad.Images), ad.Policy
	r := adaptiveResult{Policy: p.String(), MaxT: ad.MaxT, Accuracy: ratio(float64(ad.Correct), N), MeanT: ad.MeanT(),
		Histogram: ad.Steps, SOPsPerImage: ratio(float64(ad.SOPs), N), MACsPerImage: ratio(float64(ad.MACs), N),
		ImagesPerS: ratio(N, ad.Busy.Seconds()), FixedImagesPerS: ratio(N, fixedBusy)}
	r.EnergyUJ = (r.SOPsPerImage*pJPerAC + r.MACsPerImage*pJPerMAC) * 1e-6
	for t := 1; t <= tr.T; t++ {
		c := tr.FixedCorrect(t)
		r.FixedCurve = append(r.FixedCurve, exitOutcome{Policy: fmt.Sprintf("fixed T=%d", t), Acc: ratio(float64(c), N), MeanT: float64(t)})
	}
	// The policy's own family (its min T, stability and patience, several
	// thresholds), and stability alone.
	if p.Signal != snnrt.ExitNone {
		fam := fmt.Sprintf("%s (min=%d, stable=%d", p.Signal, max(p.MinT, 1), max(p.Stable, 1))
		if p.Patience > 0 {
			fam += fmt.Sprintf(", patience=%d", p.Patience)
		}
		c := exitCurve{Family: fam + "), thresholds", Points: outcomesOf(tr.Curve(p, 40)...)}
		r.Curves = append(r.Curves, c)
	}
	c := exitCurve{Family: "arg-max stable for k steps"}
	for k := 1; k <= min(tr.T, 12); k++ {
		c.Points = append(c.Points, outcomesOf(tr.Evaluate(snnrt.ExitPolicy{Stable: k}))...)
	}
	r.Curves = append(r.Curves, c)
	return r
}

func printAdaptive(w io.Writer, fixed *snnEval, r *adaptiveResult) {
	fmt.Fprintf(w, "\nadaptive time: exit policy %s, max T %d\n", r.Policy, r.MaxT)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\taccuracy %\tmean T\tSOPs/image\tMACs/image\tenergy µJ\tvs ANN\timages/s\t")
	for _, s := range fixed.Timesteps {
		fmt.Fprintf(tw, "fixed T=%d\t%.2f\t%d\t%.0f\t%.0f\t%.3f\t%s\t\t\n", s.T, 100*s.Accuracy, s.T, s.SOPsPerImage, s.MACsPerImage, s.EnergyUJ, ratioX(s.EnergyUJ, fixed.ANNEnergyUJ))
	}
	fmt.Fprintf(tw, "fixed T=%d (timed)\t\t\t\t\t\t\t%.1f\t\n", fixed.MaxTimesteps, r.FixedImagesPerS)
	fmt.Fprintf(tw, "adaptive\t%.2f\t%.3f\t%.0f\t%.0f\t%.3f\t%s\t%.1f\t\n", 100*r.Accuracy, r.MeanT, r.SOPsPerImage, r.MACsPerImage, r.EnergyUJ, ratioX(r.EnergyUJ, fixed.ANNEnergyUJ), r.ImagesPerS)
	tw.Flush()
	fmt.Fprint(w, "T histogram (images that stopped after t steps):")
	for t, c := range r.Histogram {
		if c > 0 {
			fmt.Fprintf(w, " %d:%d", t+1, c)
		}
	}
	fmt.Fprintln(w)
	for _, c := range r.Curves {
		fmt.Fprintf(w, "curve %s:", c.Family)
		for _, pt := range c.Points {
			fmt.Fprintf(w, " (%.3f, %.2f%%)", pt.MeanT, 100*pt.Acc)
		}
		fmt.Fprintln(w)
	}
}

// writeAdaptivePlot draws accuracy against mean T: the fixed-T curve and
// the adaptive curves, with the measured adaptive run as its own point.
func writeAdaptivePlot(path, title string, r *adaptiveResult) error {
	series := []plots.Series{outcomeSeries("fixed T", r.FixedCurve)}
	for _, c := range r.Curves {
		series = append(series, outcomeSeries(c.Family, c.Points))
	}
	series = append(series, plots.Series{Name: "adaptive run: " + r.Policy, X: []float64{r.MeanT}, Y: []float64{100 * r.Accuracy}})
	if err := plots.Lines(path, title+": accuracy vs mean time steps", "mean T (steps per image)", "accuracy %", series); err != nil {
		return badInput(err)
	}
	return nil
}

func outcomeSeries(name string, os []exitOutcome) plots.Series {
	os = slices.Clone(os)
	slices.SortStableFunc(os, func(a, b exitOutcome) int {
		switch {
		case a.MeanT < b.MeanT:
			return -1
		case a.MeanT > b.MeanT:
			return 1
		}
		return 0
	})
	s := plots.Series{Name: name}
	for _, o := range os {
		s.X = append(s.X, o.MeanT)
		s.Y = append(s.Y, 100*o.Acc)
	}
	return s
}
