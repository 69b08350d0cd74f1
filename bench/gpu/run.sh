#!/usr/bin/env bash
# run.sh: the GPU check, under one deadline, always ending with a summary.
#
#   .device/run.sh [SECONDS]          on a machine with an NVIDIA GPU and
#                                     driver (no Go toolchain, no network)
#   .device/run.sh --host [SECONDS]   the rehearsal on the build machine: the
#                                     same stages on the host driver, with the
#                                     binaries of bin/gpu-host
#
# bench/gpu/build.sh (make gpu-check) builds .device/; bench/gpu/run.sh runs
# that copy. SECONDS is the deadline of the whole run (default 480): a stage
# starts only if the time it needs at least is left, gets at most the time
# left, and is skipped or shortened otherwise, which the summary says. Logs
# go to $OUT (default .device/out); the summary table ($OUT/summary.md) is
# rewritten after every stage and printed last, from an EXIT trap, so that a
# run stopped by its deadline or a signal still leaves it.
#
# Exit status: 0 when every stage ran and passed, 1 when one failed, timed
# out or was skipped for lack of time (143 or 130 when stopped by a signal).
#
# Stages: the machine's glibc, driver and CUDA versions and build-info.txt
# first (a clear stop when the binaries need a newer glibc); then the
# binding tests (cuda.test); every kernel against its reference (device.test);
# the kernel benchmarks (CUDA events, GB/s, the loss kernel against copy);
# the training step's samples/s and the per-sample norms' cost (gpu.test
# benchmarks) and PyTorch eager's on the same card (step_torch.py, after a
# probe under its own timeout); the GPU backend's tests (the shared engine
# suite, against the cpu backend, a short MNIST run); SGD-S against uniform
# on the GPU (sgds compare); sgds devices.
set -uo pipefail

host=0
budget=480
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
reserve=10 # seconds kept for the summary
OUT=${OUT:-$here/out}
mkdir -p "$OUT"
cd "$here" || exit 1
export CUDA_CACHE_PATH="$here/.nv-cache" # JIT-compile the PTX once, not once per binary
export PYTHONDONTWRITEBYTECODE=1
# A new run: no log of an earlier one may fill the summary.
rm -rf "$OUT"/*.log "$OUT"/*.txt "$OUT/compare" "$OUT/summary.md"
: >"$OUT/status.txt"
pid=""     # the running stage's process
current="" # its name, start time and note
cur_t0=0
cur_note=""

say() { printf '%s\n' "$*" >&2; }

# status STAGE RESULT SECONDS NOTE: one row of the summary's stage table.
status() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$OUT/status.txt"; }

summary() { # summary [--quiet]
	if command -v python3 >/dev/null 2>&1; then
		timeout 20 python3 summary.py "$@" --deadline "$budget" --elapsed "$(($(date +%s) - t0))" "$OUT"
	else
		say "python3 is missing: the stage table raw"
		cat "$OUT/status.txt"
	fi
}

finish() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		status "$current" interrupted "$(($(date +%s) - cur_t0))" "the run was stopped during this stage${cur_note:+; $cur_note}"
	fi
	say ""
	summary
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
	timeout -k 5 "$lim" "$@" >"$OUT/$log" 2>&1 &
	pid=$!
	wait "$pid"
	local rc=$?
	pid=""
	status "$name" "$rc" "$(($(date +%s) - cur_t0))" "$note"
	say "   exit $rc after $(($(date +%s) - cur_t0))s; log $OUT/$log"
	tail -3 "$OUT/$log" | sed 's/^/   | /' >&2
	summary --quiet >/dev/null 2>&1
}

# The machine first: versions, then what was built.
{
	if ((host)); then
		echo "run.sh --host: the GPU check's stages on the host driver (no GPU), deadline ${budget}s"
	else
		echo "run.sh: the GPU check, deadline ${budget}s"
	fi
	echo "glibc: $(getconf GNU_LIBC_VERSION 2>/dev/null || echo unknown)"
	if command -v nvidia-smi >/dev/null 2>&1; then
		timeout 15 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv,noheader
		echo "$(timeout 15 nvidia-smi | grep -o 'CUDA Version: [0-9.]*')"
	else
		echo "nvidia-smi: not found"
	fi
	echo
	cat build-info.txt
} 2>&1 | tee "$OUT/machine.txt" >&2

have=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
need=$(sed -n 's/^glibc_required=//p' build-info.txt)
if ((!host)) && [ -n "$need" ] && [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; then
	status glibc failed 0 "the cgo binaries need GLIBC_$need, this machine has glibc $have: rebuild them on an older distribution"
	say "run.sh: STOP: the binaries need GLIBC_$need but this machine has glibc $have"
	exit 1
fi
status glibc ok 0 "machine ${have:-unknown}, binaries need ${need:-unknown}"

# The binaries, and how each driver runs them.
if ((host)); then
	bin=$(cd "$here/../bin/gpu-host" 2>/dev/null && pwd)
	if [ -z "$bin" ] || [ ! -x "$bin/gpu.test" ]; then
		status binaries failed 0 "bin/gpu-host is missing: make gpu-check builds it"
		exit 1
	fi
	export SGDS_CUDA_DRIVER=host
	drv=(-driver host)
	short=(-test.short)
	kbench=1x sbench=1x
	cmp=(--model mlp --batch 1024 --epochs 1 --seeds 1 --targets 0.8,0.9)
else
	bin=$here/bin
	mkdir -p "$bin"
	s0=$(date +%s)
	for f in *.gz; do
		[ -e "$f" ] || continue
		timeout 60 gunzip -c "$f" >"$bin/${f%.gz}" && chmod +x "$bin/${f%.gz}" || status unpack failed 0 "$f"
	done
	status unpack ok "$(($(date +%s) - s0))" ""
	drv=() short=()
	kbench=20x sbench=1s
	cmp=(--model cnn --epochs 5 --seeds 1,2)
fi

# PyTorch, probed under its own timeout: a missing peer costs a line.
torch=0
s0=$(date +%s)
if timeout 30 python3 -c 'import torch; assert torch.cuda.is_available(); print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0))' \
	>"$OUT/torch-probe.txt" 2>&1; then
	torch=1
	status torch-probe ok "$(($(date +%s) - s0))" "$(tail -1 "$OUT/torch-probe.txt")"
else
	status torch-probe absent "$(($(date +%s) - s0))" "$(tail -1 "$OUT/torch-probe.txt" | cut -c1-120)"
fi

stage cuda-tests 30 5 cuda-test.log "$bin/cuda.test" -test.v -test.count=1 "${drv[@]}"
stage kernel-tests 100 20 kernel-test.log "$bin/device.test" -test.v -test.count=1 -test.skip '^TestEmulatedKernels$' "${drv[@]}"
stage kernel-bench 90 20 kernel-bench.log "$bin/device.test" -test.run '^$' -test.bench . -test.benchtime "$kbench" "${drv[@]}"
if [ "$(limit 80)" -lt 80 ] && ((!host)); then sbench=300ms; fi
stage step-sgds 80 20 step-sgds.log "$bin/gpu.test" -test.run '^$' -test.bench '^(BenchmarkStep|BenchmarkNormsCost)$' \
	-test.benchtime "$sbench" "${drv[@]}"
if ((torch)); then
	secs=2
	if [ "$(limit 80)" -lt 80 ]; then secs=1; fi
	stage step-torch 80 25 step-torch.log python3 step_torch.py --data data/mnist --seconds "$secs"
else
	status step-torch not-run 0 "no PyTorch with CUDA (see the torch probe)"
fi
stage gpu-tests 140 30 gpu-test.log "$bin/gpu.test" -test.v -test.count=1 "${short[@]}" "${drv[@]}" \
	-test.run '^(TestRegistered|TestSuite|TestMatchesCPU|TestMatchesCPULargeBatch|TestBoundMatchesHost|TestEvaluateMatchesCPU|TestMNISTAccuracy)$'
if [ "$(limit 90)" -lt 90 ] && ((!host)); then cmp=(--model cnn --epochs 2 --seeds 1,2); fi
stage compare 90 30 compare.log "$bin/sgds" compare --device cuda --data data/mnist --quiet --out "$OUT/compare" "${cmp[@]}"
stage devices 15 3 devices.txt "$bin/sgds" devices

# Exit 0 when every stage ran and passed; 1 when one failed, timed out or
# was skipped for lack of time.
awk -F'\t' '$2 != "0" && $2 != "ok" && $2 != "absent" && $2 != "not-run" { bad = 1 } END { exit bad }' "$OUT/status.txt"
