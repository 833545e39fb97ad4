package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/ann"
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

// benchLayer is the activity and cost of one layer; part of the JSON
// contract of bench.
type benchLayer struct {
	Index         int     `json:"index"`
	Name          string  `json:"name"`
	Kind          string  `json:"kind"`
	Neurons       int     `json:"neurons,omitempty"`
	Density       float64 `json:"spike_density,omitempty"`
	EventFraction float64 `json:"event_fraction"`
	EventMS       float64 `json:"event_ms"`
	DenseMS       float64 `json:"dense_ms"`
	EventVsDense  float64 `json:"event_time_over_dense"`
}

// benchResult is what bench measures; its JSON form is a stable contract.
type benchResult struct {
	Model             string       `json:"model"`
	Data              string       `json:"data"`
	DataInfo          *dataInfo    `json:"data_info,omitempty"` // the data and the preprocessing applied
	Images            int          `json:"images"`
	Timesteps         int          `json:"timesteps"`
	Batch             int          `json:"batch"`
	Workers           int          `json:"workers"`
	Repeats           int          `json:"repeats"`
	SNNImagesPerS     float64      `json:"snn_images_per_s"`
	SNNRange          [2]float64   `json:"snn_images_per_s_range"`
	DenseImagesPerS   float64      `json:"dense_images_per_s"`
	DenseRange        [2]float64   `json:"dense_images_per_s_range"`
	ANNImagesPerS     float64      `json:"ann_images_per_s"`
	ANNRange          [2]float64   `json:"ann_images_per_s_range"`
	ANNReference      string       `json:"ann_reference"`
	SNNOverDense      float64      `json:"snn_over_dense"`
	SNNOverDenseRange [2]float64   `json:"snn_over_dense_range"`
	SNNOverANN        float64      `json:"snn_over_ann"`
	SNNOverANNRange   [2]float64   `json:"snn_over_ann_range"`
	SNNPerCPUS        float64      `json:"snn_images_per_cpu_s"`
	DensePerCPUS      float64      `json:"dense_images_per_cpu_s"`
	ANNPerCPUS        float64      `json:"ann_images_per_cpu_s"`
	SNNOverDenseCPU   float64      `json:"snn_over_dense_cpu"`
	SNNOverANNCPU     float64      `json:"snn_over_ann_cpu"`
	OneWorkerImagesPS float64      `json:"snn_images_per_s_1worker,omitempty"`
	OneWorkerPerCPUS  float64      `json:"snn_images_per_cpu_s_1worker,omitempty"`
	CPUEfficiency     float64      `json:"parallel_cpu_efficiency,omitempty"`
	Scaling           float64      `json:"scaling,omitempty"`
	ScalingRange      [2]float64   `json:"scaling_range"`
	SOPsPerImage      float64      `json:"sops_per_image"`
	SOPsPerS          float64      `json:"sops_per_s"`
	NsPerSOP          float64      `json:"ns_per_sop"`
	AllocsPerBatch    float64      `json:"allocs_per_batch"`
	AllocsPerStep     float64      `json:"allocs_per_step"`
	PeakRSSBytes      int64        `json:"peak_rss_bytes"`
	SNNPeakRSSBytes   int64        `json:"snn_peak_rss_bytes"`
	Agreement         float64      `json:"prediction_agreement_with_dense"`
	MaxRelLogitDiff   float64      `json:"max_rel_logit_diff"`
	AccuracySNN       float64      `json:"snn_accuracy"`
	Layers            []benchLayer `json:"layers"`
	ElapsedS          float64      `json:"elapsed_s"`
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
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
		return err
	}
	if len(pos) != 1 {
		return &usageError{"want exactly one .snn model argument"}
	}
	if err := checkTimesteps(f.timesteps); err != nil {
		return err
	}
	if f.repeat < 1 || f.workers < 0 || f.chunk < 0 {
		return &usageError{"--repeat must be positive; --workers, --chunk not negative"}
	}
	if f.adaptive {
		return benchAdaptive(ctx, pos[0], &f, stdout, stderr)
	}
	start := time.Now()
	path := pos[0]
	m, err := snnrt.Load(path)
	if err != nil {
		return badInput(err)
	}
	ds, x, err := f.benchImages(path, m)
	if err != nil {
		return err
	}
	N, per := ds.Len(), m.Input.Len()
	res := benchResult{Model: path, Data: f.data, DataInfo: &f.applied, Images: N, Timesteps: f.timesteps, Batch: f.batch,
		Workers: f.workers, Repeats: f.repeat}
	if res.Workers == 0 {
		res.Workers = runtime.GOMAXPROCS(0)
	}
	// The chunk is at most the images; the simulators shrink it further to
	// fit the memory budget.
	cfg := snnrt.Config{T: f.timesteps, Workers: f.workers, Chunk: min(f.chunk, N), Profile: true, MaxBytes: memoryBudget()}
	event, err := snnrt.NewSimulator(m, cfg)
	if err != nil {
		return badInput(err)
	}
	cfg.Dense = true
	dense, err := snnrt.NewSimulator(m, cfg)
	if err != nil {
		return badInput(err)
	}
	var one *snnrt.Simulator
	if f.scaling {
		cfg.Dense, cfg.Workers = false, 1
		if one, err = snnrt.NewSimulator(m, cfg); err != nil {
			return badInput(err)
		}
	}

	// One untimed pass of each engine: warms caches and workers, and gives
	// the statistics and the agreement between event and dense paths.
	classes := m.Layers[m.Output].Shape.Len()
	evLogits, denseLogits := make([]float32, 0, N*classes), make([]float32, 0, N*classes)
	spikes := make([]int64, len(m.Layers))
	var sops int64
	correct := 0
	for b := 0; b < N; b += f.batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(f.batch, N-b)
		re, err := event.Run(x[b*per:(b+n)*per], n)
		if err != nil {
			return err
		}
		rd, err := dense.Run(x[b*per:(b+n)*per], n)
		if err != nil {
			return err
		}
		evLogits = append(evLogits, re.Logits(f.timesteps)...)
		denseLogits = append(denseLogits, rd.Logits(f.timesteps)...)
		sops += re.SOPs(f.timesteps)
		for i, l := range re.Layers {
			spikes[i] += l.Spikes
		}
		for j, p := range re.Predictions(f.timesteps) {
			if ds.Labeled() && p == ds.Label(b+j) {
				correct++
			}
		}
	}
	res.SOPsPerImage = float64(sops) / float64(N)
	res.AccuracySNN = float64(correct) / float64(N)
	agree := 0
	for i := 0; i < N; i++ {
		if argmax(evLogits[i*classes:(i+1)*classes]) == argmax(denseLogits[i*classes:(i+1)*classes]) {
			agree++
		}
	}
	res.Agreement = float64(agree) / float64(N)
	res.MaxRelLogitDiff = maxRelDiff(evLogits, denseLogits)
	res.AllocsPerBatch, res.AllocsPerStep, err = snnAllocs(m, cfg, x, min(f.batch, N, 16))
	if err != nil {
		return err
	}

	var ex *ann.Executor
	if !f.noANN {
		ref := f.annPath
		if ref == "" {
			ref = recordedSource(m.Metadata)
		}
		if ref == "" {
			return badInput(fmt.Errorf("%s: the source ONNX is not recorded or has changed; pass --ann or --no-ann", path))
		}
		g, err := importer.LoadWith(ref, f.modelOptions())
		if err != nil {
			return badInput(err)
		}
		if ex, err = ann.New(g); err != nil {
			return badInput(err)
		}
		res.ANNReference = ref
		if _, err := ex.Run(x[:min(f.batch, N)*per], min(f.batch, N)); err != nil {
			return err
		}
	}

	// Timed passes: the engines alternate so that ratios compare them
	// under the same machine load.
	event.ResetProfile()
	dense.ResetProfile()
	stopProfile, err := startCPUProfile(f.cpuprof)
	if err != nil {
		return err
	}
	defer finishCPUProfile(stopProfile, &err)
	// timed runs fn over all images and returns images per wall second and
	// per CPU second of the process (0 where CPU time is unknown).
	timed := func(fn func(x []float32, n int) error) (wall, cpu float64, err error) {
		c0, t0 := processCPU(), time.Now()
		for b := 0; b < N; b += f.batch {
			if err := ctx.Err(); err != nil {
				return 0, 0, err
			}
			n := min(f.batch, N-b)
			if err := fn(x[b*per:(b+n)*per], n); err != nil {
				return 0, 0, err
			}
		}
		wall = float64(N) / time.Since(t0).Seconds()
		if c := processCPU() - c0; c > 0 {
			cpu = float64(N) / c
		}
		return wall, cpu, nil
	}
	sim := func(s *snnrt.Simulator) func(x []float32, n int) error {
		return func(x []float32, n int) error { _, err := s.Run(x, n); return err }
	}
	var evR, deR, annR, oneR, vsDense, vsANN, scaling, evC, deC, annC, oneC []float64
	for rep := 0; rep < f.repeat; rep++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, ec, err := timed(sim(event))
		if err != nil {
			return err
		}
		evR, evC = append(evR, e), append(evC, ec)
		if rep == 0 {
			res.SNNPeakRSSBytes = peakRSS()
		}
		// One worker right after two, so that the scaling ratio compares
		// them under the same machine load.
		if one != nil {
			o, oc, err := timed(sim(one))
			if err != nil {
				return err
			}
			oneR, oneC, scaling = append(oneR, o), append(oneC, oc), append(scaling, e/o)
		}
		d, dc, err := timed(sim(dense))
		if err != nil {
			return err
		}
		deR, deC, vsDense = append(deR, d), append(deC, dc), append(vsDense, e/d)
		if ex != nil {
			a, ac, err := timed(func(x []float32, n int) error { _, err := ex.Run(x, n); return err })
			if err != nil {
				return err
			}
			annR, annC, vsANN = append(annR, a), append(annC, ac), append(vsANN, e/a)
		}
		fmt.Fprintf(stderr, "bench: pass %d/%d: snn %.1f, dense %.1f images/s\n", rep+1, f.repeat, e, d)
	}
	res.SNNImagesPerS, res.SNNRange = medianRange(evR)
	res.DenseImagesPerS, res.DenseRange = medianRange(deR)
	res.SNNOverDense, res.SNNOverDenseRange = medianRange(vsDense)
	res.ANNImagesPerS, res.ANNRange = medianRange(annR)
	res.SNNOverANN, res.SNNOverANNRange = medianRange(vsANN)
	res.OneWorkerImagesPS, _ = medianRange(oneR)
	res.Scaling, res.ScalingRange = medianRange(scaling)
	res.SNNPerCPUS = sum(evC) / float64(len(evC))
	res.DensePerCPUS = sum(deC) / float64(len(deC))
	if len(annC) > 0 {
		res.ANNPerCPUS = sum(annC) / float64(len(annC))
	}
	if len(oneC) > 0 && sum(oneC) > 0 {
		res.OneWorkerPerCPUS = sum(oneC) / float64(len(oneC))
		res.CPUEfficiency = res.SNNPerCPUS / res.OneWorkerPerCPUS
	}
	if res.DensePerCPUS > 0 {
		res.SNNOverDenseCPU = res.SNNPerCPUS / res.DensePerCPUS
	}
	if res.ANNPerCPUS > 0 {
		res.SNNOverANNCPU = res.SNNPerCPUS / res.ANNPerCPUS
	}
	res.SOPsPerS = res.SOPsPerImage * res.SNNImagesPerS
	if res.SOPsPerS > 0 {
		res.NsPerSOP = 1e9 / res.SOPsPerS
	}
	res.Layers = benchLayers(m, event.Profile(), dense.Profile(), spikes, N, f.timesteps)
	res.PeakRSSBytes = peakRSS()
	res.ElapsedS = time.Since(start).Seconds()
	if f.json {
		return json.NewEncoder(stdout).Encode(res)
	}
	printBench(stdout, &res)
	return nil
}

// snnAllocs returns the heap allocations of one event-simulator Run of n
// images at T steps (per Run they do not depend on n beyond the number of
// workers: the Result and the worker goroutines), and per extra time step
// (from a run at 2T), which should be 0.
func snnAllocs(m *snnrt.Model, cfg snnrt.Config, x []float32, n int) (perRun, perStep float64, err error) {
	cfg.Dense, cfg.Profile = false, false
	count := func(T int) (float64, error) {
		cfg.T = T
		s, err := snnrt.NewSimulator(m, cfg)
		if err != nil {
			return 0, err
		}
		xs := x[:n*m.Input.Len()]
		if _, err := s.Run(xs, n); err != nil { // creates the workers
			return 0, err
		}
		// The least of three runs: the runtime itself allocates now and
		// then (timers, GC work), which is not the simulator's.
		least := math.Inf(1)
		for range 3 {
			var a, b runtime.MemStats
			runtime.ReadMemStats(&a)
			if _, err := s.Run(xs, n); err != nil {
				return 0, err
			}
			runtime.ReadMemStats(&b)
			least = min(least, float64(b.Mallocs-a.Mallocs))
		}
		return least, nil
	}
	T := cfg.T
	if perRun, err = count(T); err != nil {
		return 0, 0, err
	}
	twice, err := count(2 * T)
	return perRun, math.Max(0, twice-perRun) / float64(T), err
}

// benchLayers lists the layers with their activity and the time the event and dense simulators spent in them.
func benchLayers(m *snnrt.Model, ev, de []snnrt.LayerProfile, spikes []int64, n, T int) []benchLayer {
	var out []benchLayer
	for i, l := range m.Layers {
		b := benchLayer{Index: i, Name: l.Name, Kind: l.Kind.String(),
			EventMS: ev[i].Time.Seconds() * 1e3, DenseMS: de[i].Time.Seconds() * 1e3}
		if de[i].Time > 0 {
			b.EventVsDense = float64(ev[i].Time) / float64(de[i].Time)
		}
		if s := ev[i].Event + ev[i].Dense; s > 0 {
			b.EventFraction = float64(ev[i].Event) / float64(s)
		}
		if l.Kind == snnrt.KindIF {
			b.Neurons = l.Shape.Len()
			b.Density = float64(spikes[i]) / (float64(b.Neurons) * float64(n) * float64(T))
		}
		out = append(out, b)
	}
	return out
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

// processCPU returns the CPU time (user + system, all threads) of the
// process in seconds from /proc/self/stat, or 0 where that is not
// available.
func processCPU() float64 {
	raw, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(raw), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	const clockTicks = 100 // USER_HZ, 100 on every Linux ABI
	return float64(u+st) / clockTicks
}

func sum(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// medianRange returns the median and the [min, max] of v (zeros if empty).
func medianRange(v []float64) (float64, [2]float64) {
	if len(v) == 0 {
		return 0, [2]float64{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return med, [2]float64{s[0], s[len(s)-1]}
}

// maxRelDiff returns max|a−b| / max|a| (0 if a is all zeros).
func maxRelDiff(a, b []float32) float64 {
	var d, s float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
		s = max(s, math.Abs(float64(a[i])))
	}
	if s == 0 {
		return 0
	}
	return d / s
}

// peakRSS returns the process's peak resident set size (VmHWM from
// /proc/self/status), or 0 where that is not available.
func peakRSS() int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	return 0
}

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
// to --limit images (default defaultBenchImages), and reads all of them
// preprocessed for m into x (ds.Len() images of m.Input.Len() values).
func (f *benchFlags) benchImages(path string, m *snnrt.Model) (ds *dataset.Dataset, x []float32, err error) {
	if f.limit == 0 {
		f.limit = defaultBenchImages
	}
	ds, pre, err := f.openFor(path, snnInput(m), m.Metadata)
	if err != nil {
		return nil, nil, err
	}
	x = make([]float32, ds.Len()*m.Input.Len())
	if _, err := ds.Batch(x, 0, ds.Len(), pre); err != nil {
		return nil, nil, badInput(err)
	}
	return ds, x, nil
}
