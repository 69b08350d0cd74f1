#!/usr/bin/env python3
"""Prints the GPU check's summary table (Markdown) from the logs in a folder.

Usage: summary.py OUT_DIR   (writes OUT_DIR/summary.md too)

Reads status.txt (stage exit codes), kernels-timing.log (KERNEL lines),
step-sgds.log and step-torch.log (STEP lines), gpu-test.log (ACCURACY lines)
and compare.log (COMPARE lines), as bench/gpu/run.sh writes them.
"""
import os
import re
import shlex
import sys


def kv_lines(path, tag):
    out = []
    if not os.path.exists(path):
        return out
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line.startswith(tag + " "):
                continue
            d = {}
            for tok in shlex.split(line[len(tag) + 1:]):
                if "=" in tok:
                    k, v = tok.split("=", 1)
                    d[k] = v
            out.append(d)
    return out


def num(s, default=None):
    try:
        return float(s)
    except (TypeError, ValueError):
        return default


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("OUT", ".")
    lines = []
    p = lines.append

    dev = kv_lines(os.path.join(out, "kernels-timing.log"), "DEVICE")
    torch = kv_lines(os.path.join(out, "step-torch.log"), "TORCH")
    p("# sgds GPU check")
    p("")
    if dev:
        d = dev[0]
        p(f"Device: **{d.get('name', '?')}** (compute {d.get('cc', '?')}, {d.get('sms', '?')} SMs, "
          f"{d.get('mem_gib', '?')} GiB, peak {d.get('peak_gbps', '?')} GB/s)")
    if torch:
        t = torch[0]
        p(f"PyTorch {t.get('version', '?')} (CUDA {t.get('cuda', '?')}, cuDNN {t.get('cudnn', '?')}) on {t.get('device', '?')}")
    p("")

    st = os.path.join(out, "status.txt")
    if os.path.exists(st):
        p("## Stages")
        p("")
        p("| stage | result |")
        p("|---|---|")
        with open(st) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2:
                    rc = parts[1]
                    res = "ok" if rc == "0" else ("timed out" if rc in ("124", "137") else f"FAILED (exit {rc})")
                    p(f"| {parts[0]} | {res} |")
        p("")

    ks = kv_lines(os.path.join(out, "kernels-timing.log"), "KERNEL")
    if ks:
        p("## Kernels (CUDA events, median of 50 after 5 warm-up; error vs the Go twin on the same random inputs)")
        p("")
        p("| kernel | size | max rel err | ms | GB/s | GFLOP/s |")
        p("|---|---|---|---|---|---|")
        for k in ks:
            extra = f" ({k['pct_of_copy']}% of copy)" if "pct_of_copy" in k else ""
            p(f"| {k.get('name')} | {k.get('size')} | {k.get('maxrel')} | {k.get('ms')} | {k.get('GB/s')}{extra} | {k.get('GFLOP/s', '')} |")
        loss = [k for k in ks if k.get("name") == "softmax_nll" and "pct_of_copy" in k]
        if loss:
            pct = num(loss[0]["pct_of_copy"], 0)
            p("")
            p(f"Target: per-sample loss kernel at B=65,536, C=1,000 >= 70% of copy bandwidth: **{pct:.0f}%** "
              f"({'met' if pct >= 70 else 'NOT met'})")
        p("")

    steps = kv_lines(os.path.join(out, "step-sgds.log"), "STEP") + kv_lines(os.path.join(out, "step-torch.log"), "STEP")
    if steps:
        idx = {}
        for s in steps:
            idx[(s.get("engine"), s.get("model"), s.get("batch"), s.get("input"), s.get("norms"))] = num(s.get("samples/s"))
        p("## Training step, samples/s (same card, model, batch; losses copied to the host every step)")
        p("")
        p("| model | batch | sgds (data on device) | sgds (batch from host) | sgds + grad norms | torch eager | torch eager, cudnn.benchmark | sgds / torch | target | norms cost | target |")
        p("|---|---|---|---|---|---|---|---|---|---|---|")
        for model in ("cnn", "mlp"):
            for batch in ("64", "1024"):
                dev_ = idx.get(("sgds", model, batch, "device", "false"))
                host = idx.get(("sgds", model, batch, "host", "false"))
                nrm = idx.get(("sgds", model, batch, "device", "true"))
                tch = idx.get(("torch", model, batch, "device", "False"))
                tbm = idx.get(("torch-cudnn-benchmark", model, batch, "device", "False"))
                if dev_ is None and tch is None:
                    continue
                ratio = dev_ / tch if dev_ and tch else None
                best = max([v for v in (tch, tbm) if v] or [0]) or None
                want = {"64": 1.5, "1024": 1.0}[batch] if model == "cnn" else None
                tgt = ""
                if want and ratio:
                    tgt = f">= {want}x: {'met' if ratio >= want else 'NOT met'}"
                    if best and dev_ / best < want <= ratio:
                        tgt += f" (vs best torch {dev_ / best:.2f}x)"
                cost = dev_ / nrm if dev_ and nrm else None
                ctgt = f"<= 1.3x: {'met' if cost <= 1.3 else 'NOT met'}" if cost else ""
                f = lambda v: f"{v:,.0f}" if v else "-"
                p(f"| {model} | {batch} | {f(dev_)} | {f(host)} | {f(nrm)} | {f(tch)} | {f(tbm)} | "
                  f"{f'{ratio:.2f}x' if ratio else '-'} | {tgt} | {f'{cost:.2f}x' if cost else '-'} | {ctgt} |")
        p("")

    acc = kv_lines(os.path.join(out, "gpu-test.log"), "ACCURACY")
    if acc:
        p("## Short MNIST run, GPU against CPU (same weights and batches)")
        p("")
        p("| model | steps | GPU acc | CPU acc | diff (points) | target |")
        p("|---|---|---|---|---|---|")
        for a in acc:
            d = num(a.get("diff_points"), 99)
            p(f"| {a.get('model')} | {a.get('steps')}x{a.get('batch')} | {a.get('gpu')} | {a.get('cpu')} | {a.get('diff_points')} | "
              f"{'met' if abs(d) <= 0.3 else 'NOT met'} (<= 0.3) |")
        p("")

    cmp_ = kv_lines(os.path.join(out, "compare.log"), "COMPARE")
    if cmp_:
        p("## SGD-S against uniform on the GPU (CNN, 5 epochs, batch 64)")
        p("")
        p("| method | seed | final test acc | train seconds | samples | kept fraction |")
        p("|---|---|---|---|---|---|")
        for c in cmp_:
            p(f"| {c.get('method')} | {c.get('seed')} | {c.get('final_acc')} | {c.get('train_seconds')} | {c.get('samples')} | {c.get('kept')} |")
        p("")
        p("Time to target accuracy: see compare.md / compare.log in the logs folder.")
        p("")

    text = "\n".join(lines)
    print(text)
    try:
        with open(os.path.join(out, "summary.md"), "w") as f:
            f.write(text + "\n")
    except OSError:
        pass


if __name__ == "__main__":
    main()
