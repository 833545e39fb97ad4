package main

import (
	"context"
	"errors"
	"fmt"
	"io"

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
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", "model.snn", stderr)
	format := fs.String("format", "nir", "output format: nir (Neuromorphic Intermediate Representation, HDF5)")
	var cfg exportConfig
	fs.StringVar(&cfg.out, "o", "", "output file (default: the model's name with .nir, next to it)")
	fs.BoolVar(&cfg.strict, "strict", false, "fail instead of exporting when NIR cannot keep the model's semantics (reset by subtraction, V0 ≠ 0)")
	fs.BoolVar(&cfg.integrate, "integrate", false, "add an integrator (I node) before the output, so the graph outputs the time-summed read-out as snnrt does")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"want exactly one model.snn argument"}
	}
	cfg.src = pos[0]
	if cfg.format, err = parseExportFormat(*format); err != nil {
		return &usageError{err.Error()}
	}
	if cfg.out, err = outputPath(cfg.src, cfg.out, ".nir"); err != nil {
		return err
	}
	return exportModel(ctx, cfg, stdout, stderr)
}

// exportModel loads the .snn model, translates it and writes the file. It
// reports the graph's size on stdout and every semantic loss on stderr.
func exportModel(_ context.Context, cfg exportConfig, stdout, stderr io.Writer) error {
	m, err := snnrt.Load(cfg.src)
	if err != nil {
		return badInput(err)
	}
	g, losses, err := nir.FromModel(m, nir.Options{Strict: cfg.strict, Integrate: cfg.integrate})
	var ue *nir.UnsupportedError
	var le *nir.LossError
	switch {
	case errors.As(err, &ue), errors.As(err, &le):
		return badInput(fmt.Errorf("%s: %w", cfg.src, err))
	case err != nil:
		return err
	}
	for _, l := range losses {
		fmt.Fprintf(stderr, "warning: %v\n", l)
	}
	if err := g.Save(cfg.out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: NIR %s, %d nodes, %d edges, %d semantic losses (see docs/nir.md)\n",
		cfg.out, nir.Version, len(g.Nodes), len(g.Edges), len(losses))
	return nil
}
