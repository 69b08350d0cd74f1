package bench

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/sgds/sgds/internal/atomicfile"
)

// savePNG renders p to path atomically.
func savePNG(p *plot.Plot, path string, w, h vg.Length) error {
	wt, err := p.WriterTo(w, h, "png")
	if err != nil {
		return fmt.Errorf("plotting %s: %w", path, err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return fmt.Errorf("plotting %s: %w", path, err)
	}
	return atomicfile.Write(path, buf.Bytes())
}

// positive keeps the points whose coordinates are > 0 (for log axes).
func positive(xs, ys []float64) plotter.XYs {
	var pts plotter.XYs
	for i := range xs {
		if xs[i] > 0 && ys[i] > 0 {
			pts = append(pts, plotter.XY{X: xs[i], Y: ys[i]})
		}
	}
	return pts
}

// scatterPlot draws y against x as small dots, with optional log axes.
func scatterPlot(title, xlabel, ylabel string, xs, ys []float64, logX, logY bool) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	var pts plotter.XYs
	if logX || logY {
		pts = positive(xs, ys)
	} else {
		for i := range xs {
			pts = append(pts, plotter.XY{X: xs[i], Y: ys[i]})
		}
	}
	s, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, err
	}
	s.GlyphStyle.Radius = vg.Points(1.2)
	s.GlyphStyle.Color = color.RGBA{R: 31, G: 119, B: 180, A: 200}
	p.Add(s)
	if logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	p.Add(plotter.NewGrid())
	return p, nil
}

// Series is one named line of a line plot.
type Series struct {
	Name string
	X, Y []float64
}

// linePlot draws named series as lines with points.
func linePlot(title, xlabel, ylabel string, series []Series) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	p.Legend.Left = false
	for i, s := range series {
		pts := make(plotter.XYs, len(s.X))
		for j := range s.X {
			pts[j] = plotter.XY{X: s.X[j], Y: s.Y[j]}
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		l.Color = plotutil.Color(i)
		l.Dashes = plotutil.Dashes(i / 7)
		sc.Color = plotutil.Color(i)
		sc.Shape = plotutil.Shape(i)
		p.Add(l, sc)
		p.Legend.Add(s.Name, l, sc)
	}
	p.Add(plotter.NewGrid())
	return p, nil
}
