package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/ann"
	"github.com/ann2snn/ann2snn/internal/atomicfile"
	"github.com/ann2snn/ann2snn/internal/progress"
	"github.com/ann2snn/ann2snn/snnrt"
)

type evalFlags struct {
	dataFlags
	json      bool
	timesteps string
	ann       string
	plotDir   string
	report    bool
	reportN   int
	asNIR     bool
	logits    string
	shardSpec string
	shard     shard  // parsed from shardSpec; 0/1 (all images) when shardSpec is ""
	adaptive  bool   // --adaptive (adaptive.go)
	exit      string // --exit policy (adaptive.go)
	// settings are the values of all flags that can change the numbers
	// (see resultFlag), part of a sharded run's identity.
	settings map[string]string
}

// resultFlag reports whether the eval flag name can change the reported
// numbers; the others only choose outputs or the part of the images.
func resultFlag(name string) bool {
	switch name {
	case "json", "logits", "shard", "plot", "report", "report-images":
		return false
	}
	return true
}

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f evalFlags
	fs := newFlagSet("eval", "model.onnx|model.snn", stderr)
	f.register(fs, "test")
	f.registerModelLimit(fs)
	fs.BoolVar(&f.json, "json", false, "print one JSON object on stdout instead of a table")
	fs.StringVar(&f.timesteps, "timesteps", "1,2,4,8,16,32", "SNN: time steps to read out, one or an increasing list (one simulation of the largest)")
	fs.StringVar(&f.plotDir, "plot", "", "SNN: write accuracy_vs_t.png and firing_rate.png into this directory")
	fs.BoolVar(&f.report, "report", false, "SNN: per-layer conversion error (ANN activation vs firing rate × θ) at each T")
	fs.IntVar(&f.reportN, "report-images", 256, "SNN: images used by --report (the first N of the evaluated set)")
	fs.BoolVar(&f.asNIR, "as-nir", false, "SNN: evaluate the model as its NIR export describes it (reset to zero, no initial potential; see docs/nir.md)")
	fs.StringVar(&f.ann, "ann", "", "SNN: the ANN (.onnx) to compare against (default: the recorded source model)")
	fs.StringVar(&f.logits, "logits", "", "write the output logits to this file: float32 little-endian, row-major images × classes, no header (SNN: the output summed over the largest T steps; divide by T for the ANN scale; with --shard: the shard's images only)")
	fs.StringVar(&f.shardSpec, "shard", "", "evaluate only part K/N (K = 0..N-1) of the images: [K·n/N, (K+1)·n/N) of the n selected after --limit; with --json print a part for \"ann2snn merge\" (see docs/sharding.md)")
	fs.BoolVar(&f.adaptive, "adaptive", false, "SNN: also run adaptive time (each image stops when the exit policy says its answer is settled; max T: the calibrated one, else the largest --timesteps) and report accuracy, mean T, T histogram, SOPs and energy beside the fixed-T rows (see docs/adaptive.md)")
	fs.StringVar(&f.exit, "exit", "", "SNN with --adaptive: the exit policy, e.g. margin:1.5,min=2 or confidence:0.9,stable=2,patience=3 (default: the one calibrate-exit recorded in the model)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"want exactly one model argument"}
	}
	if err := checkAdaptiveFlags(&f); err != nil {
		return err
	}
	path := pos[0]
	f.settings = map[string]string{}
	fs.VisitAll(func(fl *flag.Flag) {
		if resultFlag(fl.Name) {
			f.settings[fl.Name] = fl.Value.String()
		}
	})
	if err := checkOutput("--logits", f.logits, path); err != nil {
		return err
	}
	if f.plotDir != "" { // the files writeSNNPlots writes, checked before the work
		for _, name := range []string{"accuracy_vs_t.png", "firing_rate.png", "conversion_error.png"} {
			if err := checkOutput("--plot", filepath.Join(f.plotDir, name), path); err != nil {
				return err
			}
		}
	}
	if f.reportN < 1 {
		return &usageError{fmt.Sprintf("--report-images %d: want at least 1", f.reportN)}
	}
	f.shard = shard{0, 1}
	if f.shardSpec != "" {
		if f.shard, err = parseShard(f.shardSpec); err != nil {
			return &usageError{"--shard: " + err.Error()}
		}
		switch {
		case f.report:
			return &usageError{"--report cannot be sharded (it compares layers on the first images): run it without --shard"}
		case f.plotDir != "":
			return &usageError{"--plot with --shard: plot the merged result instead (ann2snn merge --plot DIR)"}
		}
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".onnx":
		return evalANN(ctx, path, &f, stdout, stderr)
	case ".snn":
		return evalSNN(ctx, path, &f, stdout, stderr)
	}
	return &usageError{fmt.Sprintf("%s: want a .onnx (ANN) or .snn (SNN) model", path)}
}

// annEval is the result of evaluating an ANN; its JSON form is a stable
// contract for scripts.
type annEval struct {
	Model      string  `json:"model"`
	Kind       string  `json:"kind"`
	Data       string  `json:"data"`
	Split      string  `json:"split"`
	Images     int     `json:"images"`
	Accuracy   float64 `json:"accuracy"`
	ImagesPerS float64 `json:"images_per_s"`
	Batch      int     `json:"batch"`
	// Labeled is false for data without labels: Accuracy is then 0 and
	// means nothing.
	Labeled bool `json:"labeled"`
	// DataInfo is the data and the preprocessing applied.
	DataInfo *dataInfo `json:"data_info,omitempty"`
}

// annSums are the exact counts of an ANN evaluation of some images, from
// which annResult computes every reported number; parts of a sharded run
// add up (see merge.go).
type annSums struct {
	Images  int     `json:"images"`
	Correct int64   `json:"correct"` // images whose argmax equals the label
	BusyS   float64 `json:"busy_s"`  // seconds in the executor alone (data preparation excluded)
}

func (s *annSums) add(o *annSums) {
	s.Images += o.Images
	s.Correct += o.Correct
	s.BusyS += o.BusyS
}

// annResult computes the reported result of run from its sums.
func annResult(run *evalRun, s *annSums) annEval {
	return annEval{Model: run.Model, Kind: "ann", Data: run.Data, Split: run.Split, Images: s.Images,
		Accuracy: ratio(float64(s.Correct), float64(s.Images)), ImagesPerS: ratio(float64(s.Images), s.BusyS), Batch: run.Batch,
		DataInfo: run.DataInfo, Labeled: labeled(run.DataInfo)}
}

// labeled reports whether the evaluated data have labels (info.Classes is
// 0 for unlabeled data; a nil info is taken as labeled).
func labeled(info *dataInfo) bool { return info == nil || info.Classes != 0 }

// percent formats an accuracy as "97.50%", or "n/a (unlabeled data)"
// when info says the data have no labels.
func percent(acc float64, info *dataInfo) string {
	if !labeled(info) {
		return "n/a (unlabeled data)"
	}
	return fmt.Sprintf("%.2f%%", 100*acc)
}

// ratio returns a/b, or 0 when b is 0 (no images, or no time measured).
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// printANNEval prints res as the table of eval and merge.
func printANNEval(w io.Writer, res *annEval) {
	if res.DataInfo != nil {
		fmt.Fprintln(w, res.DataInfo)
	}
	fmt.Fprintf(w, "model     %s (ANN)\ndata      %s (%s, %d images)\naccuracy  %s\nspeed     %.1f images/s (batch %d)\n",
		res.Model, res.Data, res.Split, res.Images, percent(res.Accuracy, res.DataInfo), res.ImagesPerS, res.Batch)
}

// newInferenceExecutor prepares g for inference only (eval, bench and the
// ANN beside an SNN's eval): ann.New, then Winograd F(2×2, 3×3) for the 3×3
// stride-1 convolutions that EnableWinograd allows. Those differ from the
// exact sums by about 1e-6 relative, so EnableWinograd leaves graphs that
// round, compare or cast data (QCFS's Floor) exact; conversion and
// calibration keep ann.New's exact sums.
func newInferenceExecutor(g *importer.Graph) (*ann.Executor, error) {
	ex, err := ann.New(g)
	if err != nil {
		return nil, err
	}
	ex.EnableWinograd()
	return ex, nil
}

func evalANN(ctx context.Context, path string, f *evalFlags, stdout, stderr io.Writer) error {
	g, err := importer.LoadWith(path, f.modelOptions())
	if err != nil {
		return badInput(err)
	}
	ex, err := newInferenceExecutor(g)
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", path, err))
	}
	ds, pre, err := f.openFor(path, ex.InputShape(), g.Meta)
	if err != nil {
		return err
	}
	if err := checkLabels(ds, shapeLen(ex.OutputShape()), path); err != nil {
		return err
	}
	run, err := newEvalRun("ann", path, f, ds, pre)
	if err != nil {
		return err
	}
	ds, first, err := f.shard.of(ds)
	if err != nil {
		return err
	}
	var logits []float32
	var keep *[]float32 // where annCount appends the logits, if wanted
	if f.logits != "" {
		logits = make([]float32, 0, ds.Len()*shapeLen(ex.OutputShape()))
		keep = &logits
	}
	c, err := annCount(ctx, ex, ds, pre, f.batch, keep, progress.New(stderr, "eval", ds.Len()))
	if err != nil {
		return err
	}
	if err := writeLogits(f.logits, logits); err != nil {
		return err
	}
	sums := annSums{Images: ds.Len(), Correct: c.correct, BusyS: c.busy.Seconds()}
	if f.shardSpec != "" && f.json {
		return writePart(stdout, &evalPart{Format: partFormat, Run: run, Shard: f.shard.K, First: first, ANN: &sums})
	}
	res := annResult(&run, &sums)
	if f.json {
		return json.NewEncoder(stdout).Encode(res)
	}
	printShard(stdout, f.shard, first, ds.Len(), run.Images)
	printANNEval(stdout, &res)
	return nil
}

// annBatchLimit returns how many images ex may evaluate at once within
// the memory budget (memoryBudget, else snnrt.DefaultMaxBytes): the
// budget over the values of one image's forward pass, measured by running
// one blank image and keeping every value (an upper bound: the executor
// frees values after their last use).
func annBatchLimit(ex *ann.Executor) (int, error) {
	budget := memoryBudget()
	if budget <= 0 {
		budget = snnrt.DefaultMaxBytes
	}
	var names []string
	for _, n := range ex.Graph().Nodes {
		for _, o := range n.Outputs {
			if o != "" {
				names = append(names, o)
			}
		}
	}
	in := shapeLen(ex.InputShape())
	_, kept, err := ex.Forward(make([]float32, in), 1, names)
	if err != nil {
		return 0, err
	}
	vals := int64(in)
	for _, t := range kept {
		vals += int64(len(t.Data))
	}
	return int(max(1, min(budget/(4*max(vals, 1)), math.MaxInt32))), nil
}

// annCounts are the exact counts of an ANN evaluation.
type annCounts struct {
	correct int64         // images whose argmax equals the label
	busy    time.Duration // time in the executor alone (data preparation excluded)
}

// annCount runs every image of ds through ex and counts the correct top-1
// predictions. If logits is not nil, the output of every image is appended
// to *logits (row-major images × classes).
func annCount(ctx context.Context, ex *ann.Executor, ds *dataset.Dataset, pre dataset.Preprocess, batch int, logits *[]float32, bar *progress.Bar) (annCounts, error) {
	per := shapeLen(ex.InputShape())
	classes := shapeLen(ex.OutputShape())
	batch = min(batch, max(1, ds.Len()))
	if fit, err := annBatchLimit(ex); err != nil {
		return annCounts{}, err
	} else if fit < batch {
		batch = fit // the same outputs, fewer images at a time
	}
	buf := make([]float32, batch*per)
	var c annCounts
	for start := 0; start < ds.Len(); start += batch {
		if err := ctx.Err(); err != nil {
			return c, err
		}
		n := min(batch, ds.Len()-start)
		x := buf[:n*per]
		if _, err := ds.Batch(x, start, n, pre); err != nil {
			return c, badInput(err)
		}
		t0 := time.Now()
		out, err := ex.Run(x, n)
		c.busy += time.Since(t0)
		if err != nil {
			return c, err
		}
		for i := range n {
			if argmax(out[i*classes:(i+1)*classes]) == ds.Label(start+i) {
				c.correct++
			}
		}
		if logits != nil {
			*logits = append(*logits, out[:n*classes]...)
		}
		bar.Add(n)
	}
	bar.Done()
	return c, nil
}

// shapeLen returns the product of the dimensions of s.
func shapeLen(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// checkOutput reports an error when path (the value of flag) cannot be
// an output file, before any work: it is the model itself (usage error),
// or atomicfile.Check refuses it (exit 2: not a regular file, a
// directory, a missing or read-only directory). An empty path is no output
// and passes.
func checkOutput(flag, path, model string) error {
	if path == "" {
		return nil
	}
	if same, _ := samePath(model, path); same {
		return &usageError{fmt.Sprintf("%s %s would overwrite the model", flag, path)}
	}
	if _, err := atomicfile.Check(path); err != nil {
		return badInput(fmt.Errorf("%s: %w", flag, err))
	}
	return nil
}

// writeLogits writes v as float32 little-endian to path, atomically
// (nothing when path is empty).
func writeLogits(path string, v []float32) error {
	if path == "" {
		return nil
	}
	err := atomicfile.Write(path, func(w io.Writer) error {
		var b [4 << 10]byte
		for len(v) > 0 {
			k := min(len(v), len(b)/4)
			for i, x := range v[:k] {
				binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
			}
			if _, err := w.Write(b[:4*k]); err != nil {
				return err
			}
			v = v[k:]
		}
		return nil
	})
	if err != nil {
		return badInput(fmt.Errorf("--logits: %w", err))
	}
	return nil
}

// argmax returns the index of the largest value, the first on ties.
func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
