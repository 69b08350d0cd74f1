#!/usr/bin/env bash
# run.sh: the GPU check, under one deadline, always ending with a summary.
#
#   .device/run.sh [SECONDS]          on a machine with an NVIDIA GPU and
#                                     driver (no Go toolchain, no network)
#   .device/run.sh --host [SECONDS]   the rehearsal on the build machine: the
#                                     same stages on the host driver in its
#                                     asynchronous mode (launches return at
#                                     once, as on a GPU), with the binaries of
#                                     bin/gpu-host
#
# bench/gpu/build.sh (make gpu-check) builds .device/; bench/gpu/run.sh runs
# that copy. SECONDS is the deadline of the whole run (default 400): a stage
# starts only if the time it needs at least is left, gets at most the time
# left, and is skipped or shortened otherwise, which the summary says.
#
# What comes back: a remote GPU run returns at most 8 files of its output
# folder (16 MiB each, two folders deep) and the last 12,000 characters it
# printed. So $OUT (default .device/out) holds five files and no folder:
#
#   summary.md     the summary table, also printed last (the printed tail)
#   status.txt     one row per stage: name, result, seconds, note
#   preflight.txt  the machine: GPU, driver and CUDA versions, glibc, the ldd
#                  line of libcuda, PyTorch's version and import time,
#                  build-info.txt
#   bench.txt      every benchmark result line (go test -bench, PyTorch's)
#   logs.tar.gz    everything else: every stage's full log, sgds compare's
#                  output
#
# The stages write their logs to .device/work ($WORK); the summary
# is rewritten after every stage and, with the five files, from an EXIT
# trap, so that a run stopped by its deadline or a signal still leaves it.
#
# Exit status: 0 when every stage ran and passed, 1 when one failed, timed
# out or was skipped for lack of time (143 or 130 when stopped by a signal).
#
# Stages: the preflight first (a clear stop when the binaries need a newer
# glibc, or libcuda is found nowhere; when the loader does not find it, the
# usual driver folders are searched and the one found is put on
# LD_LIBRARY_PATH, which the preflight says); then the binding tests
# (cuda.test); every kernel against its reference (device.test); the kernel
# benchmarks (GB/s, the loss kernel against copy, a fixed count of calls,
# the device's work inside the timed region); the training step's samples/s
# and the per-sample norms' cost (gpu.test benchmarks) and PyTorch eager's on
# the same card (step_torch.py); the GPU backend's tests (the shared engine
# suite, against the cpu backend, a short MNIST run); SGD-S against uniform
# on the GPU (sgds compare); sgds devices.
set -uo pipefail

host=0
budget=400
for a in "$@"; do
	case $a in
	--host) host=1 ;;
	'' | *[!0-9]*)
		echo "usage: run.sh [--host] [SECONDS]" >&2
		exit 2
		;;
	*) budget=$a ;;
	esac
done
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -f "$here/build-info.txt" ]; then # bench/gpu/run.sh: run the built copy
	dev=$(cd "$here/../.." && pwd)/.device
	if [ ! -f "$dev/build-info.txt" ]; then
		echo "run.sh: $dev is not built: make gpu-check first" >&2
		exit 1
	fi
	exec "$dev/run.sh" "$@"
fi
t0=$(date +%s)
deadline=$((t0 + budget))
reserve=10 # seconds kept for the summary and the archive
OUT=${OUT:-$here/out}
WORK=$here/work # not configurable: it is emptied first
mkdir -p "$OUT" "$WORK"
OUT=$(cd "$OUT" && pwd)
WORK=$(cd "$WORK" && pwd)
case $OUT in
"$here" | "$here"/bin | "$WORK" | "$WORK"/*)
	echo "run.sh: OUT=$OUT: it must be a folder of its own (it is emptied of earlier results)" >&2
	exit 2
	;;
esac
cd "$here" || exit 1
export CUDA_CACHE_PATH="$here/.nv-cache" # JIT-compile the PTX once, not once per binary
export PYTHONDONTWRITEBYTECODE=1
# A new run: nothing of an earlier one may fill the summary or come back.
# (What this script and its earlier versions wrote, not all of $OUT.)
rm -rf "${WORK:?}"/* "$OUT"/*.log "$OUT"/*.txt "$OUT/compare" "$OUT/summary.md" "$OUT/logs.tar.gz"
: >"$WORK/status.txt"
pid=""     # the running stage's process
current="" # its name, start time and note
cur_t0=0
cur_note=""

say() { printf '%s\n' "$*" >&2; }

# status STAGE RESULT SECONDS NOTE: one row of the summary's stage table.
status() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$WORK/status.txt"; }

# summary: rewrites $WORK/summary.md from the logs (a raw stage table
# without python3) and copies the small files to $OUT.
summary() {
	if ! command -v python3 >/dev/null 2>&1 ||
		! timeout 20 python3 summary.py --quiet --deadline "$budget" --elapsed "$(($(date +%s) - t0))" "$WORK"; then
		{
			echo "# sgds GPU check (raw: summary.py did not run)"
			echo
			cat "$WORK/status.txt"
		} >"$WORK/summary.md"
	fi
	cp "$WORK/summary.md" "$WORK/status.txt" "$OUT/" 2>/dev/null
	[ -f "$WORK/preflight.txt" ] && cp "$WORK/preflight.txt" "$OUT/"
	cat "$WORK"/kernel-bench.log "$WORK"/step-sgds.log "$WORK"/step-torch.log 2>/dev/null |
		grep -E '^(Benchmark|STEP |TORCH )' >"$OUT/bench.txt"
}

# pack: every log into $OUT/logs.tar.gz (files over 4 MiB left out, and
# named in the archive's MISSING.txt).
pack() {
	(
		cd "$WORK" || exit 1
		find . -type f -size +4M >MISSING.txt
		timeout 20 tar -czf "$OUT/logs.tar.gz" --exclude-from=MISSING.txt . 2>/dev/null ||
			echo "run.sh: packing the logs failed" >&2
	)
}

finish() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		status "$current" interrupted "$(($(date +%s) - cur_t0))" "the run was stopped during this stage${cur_note:+; $cur_note}"
	fi
	summary
	pack
	# The summary last, so that the printed tail holds it.
	echo
	cat "$OUT/summary.md"
	exit "$rc"
}
trap finish EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# limit WANT: the seconds a stage that wants WANT gets now.
limit() {
	local avail=$((deadline - $(date +%s) - reserve))
	echo $((avail < $1 ? avail : $1))
}

# stage NAME WANT MIN LOG COMMAND...: runs COMMAND with at most WANT
# seconds, fewer when the deadline is nearer (then it says so), and skips
# it when fewer than MIN seconds are left.
stage() {
	local name=$1 want=$2 min=$3 log=$4
	shift 4
	local lim note=""
	lim=$(limit "$want")
	if [ "$lim" -lt "$min" ]; then
		status "$name" skipped 0 "$((lim > 0 ? lim : 0))s left before the deadline, the stage needs ${min}s"
		say "== $name: skipped (${lim}s left, needs ${min}s)"
		return 0
	fi
	if [ "$lim" -lt "$want" ]; then
		note="shortened: ${lim}s of ${want}s"
	fi
	say "== $name ($(date +%T), limit ${lim}s${note:+, $note})"
	current=$name cur_t0=$(date +%s) cur_note=$note
	timeout -k 5 "$lim" "$@" >"$WORK/$log" 2>&1 &
	pid=$!
	wait "$pid"
	local rc=$?
	pid=""
	status "$name" "$rc" "$(($(date +%s) - cur_t0))" "$note"
	say "   exit $rc after $(($(date +%s) - cur_t0))s; log $log (in logs.tar.gz)"
	tail -3 "$WORK/$log" | cut -c1-200 | sed 's/^/   | /' >&2
	summary >/dev/null 2>&1
}

# The preflight: the machine, what was built, libcuda, PyTorch; the
# summary's header and $OUT/preflight.txt.
pre=$WORK/preflight.txt
{
	if ((host)); then
		echo "run.sh --host: the GPU check's stages on the asynchronous host driver (no GPU), deadline ${budget}s"
	else
		echo "run.sh: the GPU check, deadline ${budget}s"
	fi
	if command -v nvidia-smi >/dev/null 2>&1; then
		echo "gpu: $(timeout 15 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv,noheader 2>&1 | head -1)"
		echo "driver: $(timeout 15 nvidia-smi 2>&1 | grep -o 'Driver Version: [0-9.]*\|CUDA Version: [0-9.]*' | tr '\n' ' ')"
	else
		echo "gpu: nvidia-smi not found"
	fi
	echo "glibc: $(getconf GNU_LIBC_VERSION 2>/dev/null || echo unknown)"
} >"$pre" 2>&1

have=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
need=$(sed -n 's/^glibc_required=//p' build-info.txt)
if ((!host)) && [ -n "$need" ] && [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; then
	status glibc failed 0 "the cgo binaries need GLIBC_$need, this machine has glibc $have: rebuild them on an older distribution"
	echo "STOP: the binaries need GLIBC_$need but this machine has glibc $have" >>"$pre"
	exit 1
fi
status glibc ok 0 "machine ${have:-unknown}, binaries need ${need:-unknown}"

# The CUDA binaries, unpacked in both modes: the rehearsal checks their
# libcuda too, and runs the host-driver builds of bin/gpu-host.
bin=$here/bin
mkdir -p "$bin"
s0=$(date +%s)
for f in *.gz; do
	[ -e "$f" ] || continue
	timeout 60 gunzip -c "$f" >"$bin/${f%.gz}" && chmod +x "$bin/${f%.gz}" || status unpack failed 0 "$f"
done
status unpack ok "$(($(date +%s) - s0))" ""

# libcuda: the loader's choice; when it finds none, the usual driver folders
# (never the toolkit's stubs, which cannot run anything), then LD_LIBRARY_PATH.
ldd_libcuda() { ldd "$bin/cuda.test" 2>&1 | grep -m1 'libcuda' | sed 's/^[[:space:]]*//' || true; }
line=$(ldd_libcuda)
note="${line:-no libcuda line from ldd}"
if [ -z "$line" ] || [[ $line == *"not found"* ]]; then
	found=""
	for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /lib/x86_64-linux-gnu /usr/local/nvidia/lib64 /usr/local/nvidia/lib \
		/usr/lib/x86_64-linux-gnu/nvidia/current /usr/lib/nvidia /usr/lib/wsl/lib /usr/local/cuda/compat \
		/run/nvidia/driver/usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/local/lib; do
		if [ -e "$d/libcuda.so.1" ]; then
			found=$d
			break
		fi
	done
	if [ -n "$found" ]; then
		export LD_LIBRARY_PATH="$found${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
		note="the loader did not find libcuda.so.1; found it in $found and put that on LD_LIBRARY_PATH: $(ldd_libcuda)"
		status libcuda ok 0 "$note"
	elif ((host)); then
		note="libcuda.so.1 found nowhere (the rehearsal does not need it): ${line:-no ldd line}"
		status libcuda absent 0 "$note"
	else
		note="libcuda.so.1 not found by the loader nor in the usual driver folders: ${line:-no ldd line}"
		status libcuda failed 0 "$note"
		echo "libcuda: $note" >>"$pre"
		echo "STOP: no libcuda" >>"$pre"
		exit 1
	fi
else
	status libcuda ok 0 "$line"
fi
echo "libcuda: $note" >>"$pre"

# PyTorch, probed under its own timeout: a missing peer costs a line.
torch=0
s0=$(date +%s)
if timeout 60 python3 -c '
import time
t = time.time()
import torch
dt = time.time() - t
ok = torch.cuda.is_available()
print(f"torch {torch.__version__} (CUDA {torch.version.cuda}), import {dt:.1f} s, cuda available: {ok}"
      + (f", {torch.cuda.get_device_name(0)}" if ok else ""))
raise SystemExit(0 if ok else 3)' >"$WORK/torch-probe.txt" 2>&1; then
	torch=1
	status torch-probe ok "$(($(date +%s) - s0))" "$(tail -1 "$WORK/torch-probe.txt")"
else
	status torch-probe absent "$(($(date +%s) - s0))" "$(tail -1 "$WORK/torch-probe.txt" | cut -c1-160)"
fi
echo "torch: $(tail -1 "$WORK/torch-probe.txt" | cut -c1-200)" >>"$pre"
{
	echo
	cat build-info.txt
} >>"$pre"
cat "$pre" >&2
summary

# How each driver runs the binaries. Benchmarks run a fixed count of calls
# (-benchtime Nx): the count does not scale on launch times.
if ((host)); then
	bin=$(cd "$here/../bin/gpu-host" 2>/dev/null && pwd)
	if [ -z "$bin" ] || [ ! -x "$bin/gpu.test" ]; then
		status binaries failed 0 "bin/gpu-host is missing: make gpu-check builds it"
		exit 1
	fi
	export SGDS_CUDA_DRIVER=host-async
	drv=(-driver host-async)
	short=(-test.short)
	kbench=1x sbench=1x
	cmp=(--model mlp --batch 1024 --epochs 1 --seeds 1 --targets 0.8,0.9)
else
	drv=() short=()
	kbench=20x sbench=50x
	cmp=(--model cnn --epochs 5 --seeds 1,2)
fi

stage cuda-tests 20 5 cuda-test.log "$bin/cuda.test" -test.v -test.count=1 "${drv[@]}"
stage kernel-tests 70 20 kernel-test.log "$bin/device.test" -test.v -test.count=1 -test.skip '^TestEmulatedKernels$' "${drv[@]}"
stage kernel-bench 60 20 kernel-bench.log "$bin/device.test" -test.run '^$' -test.bench . -test.benchtime "$kbench" "${drv[@]}"
if [ "$(limit 50)" -lt 50 ] && ((!host)); then sbench=20x; fi
stage step-sgds 50 20 step-sgds.log "$bin/gpu.test" -test.run '^$' -test.bench '^(BenchmarkStep|BenchmarkNormsCost)$' \
	-test.benchtime "$sbench" "${drv[@]}"
if ((torch)); then
	secs=2
	if [ "$(limit 50)" -lt 50 ]; then secs=1; fi
	stage step-torch 50 25 step-torch.log python3 step_torch.py --data data/mnist --seconds "$secs"
else
	status step-torch not-run 0 "no PyTorch with CUDA (see the torch probe)"
fi
stage gpu-tests 80 30 gpu-test.log "$bin/gpu.test" -test.v -test.count=1 "${short[@]}" "${drv[@]}" \
	-test.run '^(TestRegistered|TestSuite|TestSuiteBound|TestMatchesCPU|TestMatchesCPULargeBatch|TestBoundMatchesHost|TestEvaluateMatchesCPU|TestMNISTAccuracy|TestEvaluateWaitsForPendingCopies)$'
if [ "$(limit 60)" -lt 60 ] && ((!host)); then cmp=(--model cnn --epochs 2 --seeds 1,2); fi
stage compare 60 30 compare.log "$bin/sgds" compare --device cuda --data data/mnist --quiet --out "$WORK/compare" "${cmp[@]}"
stage devices 10 3 devices.txt "$bin/sgds" devices

# Exit 0 when every stage ran and passed; 1 when one failed, timed out or
# was skipped for lack of time.
awk -F'\t' '$2 != "0" && $2 != "ok" && $2 != "absent" && $2 != "not-run" { bad = 1 } END { exit bad }' "$WORK/status.txt"
