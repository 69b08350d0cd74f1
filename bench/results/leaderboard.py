#!/usr/bin/env python3
"""Leaderboard table (markdown) from a compare.json, finished runs only.

Usage: leaderboard.py DIR  — methods at uniform's lr and momentum (the seed's
optimiser) are compared with uniform; every other method with uniform-tuned. Per
target: runs reaching it, mean training seconds, and the paired speedup in
training time over the better (faster, per seed) of uniform-tuned and rs2.
Intervals are 95% t intervals over seeds."""
import json, math, statistics as st, sys

T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}

def ci(xs, fmt):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "—"
    m = st.mean(xs)
    if len(xs) < 2:
        return fmt % m
    h = T95.get(len(xs) - 1, 1.96) * st.stdev(xs) / math.sqrt(len(xs))
    return (fmt + " [" + fmt + ", " + fmt + "]") % (m, m - h, m + h)

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
    row = f"| {m} ({len(fin)}/{len(seeds)}) | {md['lr']:g}, {md['momentum']:g} | {ci(fin, '%.4f')} | "
    row += ("(reference)" if m == ref else f"{ci([100*g for g in gap], '%+.2f')} pt") + " | "
    row += ("(reference)" if m == ref else f"{ci([100*x for x in dip], '%+.2f')} pt (worst seed {100*min(dip):+.2f})" if dip else "—") + " | "
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
        cell = f"{len(secs)}/{len([s for s in seeds if (m, s) in runs])}, " + (ci(secs, "%.0f") if secs else "not reached")
        spc = ci(sp, "%.2f") + "×" if sp else "—"
        if notm:
            spc += f"; not reached where a baseline did on {notm}"
        if notb:
            spc += f"; reached where neither baseline did on {notb}"
        row += f" {cell} | {spc} |"
    print(row)
