package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ann2snn/ann2snn/dataset"
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

// exitCriterion is what calibrate-exit's tolerance bounds.
type exitCriterion uint8

const (
	// criterionAgreement bounds the images whose adaptive answer differs
	// from the fixed reference run's (which bounds the accuracy lost on
	// any labels, and does not trust the training labels' ease).
	criterionAgreement exitCriterion = iota
	// criterionAccuracy bounds the accuracy lost on the labels.
	criterionAccuracy
)

func parseCriterion(s string) (exitCriterion, error) {
	switch s {
	case "agreement":
		return criterionAgreement, nil
	case "accuracy":
		return criterionAccuracy, nil
	}
	return 0, fmt.Errorf("%q: want agreement or accuracy", s)
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

func runCalibrateExit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f calibrateExitFlags
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
		return err
	}
	if len(pos) != 1 {
		return &usageError{"want exactly one .snn model argument"}
	}
	path := pos[0]
	if err := checkTimesteps(f.maxT); err != nil {
		return err
	}
	if f.reference < 1 || f.reference > f.maxT {
		return &usageError{fmt.Sprintf("--reference %d: want 1..--timesteps (%d)", f.reference, f.maxT)}
	}
	crit, err := parseCriterion(f.criterion)
	if err != nil {
		return &usageError{"--criterion: " + err.Error()}
	}
	if !(f.tolerance >= 0) || math.IsInf(f.tolerance, 0) {
		return &usageError{fmt.Sprintf("--tolerance %v: want a finite value ≥ 0", f.tolerance)}
	}
	out := f.out
	if out == "" {
		return &usageError{"-o is required: calibrate-exit writes the model with the chosen policy to a new file (the input is never modified)"}
	}
	if err := checkOutput("-o", out, path); err != nil {
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
	tr, err := collectTrace(ctx, m, ds, pre, f.batch, f.maxT, progress.New(stderr, "snn", ds.Len()))
	if err != nil {
		return err
	}
	refCorrect := tr.fixedCorrect(f.reference)
	// need: at least base − tolerance·N/100 images right (labels, or
	// the reference run's answers), rounded up.
	target, base := tr, refCorrect
	if crit == criterionAgreement {
		target, base = tr.relabeled(f.reference), tr.images()
	}
	need := int(math.Ceil(float64(base) - f.tolerance/100*float64(tr.images()) - 1e-9))
	outs := target.outcomes()
	chosen, ok := choose(outs, need)
	if !ok {
		if crit == criterionAgreement {
			return badInput(fmt.Errorf("no exit policy keeps the answers of fixed T=%d on all but %g%% of these images, not even stopping every image at T=%d (whose answers differ from T=%d's on %.2f%%): use --timesteps %d, --criterion accuracy or a larger --tolerance",
				f.reference, f.tolerance, f.maxT, f.reference, 100-100*ratio(float64(target.fixedCorrect(f.maxT)), float64(tr.images())), f.reference))
		}
		return badInput(fmt.Errorf("no exit policy keeps the accuracy within %g points of fixed T=%d (%.2f%%) on these images, not even stopping every image at T=%d: raise --timesteps or --tolerance",
			f.tolerance, f.reference, 100*float64(refCorrect)/float64(tr.images()), f.maxT))
	}
	res := calibrateExitResult{Model: path, Output: out, Images: tr.images(), Split: f.split, MaxT: f.maxT, ReferenceT: f.reference,
		ReferenceAcc: ratio(float64(refCorrect), float64(tr.images())), Tolerance: f.tolerance, Criterion: f.criterion,
		Chosen: tr.reevaluate(chosen), DataInfo: &f.applied}
	res.Chosen.Agreement = agreement(target, chosen, crit)
	for _, fam := range []string{"margin", "confidence", "none"} {
		var sub []exitOutcome
		for _, o := range outs {
			if strings.HasPrefix(o.Policy, fam) {
				sub = append(sub, o)
			}
		}
		if b, ok := choose(sub, need); ok {
			o := tr.reevaluate(b)
			o.Agreement = agreement(target, b, crit)
			res.Best = append(res.Best, o)
		}
	}
	chosen = res.Chosen
	if m.Metadata == nil {
		m.Metadata = map[string]string{}
	}
	m.Metadata[snnrt.MetaExitPolicy] = chosen.Policy
	m.Metadata[snnrt.MetaExitMaxT] = strconv.Itoa(f.maxT)
	m.Metadata[snnrt.MetaExitCalibration] = fmt.Sprintf("%s split, %d images: fixed T=%d %.2f%%, adaptive %.2f%% at mean T %.3f (%s tolerance %g points, max T %d)",
		f.split, tr.images(), f.reference, 100*res.ReferenceAcc, 100*chosen.Acc, chosen.MeanT, f.criterion, f.tolerance, f.maxT)
	if err := m.Save(out); err != nil {
		return badInput(err)
	}
	if f.json {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintln(stdout, f.applied)
	fmt.Fprintf(stdout, "model     %s (%s split, %d images, max T %d)\n", path, f.split, tr.images(), f.maxT)
	if crit == criterionAgreement {
		fmt.Fprintf(stdout, "target    answers of fixed T=%d (%.2f%% accurate) kept on all but %g%% of the images\n", f.reference, 100*res.ReferenceAcc, f.tolerance)
	} else {
		fmt.Fprintf(stdout, "target    accuracy ≥ fixed T=%d %.2f%% − %g points\n", f.reference, 100*res.ReferenceAcc, f.tolerance)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "best of family\taccuracy %\tagreement %\tmean T\t")
	for _, b := range res.Best {
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.3f\t\n", b.Policy, 100*b.Acc, 100*b.Agreement, b.MeanT)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "chosen    %s: %.2f%% at mean T %.3f, recorded in %s\n", chosen.Policy, 100*chosen.Acc, chosen.MeanT, out)
	return nil
}

// adaptiveSums are the counts of an adaptive evaluation.
type adaptiveSums struct {
	Images  int
	Correct int64
	Steps   []int64 // histogram: images that ran t = 1..T steps, index t−1
	SOPs    int64
	MACs    int64
	BusyS   float64
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

// evalAdaptive evaluates m on ds at the fixed T of ts (one fixed run of
// the largest, whose trace also gives the accuracy-vs-mean-T curves,
// capped at that T) and adaptively with the exit policy (max T: the one
// calibrate-exit recorded with the policy, else the largest of ts),
// image batch by image batch, and prints or writes both. sums receives
// the fixed counts (with the ANN's, already counted).
func evalAdaptive(ctx context.Context, m *snnrt.Model, path string, f *evalFlags, ds *dataset.Dataset, pre dataset.Preprocess, run *evalRun, sums *snnSums, analog bool, stdout, stderr io.Writer) error {
	ts := run.Timesteps
	T := ts[len(ts)-1]
	p, err := exitPolicyFor(f.exit, path, m.Metadata)
	if err != nil {
		return err
	}
	adT := T // the adaptive run's max T: the calibrated one for the recorded policy
	if _, maxT, ok, _ := recordedExit(m.Metadata); f.exit == "" && ok && maxT > 0 {
		adT = maxT
	}
	fixedSim, err := snnrt.NewSimulator(m, snnrt.Config{T: T, MaxBytes: memoryBudget()})
	if err != nil {
		return badInput(err)
	}
	adSim, err := snnrt.NewSimulator(m, snnrt.Config{T: adT, MaxBytes: memoryBudget(), Exit: &p})
	if err != nil {
		return badInput(err)
	}
	tr := &trace{T: T, classes: m.Layers[m.Output].Shape.Len()}
	ad := adaptiveSums{Steps: make([]int64, adT)}
	per := m.Input.Len()
	buf := make([]float32, f.batch*per)
	labels := make([]int, f.batch)
	bar := progress.New(stderr, "snn", ds.Len())
	for start := 0; start < ds.Len(); start += f.batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(f.batch, ds.Len()-start)
		x := buf[:n*per]
		if _, err := ds.Batch(x, start, n, pre); err != nil {
			return badInput(err)
		}
		for j := range n {
			labels[j] = ds.Label(start + j)
		}
		t0 := time.Now()
		r, err := fixedSim.RunContext(ctx, x, n)
		sums.BusyS += time.Since(t0).Seconds()
		if err != nil {
			return err
		}
		addFixedSums(m, r, ts, labels[:n], sums)
		tr.add(r, labels[:n])
		t0 = time.Now()
		a, err := adSim.RunContext(ctx, x, n)
		ad.BusyS += time.Since(t0).Seconds()
		if err != nil {
			return err
		}
		ad.Images += n
		for j, pr := range a.Predictions(adT) {
			if pr == labels[j] {
				ad.Correct++
			}
			ad.Steps[a.Steps[j]-1]++
		}
		ad.SOPs += a.SOPs(adT)
		ad.MACs += a.MACs(adT)
		if analog {
			y, err := m.Analog(x, n)
			if err != nil {
				return err
			}
			c := len(y) / n
			for j := range n {
				if argmax(y[j*c:(j+1)*c]) == labels[j] {
					sums.ANNCorrect++
				}
			}
		}
		bar.Add(n)
	}
	bar.Done()
	fixed := snnResult(run, sums)
	res := adaptiveEvalResult{snnEval: fixed, Adaptive: adaptiveOf(p, adT, &ad, sums.BusyS, tr)}
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

// addFixedSums adds a fixed run's counts at each T of ts to s: correct
// predictions against labels (one per image of r), SOPs, MACs and the
// spikes of each IF layer.
func addFixedSums(m *snnrt.Model, r *snnrt.Result, ts []int, labels []int, s *snnSums) {
	for i, t := range ts {
		for j, p := range r.Predictions(t) {
			if p == labels[j] {
				s.Correct[i]++
			}
		}
		s.SOPs[i] += r.SOPs(t)
		s.MACs[i] += r.MACs(t)
	}
	k := 0
	for i, l := range r.Layers {
		if m.Layers[i].Kind == snnrt.KindIF {
			s.Spikes[k] += l.Spikes
			k++
		}
	}
}

// adaptiveOf computes the reported adaptive numbers and the curves.
func adaptiveOf(p snnrt.ExitPolicy, T int, ad *adaptiveSums, fixedBusy float64, tr *trace) adaptiveResult {
	N := float64(ad.Images)
	var steps int64
	for t, c := range ad.Steps {
		steps += int64(t+1) * c
	}
	r := adaptiveResult{Policy: p.String(), MaxT: T, Accuracy: ratio(float64(ad.Correct), N), MeanT: ratio(float64(steps), N),
		Histogram: ad.Steps, SOPsPerImage: ratio(float64(ad.SOPs), N), MACsPerImage: ratio(float64(ad.MACs), N),
		ImagesPerS: ratio(N, ad.BusyS), FixedImagesPerS: ratio(N, fixedBusy)}
	r.EnergyUJ = (r.SOPsPerImage*pJPerAC + r.MACsPerImage*pJPerMAC) * 1e-6
	for t := 1; t <= tr.T; t++ {
		c := tr.fixedCorrect(t)
		r.FixedCurve = append(r.FixedCurve, exitOutcome{Policy: fmt.Sprintf("fixed T=%d", t), Correct: c, Acc: ratio(float64(c), N), MeanT: float64(t)})
	}
	// The policy's own family (its min T and stability, several
	// thresholds), and stability alone.
	if p.Signal != snnrt.ExitNone {
		c := exitCurve{Family: fmt.Sprintf("%s (min=%d, stable=%d), thresholds", p.Signal, max(p.MinT, 1), max(p.Stable, 1)),
			Points: tr.curve(p, 40)}
		r.Curves = append(r.Curves, c)
	}
	c := exitCurve{Family: "arg-max stable for k steps"}
	for k := 1; k <= min(tr.T, 12); k++ {
		c.Points = append(c.Points, tr.evaluate(snnrt.ExitPolicy{Stable: k}, false))
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
