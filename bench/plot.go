package bench

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	_ "gonum.org/v1/plot/vg/vgimg" // png
	_ "gonum.org/v1/plot/vg/vgpdf" // pdf
	_ "gonum.org/v1/plot/vg/vgsvg" // svg

	"github.com/sgds/sgds/internal/atomicfile"
)

// savePNG renders p to path atomically, on white with a margin.
func savePNG(p *plot.Plot, path string, w, h vg.Length) error {
	cw, err := draw.NewFormattedCanvas(w, h, "png")
	if err != nil {
		return fmt.Errorf("plotting %s: %w", path, err)
	}
	dc := draw.New(cw)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	p.Draw(draw.Crop(dc, margin, -margin, margin, -margin))
	var buf bytes.Buffer
	if _, err := cw.WriteTo(&buf); err != nil {
		return fmt.Errorf("plotting %s: %w", path, err)
	}
	return atomicfile.Write(path, buf.Bytes())
}

// logTicks are log-axis ticks labelled by their value to one significant
// digit ("1e-05", "0.001", "100").
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.LogTicks{Prec: 1}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			v, _ := strconv.ParseFloat(strconv.FormatFloat(ts[i].Value, 'g', 1, 64), 64)
			ts[i].Label = strconv.FormatFloat(v, 'g', -1, 64)
		}
	}
	return ts
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
	p := newPlot(title, xlabel, ylabel)
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
	s.GlyphStyle.Color = withAlpha(palette[0], 200)
	p.Add(s)
	if logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
	}
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
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
	p := newPlot(title, xlabel, ylabel)
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
		l.Color, l.Dashes = style(i)
		sc.Color = l.Color
		sc.Shape = plotutil.Shape(i)
		p.Add(l, sc)
		p.Legend.Add(s.Name, l, sc)
	}
	p.Add(plotter.NewGrid())
	return p, nil
}

// palette is the colour-blind-safe palette of Okabe and Ito (2008) without
// its yellow, which is faint on white, in the order used: blue, vermillion,
// bluish green, reddish purple, orange, black, sky blue (after blue by the
// greatest distance).
var palette = []color.NRGBA{
	{0x00, 0x72, 0xB2, 0xff}, {0xD5, 0x5E, 0x00, 0xff}, {0x00, 0x9E, 0x73, 0xff}, {0xCC, 0x79, 0xA7, 0xff},
	{0xE6, 0x9F, 0x00, 0xff}, {0x00, 0x00, 0x00, 0xff}, {0x56, 0xB4, 0xE9, 0xff},
}

// dashes are the line patterns used with the palette: solid, long dashes,
// short dashes, dash-dot.
var dashes = [][]vg.Length{
	nil,
	{vg.Points(7), vg.Points(3)},
	{vg.Points(2.5), vg.Points(2)},
	{vg.Points(7), vg.Points(2.5), vg.Points(1.5), vg.Points(2.5)},
}

// style returns the colour and dash pattern of the i-th line: colour i mod
// 7 and pattern i mod 4, so that neighbours differ in both and the first
// 28 lines are distinct pairs, readable in grey print.
func style(i int) (color.NRGBA, []vg.Length) {
	return palette[i%len(palette)], dashes[i%len(dashes)]
}

func withAlpha(c color.NRGBA, a uint8) color.NRGBA {
	c.A = a
	return c
}

// newPlot returns a plot with the house style: the title with room below
// it, axis labels padded from the tick labels, and a light grid.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.Padding = vg.Points(8)
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.X.Label.Padding, p.Y.Label.Padding = vg.Points(4), vg.Points(4)
	return p
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
	p := newPlot(title, xlabel, ylabel)
	leg := plot.NewLegend()
	leg.Top, leg.Left = true, true
	leg.ThumbnailWidth = vg.Points(28)
	leg.TextStyle.Font.Size = vg.Points(10)
	leg.Padding = vg.Points(2.5)
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = color.Gray{Y: 0xd4}, color.Gray{Y: 0xd4}
	p.Add(grid)
	for i, s := range bands {
		col, dash := style(i)
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
		l.Dashes = dash
		p.Add(l)
		name := s.Name
		if s.Runs > 0 {
			name = fmt.Sprintf("%s (%d runs)", s.Name, s.Runs)
		}
		leg.Add(name, l)
	}
	return p, leg, nil
}

// margin is the blank border around a saved plot.
const margin = 6 * vg.Millimeter / 2

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

// PlotFormats are the formats a plot can be saved in.
var PlotFormats = []string{"png", "svg", "pdf"}

// saveOutside renders p with leg in a strip to its right, as maybe base.png,
// base.svg and base.pdf (atomically): a margin around everything, the strip
// as wide as the legend's longest entry, its top at the data's top.
func saveOutside(p *plot.Plot, leg plot.Legend, base string, w, h vg.Length, formats []string) error {
	for _, format := range formats {
		cw, err := draw.NewFormattedCanvas(w, h, format)
		if err != nil {
			return err
		}
		if format == "png" {
			dc := draw.New(cw)
			dc.SetColor(color.White)
			dc.Fill(dc.Rectangle.Path())
		}
		dc := draw.Crop(draw.New(cw), margin, -margin, margin, -margin)
		strip := leg.Rectangle(dc).Size().X
		if strip > 0 {
			strip = min(strip+vg.Points(10), dc.Size().X/2)
		}
		p.Draw(draw.Crop(dc, 0, -strip, 0, 0))
		top := p.DataCanvas(draw.Crop(dc, 0, -strip, 0, 0)).Max.Y
		leg.Draw(draw.Crop(dc, dc.Size().X-strip+vg.Points(10), 0, 0, top-dc.Max.Y))
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

// targetLine is a horizontal reference line at accuracy y from x0 to x1,
// labelled with its value above its left end.
func targetLine(y, x0, x1 float64) ([]plot.Plotter, error) {
	l, err := plotter.NewLine(plotter.XYs{{X: x0, Y: y}, {X: x1, Y: y}})
	if err != nil {
		return nil, err
	}
	l.Color = color.Gray{Y: 0x70}
	l.Width = vg.Points(0.7)
	l.Dashes = []vg.Length{vg.Points(2), vg.Points(3)}
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: x0, Y: y}}, Labels: []string{"target " + TargetKey(y)}})
	if err != nil {
		return nil, err
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i].Color = color.Gray{Y: 0x50}
		lb.TextStyle[i].Font.Size = vg.Points(8)
	}
	lb.Offset = vg.Point{X: vg.Points(3), Y: vg.Points(1.5)}
	return []plot.Plotter{l, lb}, nil
}
