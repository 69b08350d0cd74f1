#!/usr/bin/env python3
"""Leaderboard table (markdown) from a compare.json, finished runs only.

Usage: leaderboard.py DIR  — methods at uniform's lr and momentum (the seed's
optimiser) are compared with uniform; every other method with uniform-tuned. Per
target: runs reaching it, their (geometric) mean training seconds, and the paired speedup in
training time over the better (faster, per seed) of uniform-tuned and rs2.
Intervals respect their quantity (docs/METHOD.md §5): accuracies are means with
95% t intervals cut to [0, 1], differences in points cut to [-100, 100]; times
and speedups are geometric means with 95% t intervals on the log scale (always
positive; a speedup is the geometric mean of the per-seed ratios, so it stays
paired). With fewer than 3 seeds a note says the intervals are indicative only."""
import json, math, statistics as st, sys

T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}

def ci(xs, fmt, lo=-math.inf, hi=math.inf):
    """Mean with its 95% t interval cut to [lo, hi]."""
    xs = [x for x in xs if x is not None]
    if not xs:
        return "—"
    m = st.mean(xs)
    if len(xs) < 2:
        return fmt % m
    h = T95.get(len(xs) - 1, 1.96) * st.stdev(xs) / math.sqrt(len(xs))
    return (fmt + " [" + fmt + ", " + fmt + "]") % (m, max(lo, m - h), min(hi, m + h))

def gci(xs, fmt):
    """Geometric mean of positive xs with its 95% interval on the log scale."""
    xs = [x for x in xs if x is not None]
    if not xs:
        return "—"
    if min(xs) <= 0:
        return ci(xs, fmt, lo=0)
    ls = [math.log(x) for x in xs]
    m = st.mean(ls)
    if len(ls) < 2:
        return fmt % math.exp(m)
    h = T95.get(len(ls) - 1, 1.96) * st.stdev(ls) / math.sqrt(len(ls))
    lo = fmt % math.exp(m - h)
    if float(lo) == 0:  # positive: not rounded to 0
        lo = "%.2g" % math.exp(m - h)
    return (fmt + " [%s, " + fmt + "]") % (math.exp(m), lo, math.exp(m + h))

d = json.load(open(sys.argv[1] + "/compare.json"))
N = d["train_samples"]
runs = {(r["method"], r["seed"]): r for r in d["runs"] if r.get("done") and not r.get("diverged")}
methods = [m["name"] for m in d["config"]["methods"]]
seeds = d["config"]["seeds"]
targets = d["config"]["targets"]
desc = {m["name"]: m for m in d["config"]["methods"]}

def grid(r):
    return {e["grid_samples"]: e.get("test_acc", e.get("val_acc")) for e in r.get("evals") or []}

def hit(r, ti):
    t = (r.get("targets") or [])[ti]
    return t if t.get("reached") else None

def first_at(g, acc):
    """First grid point (samples) whose accuracy is at least acc, or None."""
    return next((k for k in sorted(g) if g[k] >= acc), None)

hdr = "| method | lr, momentum | final test acc | final − reference | worst dip below reference after epoch 1 | reaches reference's final no later (seeds) | backward / forward samples |"
hdr += "".join(f" to {t}: reached, train s | speedup vs best of uniform-tuned, rs2 |" for t in targets)
print(hdr)
fewest = None
print("|" + "---|" * (7 + 2 * len(targets)))
for m in methods:
    # The reference is uniform SGD at the method's optimiser: uniform for
    # the seed's lr and momentum, uniform-tuned for every other.
    u = desc.get("uniform")
    ref = "uniform" if u and (desc[m]["lr"], desc[m]["momentum"]) == (u["lr"], u["momentum"]) else "uniform-tuned"
    fin, gap, dip, bw, fw = [], [], [], [], []
    nolater = []
    for s in seeds:
        r = runs.get((m, s))
        if not r:
            continue
        e = r["epochs"][-1]
        fin.append(e["test_acc"])
        bw.append(e["backward_samples"]); fw.append(e["forward_samples"])
        b = runs.get((ref, s))
        if b and m != ref:
            gap.append(e["test_acc"] - b["epochs"][-1]["test_acc"])
            gb, gr = grid(b), grid(r)
            dd = [gr[k] - gb[k] for k in gr if k in gb and k > N]
            if dd:
                dip.append(min(dd))
            # The reference's final accuracy: the method reaches it at a grid
            # point no later (in samples) than the reference first does.
            fa = b["epochs"][-1]["test_acc"]
            kb, kr = first_at(gb, fa), first_at(gr, fa)
            nolater.append(kr is not None and (kb is None or kr <= kb))
    md = desc[m]
    if not fin:
        print(f"| {m} (0/{len(seeds)}) | {md['lr']:g}, {md['momentum']:g} | no finished run |" + " |" * (4 + 2 * len(targets)))
        continue
    fewest = len(fin) if fewest is None else min(fewest, len(fin))
    row = f"| {m} ({len(fin)}/{len(seeds)}) | {md['lr']:g}, {md['momentum']:g} | {ci(fin, '%.4f', 0, 1)} | "
    row += ("(reference)" if m == ref else f"{ci([100*g for g in gap], '%+.2f', -100, 100)} pt") + " | "
    row += ("(reference)" if m == ref else f"{ci([100*x for x in dip], '%+.2f', -100, 100)} pt (worst seed {100*min(dip):+.2f})" if dip else "—") + " | "
    row += ("(reference)" if m == ref else f"{sum(nolater)}/{len(nolater)}" if nolater else "—") + " | "
    row += f"{st.mean(bw):,.0f} / {st.mean(fw):,.0f} |"
    for ti, t in enumerate(targets):
        secs, sp, notm, notb = [], [], 0, 0
        for s in seeds:
            r = runs.get((m, s))
            if not r:
                continue
            h = hit(r, ti)
            if h:
                secs.append(h["train_seconds"])
            bs = [hit(runs[(b, s)], ti) for b in ("uniform-tuned", "rs2") if (b, s) in runs]
            bs = [x["train_seconds"] for x in bs if x]
            if h and bs:
                sp.append(min(bs) / h["train_seconds"])
            elif bs:
                notm += 1
            elif h:
                notb += 1
        cell = f"{len(secs)}/{len([s for s in seeds if (m, s) in runs])}, " + (gci(secs, "%.0f") if secs else "not reached")
        spc = gci(sp, "%.2f") + "×" if sp else "—"
        if notm:
            spc += f"; not reached where a baseline did on {notm}"
        if notb:
            spc += f"; reached where neither baseline did on {notb}"
        row += f" {cell} | {spc} |"
    print(row)
if fewest is not None and fewest < 3:
    print(f"\n*n = {fewest}: intervals are indicative only* (fewer than 3 seeds for some method).")
