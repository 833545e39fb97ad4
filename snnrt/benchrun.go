package snnrt

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ann2snn/ann2snn/internal/cputime"
)

// BenchConfig controls Bench and BenchExit. The zero value times T = 4,
// DefaultBatch images at a time, GOMAXPROCS workers, 3 passes.
type BenchConfig struct {
	// T is the number of time steps of the fixed run; 0 means 4.
	T int
	// Batch is the number of images per Simulator.Run; 0 means
	// DefaultBatch.
	Batch int
	// Workers and Chunk are the Simulator's (0: GOMAXPROCS, the
	// simulator's default chunking); Chunk is capped at the images.
	Workers, Chunk int
	// Repeat is the number of timed passes over the images; 0 means 3.
	Repeat int
	// MaxBytes is the Simulator's Config.MaxBytes (0: DefaultMaxBytes).
	MaxBytes int64
	// Scaling (Bench) also times the event simulator with one worker.
	Scaling bool
	// Reference, if not nil, is a third engine Bench times beside the
	// event and dense simulators (the ANN the SNN was converted from): it
	// processes the n images x. ReferenceName names it in the report.
	Reference     func(x []float32, n int) error
	ReferenceName string
	// Exit is BenchExit's policy, ExitMaxT the largest T of its adaptive
	// run (0: T). Bench ignores both.
	Exit     *ExitPolicy
	ExitMaxT int
	// BeforeTimed, if not nil, is called once right before the first
	// timed pass (e.g. to start a CPU profile of the timed passes).
	BeforeTimed func() error
	// Pass, if not nil, is called after every timed pass with its number
	// (1-based), Repeat, and the images per second of the pass: event and
	// dense simulators for Bench, fixed and adaptive runs for BenchExit.
	Pass func(pass, passes int, a, b float64)
}

// withDefaults returns cfg with its zero fields set to their defaults,
// or an error for values out of range.
func (cfg BenchConfig) withDefaults() (BenchConfig, error) {
	if cfg.T == 0 {
		cfg.T = 4
	}
	if cfg.Batch == 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Repeat == 0 {
		cfg.Repeat = 3
	}
	if cfg.T < 1 || cfg.T > MaxT || cfg.Batch < 0 || cfg.Repeat < 0 || cfg.Workers < 0 || cfg.Chunk < 0 || cfg.ExitMaxT < 0 || cfg.ExitMaxT > MaxT {
		return cfg, &SetupError{fmt.Errorf("snnrt: bench: T %d, batch %d, repeat %d, workers %d, chunk %d, exit max T %d out of range",
			cfg.T, cfg.Batch, cfg.Repeat, cfg.Workers, cfg.Chunk, cfg.ExitMaxT)}
	}
	return cfg, nil
}

// BenchLayer is the activity and cost of one layer in a BenchReport.
type BenchLayer struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	// Neurons and Density (spikes per neuron per step) are set for IF
	// layers.
	Neurons int     `json:"neurons,omitempty"`
	Density float64 `json:"spike_density,omitempty"`
	// EventFraction is the fraction of (image, step) evaluations the
	// event path ran (the rest fell back to dense kernels).
	EventFraction float64 `json:"event_fraction"`
	// EventMS and DenseMS are the CPU milliseconds the event and dense
	// simulators spent in the layer over the timed passes, and
	// EventVsDense their ratio (0 when DenseMS is 0).
	EventMS      float64 `json:"event_ms"`
	DenseMS      float64 `json:"dense_ms"`
	EventVsDense float64 `json:"event_time_over_dense"`
}

// BenchReport is what Bench measures. Speeds are the median over the
// passes with their [min, max] range; per-CPU-second speeds are means
// over passes (0 where the process CPU time is unknown). Its JSON form is
// part of the "ann2snn bench --json" contract.
type BenchReport struct {
	Images    int `json:"images"`
	Timesteps int `json:"timesteps"`
	Batch     int `json:"batch"`
	Workers   int `json:"workers"`
	Repeats   int `json:"repeats"`
	// SNN: the event-driven Simulator; Dense: Config.Dense; ANN: the
	// Reference engine.
	SNNImagesPerS     float64    `json:"snn_images_per_s"`
	SNNRange          [2]float64 `json:"snn_images_per_s_range"`
	DenseImagesPerS   float64    `json:"dense_images_per_s"`
	DenseRange        [2]float64 `json:"dense_images_per_s_range"`
	ANNImagesPerS     float64    `json:"ann_images_per_s"`
	ANNRange          [2]float64 `json:"ann_images_per_s_range"`
	ANNReference      string     `json:"ann_reference"`
	SNNOverDense      float64    `json:"snn_over_dense"`
	SNNOverDenseRange [2]float64 `json:"snn_over_dense_range"`
	SNNOverANN        float64    `json:"snn_over_ann"`
	SNNOverANNRange   [2]float64 `json:"snn_over_ann_range"`
	SNNPerCPUS        float64    `json:"snn_images_per_cpu_s"`
	DensePerCPUS      float64    `json:"dense_images_per_cpu_s"`
	ANNPerCPUS        float64    `json:"ann_images_per_cpu_s"`
	SNNOverDenseCPU   float64    `json:"snn_over_dense_cpu"`
	SNNOverANNCPU     float64    `json:"snn_over_ann_cpu"`
	// One worker (BenchConfig.Scaling): speed, per CPU second, CPU
	// efficiency (CPU time per image with 1 worker over with Workers) and
	// the speed ratio Workers / 1 measured in the same pass.
	OneWorkerImagesPS float64    `json:"snn_images_per_s_1worker,omitempty"`
	OneWorkerPerCPUS  float64    `json:"snn_images_per_cpu_s_1worker,omitempty"`
	CPUEfficiency     float64    `json:"parallel_cpu_efficiency,omitempty"`
	Scaling           float64    `json:"scaling,omitempty"`
	ScalingRange      [2]float64 `json:"scaling_range"`
	SOPsPerImage      float64    `json:"sops_per_image"`
	SOPsPerS          float64    `json:"sops_per_s"`
	NsPerSOP          float64    `json:"ns_per_sop"`
	// AllocsPerBatch are the heap allocations of one event Run, and
	// AllocsPerStep those per extra time step (should be 0).
	AllocsPerBatch float64 `json:"allocs_per_batch"`
	AllocsPerStep  float64 `json:"allocs_per_step"`
	// PeakRSSBytes is the process's peak resident set at the end, and
	// SNNPeakRSSBytes after the first timed event pass (0 where unknown).
	PeakRSSBytes    int64 `json:"peak_rss_bytes"`
	SNNPeakRSSBytes int64 `json:"snn_peak_rss_bytes"`
	// Agreement is the fraction of images whose event and dense
	// predictions agree, MaxRelLogitDiff max|event−dense| / max|dense|
	// over all logits.
	Agreement       float64      `json:"prediction_agreement_with_dense"`
	MaxRelLogitDiff float64      `json:"max_rel_logit_diff"`
	AccuracySNN     float64      `json:"snn_accuracy"`
	Layers          []BenchLayer `json:"layers"`
	// ElapsedS is the seconds Bench ran (callers may add their setup).
	ElapsedS float64 `json:"elapsed_s"`
}

// readAll reads every image of src into memory.
func readAll(m *Model, src Batches) (x []float32, labels []int, err error) {
	N := src.Len()
	x, labels = make([]float32, N*m.Input.Len()), make([]int, N)
	if err := src.Batch(x, labels, 0, N); err != nil {
		return nil, nil, &SourceError{Start: 0, N: N, Err: err}
	}
	return x, labels, nil
}

// Bench times the event-driven Simulator against the dense one
// (Config.Dense) and cfg.Reference on the images of src, read into memory
// first: one untimed pass of each engine (warm-up; statistics, accuracy
// and the agreement between event and dense paths), then cfg.Repeat timed
// passes in which the engines alternate, so that their ratios compare
// them under the same machine load. It is "ann2snn bench".
func Bench(ctx context.Context, m *Model, src Batches, cfg BenchConfig) (*BenchReport, error) {
	start := time.Now()
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	x, labels, err := readAll(m, src)
	if err != nil {
		return nil, err
	}
	N := len(labels)
	rep := &BenchReport{Images: N, Timesteps: cfg.T, Batch: cfg.Batch, Workers: cfg.Workers, Repeats: cfg.Repeat, ANNReference: cfg.ReferenceName}
	if rep.Workers == 0 {
		rep.Workers = runtime.GOMAXPROCS(0)
	}
	simCfg := Config{T: cfg.T, Workers: cfg.Workers, Chunk: min(cfg.Chunk, N), Profile: true, MaxBytes: cfg.MaxBytes}
	event, dense, one, err := benchSimulators(m, simCfg, cfg.Scaling)
	if err != nil {
		return nil, err
	}
	spikes, err := rep.warmUp(ctx, m, event, dense, x, labels)
	if err != nil {
		return nil, err
	}
	if rep.AllocsPerBatch, rep.AllocsPerStep, err = simAllocs(m, simCfg, x, min(cfg.Batch, N, 16)); err != nil {
		return nil, err
	}
	if cfg.Reference != nil { // warm-up
		if err := cfg.Reference(x[:min(cfg.Batch, N)*m.Input.Len()], min(cfg.Batch, N)); err != nil {
			return nil, err
		}
	}
	event.ResetProfile()
	dense.ResetProfile()
	if cfg.BeforeTimed != nil {
		if err := cfg.BeforeTimed(); err != nil {
			return nil, err
		}
	}
	if err := rep.timePasses(ctx, m, cfg, x, event, dense, one); err != nil {
		return nil, err
	}
	rep.Layers = benchLayers(m, event.Profile(), dense.Profile(), spikes, N, cfg.T)
	rep.PeakRSSBytes = peakRSS()
	rep.ElapsedS = time.Since(start).Seconds()
	return rep, nil
}

// benchSimulators prepares the event and dense simulators of cfg and,
// with scaling, the one-worker event simulator.
func benchSimulators(m *Model, cfg Config, scaling bool) (event, dense, one *Simulator, err error) {
	if event, err = NewSimulator(m, cfg); err != nil {
		return nil, nil, nil, &SetupError{err}
	}
	cfg.Dense = true
	if dense, err = NewSimulator(m, cfg); err != nil {
		return nil, nil, nil, &SetupError{err}
	}
	if scaling {
		cfg.Dense, cfg.Workers = false, 1
		if one, err = NewSimulator(m, cfg); err != nil {
			return nil, nil, nil, &SetupError{err}
		}
	}
	return event, dense, one, nil
}

// warmUp runs one untimed pass of the event and dense simulators and
// sets the SOPs, accuracy and event-dense agreement of rep; it returns
// the spikes per layer.
func (rep *BenchReport) warmUp(ctx context.Context, m *Model, event, dense *Simulator, x []float32, labels []int) ([]int64, error) {
	N, per, T, batch := len(labels), m.Input.Len(), rep.Timesteps, rep.Batch
	classes := m.Layers[m.Output].Shape.Len()
	evLogits, denseLogits := make([]float32, 0, N*classes), make([]float32, 0, N*classes)
	spikes := make([]int64, len(m.Layers))
	var sops int64
	correct := 0
	for b := 0; b < N; b += batch {
		n := min(batch, N-b)
		re, err := event.RunContext(ctx, x[b*per:(b+n)*per], n)
		if err != nil {
			return nil, err
		}
		rd, err := dense.RunContext(ctx, x[b*per:(b+n)*per], n)
		if err != nil {
			return nil, err
		}
		evLogits = append(evLogits, re.Logits(T)...)
		denseLogits = append(denseLogits, rd.Logits(T)...)
		sops += re.SOPs(T)
		for i, l := range re.Layers {
			spikes[i] += l.Spikes
		}
		for j, p := range re.Predictions(T) {
			if p == labels[b+j] {
				correct++
			}
		}
	}
	rep.SOPsPerImage = float64(sops) / float64(N)
	rep.AccuracySNN = float64(correct) / float64(N)
	agree := 0
	for i := range N {
		if argmax(evLogits[i*classes:(i+1)*classes]) == argmax(denseLogits[i*classes:(i+1)*classes]) {
			agree++
		}
	}
	rep.Agreement = float64(agree) / float64(N)
	rep.MaxRelLogitDiff = relDiff(evLogits, denseLogits)
	return spikes, nil
}

// timePass runs fn over all images of x, batch images at a time, and
// returns images per wall second and per CPU second of the process (0
// where CPU time is unknown).
func timePass(ctx context.Context, x []float32, per, batch int, fn func(x []float32, n int) error) (wall, cpu float64, err error) {
	N := len(x) / per
	c0, _ := cputime.Process()
	t0 := time.Now()
	for b := 0; b < N; b += batch {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		n := min(batch, N-b)
		if err := fn(x[b*per:(b+n)*per], n); err != nil {
			return 0, 0, err
		}
	}
	wall = float64(N) / time.Since(t0).Seconds()
	if c1, ok := cputime.Process(); ok && c1 > c0 {
		cpu = float64(N) / (c1 - c0).Seconds()
	}
	return wall, cpu, nil
}

// runner returns s.RunContext(ctx, …) as a timePass function.
func runner(ctx context.Context, s *Simulator) func(x []float32, n int) error {
	return func(x []float32, n int) error { _, err := s.RunContext(ctx, x, n); return err }
}

// timePasses runs the timed passes of Bench and sets the speeds of rep.
func (rep *BenchReport) timePasses(ctx context.Context, m *Model, cfg BenchConfig, x []float32, event, dense, one *Simulator) error {
	per := m.Input.Len()
	var evR, deR, annR, oneR, vsDense, vsANN, scaling, evC, deC, annC, oneC []float64
	for pass := range cfg.Repeat {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, ec, err := timePass(ctx, x, per, cfg.Batch, runner(ctx, event))
		if err != nil {
			return err
		}
		evR, evC = append(evR, e), append(evC, ec)
		if pass == 0 {
			rep.SNNPeakRSSBytes = peakRSS()
		}
		// One worker right after all of them, so that the scaling ratio
		// compares them under the same machine load.
		if one != nil {
			o, oc, err := timePass(ctx, x, per, cfg.Batch, runner(ctx, one))
			if err != nil {
				return err
			}
			oneR, oneC, scaling = append(oneR, o), append(oneC, oc), append(scaling, e/o)
		}
		d, dc, err := timePass(ctx, x, per, cfg.Batch, runner(ctx, dense))
		if err != nil {
			return err
		}
		deR, deC, vsDense = append(deR, d), append(deC, dc), append(vsDense, e/d)
		if cfg.Reference != nil {
			a, ac, err := timePass(ctx, x, per, cfg.Batch, cfg.Reference)
			if err != nil {
				return err
			}
			annR, annC, vsANN = append(annR, a), append(annC, ac), append(vsANN, e/a)
		}
		if cfg.Pass != nil {
			cfg.Pass(pass+1, cfg.Repeat, e, d)
		}
	}
	rep.SNNImagesPerS, rep.SNNRange = medianRange(evR)
	rep.DenseImagesPerS, rep.DenseRange = medianRange(deR)
	rep.SNNOverDense, rep.SNNOverDenseRange = medianRange(vsDense)
	rep.ANNImagesPerS, rep.ANNRange = medianRange(annR)
	rep.SNNOverANN, rep.SNNOverANNRange = medianRange(vsANN)
	rep.OneWorkerImagesPS, _ = medianRange(oneR)
	rep.Scaling, rep.ScalingRange = medianRange(scaling)
	rep.SNNPerCPUS, rep.DensePerCPUS, rep.ANNPerCPUS = mean(evC), mean(deC), mean(annC)
	if mean(oneC) > 0 {
		rep.OneWorkerPerCPUS = mean(oneC)
		rep.CPUEfficiency = rep.SNNPerCPUS / rep.OneWorkerPerCPUS
	}
	if rep.DensePerCPUS > 0 {
		rep.SNNOverDenseCPU = rep.SNNPerCPUS / rep.DensePerCPUS
	}
	if rep.ANNPerCPUS > 0 {
		rep.SNNOverANNCPU = rep.SNNPerCPUS / rep.ANNPerCPUS
	}
	rep.SOPsPerS = rep.SOPsPerImage * rep.SNNImagesPerS
	if rep.SOPsPerS > 0 {
		rep.NsPerSOP = 1e9 / rep.SOPsPerS
	}
	return nil
}

// simAllocs returns the heap allocations of one event-simulator Run of n
// images at cfg.T steps (per Run they do not depend on n beyond the
// number of workers: the Result and the worker goroutines), and per extra
// time step (from a run at 2T), which should be 0.
func simAllocs(m *Model, cfg Config, x []float32, n int) (perRun, perStep float64, err error) {
	cfg.Dense, cfg.Profile = false, false
	count := func(T int) (float64, error) {
		cfg.T = T
		s, err := NewSimulator(m, cfg)
		if err != nil {
			return 0, &SetupError{err}
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
	twice, err := count(min(2*T, MaxT))
	return perRun, math.Max(0, twice-perRun) / float64(T), err
}

// benchLayers lists the layers with their activity and the time the event
// and dense simulators spent in them.
func benchLayers(m *Model, ev, de []LayerProfile, spikes []int64, n, T int) []BenchLayer {
	var out []BenchLayer
	for i, l := range m.Layers {
		b := BenchLayer{Index: i, Name: l.Name, Kind: l.Kind.String(),
			EventMS: ev[i].Time.Seconds() * 1e3, DenseMS: de[i].Time.Seconds() * 1e3}
		if de[i].Time > 0 {
			b.EventVsDense = float64(ev[i].Time) / float64(de[i].Time)
		}
		if s := ev[i].Event + ev[i].Dense; s > 0 {
			b.EventFraction = float64(ev[i].Event) / float64(s)
		}
		if l.Kind == KindIF {
			b.Neurons = l.Shape.Len()
			b.Density = float64(spikes[i]) / (float64(b.Neurons) * float64(n) * float64(T))
		}
		out = append(out, b)
	}
	return out
}

// mean returns the mean of v (0 if empty).
func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

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

// relDiff returns max|a−b| / max|a| (0 if a is all zeros).
func relDiff(a, b []float32) float64 {
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
