package bench

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	_ "gonum.org/v1/plot/vg/vgimg" // png
	_ "gonum.org/v1/plot/vg/vgsvg" // svg

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

// okabeIto is the colour-blind-safe palette of Okabe and Ito (2008), in the
// order used: blue, vermillion, bluish green, orange, reddish purple, sky
// blue, black, yellow.
var okabeIto = []color.NRGBA{
	{0x00, 0x72, 0xB2, 0xff}, {0xD5, 0x5E, 0x00, 0xff}, {0x00, 0x9E, 0x73, 0xff}, {0xE6, 0x9F, 0x00, 0xff},
	{0xCC, 0x79, 0xA7, 0xff}, {0x56, 0xB4, 0xE9, 0xff}, {0x00, 0x00, 0x00, 0xff}, {0xF0, 0xE4, 0x42, 0xff},
}

// Band is a mean curve with a shaded interval around it.
type Band struct {
	Name         string
	X, Y, Lo, Hi []float64 // Lo and Hi may hold NaN (no interval at that point)
	Runs         int       // the runs averaged, for the legend
}

// bandPlot draws each band as its mean line (a colour and dash pattern per
// band) over a translucent interval, and returns the plot with its legend
// (to be drawn outside the data by saveOutside).
func bandPlot(title, xlabel, ylabel string, bands []Band) (*plot.Plot, plot.Legend, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	leg := plot.NewLegend()
	leg.Top, leg.Left = true, true
	p.Add(plotter.NewGrid())
	for i, s := range bands {
		col := okabeIto[i%len(okabeIto)]
		var poly plotter.XYs
		for j := range s.X {
			if !math.IsNaN(s.Hi[j]) {
				poly = append(poly, plotter.XY{X: s.X[j], Y: s.Hi[j]})
			}
		}
		for j := len(s.X) - 1; j >= 0; j-- {
			if !math.IsNaN(s.Lo[j]) {
				poly = append(poly, plotter.XY{X: s.X[j], Y: s.Lo[j]})
			}
		}
		if len(poly) >= 3 {
			pg, err := plotter.NewPolygon(poly)
			if err != nil {
				return nil, leg, err
			}
			fill := col
			fill.A = 0x40
			pg.Color = fill
			pg.LineStyle.Width = 0
			p.Add(pg)
		}
		pts := make(plotter.XYs, len(s.X))
		for j := range s.X {
			pts[j] = plotter.XY{X: s.X[j], Y: s.Y[j]}
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, leg, err
		}
		l.Color = col
		l.Width = vg.Points(1.6)
		// The ninth band on reuses the palette with another dash pattern.
		l.Dashes = plotutil.Dashes((i + i/len(okabeIto)) % 4)
		p.Add(l)
		name := s.Name
		if s.Runs > 0 {
			name = fmt.Sprintf("%s (%d runs)", s.Name, s.Runs)
		}
		leg.Add(name, l)
	}
	return p, leg, nil
}

// legendWidth is the strip right of the data that holds the legend.
const legendWidth = 2.7 * vg.Inch

// countTicks labels the default ticks as counts: 9984, 120k, 1.2M.
type countTicks struct{}

func (countTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = countLabel(ts[i].Value)
		}
	}
	return ts
}

func countLabel(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return fmt.Sprintf("%gM", math.Round(v/1e5)/10)
	case a >= 1e4:
		return fmt.Sprintf("%gk", math.Round(v/1e2)/10)
	}
	return fmt.Sprintf("%g", v)
}

// saveOutside renders p with leg in a strip to its right, as base.png and
// base.svg (atomically).
func saveOutside(p *plot.Plot, leg plot.Legend, base string, w, h vg.Length) error {
	for _, format := range []string{"png", "svg"} {
		cw, err := draw.NewFormattedCanvas(w, h, format)
		if err != nil {
			return err
		}
		dc := draw.New(cw)
		p.Draw(draw.Crop(dc, 0, -legendWidth, 0, 0))
		area := draw.Crop(dc, w-legendWidth+vg.Points(6), 0, 0, -vg.Points(30))
		leg.Draw(area)
		var buf bytes.Buffer
		if _, err := cw.WriteTo(&buf); err != nil {
			return fmt.Errorf("plotting %s.%s: %w", base, format, err)
		}
		if err := atomicfile.Write(base+"."+format, buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// hline is a horizontal reference line (an accuracy target).
func hline(y, x0, x1 float64) (*plotter.Line, error) {
	l, err := plotter.NewLine(plotter.XYs{{X: x0, Y: y}, {X: x1, Y: y}})
	if err != nil {
		return nil, err
	}
	l.Color = color.Gray{Y: 0x80}
	l.Width = vg.Points(0.7)
	l.Dashes = []vg.Length{vg.Points(2), vg.Points(3)}
	return l, nil
}
