package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/ann"
	"github.com/ann2snn/ann2snn/internal/progress"
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
}

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f evalFlags
	fs := newFlagSet("eval", "model.onnx|model.snn", stderr)
	f.register(fs, "test")
	fs.BoolVar(&f.json, "json", false, "print one JSON object on stdout instead of a table")
	fs.StringVar(&f.timesteps, "timesteps", "1,2,4,8,16,32", "SNN: time steps to read out, one or an increasing list (one simulation of the largest)")
	fs.StringVar(&f.plotDir, "plot", "", "SNN: write accuracy_vs_t.png and firing_rate.png into this directory")
	fs.BoolVar(&f.report, "report", false, "SNN: per-layer conversion error (ANN activation vs firing rate × θ) at each T")
	fs.IntVar(&f.reportN, "report-images", 256, "SNN: images used by --report (the first N of the evaluated set)")
	fs.BoolVar(&f.asNIR, "as-nir", false, "SNN: evaluate the model as its NIR export describes it (reset to zero, no initial potential; see docs/nir.md)")
	fs.StringVar(&f.ann, "ann", "", "SNN: the ANN (.onnx) to compare against (default: the recorded source model)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"want exactly one model argument"}
	}
	path := pos[0]
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
}

func evalANN(ctx context.Context, path string, f *evalFlags, stdout, stderr io.Writer) error {
	g, err := importer.Load(path)
	if err != nil {
		return badInput(err)
	}
	ex, err := ann.New(g)
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", path, err))
	}
	ds, pre, err := f.openFor(path, ex.InputShape(), g.Meta)
	if err != nil {
		return err
	}
	acc, rate, err := annAccuracy(ctx, ex, ds, pre, f.batch, progress.New(stderr, "eval", ds.Len()))
	if err != nil {
		return err
	}
	res := annEval{Model: path, Kind: "ann", Data: f.data, Split: f.split, Images: ds.Len(),
		Accuracy: acc, ImagesPerS: rate, Batch: f.batch}
	if f.json {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "model     %s (ANN)\ndata      %s (%s, %d images)\naccuracy  %.2f%%\nspeed     %.1f images/s (batch %d)\n",
		res.Model, res.Data, res.Split, res.Images, 100*res.Accuracy, res.ImagesPerS, res.Batch)
	return nil
}

// annAccuracy runs every image of ds through ex and returns the top-1
// accuracy and the throughput of the executor alone (data preparation
// excluded).
func annAccuracy(ctx context.Context, ex *ann.Executor, ds *dataset.Dataset, pre dataset.Preprocess, batch int, bar *progress.Bar) (acc, imagesPerS float64, err error) {
	per := 1
	for _, d := range ex.InputShape() {
		per *= d
	}
	classes := 1
	for _, d := range ex.OutputShape() {
		classes *= d
	}
	buf := make([]float32, batch*per)
	var correct int
	var busy time.Duration
	for start := 0; start < ds.Len(); start += batch {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		n := min(batch, ds.Len()-start)
		x := buf[:n*per]
		if _, err := ds.Batch(x, start, n, pre); err != nil {
			return 0, 0, badInput(err)
		}
		t0 := time.Now()
		out, err := ex.Run(x, n)
		busy += time.Since(t0)
		if err != nil {
			return 0, 0, err
		}
		for i := range n {
			if argmax(out[i*classes:(i+1)*classes]) == ds.Label(start+i) {
				correct++
			}
		}
		bar.Add(n)
	}
	bar.Done()
	return float64(correct) / float64(ds.Len()), float64(ds.Len()) / busy.Seconds(), nil
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
