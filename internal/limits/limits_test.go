package limits

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	good := map[string]int64{
		"1": 1, "8589934592": 8 << 30, "010": 10, "512MiB": 512 << 20, "16 GiB": 16 << 30,
		"3KiB": 3072, "2TiB": 2 << 40, "100B": 100, " 7 ": 7,
	}
	for s, want := range good {
		if got, err := ParseSize(s); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "0", "0x10", "-1", "+5", "1.5GiB", "8GB", "8 G", "1e9", "GiB", "9223372036854775808", "8388608TiB", "ten"} {
		if n, err := ParseSize(s); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", s, n)
		}
	}
}

func TestBudgetFromEnv(t *testing.T) {
	t.Setenv(EnvBudget, "")
	if b, err := Budget(); err != nil || b != DefaultBudget {
		t.Fatalf("empty variable: %d, %v", b, err)
	}
	t.Setenv(EnvBudget, "1MiB")
	if b, err := Budget(); err != nil || b != 1<<20 {
		t.Fatalf("1MiB: %d, %v", b, err)
	}
	t.Setenv(EnvBudget, "0x100000")
	if _, err := Budget(); err == nil || !strings.Contains(err.Error(), EnvBudget) {
		t.Fatalf("hex budget: err = %v, want one naming %s", err, EnvBudget)
	}
	if err := Check("--batch", 1, 1); err == nil || !strings.Contains(err.Error(), EnvBudget) {
		t.Fatalf("Check under a malformed budget: err = %v", err)
	}
}

func TestMul(t *testing.T) {
	cases := []struct {
		f    []int64
		want int64
		ok   bool
	}{
		{nil, 1, true},
		{[]int64{3, 4, 5}, 60, true},
		{[]int64{0, math.MaxInt64, math.MaxInt64}, 0, true},
		{[]int64{1 << 31, 1 << 31}, 1 << 62, true},
		{[]int64{1 << 32, 1 << 31}, 0, false},
		{[]int64{1e18, 784, 4}, 0, false},
		{[]int64{-1, 2}, 0, false},
	}
	for _, c := range cases {
		if got, ok := Mul(c.f...); got != c.want || ok != c.ok {
			t.Errorf("Mul(%v) = %d, %v; want %d, %v", c.f, got, ok, c.want, c.ok)
		}
	}
}

// TestCheck: the defect's flags (--batch 10^18 and 10^7 on a 72 KiB-per-
// sample model) are refused naming the flag; a normal batch passes.
func TestCheck(t *testing.T) {
	t.Setenv(EnvBudget, "")
	const perSample = 72 << 10
	if err := Check("--batch", 64, perSample); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int64{10_000_000, 1_000_000_000_000_000_000} {
		err := Check("--batch", n, perSample)
		if !errors.Is(err, ErrOverBudget) || !strings.HasPrefix(err.Error(), "--batch ") || !strings.Contains(err.Error(), "8 GiB") {
			t.Errorf("batch %d: err = %v", n, err)
		}
	}
	if err := Check("--batch", -1, perSample); err == nil || !strings.Contains(err.Error(), "--batch") {
		t.Errorf("negative count: err = %v", err)
	}
	t.Setenv(EnvBudget, "1KiB")
	if err := Check("--batch", 1024, 1); err != nil {
		t.Errorf("exactly the budget: %v", err)
	}
	if err := Check("--batch", 1025, 1); !errors.Is(err, ErrOverBudget) {
		t.Errorf("one byte over: %v", err)
	}
	if err := CheckTotal("x.gz", 1025); !errors.Is(err, ErrOverBudget) || !strings.HasPrefix(err.Error(), "x.gz") {
		t.Errorf("CheckTotal: %v", err)
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 512: "512 B", 1536: "1.5 KiB", 8 << 30: "8 GiB", 3 << 40: "3 TiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
