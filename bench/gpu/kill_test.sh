#!/usr/bin/env bash
# kill_test.sh: stops the GPU check's rehearsal (.device/run.sh --host) in
# the middle of a stage, as a deadline or an impatient operator would, and
# checks that the run still ends with its summary: printed last, written to
# $OUT/summary.md, with the stopped stage marked "interrupted" and the
# stages before it reported, and the output folder within what a remote
# run brings back (check_out.sh). Needs make gpu-check first.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() {
	printf 'kill_test.sh: FAIL: %s\n' "$*" >&2
	exit 1
}
[ -x .device/run.sh ] || fail ".device is not built: make gpu-check first"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out
OUT=$out .device/run.sh --host 480 >"$tmp/stdout" 2>"$tmp/stderr" &
pid=$!
for _ in $(seq 1 600); do # up to 2 minutes for the stage to start
	grep -q '^== kernel-tests' "$tmp/stderr" 2>/dev/null && break
	sleep 0.2
done
grep -q '^== kernel-tests' "$tmp/stderr" || fail "the kernel-tests stage never started: $(tail -5 "$tmp/stderr")"
sleep 1
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 143 ] || fail "run.sh exited $rc after SIGTERM, want 143"
[ -s "$out/summary.md" ] || fail "no summary.md"
grep -q '^# sgds GPU check' "$tmp/stdout" || fail "the summary was not printed"
grep -q '| kernel-tests | interrupted' "$out/summary.md" || fail "the stopped stage is not marked interrupted: $(cat "$out/summary.md")"
grep -q '| cuda-tests | ok' "$out/summary.md" || fail "the stage before is missing: $(cat "$out/summary.md")"
bench/gpu/check_out.sh "$out" "$tmp/stdout" || fail "the output folder or the printed tail is not what a remote run can bring back"
echo "kill_test.sh: ok: run.sh stopped during kernel-tests left its summary" >&2
