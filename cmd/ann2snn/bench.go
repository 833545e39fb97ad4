package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime/pprof"
	"text/tabwriter"
	"time"

	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/atomicfile"
	"github.com/ann2snn/ann2snn/snnrt"
)

// benchFlags are the flags of "ann2snn bench".
type benchFlags struct {
	dataFlags
	timesteps int
	workers   int
	chunk     int
	repeat    int
	json      bool
	annPath   string
	noANN     bool
	scaling   bool
	cpuprof   string
	adaptive  bool   // --adaptive (adaptive.go)
	exit      string // --exit policy (adaptive.go)
	maxT      int    // --max-t (adaptive.go)
}

// defaultBenchImages is the number of images bench times when --limit is 0.
const defaultBenchImages = 256

// benchResult is what bench measures; its JSON form is a stable contract
// (the fields of snnrt.BenchReport, after the model and the data).
type benchResult struct {
	Model    string    `json:"model"`
	Data     string    `json:"data"`
	DataInfo *dataInfo `json:"data_info,omitempty"` // the data and the preprocessing applied
	snnrt.BenchReport
}

// parseBench parses the arguments of bench into its flags and the model
// path.
func parseBench(args []string, stderr io.Writer) (*benchFlags, string, error) {
	var f benchFlags
	fs := newFlagSet("bench", "model.snn", stderr)
	f.register(fs, "test")
	f.registerModelLimit(fs)
	fs.Lookup("limit").Usage = fmt.Sprintf("time the first N images (0 = %d)", defaultBenchImages)
	fs.Lookup("data").Usage += " (default: the model's recorded ann2snn.dataset)"
	fs.IntVar(&f.timesteps, "timesteps", 4, "time steps T")
	fs.IntVar(&f.workers, "workers", 0, "SNN worker goroutines (0 = GOMAXPROCS)")
	fs.IntVar(&f.chunk, "chunk", 0, "images a worker simulates together (0 = the simulator's default)")
	fs.IntVar(&f.repeat, "repeat", 3, "timed passes over the images; engines alternate within a pass")
	fs.BoolVar(&f.json, "json", false, "print one JSON object on stdout instead of a table")
	fs.StringVar(&f.annPath, "ann", "", "the ANN (.onnx) to time (default: the recorded source model)")
	fs.BoolVar(&f.noANN, "no-ann", false, "do not time the ANN executor")
	fs.BoolVar(&f.scaling, "scaling", false, "also time the event simulator with one worker")
	fs.StringVar(&f.cpuprof, "cpuprofile", "", "write a CPU profile of the timed passes to this file")
	fs.BoolVar(&f.adaptive, "adaptive", false, "time adaptive time (the exit policy) against the fixed --timesteps run instead (see docs/adaptive.md)")
	fs.StringVar(&f.exit, "exit", "", "with --adaptive: the exit policy (default: the one calibrate-exit recorded)")
	fs.IntVar(&f.maxT, "max-t", 0, "with --adaptive: the largest T of the adaptive run (0: the calibrated one, else --timesteps)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, "", err
	}
	if len(pos) != 1 {
		return nil, "", &usageError{"want exactly one .snn model argument"}
	}
	if err := checkTimesteps(f.timesteps); err != nil {
		return nil, "", err
	}
	if f.repeat < 1 || f.workers < 0 || f.chunk < 0 {
		return nil, "", &usageError{"--repeat must be positive; --workers, --chunk not negative"}
	}
	return &f, pos[0], nil
}

// config returns the snnrt settings of the flags.
func (f *benchFlags) config() snnrt.BenchConfig {
	return snnrt.BenchConfig{T: f.timesteps, Batch: f.batch, Workers: f.workers, Chunk: f.chunk, Repeat: f.repeat,
		MaxBytes: memoryBudget(), Scaling: f.scaling}
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	f, path, err := parseBench(args, stderr)
	if err != nil {
		return err
	}
	if f.adaptive {
		return benchAdaptive(ctx, path, f, stdout, stderr)
	}
	start := time.Now()
	m, err := snnrt.Load(path)
	if err != nil {
		return badInput(err)
	}
	src, err := f.benchImages(path, m)
	if err != nil {
		return err
	}
	cfg := f.config()
	if !f.noANN {
		if cfg.ReferenceName, cfg.Reference, err = f.benchReference(path, m); err != nil {
			return err
		}
	}
	stopProfile := func() error { return nil }
	defer func() { finishCPUProfile(stopProfile, &err) }()
	cfg.BeforeTimed = func() error {
		stop, err := startCPUProfile(f.cpuprof)
		if err == nil {
			stopProfile = stop
		}
		return err
	}
	cfg.Pass = func(pass, passes int, snn, dense float64) {
		fmt.Fprintf(stderr, "bench: pass %d/%d: snn %.1f, dense %.1f images/s\n", pass, passes, snn, dense)
	}
	rep, err := snnrt.Bench(ctx, m, src, cfg)
	if err != nil {
		return runErr(err)
	}
	res := benchResult{Model: path, Data: f.data, DataInfo: &f.applied, BenchReport: *rep}
	res.ElapsedS = time.Since(start).Seconds()
	if f.json {
		return json.NewEncoder(stdout).Encode(res)
	}
	printBench(stdout, &res)
	return nil
}

// benchReference loads the ANN bench times beside the SNN: --ann, else
// the recorded source model, and returns its name and a function that
// runs it.
func (f *benchFlags) benchReference(path string, m *snnrt.Model) (string, func(x []float32, n int) error, error) {
	ref := f.annPath
	if ref == "" {
		ref = recordedSource(m.Metadata)
	}
	if ref == "" {
		return "", nil, badInput(fmt.Errorf("%s: the source ONNX is not recorded or has changed; pass --ann or --no-ann", path))
	}
	g, err := importer.LoadWith(ref, f.modelOptions())
	if err != nil {
		return "", nil, badInput(err)
	}
	ex, err := newInferenceExecutor(g)
	if err != nil {
		return "", nil, badInput(err)
	}
	return ref, func(x []float32, n int) error { _, err := ex.Run(x, n); return err }, nil
}

func printBench(w io.Writer, r *benchResult) {
	if r.DataInfo != nil {
		fmt.Fprintln(w, r.DataInfo)
	}
	fmt.Fprintf(w, "model     %s\ndata      %s, %d images, batch %d, T=%d, %d workers, %d passes\n",
		r.Model, r.Data, r.Images, r.Batch, r.Timesteps, r.Workers, r.Repeats)
	fmt.Fprintf(w, "\n%-22s %10s  %s\n", "engine", "images/s", "range over passes")
	row := func(name string, v float64, rg [2]float64) {
		fmt.Fprintf(w, "%-22s %10.1f  %.1f .. %.1f\n", name, v, rg[0], rg[1])
	}
	row("snn (event-driven)", r.SNNImagesPerS, r.SNNRange)
	row("snn (dense)", r.DenseImagesPerS, r.DenseRange)
	if r.ANNReference != "" {
		row("ann ("+r.ANNReference+")", r.ANNImagesPerS, r.ANNRange)
	}
	if r.Scaling > 0 {
		fmt.Fprintf(w, "%-22s %10.1f\n", "snn, 1 worker", r.OneWorkerImagesPS)
	}
	if r.SNNPerCPUS > 0 {
		fmt.Fprintf(w, "per CPU second: snn %.1f, dense %.1f, ann %.1f images (ratios %.2fx vs dense, %.2fx vs ANN)\n",
			r.SNNPerCPUS, r.DensePerCPUS, r.ANNPerCPUS, r.SNNOverDenseCPU, r.SNNOverANNCPU)
	}
	fmt.Fprintf(w, "\nratios (median, range):\n  event / dense   %.2fx  (%.2f .. %.2f)\n", r.SNNOverDense, r.SNNOverDenseRange[0], r.SNNOverDenseRange[1])
	if r.ANNReference != "" {
		fmt.Fprintf(w, "  event / ANN     %.2fx  (%.2f .. %.2f)\n", r.SNNOverANN, r.SNNOverANNRange[0], r.SNNOverANNRange[1])
	}
	if r.Scaling > 0 {
		fmt.Fprintf(w, "  %d workers / 1   %.2fx  (%.2f .. %.2f); CPU time per image with %d workers / with 1: %.2f\n",
			r.Workers, r.Scaling, r.ScalingRange[0], r.ScalingRange[1], r.Workers, 1/r.CPUEfficiency)
	}
	fmt.Fprintf(w, "\nSOPs/image %.0f, %.3g SOPs/s, %.3f ns/SOP\n", r.SOPsPerImage, r.SOPsPerS, r.NsPerSOP)
	fmt.Fprintf(w, "allocations: %.0f per batch, %.2f per time step; peak RSS %s (after SNN: %s)\n",
		r.AllocsPerBatch, r.AllocsPerStep, mib(r.PeakRSSBytes), mib(r.SNNPeakRSSBytes))
	fmt.Fprintf(w, "event vs dense: %.2f%% identical predictions, max relative logit difference %.2g; accuracy %.2f%%\n",
		100*r.Agreement, r.MaxRelLogitDiff, 100*r.AccuracySNN)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\nlayer\tkind\tspike density\tevent %\tevent ms\tdense ms\tevent/dense\t")
	for _, l := range r.Layers {
		d := ""
		if l.Kind == "if" {
			d = fmt.Sprintf("%.4f", l.Density)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%.1f\t%.1f\t%.2f\t\n", l.Name, l.Kind, d, 100*l.EventFraction, l.EventMS, l.DenseMS, l.EventVsDense)
	}
	tw.Flush()
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// startCPUProfile starts a CPU profile for path (nothing if path is empty)
// and returns the function that stops it and writes the profile to path,
// atomically like every output of the tool.
func startCPUProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	if _, err := atomicfile.Check(path); err != nil {
		return nil, badInput(fmt.Errorf("--cpuprofile: %w", err))
	}
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile() // returns once the profile is in buf
		return atomicfile.WriteFile(path, buf.Bytes())
	}, nil
}

// finishCPUProfile stops a profile started by startCPUProfile and, if *err
// is nil, sets it to the error of writing the profile. Commands defer it
// with their named error result.
func finishCPUProfile(stop func() error, err *error) {
	if perr := stop(); *err == nil {
		*err = perr
	}
}

// benchImages opens the data set the flags or m's metadata name, limited
// to --limit images (default defaultBenchImages), as the source bench
// reads.
func (f *benchFlags) benchImages(path string, m *snnrt.Model) (dataSource, error) {
	if f.limit == 0 {
		f.limit = defaultBenchImages
	}
	ds, pre, err := f.openFor(path, snnInput(m), m.Metadata)
	if err != nil {
		return dataSource{}, err
	}
	return dataSource{ds, pre}, nil
}
