#!/usr/bin/env bash
# run.sh: the GPU check, run on a machine with an NVIDIA GPU and driver
# (no Go toolchain, no network). bench/gpu/build.sh builds this folder
# (.device/) on a machine with Go and Debian's CUDA toolkit; then, on the GPU
# machine, from the repository root:   .device/run.sh
#
# It runs, each stage with a time limit, logging to $OUT (default
# .device/out):
#   1. the binding tests (cuda.test) and every kernel against its Go twin on
#      fresh random inputs, poisoned outputs, sizes 0, 1, 31, 32, 33, odd,
#      large (kernels.test);
#   2. the kernel timings (CUDA events, median of 50 after warm-up);
#   3. the GPU backend: the shared engine suite, gradients against the CPU
#      backend, a short MNIST run against the CPU's accuracy (gpu.test);
#   4. the training step's samples/s for sgds and for PyTorch eager
#      (step_torch.py) on the same card, model and batch (64 and 1024);
#   5. SGD-S against uniform on the GPU (5 epochs, 2 seeds);
#   6. `sgds devices`;
# and prints the summary table last (also $OUT/summary.md). The stages' time
# limits add up to under 10 minutes; a typical run takes about 4.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$here/out}
mkdir -p "$OUT"
cd "$here"
: >"$OUT/status.txt"

stage() { # stage NAME SECONDS LOG command...
	local name=$1 secs=$2 log=$3
	shift 3
	local t0=$(date +%s)
	echo "== $name ($(date +%T), limit ${secs}s)" >&2
	timeout -k 10 "$secs" "$@" >"$OUT/$log" 2>&1
	local rc=$?
	echo "$name $rc $(( $(date +%s) - t0 ))s" >>"$OUT/status.txt"
	echo "   exit $rc after $(( $(date +%s) - t0 ))s; log $OUT/$log" >&2
	tail -3 "$OUT/$log" | sed 's/^/   | /' >&2
	return 0
}

# Unpack the binaries (kept compressed to fit the 64 MiB transfer).
mkdir -p bin
for f in *.gz; do
	[ -e "$f" ] || continue
	gunzip -c "$f" >"bin/${f%.gz}" && chmod +x "bin/${f%.gz}"
done

{
	nvidia-smi || true
	echo
	nvidia-smi -q -d CLOCK,MEMORY,COMPUTE 2>/dev/null | head -80 || true
	python3 -c 'import torch; print("torch", torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0))' || true
} >"$OUT/machine.txt" 2>&1
cat "$OUT/build-info.txt" 2>/dev/null >&2 || cp build-info.txt "$OUT/" 2>/dev/null || true

# The engine tests find data/mnist from the working directory upwards.
stage cuda-tests 30 cuda-test.log bin/cuda.test -test.v -test.count=1
stage kernel-tests 100 kernels-test.log bin/kernels.test -test.v -test.count=1 -test.run 'TestDevice'
stage kernel-timings 90 kernels-timing.log env SGDS_GPU_TIMING=1 bin/kernels.test -test.v -test.count=1 -test.run 'TestDeviceTiming$'
stage gpu-backend-tests 140 gpu-test.log bin/gpu.test -test.v -test.count=1 \
	-test.run 'TestRegistered|TestSuite|TestMatchesCPU|TestMatchesCPULargeBatch|TestBoundMatchesHost|TestEvaluateMatchesCPU|TestMNISTAccuracy'
stage step-sgds 60 step-sgds.log env SGDS_GPU_BENCH=1 bin/gpu.test -test.v -test.count=1 -test.run 'TestStepThroughput$'
stage step-torch 80 step-torch.log python3 step_torch.py --data data/mnist
stage compare 60 compare.log env SGDS_GPU_COMPARE=1 SGDS_GPU_COMPARE_OUT="$OUT/compare" \
	bin/gpu.test -test.v -test.count=1 -test.run 'TestCompareSGDS$'
stage devices 15 devices.txt bin/sgds devices

echo >&2
python3 summary.py "$OUT"
