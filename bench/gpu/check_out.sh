#!/usr/bin/env bash
# check_out.sh OUT [PRINTED]: checks that a GPU check's output folder OUT
# and what it printed (the file PRINTED, stdout and stderr together as a
# remote run records them) fit what a remote GPU run brings back: at most 8
# files, each at most 16 MiB, none more than two folders below OUT; and the
# last 12,000 printed characters hold the whole summary and end with it.
set -euo pipefail
out=${1:?usage: check_out.sh OUT [PRINTED]}
printed=${2:-}
bad=0
fail() {
	printf 'check_out.sh: %s\n' "$*" >&2
	bad=1
}
[ -d "$out" ] || fail "$out is not a folder"
n=$(find "$out" -type f | wc -l)
[ "$n" -le 8 ] || fail "$out holds $n files, at most 8 come back: $(cd "$out" && find . -type f | head -20 | tr '\n' ' ')"
deep=$(find "$out" -mindepth 4 | head -5)
[ -z "$deep" ] || fail "more than two folders deep: $deep"
big=$(find "$out" -type f -size +16M | head -5)
[ -z "$big" ] || fail "over 16 MiB: $big"
odd=$(find "$out" ! -type f ! -type d | head -5)
[ -z "$odd" ] || fail "neither files nor folders (links?): $odd"
[ -s "$out/summary.md" ] || fail "no $out/summary.md"
if [ -n "$printed" ] && [ -s "$out/summary.md" ]; then
	size=$(wc -c <"$out/summary.md")
	[ "$size" -lt 11000 ] || fail "summary.md is $size bytes: it does not fit the 12,000 printed characters that come back"
	tail -c 12000 "$printed" | grep -q '^# sgds GPU check' || fail "the last 12,000 printed characters do not hold the summary's title"
	want=$(grep -v '^[[:space:]]*$' "$out/summary.md" | tail -1)
	got=$(grep -v '^[[:space:]]*$' "$printed" | tail -1)
	[ "$got" = "$want" ] || fail "the printed output ends with \"$got\", not with the summary's last line \"$want\""
fi
[ "$bad" = 0 ] && echo "check_out.sh: ok: $n files in $out; the printed tail ends with the summary" >&2
exit "$bad"
