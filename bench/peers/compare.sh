#!/usr/bin/env bash
# compare.sh: sgds's cpu backend against PyTorch on the same machine, in
# one run, interleaved (sgds, torch, sgds, torch, …) so that both see the
# same machine load. Prints samples/s of steady-state training steps at
# batch 64 for each round, then the medians and the ratio sgds/torch; then
# the same for one epoch of training (wall-clock seconds).
#
# Environment (defaults):
#   ROUNDS=3          interleaved rounds per model
#   SECONDS_PER=3     timed seconds per step measurement
#   MODELS="mlp cnn"
#   EPOCH=1           also time one epoch (0: skip)
#   PY=/usr/bin/python3
#   OMP_NUM_THREADS=2 torch's intra-op threads (= the cores sgds uses)
#   OMP_WAIT_POLICY=PASSIVE
#                     idle OpenMP threads sleep instead of spinning. With the
#                     default (ACTIVE spinning) torch collapses as soon as
#                     another process competes for a core (measured: 349
#                     instead of ~25,000 samples/s for the MLP on a loaded
#                     2-core machine); on an idle machine ACTIVE can be a
#                     little faster: set OMP_WAIT_POLICY=ACTIVE to compare.
#   PORTABLE=1        also measure the portable kernels (SGDS_KERNELS=portable)
#   GORGONIA=0        also measure the gorgonia backend (slow)
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-3}
SECONDS_PER=${SECONDS_PER:-3}
MODELS=${MODELS:-"mlp cnn"}
EPOCH=${EPOCH:-1}
PY=${PY:-/usr/bin/python3}
PORTABLE=${PORTABLE:-1}
GORGONIA=${GORGONIA:-0}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
export GOMAXPROCS=${GOMAXPROCS:-$OMP_NUM_THREADS}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

say() { printf '%s\n' "$*" >&2; }

# Test binaries: one plain build, whose kernel path is chosen at run time
# from the CPU's features (avx512, avx2 or portable: "default"), and the
# portable path forced with SGDS_KERNELS=portable ("portable").
go test -c -o "$tmp/cpu.test" ./engine/cpu
builds=(default)
printf '#!/bin/sh\nexec "%s" "$@"\n' "$tmp/cpu.test" >"$tmp/default.test"
if [ "$PORTABLE" = 1 ]; then
	printf '#!/bin/sh\nSGDS_KERNELS=portable exec "%s" "$@"\n' "$tmp/cpu.test" >"$tmp/portable.test"
	builds+=(portable)
fi
chmod +x "$tmp"/*.test

# gobench BIN PATTERN METRIC: runs one benchmark and prints METRIC's value.
gobench() {
	"$1" -test.run '^$' -test.bench "$2" -test.benchtime "$3" 2>&1 |
		awk -v m="$4" '/^Benchmark/ { for (i = 2; i <= NF; i++) if ($i == m) v = $(i-1) } END { if (v == "") exit 1; print v }'
}
torchbench() { # MODEL WHAT FIELD
	"$PY" bench/peers/step.py --models "$1" --what "$2" --seconds "$SECONDS_PER" |
		awk -v f="$3" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) v = kv[2] } } END { print v }'
}
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR+1)/2]; else printf "%.1f\n", (a[NR/2] + a[NR/2+1]) / 2 }'; }

say "compare.sh: $(go version | cut -d' ' -f3), torch $("$PY" -c 'import torch; print(torch.__version__)'), OMP_NUM_THREADS=$OMP_NUM_THREADS OMP_WAIT_POLICY=$OMP_WAIT_POLICY GOMAXPROCS=$GOMAXPROCS, $(nproc) CPUs"
printf '%-6s %-5s %-22s %12s\n' model round engine samples/s
for model in $MODELS; do
	: >"$tmp/$model.ratio"
	for r in $(seq "$ROUNDS"); do
		for b in "${builds[@]}"; do
			v=$(gobench "$tmp/$b.test" "BenchmarkStep/model=$model/device=cpu/batch=64\$" "${SECONDS_PER}s" samples/s)
			printf '%-6s %-5s %-22s %12.0f\n' "$model" "$r" "sgds-cpu-$b" "$v"
			echo "$v" >>"$tmp/$model.$b"
		done
		if [ "$GORGONIA" = 1 ]; then
			v=$(gobench "$tmp/${builds[0]}.test" "BenchmarkStep/model=$model/device=gorgonia/batch=64\$" "${SECONDS_PER}s" samples/s)
			printf '%-6s %-5s %-22s %12.0f\n' "$model" "$r" "sgds-gorgonia" "$v"
			echo "$v" >>"$tmp/$model.gorgonia"
		fi
		t=$(torchbench "$model" step samples/s)
		printf '%-6s %-5s %-22s %12.0f\n' "$model" "$r" "torch" "$t"
		echo "$t" >>"$tmp/$model.torch"
		awk -v a="$(tail -1 "$tmp/$model.${builds[0]}")" -v b="$t" 'BEGIN { print a / b }' >>"$tmp/$model.ratio"
	done
done

echo
echo "steady-state training steps, batch 64 (median of $ROUNDS interleaved rounds)"
printf '%-6s %-22s %12s %10s\n' model engine samples/s vs-torch
for model in $MODELS; do
	tm=$(median <"$tmp/$model.torch")
	for e in "${builds[@]}" gorgonia; do
		[ -s "$tmp/$model.$e" ] || continue
		m=$(median <"$tmp/$model.$e")
		name=sgds-cpu-$e
		[ "$e" = gorgonia ] && name=sgds-gorgonia
		printf '%-6s %-22s %12.0f %9.2fx\n' "$model" "$name" "$m" "$(awk -v a="$m" -v b="$tm" 'BEGIN { print a / b }')"
	done
	printf '%-6s %-22s %12.0f %9.2fx\n' "$model" torch "$tm" 1
	printf '%-6s %-22s %22s\n' "$model" "ratio per round" "$(median <"$tmp/$model.ratio" | awk '{ printf "%.2fx (median)", $1 }')"
done

if [ "$EPOCH" = 1 ]; then
	echo
	echo "one epoch of training (60,000 images, shuffled, batch 64), wall-clock seconds"
	printf '%-6s %-22s %10s\n' model engine seconds
	for model in $MODELS; do
		v=$(gobench "$tmp/${builds[0]}.test" "BenchmarkEpoch/model=$model/device=cpu/batch=64\$" 1x s/epoch)
		printf '%-6s %-22s %10.2f\n' "$model" "sgds-cpu-${builds[0]}" "$v"
		t=$(torchbench "$model" epoch seconds)
		printf '%-6s %-22s %10.2f\n' "$model" torch "$t"
		printf '%-6s %-22s %9.2fx\n' "$model" "speed ratio" "$(awk -v a="$v" -v b="$t" 'BEGIN { print b / a }')"
	done
fi
