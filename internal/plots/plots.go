package plots

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/ann2snn/ann2snn/internal/atomicfile"
)

// Size of every figure.
const (
	width  = 16 * vg.Centimeter
	height = 10 * vg.Centimeter
)

func save(p *plot.Plot, path string) error {
	wt, err := p.WriterTo(width, height, "png")
	if err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := wt.WriteTo(w)
		return err
	})
}

// AccuracyVsT plots accuracy (fractions, one per entry of ts) against the
// number of time steps on a log2 axis, with the ANN's accuracy as a
// horizontal line, and writes a PNG to path.
func AccuracyVsT(path, title string, ts []int, acc []float64, ann float64) error {
	if len(ts) != len(acc) || len(ts) == 0 {
		return fmt.Errorf("plots: %d time steps for %d accuracies", len(ts), len(acc))
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "time steps T"
	p.Y.Label.Text = "accuracy (%)"
	p.X.Scale = plot.LogScale{}
	ticks := make(plot.ConstantTicks, len(ts))
	for i, t := range ts {
		ticks[i] = plot.Tick{Value: float64(t), Label: fmt.Sprint(t)}
	}
	p.X.Tick.Marker = ticks
	pts := make(plotter.XYs, len(ts))
	annPts := make(plotter.XYs, len(ts))
	for i, t := range ts {
		pts[i] = plotter.XY{X: float64(t), Y: 100 * acc[i]}
		annPts[i] = plotter.XY{X: float64(t), Y: 100 * ann}
	}
	line, points, err := plotter.NewLinePoints(pts)
	if err != nil {
		return fmt.Errorf("plots: %s: %w", path, err)
	}
	line.Color = color.RGBA{B: 200, A: 255}
	points.Color = line.Color
	ref, err := plotter.NewLine(annPts)
	if err != nil {
		return fmt.Errorf("plots: %s: %w", path, err)
	}
	ref.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	ref.Color = color.RGBA{R: 200, A: 255}
	p.Add(plotter.NewGrid(), line, points, ref)
	p.Legend.Add("SNN", line, points)
	p.Legend.Add(fmt.Sprintf("ANN %.2f%%", 100*ann), ref)
	p.Legend.Left, p.Legend.Top = false, false
	return save(p, path)
}

// Bars plots one value per named item (layers) as a bar chart and writes a
// PNG to path; yLabel names the quantity.
func Bars(path, title, yLabel string, names []string, values []float64) error {
	if len(names) != len(values) || len(names) == 0 {
		return fmt.Errorf("plots: %d names for %d values", len(names), len(values))
	}
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = yLabel
	bars, err := plotter.NewBarChart(plotter.Values(values), vg.Points(max(4, 300/float64(len(values)))))
	if err != nil {
		return fmt.Errorf("plots: %s: %w", path, err)
	}
	bars.Color = color.RGBA{G: 120, B: 200, A: 255}
	p.Add(plotter.NewGrid(), bars)
	labels := make([]string, len(names))
	for i := range names {
		labels[i] = fmt.Sprint(i + 1)
	}
	p.NominalX(labels...)
	p.X.Label.Text = "layer (in network order)"
	return save(p, path)
}
