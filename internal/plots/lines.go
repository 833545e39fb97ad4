package plots

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
)

// Series is one named curve of Lines: Y[i] at X[i].
type Series struct {
	Name string
	X, Y []float64
}

// Lines plots each series as a line with points (distinct colours, a
// legend entry per series) and writes a PNG to path. Every series needs
// as many X as Y values, at least one.
func Lines(path, title, xLabel, yLabel string, series []Series) error {
	if len(series) == 0 {
		return fmt.Errorf("plots: no series")
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	for i, s := range series {
		if len(s.X) != len(s.Y) || len(s.X) == 0 {
			return fmt.Errorf("plots: series %q has %d x and %d y values", s.Name, len(s.X), len(s.Y))
		}
		pts := make(plotter.XYs, len(s.X))
		for j := range s.X {
			pts[j] = plotter.XY{X: s.X[j], Y: s.Y[j]}
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return fmt.Errorf("plots: series %q: %w", s.Name, err)
		}
		line.Color = plotutil.Color(i)
		points.Color = line.Color
		points.Shape = plotutil.Shape(i)
		p.Add(line, points)
		p.Legend.Add(s.Name, line, points)
	}
	p.Legend.Left, p.Legend.Top = false, false
	return save(p, path)
}
