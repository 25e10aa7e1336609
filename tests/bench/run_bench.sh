#!/bin/bash
# run_bench.sh - parse throughput on realistic mail (issue 11).
#
# usage: tests/bench/run_bench.sh BUILD_DIR [SECONDS [COUNT]]
# Generates COUNT (default 2000) mails with gen_corpus.py into a temporary
# directory (removed on exit), then for the generated corpus, the real
# upstream mails (../shared/fixtures-upstream/emails, if present) and the
# fixtures prints:
#  - bench_parse --corpus: mails/s and MB/s per CPU second on one core
#    over the corpus repeated for SECONDS (default 5), start-up excluded,
#    and the process's peak RSS;
#  - `trackmail parse --json DIR` wall time and peak RSS (start-up
#    included), pinned to one core with taskset when available.
# A benchmark: it never fails on a figure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: run_bench.sh BUILD_DIR [SECONDS [COUNT]]}" && pwd)
seconds=${2:-5}
count=${3:-2000}
tmp=$(mktemp -d /tmp/tm-bench-corpus.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/gen_corpus.py" "$tmp/gen" "$count" 11
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi
dirs=("$tmp/gen")
upstream="$root/../shared/fixtures-upstream/emails"
[ -d "$upstream" ] && dirs+=("$(cd "$upstream" && pwd)")
dirs+=("$root/fixtures/emails")
for d in "${dirs[@]}"; do
	"${pin[@]}" "$build/tests/bench/bench_parse" --corpus "$d" "$root" \
		"$seconds"
done
for d in "${dirs[@]}"; do
	n=$(find "$d" -name '*.eml' | wc -l)
	# parse exits 1 when some mail is not shipped; only the time counts.
	/usr/bin/time -f "%e %M" -o "$tmp/time" "${pin[@]}" \
		"$build/src/trackmail" parse --json --parsers "$root/parsers" \
		"$d" >"$tmp/out.jsonl" 2>/dev/null || true
	read -r wall rss <"$tmp/time"
	lines=$(wc -l <"$tmp/out.jsonl")
	awk -v d="$d" -v n="$n" -v w="$wall" -v r="$rss" -v l="$lines" \
		'BEGIN { printf "parse --json %s: %d mails, %d lines, " \
			"%.2f s wall, %.0f mails/s, peak_rss=%.1fMB\n", \
			d, n, l, w, (w > 0 ? n / w : 0), r / 1024 }'
done
