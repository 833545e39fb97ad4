package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ann2snn/ann2snn/calibrate"
	"github.com/ann2snn/ann2snn/convert"
	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/ann"
	"github.com/ann2snn/ann2snn/internal/plots"
	"github.com/ann2snn/ann2snn/internal/progress"
	"github.com/ann2snn/ann2snn/snnrt"
	"github.com/ann2snn/ann2snn/snnrt/nir"
)

// Energy per operation at 45 nm (Horowitz 2014): an accumulate for each
// synaptic operation of a spike, a multiply-accumulate for dense work.
const (
	pJPerAC  = 0.9
	pJPerMAC = 4.6
)

// snnStep is the accuracy and cost after T steps; part of the JSON contract.
type snnStep struct {
	T            int     `json:"t"`
	Accuracy     float64 `json:"accuracy"`
	Gap          float64 `json:"gap"`
	SOPsPerImage float64 `json:"sops_per_image"`
	MACsPerImage float64 `json:"macs_per_image"`
	EnergyUJ     float64 `json:"energy_uj_per_image"`
}

type snnLayer struct {
	Name       string  `json:"name"`
	Kind       string  `json:"kind"`
	Neurons    int     `json:"neurons"`
	FiringRate float64 `json:"firing_rate"`
}

// snnEval is the result of evaluating an SNN; its JSON form is a stable
// contract for scripts.
type snnEval struct {
	Model        string     `json:"model"`
	Kind         string     `json:"kind"`
	Data         string     `json:"data"`
	Split        string     `json:"split"`
	Images       int        `json:"images"`
	ANNAccuracy  float64    `json:"ann_accuracy"`
	ANNReference string     `json:"ann_reference"`
	ANNMACs      int64      `json:"ann_macs_per_image"`
	ANNEnergyUJ  float64    `json:"ann_energy_uj_per_image"`
	Timesteps    []snnStep  `json:"timesteps"`
	SOPsPerImage float64    `json:"sops_per_image"`
	Layers       []snnLayer `json:"layers"`
	ImagesPerS   float64    `json:"images_per_s"`
	Encoding     string     `json:"encoding"`
	MaxTimesteps int        `json:"max_timesteps"`
	// ElapsedS is the seconds spent simulating (summed over the parts of
	// a merged run, like ImagesPerS).
	ElapsedS float64 `json:"elapsed_s"`
	// Labeled is false for data without labels: the accuracies are then
	// 0 and mean nothing.
	Labeled       bool    `json:"labeled"`
	ANNImagesPerS float64 `json:"ann_images_per_s,omitempty"`
	// Report is the per-layer conversion error (--report).
	Report []calibrate.LayerComparison `json:"report,omitempty"`
	// DataInfo is the data and the preprocessing applied.
	DataInfo *dataInfo `json:"data_info,omitempty"`
}

// parseTimesteps parses "4" or "1,2,4,8".
func parseTimesteps(s string) ([]int, error) {
	var ts []int
	for _, p := range strings.Split(s, ",") {
		t, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("bad time step count %q", p)
		}
		if t < 1 || t > maxTimesteps { // the limit of checkTimesteps
			return nil, fmt.Errorf("%d: want 1..%d", t, maxTimesteps)
		}
		if len(ts) > 0 && t <= ts[len(ts)-1] {
			return nil, fmt.Errorf("time steps must increase: %s", s)
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// snnInput returns the per-image input shape of m, as the data sets give it.
func snnInput(m *snnrt.Model) []int { return []int{m.Input.C, m.Input.H, m.Input.W} }

// snnInfo is what a model says about its evaluation, the same for every
// shard of a run: part of evalRun.
type snnInfo struct {
	ANNMACs      int64  `json:"ann_macs_per_image"`
	Encoding     string `json:"encoding"`
	ANNReference string `json:"ann_reference"` // as reported
	ANNTimed     bool   `json:"ann_timed"`     // the reference is an ONNX model run (its speed is reported)
	// Layers are the IF layers, in model order.
	Layers []snnLayerInfo `json:"layers"`
}

// snnLayerInfo is one IF layer of snnInfo.
type snnLayerInfo struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Neurons int    `json:"neurons"`
}

// snnSums are the exact counts of an SNN evaluation of some images, from
// which snnResult computes every reported number; parts of a sharded run
// add up (see merge.go). Per-T slices follow evalRun.Timesteps.
type snnSums struct {
	Images     int     `json:"images"`
	Correct    []int64 `json:"correct"` // per T: images whose prediction equals the label
	SOPs       []int64 `json:"sops"`    // per T: synaptic operations of steps 1..T, all images
	MACs       []int64 `json:"macs"`    // per T: dense multiply-accumulates of steps 1..T, all images
	Spikes     []int64 `json:"spikes"`  // per IF layer (snnInfo.Layers): spikes over the largest T, all images
	ANNCorrect int64   `json:"ann_correct"`
	BusyS      float64 `json:"busy_s"`     // seconds in the simulator alone
	ANNBusyS   float64 `json:"ann_busy_s"` // seconds in the ANN executor alone (0 for the analog network)
}

func newSNNSums(timesteps, layers int) *snnSums {
	return &snnSums{Correct: make([]int64, timesteps), SOPs: make([]int64, timesteps), MACs: make([]int64, timesteps),
		Spikes: make([]int64, layers)}
}

// add adds o to s; both have the same lengths.
func (s *snnSums) add(o *snnSums) {
	s.Images += o.Images
	for i := range s.Correct {
		s.Correct[i] += o.Correct[i]
		s.SOPs[i] += o.SOPs[i]
		s.MACs[i] += o.MACs[i]
	}
	for i := range s.Spikes {
		s.Spikes[i] += o.Spikes[i]
	}
	s.ANNCorrect += o.ANNCorrect
	s.BusyS += o.BusyS
	s.ANNBusyS += o.ANNBusyS
}

// snnResult computes the reported result of run (Kind "snn") from its
// sums.
func snnResult(run *evalRun, s *snnSums) snnEval {
	info, ts := run.SNN, run.Timesteps
	T := ts[len(ts)-1]
	N := float64(s.Images)
	res := snnEval{Model: run.Model, Kind: "snn", Data: run.Data, Split: run.Split, Images: s.Images,
		ANNAccuracy: ratio(float64(s.ANNCorrect), N), ANNReference: info.ANNReference, ANNMACs: info.ANNMACs,
		ImagesPerS: ratio(N, s.BusyS), Encoding: info.Encoding, MaxTimesteps: T, DataInfo: run.DataInfo,
		ElapsedS: s.BusyS, Labeled: labeled(run.DataInfo)}
	res.ANNEnergyUJ = float64(res.ANNMACs) * pJPerMAC * 1e-6
	if info.ANNTimed {
		res.ANNImagesPerS = ratio(N, s.ANNBusyS)
	}
	for i, t := range ts {
		st := snnStep{T: t, Accuracy: ratio(float64(s.Correct[i]), N), SOPsPerImage: ratio(float64(s.SOPs[i]), N), MACsPerImage: ratio(float64(s.MACs[i]), N)}
		st.Gap = res.ANNAccuracy - st.Accuracy
		st.EnergyUJ = (st.SOPsPerImage*pJPerAC + st.MACsPerImage*pJPerMAC) * 1e-6
		res.Timesteps = append(res.Timesteps, st)
	}
	res.SOPsPerImage = res.Timesteps[len(ts)-1].SOPsPerImage
	for i, l := range info.Layers {
		res.Layers = append(res.Layers, snnLayer{Name: l.Name, Kind: l.Kind, Neurons: l.Neurons,
			FiringRate: ratio(float64(s.Spikes[i]), float64(l.Neurons)*N*float64(T))})
	}
	return res
}

func evalSNN(ctx context.Context, path string, f *evalFlags, stdout, stderr io.Writer) error {
	ts, err := parseTimesteps(f.timesteps)
	if err != nil {
		return &usageError{"--timesteps: " + err.Error()}
	}
	m, err := loadSNN(path, f.asNIR, stderr)
	if err != nil {
		return err
	}
	all, pre, err := f.openFor(path, snnInput(m), m.Metadata)
	if err != nil {
		return err
	}
	if err := checkLabels(all, m.Layers[m.Output].Shape.Len(), path); err != nil {
		return err
	}
	run, err := newEvalRun("snn", path, f, all, pre)
	if err != nil {
		return err
	}
	run.Timesteps, run.AsNIR, run.SNN = ts, f.asNIR, newSNNInfo(m)
	ds, first, err := f.shard.of(all)
	if err != nil {
		return err
	}
	sums := newSNNSums(len(ts), len(run.SNN.Layers))
	sums.Images = ds.Len()
	// The ANN to compare against: --ann, else the recorded source if it is
	// still the same file, else the SNN's own analog network.
	ref := f.ann
	if ref == "" {
		ref = recordedSource(m.Metadata)
	}
	refGraph, err := countReference(ctx, ref, f, ds, pre, &run, sums, stderr)
	if err != nil {
		return err
	}
	if f.adaptive {
		return evalAdaptive(ctx, m, path, f, dataSource{ds, pre}, &run, sums, ref == "", stdout, stderr)
	}
	bar := progress.New(stderr, "snn", ds.Len())
	rep, err := snnrt.Evaluate(ctx, m, dataSource{ds, pre}, snnrt.EvalConfig{Timesteps: ts, Batch: f.batch,
		MaxBytes: memoryBudget(), Analog: ref == "", Logits: f.logits != "", Progress: bar.Add})
	if err != nil {
		return runErr(err)
	}
	bar.Done()
	sums.addReport(m, rep)
	if err := writeLogits(f.logits, rep.Logits); err != nil {
		return err
	}
	if f.shardSpec != "" && f.json {
		return writePart(stdout, &evalPart{Format: partFormat, Run: run, Shard: f.shard.K, First: first, SNN: sums})
	}
	res := snnResult(&run, sums)
	if f.report {
		if refGraph == nil {
			return badInput(fmt.Errorf("--report needs the source ONNX model: pass --ann"))
		}
		if res.Report, err = conversionReport(m, refGraph, ds, pre, f.reportN, ts); err != nil {
			return err
		}
	}
	return writeSNNEval(stdout, f, &res, first, run.Images)
}

// writeSNNEval writes the plots of res (--plot) and prints it: JSON, or
// the table after the shard line (images first.. of total).
func writeSNNEval(stdout io.Writer, f *evalFlags, res *snnEval, first, total int) error {
	if f.plotDir != "" {
		if err := writeSNNPlots(f.plotDir, res); err != nil {
			return err
		}
	}
	if f.json {
		return json.NewEncoder(stdout).Encode(res)
	}
	printShard(stdout, f.shard, first, res.Images, total)
	printSNNEval(stdout, res)
	return nil
}

// loadSNN loads the .snn model at path; with asNIR, it returns the model
// as its NIR export describes it and says on stderr what that changes.
func loadSNN(path string, asNIR bool, stderr io.Writer) (*snnrt.Model, error) {
	m, err := snnrt.Load(path)
	if err != nil {
		return nil, badInput(err)
	}
	if !asNIR {
		return m, nil
	}
	s, losses, err := nir.Semantics(m)
	if err != nil {
		return nil, badInput(fmt.Errorf("%s: as NIR: %w", path, err))
	}
	var reset, v0 int
	for _, l := range losses {
		switch l.Kind {
		case nir.LossReset:
			reset++
		case nir.LossV0:
			v0++
		}
	}
	fmt.Fprintf(stderr, "as NIR: %d IF layers reset to 0 instead of by subtraction, %d start from 0 instead of V0\n", reset, v0)
	s.Metadata = m.Metadata
	return s, nil
}

// newSNNInfo returns what m says about its evaluation; the reference is
// m's analog network until countReference finds the source ONNX.
func newSNNInfo(m *snnrt.Model) *snnInfo {
	info := &snnInfo{ANNMACs: denseMACs(m), Encoding: snnrt.Direct.String(),
		ANNReference: "analog network of the SNN (source ONNX not found; pass --ann)"}
	for _, l := range m.Layers {
		if l.Kind == snnrt.KindIF {
			info.Layers = append(info.Layers, snnLayerInfo{Name: l.Name, Kind: l.Kind.String(), Neurons: l.Shape.Len()})
		}
	}
	return info
}

// countReference evaluates the ANN ref (an ONNX file; nothing when ref
// is "") on ds, adds its correct predictions and busy time to sums,
// records it in run and returns its graph (for --report).
func countReference(ctx context.Context, ref string, f *evalFlags, ds *dataset.Dataset, pre dataset.Preprocess, run *evalRun, sums *snnSums, stderr io.Writer) (*importer.Graph, error) {
	if ref == "" {
		return nil, nil
	}
	var err error
	if run.ANNSHA256, err = fileSHA256(ref); err != nil {
		return nil, badInput(err)
	}
	g, err := importer.LoadWith(ref, f.modelOptions())
	if err != nil {
		return nil, badInput(err)
	}
	ex, err := newInferenceExecutor(g)
	if err != nil {
		return nil, badInput(err)
	}
	c, err := annCount(ctx, ex, ds, pre, f.batch, nil, progress.New(stderr, "ann", ds.Len()))
	if err != nil {
		return nil, err
	}
	sums.ANNCorrect, sums.ANNBusyS = c.correct, c.busy.Seconds()
	run.SNN.ANNReference, run.SNN.ANNTimed = ref, true
	return g, nil
}

// addReport adds the counts of an evaluation of m (its analog network's
// as ANNCorrect) to s; s.Images is the caller's.
func (s *snnSums) addReport(m *snnrt.Model, r *snnrt.EvalReport) {
	for i := range s.Correct {
		s.Correct[i] += r.Correct[i]
		s.SOPs[i] += r.SOPs[i]
		s.MACs[i] += r.MACs[i]
	}
	k := 0
	for i, l := range m.Layers {
		if l.Kind == snnrt.KindIF {
			s.Spikes[k] += r.Spikes[i]
			k++
		}
	}
	s.ANNCorrect += r.AnalogCorrect
	s.BusyS += r.Busy.Seconds()
}

// dataSource is a data set with its preprocessing as an snnrt.Batches.
type dataSource struct {
	ds  *dataset.Dataset
	pre dataset.Preprocess
}

func (s dataSource) Len() int { return s.ds.Len() }

func (s dataSource) Batch(dst []float32, labels []int, start, n int) error {
	if _, err := s.ds.Batch(dst, start, n, s.pre); err != nil {
		return err
	}
	for j := range labels {
		labels[j] = s.ds.Label(start + j)
	}
	return nil
}

// runErr marks the errors of snnrt's runs that the user's input causes (a
// model or settings the simulator refuses, unreadable data) as bad input.
func runErr(err error) error {
	var setup *snnrt.SetupError
	var src *snnrt.SourceError
	if errors.As(err, &setup) || errors.As(err, &src) {
		return badInput(err)
	}
	return err
}

// writeSNNPlots draws accuracy against T and the firing rate per IF layer
// into dir (created if needed).
func writeSNNPlots(dir string, r *snnEval) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return badInput(err)
	}
	ts := make([]int, len(r.Timesteps))
	acc := make([]float64, len(r.Timesteps))
	for i, s := range r.Timesteps {
		ts[i], acc[i] = s.T, s.Accuracy
	}
	title := filepath.Base(r.Model)
	if err := plots.AccuracyVsT(filepath.Join(dir, "accuracy_vs_t.png"), title+": accuracy vs time steps", ts, acc, r.ANNAccuracy); err != nil {
		return err
	}
	names := make([]string, len(r.Layers))
	rates := make([]float64, len(r.Layers))
	for i, l := range r.Layers {
		names[i], rates[i] = l.Name, l.FiringRate
	}
	if len(names) == 0 {
		return nil
	}
	if err := plots.Bars(filepath.Join(dir, "firing_rate.png"), fmt.Sprintf("%s: firing rate per IF layer (T=%d)", title, r.MaxTimesteps), "spikes per neuron per step", names, rates); err != nil {
		return err
	}
	if len(r.Report) == 0 {
		return nil
	}
	var errNames []string
	var mae []float64
	last := r.Report[len(r.Report)-1].T
	for _, e := range r.Report {
		if e.T == last {
			errNames = append(errNames, e.Name)
			mae = append(mae, e.MAE)
		}
	}
	return plots.Bars(filepath.Join(dir, "conversion_error.png"), fmt.Sprintf("%s: conversion error per IF layer (T=%d)", title, last), "mean |rate×θ − ANN activation|", errNames, mae)
}

func printSNNEval(w io.Writer, r *snnEval) {
	if r.DataInfo != nil {
		fmt.Fprintln(w, r.DataInfo)
	}
	fmt.Fprintf(w, "model     %s (SNN)\ndata      %s (%s, %d images)\n", r.Model, r.Data, r.Split, r.Images)
	fmt.Fprintf(w, "ANN       %s (%s), %d MACs/image, %.2f µJ/image\n", percent(r.ANNAccuracy, r.DataInfo), r.ANNReference, r.ANNMACs, r.ANNEnergyUJ)
	unlabeled := r.DataInfo != nil && r.DataInfo.Classes == 0
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "T\taccuracy %\tgap (points)\tSOPs/image\tMACs/image\tenergy µJ\tvs ANN\t")
	for _, s := range r.Timesteps {
		acc, gap := fmt.Sprintf("%.2f", 100*s.Accuracy), fmt.Sprintf("%.2f", 100*s.Gap)
		if unlabeled {
			acc, gap = "n/a", "n/a"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%.0f\t%.0f\t%.3f\t%s\t\n", s.T, acc, gap,
			s.SOPsPerImage, s.MACsPerImage, s.EnergyUJ, ratioX(s.EnergyUJ, r.ANNEnergyUJ))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nfiring rate per IF layer (spikes per neuron per step, T=%d):\n", r.MaxTimesteps)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\tneurons\trate\t")
	for _, l := range r.Layers {
		fmt.Fprintf(tw, "%s\t%d\t%.4f\t\n", l.Name, l.Neurons, l.FiringRate)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nsimulation speed %.1f images/s at T=%d\n", r.ImagesPerS, r.MaxTimesteps)
	if len(r.Report) > 0 {
		printReport(w, r.Report)
	}
}

// conversionReport compares every IF layer of m with the ANN activation it
// replaces (in g, the source ANN; its BatchNorm is folded in place, which
// keeps its function) on the first k images of ds.
func conversionReport(m *snnrt.Model, g *importer.Graph, ds *dataset.Dataset, pre dataset.Preprocess, k int, ts []int) ([]calibrate.LayerComparison, error) {
	if err := convert.FoldBatchNorm(g); err != nil {
		return nil, badInput(err)
	}
	ex, err := ann.New(g)
	if err != nil {
		return nil, badInput(err)
	}
	sources := make([]string, len(m.Layers))
	for i := range sources {
		sources[i] = m.Metadata[convert.SourceKey(i)]
	}
	k = min(max(k, 1), ds.Len())
	x := make([]float32, k*ds.ImageSize())
	if _, err := ds.Batch(x, 0, k, pre); err != nil {
		return nil, badInput(err)
	}
	rep, err := calibrate.CompareLayers(ex, m, sources, x, k, ts)
	if err != nil {
		return nil, badInput(fmt.Errorf("--report: %w (was the model converted by this version?)", err))
	}
	return rep, nil
}

// printReport prints the conversion error table: one row per IF layer, the
// MAE at each T, and correlation and over-/under-firing at the largest T.
func printReport(w io.Writer, rep []calibrate.LayerComparison) {
	var ts []int
	for _, e := range rep {
		if e.Layer != rep[0].Layer {
			break
		}
		ts = append(ts, e.T)
	}
	fmt.Fprintf(w, "\nconversion error per IF layer (ANN activation a vs SNN rate×θ s; MAE = mean |s−a|; over/under: |s−a| > θ/2T, at T=%d):\n", ts[len(ts)-1])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "layer\tmean a\t")
	for _, t := range ts {
		fmt.Fprintf(tw, "MAE T=%d\t", t)
	}
	fmt.Fprintln(tw, "corr\tover %\tunder %\t")
	for i := 0; i < len(rep); i += len(ts) {
		row := rep[i : i+len(ts)]
		last := row[len(row)-1]
		fmt.Fprintf(tw, "%s\t%.4f\t", last.Name, last.MeanANN)
		for _, e := range row {
			fmt.Fprintf(tw, "%.4f\t", e.MAE)
		}
		fmt.Fprintf(tw, "%.3f\t%.1f\t%.1f\t\n", last.Correlation, 100*last.Over, 100*last.Under)
	}
	tw.Flush()
}

// recordedSource returns the source ONNX path recorded at conversion if
// that file still exists with the recorded SHA-256, else "".
func recordedSource(meta map[string]string) string {
	path, want := meta["source.path"], meta[metaSourceSHA256]
	if want == "" {
		want = meta["source.sha256"] // the key of files written before ann2snn.source_sha256
	}
	if path == "" || want == "" {
		return ""
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(raw)
	if hex.EncodeToString(sum[:]) != want {
		return ""
	}
	return path
}

// denseMACs returns the multiply-accumulates of one dense (ANN) pass of
// m's synaptic layers.
func denseMACs(m *snnrt.Model) int64 {
	var total int64
	for _, l := range m.Layers {
		switch l.Kind {
		case snnrt.KindConv, snnrt.KindLinear:
			total += int64(len(l.W)) / int64(l.Shape.C) * int64(l.Shape.Len())
		}
	}
	return total
}

// ratioX formats a/b as "1.23x", or "n/a" when the ratio is not a finite
// number (b = 0: a model without multiply-accumulates, whose ANN energy
// is 0).
func ratioX(a, b float64) string {
	r := a / b
	if b == 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", r)
}
