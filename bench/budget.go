package bench

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/training"
)

// BudgetName is the name of method name run at budget b: "uniform-b0.3".
func BudgetName(name string, b float64) string {
	return name + "-b" + strconv.FormatFloat(b, 'f', -1, 64)
}

// ExpandBudgets returns every method at every budget, budget-major within
// a method: each a copy named BudgetName with Budget set and Group the
// method's name, so that each budget is a run of its own whose schedule
// spans that budget.
func ExpandBudgets(methods []run.Method, budgets []float64) []run.Method {
	var out []run.Method
	for _, m := range methods {
		for _, b := range budgets {
			e := m
			e.Sampling = m.Sampling.Clone()
			e.Name, e.Group, e.Budget = BudgetName(m.Name, b), m.Name, b
			out = append(out, e)
		}
	}
	return out
}

// BudgetCell is a method's result at one budget: its final test accuracy
// over seeds, its training seconds, and, paired by seed, its final
// accuracy minus each baseline's at the same budget.
type BudgetCell struct {
	Budget       float64             `json:"budget"`
	FinalTestAcc Interval            `json:"final_test_acc"`
	TrainSeconds Interval            `json:"train_seconds"`
	VsBaseline   map[string]Interval `json:"minus_baseline,omitempty"`
}

// BudgetRow is one method across the budgets of a comparison.
type BudgetRow struct {
	Method string       `json:"method"`
	Cells  []BudgetCell `json:"cells"`
	// Reaches gives, per target, the smallest budget whose mean final
	// accuracy is at or above it (0: none).
	Reaches map[string]float64 `json:"smallest_budget_reaching,omitempty"`
}

// finalAcc is the run's last test accuracy, if it finished without
// diverging.
func finalAcc(r *RunResult) (float64, bool) {
	e, ok := r.last()
	if !ok || r == nil || !r.Done || r.Diverged != "" {
		return 0, false
	}
	return e.TestAcc, true
}

// groups lists the methods' groups (their names before budget expansion),
// in order.
func groups(ms []run.Method) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range ms {
		if g := m.Group; g != "" && !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}

// baselineGroups are the groups of the configured baselines, in order.
func (res *CompareResult) baselineGroups() []string {
	var out []string
	for _, b := range res.Config.Baselines {
		for _, m := range res.Config.Methods {
			if m.Name == b && m.Group != "" && !slices.Contains(out, m.Group) {
				out = append(out, m.Group)
			}
		}
	}
	return out
}

// SummariseBudgets computes the budget rows of a comparison with budgets
// (nil without). Baselines are the groups of the configured baselines.
func (res *CompareResult) SummariseBudgets() []BudgetRow {
	c := res.Config
	if len(c.Budgets) == 0 {
		return nil
	}
	baseGroups := res.baselineGroups()
	var rows []BudgetRow
	for _, g := range groups(c.Methods) {
		row := BudgetRow{Method: g, Reaches: map[string]float64{}}
		for _, b := range c.Budgets {
			cell := BudgetCell{Budget: b, VsBaseline: map[string]Interval{}}
			var acc, secs []float64
			diffs := map[string][]float64{}
			for _, seed := range c.Seeds {
				r := res.Run(BudgetName(g, b), seed)
				a, ok := finalAcc(r)
				if !ok {
					continue
				}
				acc = append(acc, a)
				s, _ := r.trained()
				secs = append(secs, s)
				for _, bg := range baseGroups {
					if ba, ok := finalAcc(res.Run(BudgetName(bg, b), seed)); ok && bg != g {
						diffs[bg] = append(diffs[bg], a-ba)
					}
				}
			}
			cell.FinalTestAcc, cell.TrainSeconds = BoundedMeanCI(acc, 0, 1), GeoMeanCI(secs)
			for bg, d := range diffs {
				cell.VsBaseline[bg] = BoundedMeanCI(d, -1, 1)
			}
			row.Cells = append(row.Cells, cell)
		}
		for _, tg := range c.Targets {
			for _, cell := range row.Cells { // budgets ascending as given
				if cell.FinalTestAcc.N > 0 && cell.FinalTestAcc.Mean >= tg {
					row.Reaches[TargetKey(tg)] = cell.Budget
					break
				}
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// BudgetMarkdown is the budget section of compare.md: final test accuracy
// at each budget, the paired difference against each baseline, and the
// smallest budget reaching each target.
func BudgetMarkdown(res *CompareResult) string {
	rows := res.SummariseBudgets()
	if rows == nil {
		return ""
	}
	c := res.Config
	var b strings.Builder
	head := func(first string) {
		b.WriteString("| " + first + " |")
		for _, bu := range c.Budgets {
			fmt.Fprintf(&b, " budget %g |", bu)
		}
		b.WriteString("\n|---|" + strings.Repeat("---|", len(c.Budgets)) + "\n")
	}
	fmt.Fprintf(&b, "\n## Accuracy at equal budgets\n\nEach budget F is a run of its own that ends once it has spent F × %d epochs × %d samples "+
		"(samples trained on, plus forward-only samples at %.2f of one), each method's learning-rate schedule spanning that budget. "+
		"Final test accuracy, mean [95%% t interval cut to [0, 1]] over %d seeds.\n\n", c.Base.Epochs, res.TrainSamples, training.ForwardCost, len(c.Seeds))
	if n := len(c.Seeds); n < 3 {
		fmt.Fprintf(&b, "**n = %d: intervals are indicative only.**\n\n", n)
	}
	head("method")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s |", r.Method)
		for _, cell := range r.Cells {
			fmt.Fprintf(&b, " %s |", fmtInterval(cell.FinalTestAcc, "%.4f"))
		}
		b.WriteString("\n")
	}
	bases := res.baselineGroups()
	for _, bg := range bases {
		fmt.Fprintf(&b, "\nFinal test accuracy minus %s's at the same budget, paired by seed (an interval that holds 0 is no difference):\n\n", bg)
		head("method")
		for _, r := range rows {
			if r.Method == bg {
				continue
			}
			fmt.Fprintf(&b, "| %s |", r.Method)
			for _, cell := range r.Cells {
				if iv, ok := cell.VsBaseline[bg]; ok {
					fmt.Fprintf(&b, " %s |", fmtInterval(iv, "%+.4f"))
				} else {
					b.WriteString(" — |")
				}
			}
			b.WriteString("\n")
		}
	}
	if len(c.Targets) > 0 {
		b.WriteString("\nSmallest budget whose mean final accuracy reaches each target (its training seconds):\n\n| method |")
		for _, tg := range c.Targets {
			fmt.Fprintf(&b, " %s |", TargetKey(tg))
		}
		b.WriteString("\n|---|" + strings.Repeat("---|", len(c.Targets)) + "\n")
		for _, r := range rows {
			fmt.Fprintf(&b, "| %s |", r.Method)
			for _, tg := range c.Targets {
				bu, ok := r.Reaches[TargetKey(tg)]
				if !ok {
					b.WriteString(" not reached |")
					continue
				}
				for _, cell := range r.Cells {
					if cell.Budget == bu {
						fmt.Fprintf(&b, " %g (%.1f s) |", bu, cell.TrainSeconds.Mean)
					}
				}
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// PlotBudgets draws final accuracy against budget, per method the mean
// over seeds with its 95% interval cut to [0, 1], into dir/acc_vs_budget
// in opts' formats and size (its methods: the groups opts.Methods names).
func PlotBudgets(res *CompareResult, dir string, opts PlotOptions) error {
	rows := res.SummariseBudgets()
	if rows == nil {
		return nil
	}
	var bands []Band
	lo, hi := 1.0, 0.0
	for _, r := range rows {
		band := Band{Name: r.Method}
		for _, cell := range r.Cells {
			if cell.FinalTestAcc.N == 0 {
				continue
			}
			band.X = append(band.X, cell.Budget)
			band.Y = append(band.Y, cell.FinalTestAcc.Mean)
			l, h := math.Max(0, cell.FinalTestAcc.Lo), math.Min(1, cell.FinalTestAcc.Hi)
			band.Lo, band.Hi = append(band.Lo, l), append(band.Hi, h)
			lo, hi = math.Min(lo, cell.FinalTestAcc.Mean), math.Max(hi, cell.FinalTestAcc.Mean)
			if !math.IsNaN(l) {
				lo, hi = math.Min(lo, l), math.Max(hi, h)
			}
			band.Runs = max(band.Runs, cell.FinalTestAcc.N)
		}
		if len(band.X) > 0 && (opts.Methods == nil || slices.Contains(opts.Methods, r.Method)) {
			bands = append(bands, band)
		}
	}
	if len(bands) == 0 {
		return nil
	}
	c := res.Config
	p, leg, err := bandPlot(fmt.Sprintf("%s on %s: final test accuracy at equal budgets", c.Base.Model, c.Base.Dataset),
		fmt.Sprintf("budget (share of %d epochs of compute)", c.Base.Epochs), "final test accuracy (mean, 95% CI)", bands)
	if err != nil {
		return err
	}
	p.Y.Min, p.Y.Max = math.Max(0, lo-0.005), math.Min(1, hi+0.005)
	if !math.IsNaN(opts.YMin) {
		p.Y.Min = opts.YMin
	}
	if !math.IsNaN(opts.YMax) {
		p.Y.Max = opts.YMax
	}
	return saveOutside(p, leg, filepath.Join(dir, "acc_vs_budget"), opts.Width, opts.Height, opts.Formats)
}
