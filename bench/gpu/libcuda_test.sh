#!/usr/bin/env bash
# libcuda_test.sh: checks the GPU check's search for libcuda. A stand-in
# ldd on PATH answers "libcuda.so.1 => not found", as on a machine whose
# loader does not know the driver's folder, unless LD_LIBRARY_PATH names a
# folder holding libcuda.so.1; run.sh must then find the library in the
# usual driver folders, put that folder on LD_LIBRARY_PATH and say so in
# its preflight. The run's deadline is too short for any stage: only the
# preflight runs. Needs make gpu-check first, and a libcuda.so.1 in one of
# the driver folders (Debian's toolkit installs one).
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() {
	printf 'libcuda_test.sh: FAIL: %s\n' "$*" >&2
	exit 1
}
[ -x .device/run.sh ] || fail ".device is not built: make gpu-check first"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/path"
cat >"$tmp/path/ldd" <<'LDD'
#!/bin/sh
dir=${LD_LIBRARY_PATH%%:*}
if [ -n "$dir" ] && [ -e "$dir/libcuda.so.1" ]; then
	printf '\tlibcuda.so.1 => %s/libcuda.so.1 (0x00007f0000000000)\n' "$dir"
else
	printf '\tlibcuda.so.1 => not found\n'
fi
LDD
chmod +x "$tmp/path/ldd"
rc=0
env -u LD_LIBRARY_PATH PATH="$tmp/path:$PATH" OUT="$tmp/out" .device/run.sh --host 12 >"$tmp/printed" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "run.sh exited $rc, want 1 (every stage skipped): $(tail -5 "$tmp/printed")"
grep -q '^libcuda: the loader did not find libcuda.so.1; found it in /.* and put that on LD_LIBRARY_PATH: libcuda.so.1 => /' "$tmp/out/preflight.txt" ||
	fail "the preflight does not report the search: $(cat "$tmp/out/preflight.txt")"
grep -q '| libcuda | ok |' "$tmp/out/summary.md" || fail "the summary has no libcuda row: $(cat "$tmp/out/summary.md")"
bench/gpu/check_out.sh "$tmp/out" "$tmp/printed" || fail "the output folder or the printed tail"
echo "libcuda_test.sh: ok: $(grep '^libcuda:' "$tmp/out/preflight.txt")" >&2
