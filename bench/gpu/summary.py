#!/usr/bin/env python3
"""Writes the GPU check's summary table (Markdown) from the logs in a folder.

Usage: summary.py [--quiet] [--deadline S] [--elapsed S] WORK_DIR
Writes WORK_DIR/summary.md and prints it (unless --quiet). run.sh calls it
after every stage and from its EXIT trap, so it must cope with any subset
of the logs, including a stage cut off in the middle. It stays well under
the 12,000 characters of a remote run's printed tail.

Reads status.txt (one row per stage: name, exit code or result, seconds,
note, tab-separated), preflight.txt, devices.txt (sgds devices), the go test
-v logs (cuda-test.log, kernel-test.log, gpu-test.log), the benchmark logs
(kernel-bench.log, step-sgds.log: standard `go test -bench` lines with
key=value names and their metrics), step-torch.log (the PyTorch peer's
key=value STEP lines) and compare/compare.md (sgds compare).
"""
import os
import re
import shlex
import sys

BENCH = re.compile(r"^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$")


def read(out, name):
    try:
        with open(os.path.join(out, name), errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def benchmarks(text):
    """Parses go test -bench lines: name, {key: value} of the name, {unit: value}."""
    out = []
    for line in text.splitlines():
        m = BENCH.match(line.strip())
        if not m:
            continue
        parts = m.group(1).split("/")
        keys = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        toks = m.group(3).split()
        metrics = {toks[i + 1]: num(toks[i]) for i in range(0, len(toks) - 1, 2)}
        out.append((parts[0], keys, metrics))
    return out


def kv_lines(text, tag):
    """The key=value tokens of each line that starts with tag."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith(tag + " "):
            continue
        try:
            toks = shlex.split(line[len(tag) + 1:])
        except ValueError:
            toks = line.split()
        out.append(dict(t.split("=", 1) for t in toks if "=" in t))
    return out


def num(s, default=None):
    try:
        return float(s)
    except (TypeError, ValueError):
        return default


def fmt(v, spec=",.0f"):
    return "-" if v is None else format(v, spec)


def tests(text):
    """Top-level go test -v results: counts and failed names."""
    res = {"PASS": [], "FAIL": [], "SKIP": []}
    for line in text.splitlines():
        m = re.match(r"^--- (PASS|FAIL|SKIP): (\S+)", line)
        if m:
            res[m.group(1)].append(m.group(2))
    return res


def main():
    args = sys.argv[1:]
    quiet = "--quiet" in args
    opts = {}
    rest = []
    i = 0
    while i < len(args):
        if args[i] in ("--deadline", "--elapsed") and i + 1 < len(args):
            opts[args[i][2:]] = args[i + 1]
            i += 2
            continue
        if args[i] != "--quiet":
            rest.append(args[i])
        i += 1
    out = rest[0] if rest else os.environ.get("OUT", ".")
    lines = []
    p = lines.append

    preflight = read(out, "preflight.txt").split("\n\n", 1)[0].splitlines()
    p("# sgds GPU check")
    p("")
    devs = [l for l in read(out, "devices.txt").splitlines() if l.startswith("cuda:")]
    for l in devs:
        p(f"Device: **{l.split(chr(9), 1)[-1]}**")
    for l in preflight[:8]:
        if l.strip():
            p(f"- {l.strip()[:300]}")
    torch = kv_lines(read(out, "step-torch.log"), "TORCH")
    if torch:
        t = torch[0]
        p(f"- PyTorch {t.get('version', '?')} (CUDA {t.get('cuda', '?')}, cuDNN {t.get('cudnn', '?')}) on {t.get('device', '?')}")
    if "elapsed" in opts:
        p(f"- run time {opts['elapsed']} s of a {opts.get('deadline', '?')} s deadline")
    p("")

    status = [l.split("\t") for l in read(out, "status.txt").splitlines() if l.strip()]
    if status:
        p("## Stages")
        p("")
        p("| stage | result | seconds | note |")
        p("|---|---|---|---|")
        for row in status:
            row += [""] * (4 - len(row))
            name, rc, secs, note = row[:4]
            res = {"0": "ok", "124": "timed out", "137": "killed at its limit", "not-run": "not run"}.get(rc)
            if res is None:
                res = rc if not rc.lstrip("-").isdigit() else f"FAILED (exit {rc})"
            log = {"cuda-tests": "cuda-test.log", "kernel-tests": "kernel-test.log", "gpu-tests": "gpu-test.log"}.get(name)
            if log and rc not in ("skipped", "not-run"):
                t = tests(read(out, log))
                res += f": {len(t['PASS'])} passed, {len(t['FAIL'])} failed, {len(t['SKIP'])} skipped"
                if t["FAIL"]:
                    note = (note + "; " if note else "") + "failed: " + ", ".join(t["FAIL"][:8])
            p(f"| {name} | {res} | {secs} | {note} |")
        p("")

    ks = benchmarks(read(out, "kernel-bench.log"))
    if ks:
        p("## Kernels (checked against the float64 references on the same inputs)")
        p("")
        p("| benchmark | sizes | ms | GB/s | GFLOP/s | max rel err | % of copy |")
        p("|---|---|---|---|---|---|---|")
        for name, keys, m in ks:
            size = ",".join(f"{k}={v}" for k, v in keys.items())
            ms = m.get("ns/op")
            p(f"| {name[len('Benchmark'):]} | {size} | {fmt(ms / 1e6 if ms else None, '.4f')} | {fmt(m.get('GB/s'))} | "
              f"{fmt(m.get('GFLOP/s'))} | {fmt(m.get('maxrel-ppm') / 1e6 if m.get('maxrel-ppm') is not None else None, '.1e')} | "
              f"{fmt(m.get('%copy'))} |")
        loss = [m for name, keys, m in ks if name == "BenchmarkSoftmaxNLL" and "%copy" in m]
        if loss:
            pct = loss[0]["%copy"]
            p("")
            p(f"Target: the loss kernel at B=65,536, C=1,000 at ≥ 70% of copy bandwidth: **{pct:.0f}%** "
              f"({'met' if pct >= 70 else 'NOT met'})")
        p("")

    steps = benchmarks(read(out, "step-sgds.log"))
    tsteps = kv_lines(read(out, "step-torch.log"), "STEP")
    if steps or tsteps:
        rate = {}
        for name, k, m in steps:
            if name == "BenchmarkStep":
                rate[("sgds", k.get("model"), k.get("batch"), k.get("input"))] = m.get("samples/s")
            if name == "BenchmarkNormsCost":
                rate[("cost", k.get("model"), k.get("batch"), "device")] = m.get("norms-cost")
        for s in tsteps:
            rate[(s.get("engine"), s.get("model"), s.get("batch"), s.get("input"))] = num(s.get("samples/s"))
        p("## Training step, samples/s (same card, model, batch; losses copied to the host every step)")
        p("")
        p("| model | batch | sgds (data on device) | sgds (batch from host) | torch eager | torch, cudnn.benchmark | sgds / torch | target | norms cost | target |")
        p("|---|---|---|---|---|---|---|---|---|---|")
        for model in ("cnn", "mlp"):
            for batch in ("64", "1024"):
                dev = rate.get(("sgds", model, batch, "device"))
                hostv = rate.get(("sgds", model, batch, "host"))
                tch = rate.get(("torch", model, batch, "device"))
                tbm = rate.get(("torch-cudnn-benchmark", model, batch, "device"))
                cost = rate.get(("cost", model, batch, "device"))
                if dev is None and tch is None and cost is None:
                    continue
                ratio = dev / tch if dev and tch else None
                want = {"64": 1.5, "1024": 1.0}[batch] if model == "cnn" else None
                tgt = f"≥ {want}x: {'met' if ratio >= want else 'NOT met'}" if want and ratio else ""
                ctgt = f"≤ 1.3x: {'met' if cost <= 1.3 else 'NOT met'}" if cost else ""
                p(f"| {model} | {batch} | {fmt(dev)} | {fmt(hostv)} | {fmt(tch)} | {fmt(tbm)} | "
                  f"{fmt(ratio, '.2f')} | {tgt} | {fmt(cost, '.2f')} | {ctgt} |")
        p("")

    acc = [l for l in read(out, "gpu-test.log").splitlines() if "gpu_acc=" in l]
    if acc:
        p("## Short MNIST run, GPU against CPU (same weights and batches)")
        p("")
        p("| model | steps | GPU acc | CPU acc | diff (points) | target |")
        p("|---|---|---|---|---|---|")
        for l in acc:
            a = dict(t.split("=", 1) for t in l.split() if "=" in t)
            d = num(a.get("diff_points"), 99)
            p(f"| {a.get('model')} | {a.get('steps')}x{a.get('batch')} | {a.get('gpu_acc')} | {a.get('cpu_acc')} | "
              f"{a.get('diff_points')} | {'met' if abs(d) <= 0.3 else 'NOT met'} (≤ 0.3) |")
        p("")

    cmp_ = read(out, os.path.join("compare", "compare.md")).strip()
    if len(cmp_) > 4000:  # the printed tail holds 12,000 characters
        cmp_ = cmp_[:4000] + "\n\n(cut: the whole table is compare/compare.md in logs.tar.gz)"
    if cmp_:
        p("## SGD-S against uniform on the GPU (sgds compare)")
        p("")
        p(cmp_)
        p("")

    p("Files: summary.md, status.txt, preflight.txt, bench.txt (every benchmark line), logs.tar.gz (every log).")
    text = "\n".join(lines)
    try:
        with open(os.path.join(out, "summary.md"), "w") as f:
            f.write(text + "\n")
    except OSError as e:
        print(f"summary.py: {e}", file=sys.stderr)
    if not quiet:
        print(text)


if __name__ == "__main__":
    main()
