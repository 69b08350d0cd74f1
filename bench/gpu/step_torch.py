#!/usr/bin/env python3
"""PyTorch eager peer of sgds's GPU step benchmark (bench/gpu).

The same models, optimiser, loss, batches and data placement as sgds's
BenchmarkStep (engine/gpu) with the training set on the device
(input=device):

  mlp: Linear 784-256, ReLU, Linear 256-10
  cnn: Conv 1->10 5x5, max-pool 2, ReLU; Conv 10->20 5x5, max-pool 2, ReLU;
       Linear 320-50, ReLU; Linear 50-10
  log-softmax + NLL with reduction='none', batch cost = sum_i w_i * L_i with
  w_i = 1/B, SGD lr 0.01 momentum 0.5, float32, real MNIST from
  data/mnist/*.gz (normalised with mean 0.1307, std 0.3081) resident on the
  GPU; 32 consecutive batches (batch i = samples i*B .. i*B+B-1, as sgds's
  benchmark), cycled.

Every step copies the B per-sample losses to the host (.cpu()), as sgds
returns them for the sampler: so each step ends synchronised, and
samples/s = steps * B / wall-clock seconds, as for sgds.

Variants: eager with PyTorch's defaults (cudnn.benchmark off, TF32 off for
convolutions and matmuls, as sgds computes in plain float32), and eager
with cudnn.benchmark on. Prints one line per measurement:
  STEP engine=torch model=cnn batch=64 ... samples/s=... ms/step=...
"""
import argparse
import gzip
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    """An IDX file of unsigned bytes as a uint8 tensor (no numpy: recent
    torch wheels do not pull it in)."""
    with gzip.open(path, "rb") as f:
        raw = bytearray(f.read())
    magic, = struct.unpack(">I", raw[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return torch.frombuffer(raw, dtype=torch.uint8, offset=4 + 4 * ndim).view(*dims)


def load_mnist(folder, dev):
    x = read_idx(os.path.join(folder, "train-images-idx3-ubyte.gz")).to(torch.float32)
    y = read_idx(os.path.join(folder, "train-labels-idx1-ubyte.gz")).to(torch.int64)
    x = (x / 255.0 - 0.1307) / 0.3081
    return x.view(-1, 1, 28, 28).to(dev), y.to(dev)


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
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = F.relu(self.fc1(x.view(x.shape[0], 320)))
        return self.fc2(x)


def step(model, opt, x, y, w):
    opt.zero_grad(set_to_none=True)
    losses = F.nll_loss(F.log_softmax(model(x), dim=1), y, reduction="none")
    (losses * w).sum().backward()
    opt.step()
    return losses.detach().cpu()  # per-sample losses on the host, as sgds returns them


def bench(name, x, y, batch, seconds, warmup, dev):
    torch.manual_seed(1)
    model = (MLP() if name == "mlp" else CNN()).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    nb = 32
    n = x.shape[0]
    xs = [x[(i * batch) % (n - batch):(i * batch) % (n - batch) + batch] for i in range(nb)]
    ys = [y[(i * batch) % (n - batch):(i * batch) % (n - batch) + batch] for i in range(nb)]
    w = torch.full((batch,), 1.0 / batch, device=dev)
    for i in range(warmup):
        step(model, opt, xs[i % nb], ys[i % nb], w)
    torch.cuda.synchronize()
    steps = 0
    t0 = time.perf_counter()
    while True:
        step(model, opt, xs[steps % nb], ys[steps % nb], w)
        steps += 1
        if steps >= 50 and time.perf_counter() - t0 >= seconds:
            break
    dt = time.perf_counter() - t0
    return steps * batch / dt, dt / steps


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="cnn,mlp")
    ap.add_argument("--batches", default="64,1024")
    ap.add_argument("--seconds", type=float, default=2.0, help="timed seconds per measurement")
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--data", default=os.path.join(here, "data", "mnist"))
    a = ap.parse_args()
    if not torch.cuda.is_available():
        print("torch: CUDA is not available", file=sys.stderr)
        return 1
    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    print(f"TORCH version={torch.__version__} cuda={torch.version.cuda} cudnn={torch.backends.cudnn.version()} "
          f"device=\"{torch.cuda.get_device_name(0)}\"", flush=True)
    x, y = load_mnist(a.data, dev)
    for bm in (False, True):
        torch.backends.cudnn.benchmark = bm
        engine = "torch-cudnn-benchmark" if bm else "torch"
        for name in a.models.split(","):
            for batch in (int(b) for b in a.batches.split(",")):
                sps, sec = bench(name, x, y, batch, a.seconds, a.warmup, dev)
                print(f"STEP engine={engine} model={name} batch={batch} input=device norms=False "
                      f"samples/s={sps:.0f} ms/step={sec * 1e3:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
