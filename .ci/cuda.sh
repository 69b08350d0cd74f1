#!/usr/bin/env bash
# CI for the CUDA path, on a machine without a GPU (.ci/run calls it):
#   1. installs Debian's CUDA toolkit (nvcc 11.8, cuda.h, libcuda) when
#      missing (docs/GPU.md; about 3.5 minutes, once per machine);
#   2. checks that the committed PTX matches its CUDA sources;
#   3. vets and builds everything with the CUDA backend (-tags cuda);
#      nothing that imports gorgonia.org/cu can run here: its init exits the
#      process when no GPU is present;
#   4. runs the kernels' CUDA C on the CPU emulator against the Go twins;
#   5. runs the binding, launcher and GPU-backend tests on the host stand-in
#      (-tags cuda,sgdsfake: no cgo, kernels replaced by their twins).
# Apart from the toolkit install it takes well under a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
say() { printf 'cuda.sh: %s\n' "$*" >&2; }

if ! command -v nvcc >/dev/null 2>&1 || [ ! -f /usr/include/cuda.h ]; then
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		say "nvcc or cuda.h is missing; install Debian's nvidia-cuda-toolkit (non-free) as root"
		exit 1
	fi
	say "installing Debian's nvidia-cuda-toolkit (non-free)"
	src=/etc/apt/sources.list.d/debian.sources
	if [ -f "$src" ] && ! grep -q '^Components:.*non-free' "$src"; then
		sed -i 's/^Components: main$/Components: main contrib non-free non-free-firmware/' "$src"
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends nvidia-cuda-toolkit >/dev/null
fi
say "$(nvcc --version | tail -1)"

make -s -f kernels/kernels.mk check-ptx
go vet -tags cuda ./...
go build -tags cuda ./...
go vet -tags cuda,sgdsfake ./cuda ./kernels ./engine/gpu
go vet -tags sgdsemu ./kernels
# The test binaries the GPU check runs must at least compile.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -tags cuda -o "$tmp/kernels.test" ./kernels
go test -c -tags cuda -o "$tmp/gpu.test" ./engine/gpu
make -s -f kernels/kernels.mk kernels-emu
go test -count=1 -tags cuda,sgdsfake ./cuda
go test -count=1 -tags cuda,sgdsfake -run 'TestDevice' ./kernels
go test -count=1 -tags cuda,sgdsfake -run 'TestRegistered|TestMatchesCPU|TestMatchesCPULargeBatch|TestBoundMatchesHost' ./engine/gpu
say "done in $(( $(date +%s) - start )) s"
