#!/usr/bin/env bash
# CI for the CUDA path, on a machine without a GPU (.ci/run calls it):
#   1. installs Debian's CUDA toolkit (nvcc 11.8, cuda.h, libcuda) when
#      missing (docs/GPU.md; about 3.5 minutes, once per machine), and g++
#      for the emulator when missing;
#   2. checks that the committed PTX matches its CUDA sources;
#   3. vets and builds everything with the CUDA driver (-tags cuda), and
#      compiles the test binaries the GPU check runs; nothing built with the
#      tag can run here (gorgonia.org/cu's init exits without a GPU);
#   4. runs the kernels' CUDA C on the CPU emulator against the references
#      (the test builds kernels/device/emu with g++);
#   5. rehearses the GPU check: make gpu-check, then .device/run.sh --host
#      runs every stage on the host driver under one deadline; its output
#      folder and printed tail must fit what a remote run brings back
#      (bench/gpu/check_out.sh), a run stopped in the middle of a stage
#      must still leave its summary, and a libcuda the loader does not find
#      must be found in the driver folders (libcuda_test.sh).
# The launchers' and the GPU backend's tests themselves run in the plain
# go test of .ci/run, on the host driver.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
say() { printf 'cuda.sh: %s\n' "$*" >&2; }

need=()
command -v nvcc >/dev/null 2>&1 && [ -f /usr/include/cuda.h ] || need+=(nvidia-cuda-toolkit)
command -v "${CXX:-g++}" >/dev/null 2>&1 || need+=(g++)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		say "missing: ${need[*]}; install them (nvidia-cuda-toolkit is in Debian's non-free) as root"
		exit 1
	fi
	say "installing ${need[*]}"
	src=/etc/apt/sources.list.d/debian.sources
	if [ -f "$src" ] && ! grep -q '^Components:.*non-free' "$src"; then
		sed -i 's/^Components: main$/Components: main contrib non-free non-free-firmware/' "$src"
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi
say "$(nvcc --version | tail -1); $("${CXX:-g++}" --version | head -1)"

make -s -f kernels/kernels.mk check-ptx
go vet -tags cuda ./...
go build -tags cuda ./...
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for pkg in ./cuda ./kernels/device ./engine/gpu; do
	go test -c -tags cuda -o "$tmp/$(basename "$pkg").test" "$pkg"
done
make -s -f kernels/kernels.mk kernels-emu
make -s -f kernels/kernels.mk gpu-check
OUT="$tmp/host-run" .device/run.sh --host 480 2>&1 | tee "$tmp/host-run.printed"
bench/gpu/check_out.sh "$tmp/host-run" "$tmp/host-run.printed"
bench/gpu/kill_test.sh
bench/gpu/libcuda_test.sh
say "done in $(($(date +%s) - start)) s"
