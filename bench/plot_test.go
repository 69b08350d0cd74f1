package bench

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlotCompareWith draws the synthetic comparison with options: only
// the plots, methods and formats asked for are written, a PDF is a PDF,
// and options naming nothing the comparison has are refused.
func TestPlotCompareWith(t *testing.T) {
	res := syntheticCompare(3, rand.New(rand.NewPCG(3, 22)))
	dir := t.TempDir()
	opts := DefaultPlotOptions()
	opts.Methods, opts.X, opts.Formats = []string{"m1", "b"}, []string{"samples"}, []string{"pdf", "svg"}
	opts.YMin = 0.5
	if err := PlotCompareWith(context.Background(), res, dir, opts); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"acc_vs_samples.pdf", "acc_vs_samples.svg", "epoch_fraction.pdf", "epoch_fraction.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: %v", f, err)
		}
		if strings.HasSuffix(f, ".pdf") && !bytes.HasPrefix(b, []byte("%PDF")) {
			t.Fatalf("%s is not a PDF: %q", f, b[:min(len(b), 8)])
		}
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "acc_vs_samples.svg"))
	for _, want := range []string{"m1 (3 runs)", "b (3 runs)", "target 0.6", "target 0.9"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("acc_vs_samples.svg lacks %q", want)
		}
	}
	if bytes.Contains(svg, []byte("m2 (3 runs)")) {
		t.Error("acc_vs_samples.svg draws m2, which was not asked for")
	}
	for _, f := range []string{"acc_vs_seconds.pdf", "acc_vs_seconds.svg", "acc_vs_samples.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s written, not asked for", f)
		}
	}
	for name, spoil := range map[string]func(o *PlotOptions){
		"unknown method": func(o *PlotOptions) { o.Methods = []string{"nope"} },
		"unknown axis":   func(o *PlotOptions) { o.X = []string{"epochs"} },
		"no budgets":     func(o *PlotOptions) { o.X = []string{"budget"} },
		"unknown format": func(o *PlotOptions) { o.Formats = []string{"gif"} },
		"no format":      func(o *PlotOptions) { o.Formats = nil },
		"empty range":    func(o *PlotOptions) { o.YMin, o.YMax = 0.9, 0.8 },
		"range past 1":   func(o *PlotOptions) { o.YMax = 1.2 },
		"no size":        func(o *PlotOptions) { o.Width = 0 },
	} {
		o := DefaultPlotOptions()
		spoil(&o)
		if err := PlotCompareWith(context.Background(), res, t.TempDir(), o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestAccuracyRange checks the accuracy axis: it holds every method's
// curve after its initial climb (a method far below the best one is not
// cut off) and the targets, with room, inside [0, 1].
func TestAccuracyRange(t *testing.T) {
	band := func(name string, ys ...float64) Band {
		b := Band{Name: name}
		for i, y := range ys {
			b.X, b.Y, b.Lo, b.Hi = append(b.X, float64(i+1)), append(b.Y, y), append(b.Lo, math.NaN()), append(b.Hi, math.NaN())
		}
		return b
	}
	good := band("good", 0.5, 0.97, 0.98, 0.985, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.995)
	low := band("rs2", 0.3, 0.80, 0.84, 0.85, 0.86, 0.86, 0.87, 0.87, 0.88, 0.88, 0.88)
	lo, hi := accuracyRange([]Band{good, low}, []float64{0.9})
	if !(lo <= 0.80 && lo > 0.5 && hi >= 0.995 && hi <= 1) {
		t.Fatalf("range [%v, %v]: want the low method's curve after its climb (0.80) and the best (0.995)", lo, hi)
	}
	if lo, _ := accuracyRange([]Band{good}, []float64{0.6}); lo > 0.6 {
		t.Fatalf("range from %v leaves out the target 0.6", lo)
	}
	if lo, hi := accuracyRange(nil, nil); lo != 0 || hi != 1 {
		t.Fatalf("no data: [%v, %v], want [0, 1]", lo, hi)
	}
}
