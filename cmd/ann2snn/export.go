package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ann2snn/ann2snn/convert"
	"github.com/ann2snn/ann2snn/snnrt"
	"github.com/ann2snn/ann2snn/snnrt/nir"
)

// exportFormat is a target of "ann2snn export", parsed once from --format.
type exportFormat uint8

const formatNIR exportFormat = iota + 1

func parseExportFormat(s string) (exportFormat, error) {
	switch s {
	case "nir":
		return formatNIR, nil
	}
	return 0, fmt.Errorf("unknown --format %q (supported: nir)", s)
}

// exportConfig is the parsed command line of "ann2snn export".
type exportConfig struct {
	src, out  string
	format    exportFormat
	strict    bool
	integrate bool
	sumPool   bool   // --nir-avgpool sum
	version   string // --nir-version
	costN     int    // --cost-images
	burst     bool   // --nir-burst
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", "model.snn", stderr)
	format := fs.String("format", "nir", "output format: nir (Neuromorphic Intermediate Representation, HDF5)")
	var cfg exportConfig
	fs.StringVar(&cfg.out, "o", "", "output file (default: the model's name with .nir, next to it)")
	fs.BoolVar(&cfg.strict, "strict", false, "fail instead of exporting when NIR cannot keep the model's semantics (reset by subtraction, V0 ≠ 0)")
	fs.BoolVar(&cfg.integrate, "integrate", false, "add an integrator (I node) before the output, so the graph outputs the time-summed read-out as snnrt does")
	avgpool := fs.String("nir-avgpool", "avg", "how to write average pooling: avg (AvgPool2d) or sum (SumPool2d with 1/(kh·kw) folded into the next layer's weights; sinabs maps only SumPool2d)")
	fs.StringVar(&cfg.version, "nir-version", nir.Version, "NIR version to write: before 1.0.6 IF has no v_reset and resets by subtraction (sinabs pins nir <= 1.0.5); from 1.0.6 on IF resets to v_reset = 0")
	fs.BoolVar(&cfg.burst, "nir-burst", false, "with --nir-version 1.0.5: export unsigned burst neurons (--max-spikes > 1) as IF nodes for sinabs, whose IF fires several spikes per step (a loss for every other simulator; see docs/nir.md)")
	fs.IntVar(&cfg.costN, "cost-images", 256, "when the export loses something, measure the accuracy it costs on the first N images of the training split of the model's recorded data set (the model as converted vs as NIR describes it, at the T it was tuned for); 0 skips")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"want exactly one model.snn argument"}
	}
	if cfg.costN < 0 {
		return &usageError{fmt.Sprintf("--cost-images %d: want ≥ 0", cfg.costN)}
	}
	cfg.src = pos[0]
	if cfg.format, err = parseExportFormat(*format); err != nil {
		return &usageError{err.Error()}
	}
	switch *avgpool {
	case "avg":
	case "sum":
		cfg.sumPool = true
	default:
		return &usageError{fmt.Sprintf("unknown --nir-avgpool %q (supported: avg, sum)", *avgpool)}
	}
	if err := nir.CheckVersion(cfg.version); err != nil {
		return &usageError{"--nir-version: " + err.Error()}
	}
	if cfg.out, err = outputPath(cfg.src, cfg.out, ".nir"); err != nil {
		return err
	}
	return exportModel(ctx, cfg, stdout, stderr)
}

// exportModel loads the .snn model, translates it and writes the file. It
// reports the graph's size on stdout and every semantic loss on stderr.
func exportModel(ctx context.Context, cfg exportConfig, stdout, stderr io.Writer) error {
	m, err := snnrt.Load(cfg.src)
	if err != nil {
		return badInput(err)
	}
	g, losses, err := nir.FromModel(m, nir.Options{Strict: cfg.strict, Integrate: cfg.integrate,
		SumPool: cfg.sumPool, NIRVersion: cfg.version, Burst: cfg.burst})
	var ue *nir.UnsupportedError
	var le *nir.LossError
	switch {
	case errors.As(err, &ue):
		return badInput(fmt.Errorf("%s: %w%s", cfg.src, err, nirConvertHint(m)))
	case errors.As(err, &le):
		return badInput(fmt.Errorf("%s: %w%s", cfg.src, err, nirLossHint(m)))
	case err != nil:
		return err
	}
	for _, l := range losses {
		fmt.Fprintf(stderr, "warning: %v\n", l)
	}
	if len(losses) > 0 {
		if err := printNIRCost(ctx, m, cfg, stderr); err != nil {
			return err
		}
	}
	if cfg.integrate {
		fmt.Fprintln(stderr, "warning: --integrate: no NIR importer we know of maps the I node (sinabs drops it silently); consumers must sum the output over time themselves (see docs/nir.md)")
	}
	if err := g.Save(cfg.out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: NIR %s, %d nodes, %d edges, %d semantic losses (see docs/nir.md)\n",
		cfg.out, g.Version, len(g.Nodes), len(g.Edges), len(losses))
	return nil
}

// nirConvertHint says which convert flags make m exportable to NIR, for
// the error of a model with burst, signed or max-pooling neurons (the
// defaults of convert are signed burst neurons): "" when none would help.
func nirConvertHint(m *snnrt.Model) string {
	var flags []string
	burst, signed, maxPool := false, false, false
	for _, l := range m.Layers {
		switch l.Kind {
		case snnrt.KindIF:
			burst = burst || l.IF.MaxSpikes > 1
			signed = signed || l.IF.Signed
		case snnrt.KindMaxPool:
			maxPool = true
		}
	}
	if burst {
		flags = append(flags, "--max-spikes 1")
	}
	if signed {
		flags = append(flags, "--signed=false")
	}
	if len(flags) == 0 {
		if maxPool {
			return " (NIR 1.0 has no max pooling: export a model that uses average pooling; see docs/nir.md)"
		}
		return ""
	}
	return fmt.Sprintf(" (convert the ONNX model again with --target nir, which calibrates for NIR's neurons, e.g. ann2snn convert model.onnx --target nir --timesteps 32; or with %s for snnrt's classic neurons, which export with losses; see docs/nir.md)",
		strings.Join(flags, " "))
}

// nirLossHint is the end of the --strict error of a model that NIR's IF
// cannot run exactly.
func nirLossHint(m *snnrt.Model) string {
	if m.Metadata[convert.MetaTarget] == convert.TargetNIR.String() {
		return ""
	}
	return " (convert the ONNX model again with --target nir to build neurons NIR runs exactly, calibrated for them; see docs/nir.md)"
}

// printNIRCost measures what exporting m to NIR costs in accuracy: it
// simulates m and nir.Semantics(m) on the first cfg.costN images of the
// training split of the model's recorded data set (the split convert
// calibrates on) for the T the model was tuned for (convert.t, else 8)
// and prints both accuracies on stderr. Without a recorded labelled data
// set it says so and returns nil.
func printNIRCost(ctx context.Context, m *snnrt.Model, cfg exportConfig, stderr io.Writer) error {
	hint := ""
	if m.Metadata[convert.MetaTarget] != convert.TargetNIR.String() {
		hint = "; convert with --target nir to calibrate for NIR's neurons"
	}
	if cfg.costN == 0 {
		return nil
	}
	t := 8
	if v, err := strconv.Atoi(m.Metadata["convert.t"]); err == nil && v > 0 {
		t = v
	}
	d := dataFlags{split: "train", limit: cfg.costN, batch: 64}
	ds, pre, err := d.openFor(cfg.src, snnInput(m), m.Metadata)
	if err != nil || !ds.Labeled() {
		fmt.Fprintf(stderr, "expected accuracy cost: not measured (no labelled data set recorded in %s: %v)%s\n", cfg.src, err, hint)
		return nil
	}
	s, _, err := nir.Semantics(m)
	if err != nil {
		return badInput(fmt.Errorf("%s: as NIR: %w", cfg.src, err))
	}
	n := ds.Len()
	x, err := ds.Batch(make([]float32, n*ds.ImageSize()), 0, n, pre)
	if err != nil {
		return badInput(err)
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = ds.Label(i)
	}
	acc := make([]float64, 2)
	for i, model := range []*snnrt.Model{m, s} {
		sim, err := snnrt.NewSimulator(model, snnrt.Config{T: t})
		if err != nil {
			return err
		}
		res, err := sim.RunContext(ctx, x, n)
		if err != nil {
			return err
		}
		acc[i] = 100 * res.Accuracy(t, labels)
	}
	fmt.Fprintf(stderr, "expected accuracy cost (first %d training images, T=%d): %.2f %% as converted, %.2f %% as NIR runs it (%+.2f points)%s\n",
		n, t, acc[0], acc[1], acc[1]-acc[0], hint)
	return nil
}
