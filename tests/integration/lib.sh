# lib.sh - helpers for the integration tests: each test is a bash script
# that runs the real trackmail binary (TRACKMAIL) against real files in a
# private temporary directory and checks what it printed and stored.
# Sourced by every test; prints TAP ("ok N - ...", "not ok N - ...").
set -u
TRACKMAIL=${TRACKMAIL:?set TRACKMAIL to the binary}
SRC=${SRC:?set SRC to the source root}
PARSERS="$SRC/parsers"
UPSTREAM="$SRC/../shared/fixtures-upstream"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/trackmail-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export TRACKMAIL_PARSERS_DIR="$PARSERS"
unset TRACKMAIL_DATA_DIR
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
# check NAME COMMAND...: ok when the command succeeds.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name"; fi
}
# sql DB QUERY: one value from the database, through the sqlite3 CLI.
sql() { sqlite3 -batch -noheader "$1" "$2"; }
# json_field FILE_OF_JSON_LINES FIELD: that field of every line.
json_field() { python3 -c '
import json, sys
for line in open(sys.argv[1]):
    v = json.loads(line).get(sys.argv[2])
    print(json.dumps(v) if not isinstance(v, str) else v)' "$1" "$2"; }
# slow_mail FILE: a 19 MB HTML mail that takes a decoder worker 120-200 ms
# of CPU (fixture mails take under 3 ms): tests run it under a 40 ms
# worker_cpu_ms to hit the CPU limit with a margin of 3x and 13x either
# way (under ASan both grow alike). When decoding gets faster again, make
# it slower here, once: worker_limits, serve and store_safety use it.
slow_mail() { python3 -c '
import sys
with open(sys.argv[1], "w") as f:
    f.write("From: a@b.example\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n")
    f.write("<p>Tracking number " * 1000000)' "$1"; }
finish() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
