#!/usr/bin/env python3
"""The goal of issue 26 on a budgeted board: does a method reach at budget 0.3
the final test accuracy the better of uniform and RS2 reaches at budget 0.5?

    bench/results/budget_verdict.py bench/results/budget-mnist-mlp/compare

Per method: its mean final accuracy at 0.3, and its difference, paired by
seed, from the better baseline's at 0.5 (mean, 95% t interval); "yes" only
when the whole interval is at or above 0."""
import json, math, statistics, sys

T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}

def final(run):
    if not run["done"] or run.get("diverged") or not run["epochs"]:
        return None
    return run["epochs"][-1]["test_acc"]

def ci(xs):
    m = statistics.mean(xs)
    if len(xs) < 2:
        return m, float("nan"), float("nan")
    h = T975.get(len(xs) - 1, 2.0) * statistics.stdev(xs) / math.sqrt(len(xs))
    return m, m - h, m + h

def main(d, lo="0.3", hi="0.5"):
    r = json.load(open(d + "/compare.json"))
    acc = {}
    for run in r["runs"]:
        a = final(run)
        if a is not None:
            acc[(run["method"], run["seed"])] = a
    seeds = r["config"]["seeds"]
    groups = []
    for m in r["config"]["methods"]:
        if m.get("group") and m["group"] not in groups:
            groups.append(m["group"])
    def mean_at(g, b):
        xs = [acc[(f"{g}-b{b}", s)] for s in seeds if (f"{g}-b{b}", s) in acc]
        return statistics.mean(xs) if xs else float("nan")
    base = max(["uniform", "rs2"], key=lambda g: mean_at(g, hi))
    print(f"baseline: {base} at budget {hi}, mean final test accuracy {mean_at(base, hi):.4f}")
    print(f"| method | final test acc at {lo} | minus {base} at {hi} (paired, 95% CI) | reaches it |")
    print("|---|---|---|---|")
    for g in groups:
        diffs = [acc[(f"{g}-b{lo}", s)] - acc[(f"{base}-b{hi}", s)] for s in seeds
                 if (f"{g}-b{lo}", s) in acc and (f"{base}-b{hi}", s) in acc]
        if not diffs:
            continue
        m, l, h = ci(diffs)
        l, h = max(l, -1), min(h, 1)
        print(f"| {g} | {mean_at(g, lo):.4f} | {m:+.4f} [{l:+.4f}, {h:+.4f}] | {'yes' if l >= 0 else 'no'} |")

if __name__ == "__main__":
    main(*sys.argv[1:])
