#!/usr/bin/env bash
# build.sh (make gpu-check): builds the GPU check on a machine with Go and
# Debian's CUDA toolkit (cuda.h, libcuda; see .ci/cuda.sh) but no GPU:
#
#   .device/       what run.sh needs on the GPU machine, which has an NVIDIA
#                  driver and PyTorch but no Go and no network: the test
#                  binaries and sgds built with -tags cuda (stripped,
#                  gzipped), MNIST, the scripts, build-info.txt (with the
#                  newest GLIBC symbol version the binaries need). It must
#                  stay under 64 MiB.
#   bin/gpu-host/  the same binaries without the cuda tag, for the rehearsal
#                  on this machine (.device/run.sh --host): they run every
#                  stage on the host driver.
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

# build DIR GOFLAGS...: the four binaries of the check into DIR.
build() {
	local dir=$1
	shift
	go test -c "$@" -o "$dir/cuda.test" ./cuda
	go test -c "$@" -o "$dir/device.test" ./kernels/device
	go test -c "$@" -o "$dir/gpu.test" ./engine/gpu
	go build "$@" -o "$dir/sgds" ./cmd/sgds
}

out=.device
host=bin/gpu-host
rm -rf "$out" "$host"
mkdir -p "$out/data/mnist" "$host"
build "$out" -tags cuda -trimpath -ldflags '-s -w'
build "$host" -trimpath
glibc_required=$(objdump -T "$out"/*.test "$out/sgds" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' | sort -uV | tail -1)
gzip -9 "$out"/*.test "$out/sgds"
cp data/mnist/*-ubyte.gz "$out/data/mnist/"
cp bench/gpu/run.sh bench/gpu/step_torch.py bench/gpu/summary.py "$out/"
chmod +x "$out/run.sh"
{
	echo "built $(date -u +%FT%TZ) from $(git describe --always --dirty 2>/dev/null || echo unknown)"
	go version
	echo "nvcc: $(nvcc --version 2>/dev/null | tail -1 || echo none)"
	echo "PTX: $(ls kernels/device/ptx | tr '\n' ' ')"
	echo "glibc_build=$(getconf GNU_LIBC_VERSION | awk '{print $2}')"
	echo "glibc_required=$glibc_required"
} >"$out/build-info.txt"

size=$(du -sb "$out" | cut -f1)
limit=$((64 * 1024 * 1024))
say "$(du -sh "$out" | cut -f1) in $out: $(ls "$out" | tr '\n' ' ')"
if [ "$size" -ge "$limit" ]; then
	say "$out is $size bytes, over the 64 MiB limit"
	exit 1
fi
say "on a GPU machine, from the repository root: .device/run.sh [SECONDS]   (logs and summary in \$OUT, default .device/out)"
say "rehearsal here, on the host driver: .device/run.sh --host [SECONDS]"
