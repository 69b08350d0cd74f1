#!/usr/bin/env bash
# build.sh: builds the GPU check into .device/ (ignored by git) on a machine
# with Go and Debian's CUDA toolkit (cuda.h, libcuda; see .ci/cuda.sh) but no
# GPU. The folder holds everything run.sh needs on the GPU machine, which has
# an NVIDIA driver and PyTorch but no Go and no network: the test binaries
# and sgds built with -tags cuda (stripped, gzipped), MNIST, the PyTorch
# peer and the summary script. It must stay under 64 MiB.
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { printf 'bench/gpu/build.sh: %s\n' "$*" >&2; }

if [ ! -f /usr/include/cuda.h ]; then
	say "cuda.h is missing: install Debian's nvidia-cuda-toolkit first (.ci/cuda.sh does)"
	exit 1
fi
if [ ! -f data/mnist/train-images-idx3-ubyte.gz ]; then
	say "MNIST is missing: running ./build.sh"
	./build.sh
fi

out=.device
rm -rf "$out"
mkdir -p "$out/data/mnist"
flags=(-tags cuda -trimpath -ldflags '-s -w')
go test -c "${flags[@]}" -o "$out/cuda.test" ./cuda
go test -c "${flags[@]}" -o "$out/kernels.test" ./kernels
go test -c "${flags[@]}" -o "$out/gpu.test" ./engine/gpu
go build "${flags[@]}" -o "$out/sgds" ./cmd/sgds
gzip -9 "$out"/*.test "$out/sgds"
cp data/mnist/*-ubyte.gz "$out/data/mnist/"
cp bench/gpu/run.sh bench/gpu/step_torch.py bench/gpu/summary.py "$out/"
chmod +x "$out/run.sh"
{
	echo "built $(date -u +%FT%TZ) from $(git describe --always --dirty 2>/dev/null || echo unknown)"
	go version
	nvcc --version 2>/dev/null | tail -1 || true
	echo "PTX: $(ls kernels/ptx | tr '\n' ' ')"
} >"$out/build-info.txt"

size=$(du -sb "$out" | cut -f1)
limit=$((64 * 1024 * 1024))
say "$(du -sh "$out" | cut -f1) in $out: $(ls "$out" | tr '\n' ' ')"
if [ "$size" -ge "$limit" ]; then
	say "$out is $size bytes, over the 64 MiB limit"
	exit 1
fi
say "run it on a GPU machine from the repository root: .device/run.sh   (logs in \$OUT, default .device/out)"
