#!/usr/bin/env bash
# Set-up and every test: installs what is needed (Debian 12), builds, and
# runs the whole suite twice - plainly (with -Werror) and under
# AddressSanitizer + UndefinedBehaviorSanitizer - then the slow suite once
# without sanitizers and a 60-second libFuzzer smoke run. Ends with the
# line "N passed, N failed, N skipped" and exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
root=$PWD
scripts/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0 skipped=0
declare -a failures=()

# count_log BUILD LABEL: adds the results of BUILD/meson-logs/testlog.json.
count_log() {
	local log="$1/meson-logs/testlog.json"
	[ -f "$log" ] || { failed=$((failed + 1)); failures+=("$2: no test log"); return; }
	local out
	out=$(python3 - "$log" "$2" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    r = t["result"]
    if r in ("OK", "EXPECTEDFAIL"):
        p += 1
    elif r == "SKIP":
        s += 1
        print("SKIPPED %s: %s" % (sys.argv[2], t["name"]), file=sys.stderr)
    else:
        f += 1
        print("FAILED %s: %s (%s)" % (sys.argv[2], t["name"], r), file=sys.stderr)
print(p, f, s)
PY
)
	set -- $out
	passed=$((passed + $1)) failed=$((failed + $2)) skipped=$((skipped + $3))
}

# build DIR MESON_OPTIONS...: configures (once) and builds.
build() {
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" > "$dir.setup.log" 2>&1 ||
			{ cat "$dir.setup.log"; return 1; }
	fi
	ninja -C "$dir" 2>&1 | grep -E "warning|error|FAILED" ; return "${PIPESTATUS[0]}"
}

echo "== plain build (warnings are errors)"
if build build-test -Dwerror=true -Dtests=enabled; then
	meson test -C build-test --no-suite slow --print-errorlogs --num-processes 2
	count_log build-test plain
else
	failed=$((failed + 1)); failures+=("plain build")
fi

echo "== ASan + UBSan build"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if build build-test-asan -Db_sanitize=address,undefined -Dtests=enabled; then
	meson test -C build-test-asan --no-suite slow --print-errorlogs --num-processes 2 \
		--timeout-multiplier 3
	count_log build-test-asan asan
else
	failed=$((failed + 1)); failures+=("asan build")
fi
unset ASAN_OPTIONS UBSAN_OPTIONS

if meson test -C build-test --list 2>/dev/null | grep -q ':slow /'; then
	echo "== slow suite (once, no sanitizers)"
	rm -f build-test/meson-logs/testlog.json
	meson test -C build-test --suite slow --print-errorlogs
	count_log build-test slow
fi

echo "== fuzz smoke (60 s)"
FUZZ_SECONDS=${FUZZ_SECONDS:-60} scripts/fuzz-smoke.sh
rc=$?
case $rc in
0) passed=$((passed + 1)) ;;
77) skipped=$((skipped + 1)); echo "SKIPPED fuzz smoke: no clang" >&2 ;;
*) failed=$((failed + 1)); failures+=("fuzz smoke") ;;
esac

for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
