// Package limits states the memory budget of sgds and checks planned
// allocations against it before they are made, so that a flag, a checkpoint
// or a data file that asks for too much is an error naming it, never a
// makeslice panic or an out-of-memory kill.
//
// The budget is DefaultBudget (8 GiB) unless the environment variable
// SGDS_MEMORY_BUDGET gives another: a decimal number of bytes, optionally
// with a binary unit (KiB, MiB, GiB, TiB), e.g. "8589934592", "512MiB" or
// "16 GiB". Integers are decimal: "010" is ten, "0x10" is an error.
package limits

import (
	"errors"
	"fmt"
	"math/bits"
	"os"
	"strconv"
	"strings"
)

// DefaultBudget is the memory budget when SGDS_MEMORY_BUDGET is not set.
const DefaultBudget int64 = 8 << 30

// EnvBudget names the environment variable that overrides DefaultBudget.
const EnvBudget = "SGDS_MEMORY_BUDGET"

// ErrOverBudget is wrapped by every error of a planned allocation that does
// not fit the budget.
var ErrOverBudget = errors.New("over the memory budget")

var units = []struct {
	suffix string
	shift  uint
}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}

// ParseSize parses a decimal number of bytes with an optional binary unit
// (B, KiB, MiB, GiB, TiB; a space may separate them). The result is > 0.
func ParseSize(s string) (int64, error) {
	num, shift := strings.TrimSpace(s), uint(0)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, shift = strings.TrimSpace(rest), u.shift
			break
		}
	}
	if num == "" || strings.TrimLeft(num, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a decimal number of bytes (optionally with KiB, MiB, GiB or TiB)", s)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > (1<<63-1)>>shift {
		return 0, fmt.Errorf("%q is too large", s)
	}
	if n == 0 {
		return 0, fmt.Errorf("%q: the budget must be > 0", s)
	}
	return n << shift, nil
}

// Budget returns the memory budget in bytes: SGDS_MEMORY_BUDGET if set,
// else DefaultBudget. A malformed value is an error naming the variable.
func Budget() (int64, error) {
	v, ok := os.LookupEnv(EnvBudget)
	if !ok || strings.TrimSpace(v) == "" {
		return DefaultBudget, nil
	}
	n, err := ParseSize(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", EnvBudget, err)
	}
	return n, nil
}

// Mul returns the product of non-negative factors and whether it fits in an
// int64 (false for a negative factor or an overflow).
func Mul(factors ...int64) (int64, bool) {
	p := uint64(1)
	for _, f := range factors {
		if f < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(p, uint64(f))
		if hi != 0 || lo > 1<<63-1 {
			return 0, false
		}
		p = lo
	}
	return int64(p), true
}

// Check returns nil if count items of each bytes fit the budget, and
// otherwise an error naming what (a flag such as "--batch", or a file) and
// the sizes, wrapping ErrOverBudget:
//
//	--batch 10000000: needs 687.7 GiB (10000000 × 72.1 KiB), over the memory budget of 8 GiB (set SGDS_MEMORY_BUDGET to change it)
//
// A negative count or size is an error too.
func Check(what string, count, each int64) error {
	if count < 0 || each < 0 {
		return fmt.Errorf("%s %d: must be ≥ 0", what, count)
	}
	budget, err := Budget()
	if err != nil {
		return err
	}
	total, ok := Mul(count, each)
	if ok && total <= budget {
		return nil
	}
	need := "more than 8 EiB"
	if ok {
		need = FormatBytes(total)
	}
	return fmt.Errorf("%s %d: needs %s (%d × %s), %w of %s (set %s to change it)",
		what, count, need, count, FormatBytes(each), ErrOverBudget, FormatBytes(budget), EnvBudget)
}

// CheckTotal is Check for a planned allocation given in bytes.
func CheckTotal(what string, bytes int64) error {
	if bytes < 0 {
		return fmt.Errorf("%s: negative size %d", what, bytes)
	}
	budget, err := Budget()
	if err != nil {
		return err
	}
	if bytes <= budget {
		return nil
	}
	return fmt.Errorf("%s: needs %s, %w of %s (set %s to change it)", what, FormatBytes(bytes), ErrOverBudget, FormatBytes(budget), EnvBudget)
}

// FormatBytes writes n in the largest binary unit that keeps it ≥ 1, with
// one decimal unless exact: 512 B, 1.5 KiB, 8 GiB.
func FormatBytes(n int64) string {
	for _, u := range units[:4] {
		if n >= 1<<u.shift {
			if n%(1<<u.shift) == 0 {
				return fmt.Sprintf("%d %s", n>>u.shift, u.suffix)
			}
			return fmt.Sprintf("%.1f %s", float64(n)/float64(int64(1)<<u.shift), u.suffix)
		}
	}
	return fmt.Sprintf("%d B", n)
}
