#!/usr/bin/env bash
# One budgeted board: tune every method on validation data at one budget
# (peak lr × momentum × schedule, the same grid for all), then compare the
# tuned methods — with SGD-S's ablations and the matched-optimiser rows —
# at every budget on seeds never used to choose anything. Resumable: a
# finished tune is kept, a compare continues with --resume.
#
#   bench/boards/budget-board.sh DATASET MODEL EPOCHS SEEDS OUT [SET]
#   SET: full (uniform, RS2, SGD-S, its ablations, the four peers; default) or core (uniform, RS2, SGD-S)
#   e.g. bench/boards/budget-board.sh mnist mlp 5 11,12,13,14,15 bench/results/budget-mnist-mlp
# Environment: SGDS_BIN (bin/sgds), BUDGETS (0.1,0.2,0.3,0.5,1), TUNE_BUDGET (0.3), LRS, TARGETS.
set -euo pipefail
dataset=$1 model=$2 epochs=$3 seeds=$4 out=$5 set=${6:-full}
sgds=${SGDS_BIN:-bin/sgds}
budgets=${BUDGETS:-0.1,0.2,0.3,0.5,1}
tune_methods=(--method uniform --method rs2:frac=0.3 --method sgds)
compare_methods=(--method uniform:tuned=uniform --method rs2:frac=0.3,tuned=rs2 --method sgds:tuned=sgds
  --method sgds-at-uniform:sampler=sgds,tuned=uniform --method uniform-at-sgds:sampler=uniform,tuned=sgds)
if [ "$set" = full ]; then
  for p in infobatch selective-backprop kf-is kakurenbo; do
    tune_methods+=(--method "$p"); compare_methods+=(--method "$p:tuned=$p")
  done
  # SGD-S's parts at SGD-S's tuned optimiser: sampling without pruning, pruning
  # without loss-proportional sampling (uniform over the kept set), and the
  # weights: biased (debias 0) and unbiased (debias 1) beside the default 0.75.
  compare_methods+=(--method sgds-sample:sampler=sgds,drop=0,readd=0,tuned=sgds --method sgds-prune:sampler=sgds,mix=1,tuned=sgds
    --method sgds-biased:sampler=sgds,debias=0,tuned=sgds --method sgds-unbiased:sampler=sgds,debias=1,tuned=sgds)
fi
mkdir -p "$out"
start=$(date +%s)
if ! grep -q '"complete": true' "$out/tune/tune.json" 2>/dev/null; then
  rm -rf "$out/tune"
  "$sgds" tune --dataset "$dataset" --model "$model" --epochs "$epochs" --budget "${TUNE_BUDGET:-0.3}" --val 10000 \
    --lrs "${LRS:-0.02,0.05,0.1,0.2,0.4}" --momenta 0.5,0.9 --schedules constant,linear --seeds 1 \
    "${tune_methods[@]}" --quiet --out "$out/tune"
fi
echo "tuned in $(( $(date +%s) - start )) s"
args=(--dataset "$dataset" --model "$model" --epochs "$epochs" --seeds "$seeds" --budgets "$budgets"
  --tuned "$out/tune/tune.json" "${compare_methods[@]}" --baseline uniform --baseline rs2 --quiet --out "$out/compare")
[ -n "${TARGETS:-}" ] && args+=(--targets "$TARGETS")
if [ -f "$out/compare/compare.json" ]; then
  "$sgds" compare --resume "$out/compare" --quiet
else
  "$sgds" compare "${args[@]}"
fi
echo "board $out done in $(( $(date +%s) - start )) s"
