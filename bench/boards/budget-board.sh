#!/usr/bin/env bash
# One budgeted board: tune every method on validation data at one budget
# (peak lr × momentum × schedule, the same grid for all), then compare the
# tuned methods, and each at the others' choice (matched optimisers), at
# every budget on seeds never used to choose anything. Resumable: a
# finished tune is kept, a compare continues with --resume.
#
#   bench/boards/budget-board.sh DATASET MODEL EPOCHS SEEDS OUT [TUNE_BUDGET]
#   e.g. bench/boards/budget-board.sh mnist mlp 5 11,12,13,14,15 bench/results/budget-mnist-mlp
set -euo pipefail
dataset=$1 model=$2 epochs=$3 seeds=$4 out=$5 tune_budget=${6:-0.3}
sgds=${SGDS_BIN:-bin/sgds}
budgets=${BUDGETS:-0.1,0.2,0.3,0.5,1}
targets=${TARGETS:-}
mkdir -p "$out"
start=$(date +%s)
if ! grep -q '"complete": true' "$out/tune/tune.json" 2>/dev/null; then
  rm -rf "$out/tune"
  "$sgds" tune --dataset "$dataset" --model "$model" --epochs "$epochs" --budget "$tune_budget" --val 10000 \
    --lrs "${LRS:-0.02,0.05,0.1,0.2}" --momenta 0.5,0.9 --schedules constant,linear --seeds 1 \
    --method uniform --method rs2:frac=0.3 --method sgds --quiet --out "$out/tune"
fi
args=(--dataset "$dataset" --model "$model" --epochs "$epochs" --seeds "$seeds" --budgets "$budgets"
  --tuned "$out/tune/tune.json"
  --method uniform:tuned=uniform --method rs2:frac=0.3,tuned=rs2 --method sgds:tuned=sgds
  --method sgds-at-uniform:sampler=sgds,tuned=uniform --method rs2-at-uniform:sampler=rs2,frac=0.3,tuned=uniform
  --baseline uniform --baseline rs2 --quiet --out "$out/compare")
[ -n "$targets" ] && args+=(--targets "$targets")
if [ -f "$out/compare/compare.json" ]; then
  "$sgds" compare --resume "$out/compare" --quiet
else
  "$sgds" compare "${args[@]}"
fi
echo "board $out done in $(( $(date +%s) - start )) s"
