package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"gonum.org/v1/plot/vg"

	"github.com/sgds/sgds/bench"
	"github.com/sgds/sgds/internal/atomicfile"
	"github.com/sgds/sgds/run"
)

// catPlot is the help category of plot's own flags.
const catPlot = "plot"

func plotCommand() *cli.Command {
	def := bench.DefaultPlotOptions()
	return &cli.Command{
		Name:      "plot",
		Usage:     "redraw the plots and tables of a comparison from its compare.json",
		ArgsUsage: "DIR",
		Description: "Redraws compare.md and the plots of the comparison in DIR (acc_vs_seconds, acc_vs_samples, epoch_fraction)\n" +
			"as PNG, SVG and PDF. The options choose the methods, the x axes, the accuracy range, the size and the formats, e.g.\n" +
			"sgds plot --method uniform --method sgds --axis samples --ymin 0.9 --size 6x4 --format pdf DIR",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "method", Category: catPlot, Usage: "draw the method named `NAME` (repeat for more; default: every method)"},
			&cli.StringFlag{Name: "axis", Category: catPlot, DefaultText: "all: seconds, samples, and budget where the comparison ran budgets",
				Usage: "the x axes of the accuracy plots, a `LIST` of " + strings.Join(bench.PlotAxes, ", ")},
			&cli.StringFlag{Name: "ymin", Category: catPlot, DefaultText: "from the curves and targets", Usage: "the accuracy axis starts at `ACC`"},
			&cli.StringFlag{Name: "ymax", Category: catPlot, DefaultText: "from the curves and targets", Usage: "the accuracy axis ends at `ACC`"},
			&cli.StringFlag{Name: "size", Category: catPlot, Value: fmt.Sprintf("%gx%g", def.Width/vg.Inch, def.Height/vg.Inch),
				Usage: "each plot's size in inches, `WxH`"},
			&cli.StringFlag{Name: "format", Category: catPlot, Value: strings.Join(bench.PlotFormats, ","),
				Usage: "the files written per plot, a `LIST` of " + strings.Join(bench.PlotFormats, ", ")},
			&cli.StringFlag{Name: "out", Category: catPlot, DefaultText: "DIR itself", Usage: "write compare.md and the plots into folder `OUT`"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("plot takes one folder (holding compare.json), got %d arguments", c.NArg())
			}
			opts, err := plotOptions(c)
			if err != nil {
				return err
			}
			dir := c.Args().First()
			res, err := bench.ReadCompare(dir)
			if err != nil {
				return err
			}
			out := dir
			if c.IsSet("out") {
				out = c.String("out")
			}
			// plot writes only its own outputs (compare.md and the plots;
			// into another --out also a copy of compare.json), under that
			// folder's lock, never the compare.json it read, and stops on a
			// signal.
			f, err := run.OpenFolder(out, notes)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := bench.PlotCompareWith(c.Context, res, out, opts); err != nil {
				if errors.Is(err, context.Canceled) {
					return fmt.Errorf("%w: plot stopped; compare.json is untouched, some plots may be of the earlier drawing (run sgds plot %s again)", err, dir)
				}
				return fmt.Errorf("plot %s: %w", dir, err)
			}
			write := func() error {
				return atomicfile.Write(filepath.Join(out, "compare.md"), []byte(bench.CompareMarkdown(res)))
			}
			if out != dir {
				write = func() error { return bench.SaveCompare(res, out) }
			}
			if err := write(); err != nil {
				return err
			}
			fmt.Fprint(c.App.Writer, bench.CompareMarkdown(res))
			fmt.Fprintf(c.App.Writer, "redrew compare.md and the plots (%s) in %s\n", strings.Join(opts.Formats, ", "), out)
			return nil
		},
	}
}

// plotOptions reads plot's flags.
func plotOptions(c *cli.Context) (bench.PlotOptions, error) {
	o := bench.DefaultPlotOptions()
	o.Methods = c.StringSlice("method")
	if c.IsSet("axis") {
		o.X = splitList(c.String("axis"))
	}
	o.Formats = splitList(c.String("format"))
	for _, f := range []struct {
		name string
		dst  *float64
	}{{"ymin", &o.YMin}, {"ymax", &o.YMax}} {
		if !c.IsSet(f.name) {
			continue
		}
		v, err := strconv.ParseFloat(c.String(f.name), 64)
		if err != nil || v < 0 || v > 1 || math.IsNaN(v) {
			return o, fmt.Errorf("--%s %q: want an accuracy in [0, 1]", f.name, c.String(f.name))
		}
		*f.dst = v
	}
	w, h, ok := strings.Cut(c.String("size"), "x")
	wf, errW := strconv.ParseFloat(w, 64)
	hf, errH := strconv.ParseFloat(h, 64)
	if !ok || errW != nil || errH != nil || !(wf >= 2 && wf <= 40 && hf >= 1.5 && hf <= 40) {
		return o, fmt.Errorf("--size %q: want WxH in inches, e.g. 6x4 (2 ≤ W ≤ 40, 1.5 ≤ H ≤ 40)", c.String("size"))
	}
	o.Width, o.Height = vg.Length(wf)*vg.Inch, vg.Length(hf)*vg.Inch
	return o, nil
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
