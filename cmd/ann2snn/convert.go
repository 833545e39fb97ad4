package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ann2snn/ann2snn/calibrate"
	"github.com/ann2snn/ann2snn/convert"
	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/atomicfile"
	"github.com/ann2snn/ann2snn/snnrt"
)

// convertFlags are the flags of "ann2snn convert".
type convertFlags struct {
	dataFlags
	out        string
	calib      int
	seed       uint64
	timesteps  int
	norm       string
	perChannel bool
	noShift    bool
	bias       string
	correctN   int
	maxSpikes  int
	signed     bool
	reset      string
	maxPool    string
	set        map[string]bool // the flags given on the command line
}

func runConvert(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f convertFlags
	fs, target := f.flagSet(stderr)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"want exactly one model.onnx argument"}
	}
	src := pos[0]
	f.set = flagsSet(fs)
	opt, err := f.options()
	if err != nil {
		return err
	}
	if opt, err = target.apply(fs, opt); err != nil {
		return err
	}
	out, err := outputPath(src, f.out, ".snn")
	if err != nil {
		return err
	}
	raw, err := importer.ReadModel(src, f.modelOptions())
	if err != nil {
		return badInput(err)
	}
	g, err := importer.Parse(raw, filepath.Dir(src))
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", src, err))
	}
	ds, pre, err := f.load(g.Meta)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, f.applied)
	fmt.Fprintln(stdout, optionsLine(opt))
	calib := calibrationImages(ds, pre, f.calib, f.seed)
	n := calib.Len()
	opt.Batch = f.batch
	start := time.Now()
	bar := withProgress(calib, stderr) // a bar on a terminal, quiet in CI and pipes
	m, err := convert.ConvertImages(ctx, g, bar, opt)
	bar.done()
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", src, err))
	}
	f.record(m.Metadata, src, raw, g.Meta, n)
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.Save(out); err != nil {
		return err
	}
	neurons := 0
	for _, l := range m.Layers {
		if l.Kind == snnrt.KindIF {
			neurons++
		}
	}
	fmt.Fprintf(stdout, "converted %s -> %s: %d layers, %d IF layers, %d calibration images, %.1fs\n",
		src, out, len(m.Layers), neurons, n, time.Since(start).Seconds())
	return nil
}

// record writes the provenance of a conversion into the model's
// metadata meta: the source file (path, SHA-256), the tool version, the
// calibration data and sample (n images) and the preprocessing applied
// (so that eval, bench and finetune need no data flags).
func (f *convertFlags) record(meta map[string]string, src string, raw []byte, srcMeta map[string]string, n int) {
	sum := sha256.Sum256(raw)
	abs, _ := filepath.Abs(src)
	meta["source.path"] = abs
	meta[metaSourceSHA256] = hex.EncodeToString(sum[:])
	meta[metaToolVersion] = toolVersion()
	meta["calibrate.data"] = f.data + ":" + f.split
	meta["calibrate.images"] = strconv.Itoa(n)
	meta["calibrate.seed"] = strconv.FormatUint(f.seed, 10)
	for k, v := range f.applied.meta(srcMeta) {
		meta[k] = v
	}
}

// flagSet returns convert's flags, bound to f, and its --target.
func (f *convertFlags) flagSet(stderr io.Writer) (*flag.FlagSet, *targetFlag) {
	fs := newFlagSet("convert", "model.onnx", stderr)
	f.register(fs, "train")
	f.registerModelLimit(fs)
	fs.StringVar(&f.out, "o", "", "output .snn file (default: the model's name with .snn, next to it)")
	fs.IntVar(&f.calib, "calib", 1024, "number of calibration images, drawn at random (seeded) from --split")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the calibration sample")
	fs.IntVar(&f.timesteps, "timesteps", 8, "time steps the SNN is tuned for (thresholds, per-T defaults of --per-channel and --max-spikes, bias correction)")
	fs.StringVar(&f.norm, "norm", "minerr", "threshold balancing of ReLU layers: minerr (least quantisation error of the neurons built for --timesteps) | max | pP (e.g. p99.9, p99.99)")
	fs.BoolVar(&f.perChannel, "per-channel", false, "one threshold per channel (=false: per layer; default: the per-T choice, docs/methods.md)")
	fs.BoolVar(&f.noShift, "no-shift", false, "start membranes at 0 instead of θ/2 (threshold shift off)")
	fs.StringVar(&f.bias, "bias", "off", "bias correction: off | sequential | joint")
	fs.IntVar(&f.correctN, "correct-images", 256, "calibration images simulated by the bias correction")
	fs.IntVar(&f.maxSpikes, "max-spikes", 0, "spikes a neuron may fire per step (burst spikes when > 1; 0: the per-T choice, docs/methods.md)")
	fs.BoolVar(&f.signed, "signed", true, "allow negative (take-back) spikes (--signed=false: classic IF)")
	fs.StringVar(&f.reset, "reset", "subtract", "membrane reset: subtract | zero")
	fs.StringVar(&f.maxPool, "maxpool", "cumulative", "spiking max pooling: cumulative | gate")
	return fs, registerTarget(fs)
}

func (f *convertFlags) options() (convert.Options, error) {
	var opt convert.Options
	var err error
	if err := checkTimesteps(f.timesteps); err != nil {
		return opt, err
	}
	if f.maxSpikes < 0 || f.maxSpikes > snnrt.MaxBurstSpikes {
		return opt, &usageError{fmt.Sprintf("--max-spikes %d: want 1..%d (0: the per-T choice)", f.maxSpikes, snnrt.MaxBurstSpikes)}
	}
	if f.correctN < 0 {
		return opt, &usageError{fmt.Sprintf("--correct-images %d: want ≥ 0", f.correctN)}
	}
	opt.T = f.timesteps
	opt.MaxSpikes = f.maxSpikes // 0: convert.PerT's
	// minerr stays nil: the converter's search for the neurons it builds.
	if f.norm != "minerr" {
		if opt.Norm, err = calibrate.ParseNorm(f.norm, f.timesteps); err != nil {
			return opt, &usageError{"--norm: " + err.Error()}
		}
	}
	if opt.Bias, err = convert.ParseBiasMode(f.bias); err != nil {
		return opt, &usageError{"--bias: " + err.Error()}
	}
	if opt.Reset, err = snnrt.ParseResetMode(f.reset); err != nil {
		return opt, &usageError{"--reset: " + err.Error()}
	}
	if opt.MaxPool, err = snnrt.ParseMaxPoolMode(f.maxPool); err != nil {
		return opt, &usageError{"--maxpool: " + err.Error()}
	}
	if f.calib < 1 {
		return opt, &usageError{"--calib must be at least 1"}
	}
	if f.set["per-channel"] {
		opt.PerChannel, opt.PerLayer = f.perChannel, !f.perChannel
	}
	opt.NoShift, opt.Unsigned = f.noShift, !f.signed
	opt.CorrectImages = f.correctN
	return opt, nil
}

// calibrationImages draws k images of ds at random (seeded). They are read
// and preprocessed a batch at a time, when the calibration asks for them,
// so that only the data set's own pixels and one batch of floats are in
// memory.
func calibrationImages(ds *dataset.Dataset, pre dataset.Preprocess, k int, seed uint64) *sampledImages {
	return &sampledImages{ds: ds, pre: pre, idx: ds.Sample(k, seed)}
}

// sampledImages are the images idx of ds, as calibrate.Images.
type sampledImages struct {
	ds  *dataset.Dataset
	pre dataset.Preprocess
	idx []int
}

var _ calibrate.Images = (*sampledImages)(nil)

func (s *sampledImages) Len() int { return len(s.idx) }

func (s *sampledImages) Read(dst []float32, start, n int) error {
	per := s.ds.ImageSize()
	if start < 0 || n < 0 || start+n > len(s.idx) || len(dst) != n*per {
		return fmt.Errorf("read of calibration images [%d, %d) into %d values: have %d images of %d values (does the data set fit the model?)", start, start+n, len(dst), len(s.idx), per)
	}
	for i, j := range s.idx[start : start+n] {
		if _, err := s.ds.Batch(dst[i*per:(i+1)*per], j, 1, s.pre); err != nil {
			return fmt.Errorf("calibration image %d (%d of the data set): %w", start+i, j, err)
		}
	}
	return nil
}

// outputPath returns out, or, if it is empty, src with its extension
// replaced by suffix; it refuses an output that is the input file itself,
// and one that atomicfile.Check refuses (not a regular file, missing or
// read-only directory).
func outputPath(src, out, suffix string) (string, error) {
	if out == "" {
		out = strings.TrimSuffix(src, filepath.Ext(src)) + suffix
	}
	if same, err := samePath(src, out); err != nil {
		return "", badInput(err)
	} else if same {
		return "", &usageError{fmt.Sprintf("output %s would overwrite the input model", out)}
	}
	if _, err := atomicfile.Check(out); err != nil { // before any work: see internal/atomicfile
		return "", badInput(err)
	}
	return out, nil
}

// samePath reports whether a and b name the same file (b need not exist).
func samePath(a, b string) (bool, error) {
	ia, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	ib, err := os.Stat(b)
	if err != nil {
		return false, nil
	}
	return os.SameFile(ia, ib), nil
}
