#!/bin/sh
# fuzz-smoke.sh - CI smoke fuzzing: builds the libFuzzer targets with clang
# under ASan+UBSan (build dir build-fuzz-smoke) and fuzzes each for at most
# its share of FUZZ_SECONDS (default 60 in all), starting from its
# committed corpus (and, for fuzz_parse, the fixture mails).
# New corpus entries go to a temporary directory, never into the tree.
# Exit status: 0 when nothing was found, 1 on a crash/leak/timeout (the
# reproducer is copied to build-fuzz-smoke/findings/: add it to
# tests/fuzz/corpus/<target>/ as a regression input once fixed).
set -eu

cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
build=build-fuzz-smoke

if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz-smoke: clang not found (apt-get install clang libclang-rt-dev)" >&2
	exit 77
fi
if [ ! -d "$build" ]; then
	CC=clang meson setup "$build" -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C "$build" tests/fuzz/fuzz_mail_decode tests/fuzz/fuzz_parse \
	tests/fuzz/fuzz_smtp >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/findings"
status=0
targets="fuzz_mail_decode:mail fuzz_parse:mail fuzz_smtp:smtp"
secs=$((secs / 3)) # the total stays FUZZ_SECONDS
for target in $targets; do
	name=${target%%:*}
	corpus=tests/fuzz/corpus/${target#*:}
	mkdir -p "$work/$name"
	echo "fuzz-smoke: $name for ${secs}s"
	if ! (cd "$work" && "$OLDPWD/$build/tests/fuzz/$name" \
		-max_total_time="$secs" -max_len=65536 -timeout=10 \
		-rss_limit_mb=4096 -print_final_stats=1 \
		"$work/$name" "$OLDPWD/$corpus" $(test "$name" = fuzz_parse &&
			echo "$OLDPWD/fixtures/emails") 2>"$work/$name.log"); then
		status=1
		cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* \
			"$work"/oom-* "$build/findings/" 2>/dev/null || true
		tail -40 "$work/$name.log" >&2
	fi
	grep -E '^#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec' \
		"$work/$name.log" || true
done
exit $status
