package bench

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestCorrelateUndefinedIsNull writes an undefined statistic (constant
// scores) as null with its reason, and still prints the table.
func TestCorrelateUndefinedIsNull(t *testing.T) {
	x := make([]float64, 50)
	norm := make([]float64, 50)
	for i := range x {
		x[i] = 2.3 // every sample has the same loss
		norm[i] = float64(i + 1)
	}
	res := &CorrelateResult{Loss: x, GradNorm: norm, LastNorm: norm}
	res.Agreement = agreement("the loss", x, norm)
	res.LastLayer = agreement("the last-layer norm", norm, norm)
	res.Timing.NormsOverStep = Num(math.Inf(1))
	res.Loss = append(res.Loss, math.NaN())
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["spearman"] != nil || got["pearson"] != nil {
		t.Fatalf("spearman %v, pearson %v: want null", got["spearman"], got["pearson"])
	}
	und, _ := got["undefined"].(map[string]any)
	if r, _ := und["spearman"].(string); !strings.Contains(r, "the same for all 50 samples") {
		t.Fatalf("reason %q (undefined %v)", r, und)
	}
	if ll := got["lastlayer"].(map[string]any); ll["spearman"] != 1.0 || ll["undefined"] != nil {
		t.Fatalf("last layer %v", ll)
	}
	if l := got["loss"].([]any); l[50] != nil {
		t.Fatalf("NaN loss written as %v", l[50])
	}
	if got["timing"].(map[string]any)["norms_over_step"] != nil {
		t.Fatalf("infinite ratio not null")
	}
	table := CorrelateTable(res)
	if !strings.Contains(table, "loss ") || !strings.Contains(table, "undefined: loss spearman: the loss is the same") {
		t.Fatalf("table:\n%s", table)
	}
	var back CorrelateResult
	if err := json.Unmarshal(b, &back); err != nil || !math.IsNaN(float64(back.Spearman)) || !math.IsNaN(back.Loss[50]) {
		t.Fatalf("round trip: %v %v", err, back.Spearman)
	}
}

func TestCorrelateConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  CorrelateConfig
		want string
	}{
		{CorrelateConfig{Samples: 100, TimingSteps: 0}, "--timing-steps must be in [1, 100000], got 0"},
		{CorrelateConfig{Samples: 100, TimingSteps: -3}, "--timing-steps"},
		{CorrelateConfig{Samples: 100, TimingSteps: MaxTimingSteps + 1}, "--timing-steps"},
		{CorrelateConfig{Samples: 9, TimingSteps: 5}, "--samples must be in [10, 1000]"},
		{CorrelateConfig{Samples: 1001, TimingSteps: 5}, "--samples"},
	} {
		if err := c.cfg.Validate(1000); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
	if err := (CorrelateConfig{Samples: 100, TimingSteps: 1}).Validate(1000); err != nil {
		t.Fatal(err)
	}
}
