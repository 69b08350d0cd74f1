#!/usr/bin/env python3
"""PyTorch peer of sgds's step benchmark (bench/peers).

Same models, batch, optimiser, loss and data as sgds:

  mlp: Linear 784-256, ReLU, Linear 256-10
  cnn: Conv 1->10 5x5, max-pool 2, ReLU; Conv 10->20 5x5, max-pool 2, ReLU;
       Linear 320-50, ReLU; Linear 50-10
  log-softmax + NLL with reduction='none' (per-sample losses, read back to
  the host every step as sgds does), batch cost = sum_i w_i * L_i with
  w_i = 1/B, SGD lr 0.01 momentum 0.5, batch 64, float32, real MNIST read
  from data/mnist/*.gz (normalised with mean 0.1307, std 0.3081).

Two measurements per model:
  step:  steady-state training steps on consecutive batches that are already
         tensors (what `go test -bench BenchmarkStep` measures), samples/s;
  epoch: one epoch over the 60,000 training images in a shuffled order,
         gathering each batch from the in-memory set (wall-clock seconds).

Threads: torch.set_num_threads(--threads) (default: OMP_NUM_THREADS or 2).
Prints one line per measurement, `key=value` separated by spaces.
"""
import argparse
import gzip
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, = struct.unpack(">I", raw[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(folder):
    x = read_idx(os.path.join(folder, "train-images-idx3-ubyte.gz")).astype(np.float32)
    y = read_idx(os.path.join(folder, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    x = (x / 255.0 - 0.1307) / 0.3081
    return torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x.view(x.shape[0], 784))))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, 5)
        self.conv2 = nn.Conv2d(10, 20, 5)
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x.view(x.shape[0], 1, 28, 28)), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = F.relu(self.fc1(x.view(x.shape[0], 320)))
        return self.fc2(x)


def step(model, opt, x, y, w):
    opt.zero_grad(set_to_none=True)
    losses = F.nll_loss(F.log_softmax(model(x), dim=1), y, reduction="none")
    cost = (losses * w).sum()
    cost.backward()
    opt.step()
    return losses.detach().numpy()  # per-sample losses on the host, as sgds returns them


def bench_step(name, x, y, batch, seconds, warmup):
    torch.manual_seed(1)
    model = MLP() if name == "mlp" else CNN()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    nb = 32  # the same 32 consecutive batches as the Go benchmark
    xs = [x[i * batch:(i + 1) * batch].contiguous() for i in range(nb)]
    ys = [y[i * batch:(i + 1) * batch].contiguous() for i in range(nb)]
    w = torch.full((batch,), 1.0 / batch)
    for i in range(warmup):
        step(model, opt, xs[i % nb], ys[i % nb], w)
    n = 0
    t0 = time.perf_counter()
    while True:
        step(model, opt, xs[n % nb], ys[n % nb], w)
        n += 1
        if n % 16 == 0 and time.perf_counter() - t0 >= seconds:
            break
    dt = time.perf_counter() - t0
    return n * batch / dt, dt / n


def bench_epoch(name, x, y, batch):
    torch.manual_seed(1)
    model = MLP() if name == "mlp" else CNN()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    g = torch.Generator().manual_seed(1)
    t0 = time.perf_counter()
    order = torch.randperm(x.shape[0], generator=g)
    for s in range(0, x.shape[0], batch):
        idx = order[s:s + batch]
        xb, yb = x[idx], y[idx]
        w = torch.full((idx.shape[0],), 1.0 / batch)
        step(model, opt, xb, yb, w)
    return time.perf_counter() - t0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="mlp,cnn")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=2.0, help="timed seconds per step measurement")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--what", choices=["step", "epoch", "both"], default="step",
                    help="steady-state steps, one epoch of training, or both")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "2")))
    ap.add_argument("--data", default=os.path.join(here, "..", "..", "data", "mnist"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    x, y = load_mnist(a.data)
    x = x.view(-1, 1, 28, 28)
    for name in a.models.split(","):
        if a.what in ("step", "both"):
            sps, sec = bench_step(name, x, y, a.batch, a.seconds, a.warmup)
            print(f"torch model={name} batch={a.batch} threads={torch.get_num_threads()} samples/s={sps:.0f} ms/step={sec*1e3:.3f}", flush=True)
        if a.what in ("epoch", "both"):
            e = bench_epoch(name, x, y, a.batch)
            print(f"torch-epoch model={name} batch={a.batch} threads={torch.get_num_threads()} seconds={e:.3f} samples/s={x.shape[0]/e:.0f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
