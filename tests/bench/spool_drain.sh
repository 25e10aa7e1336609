#!/usr/bin/env bash
# spool_drain.sh - a benchmark, not a test: how fast `trackmail serve`'s
# workers decide a backlog (docs/intake.md "serve"). N messages are put in
# the spool with `trackmail spool add` while nothing runs (as after an
# outage, or a burst the intake accepted faster than the workers
# decide), then `serve` starts and the script times until spool/new/ is
# empty and every message has its decision.
#
# The messages are the project's fixture mails (fixtures/emails/**/*.eml:
# shipped, order confirmations, quarantined, duplicates of one another),
# each given a unique Message-ID so that none is a duplicate of another
# copy; KIND=junk uses one small non-supplier message instead (every one
# quarantined: the costliest path, a quarantine file each).
#
# Usage: tests/bench/spool_drain.sh [BUILD_DIR] [N] [WORKERS]
# The data directory is made under ${TMPDIR:-/tmp} (see smtp_bench.sh on
# ext4 without a journal: leave a minute between runs).
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
N=${2:-5000}
WORKERS=${3:-0}
TRACKMAIL=$BUILD/src/trackmail
[ -x "$TRACKMAIL" ] || { echo "missing $TRACKMAIL" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spool-drain.XXXXXX")
spid=
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
export TRACKMAIL_DOMAIN=bench.test TRACKMAIL_PARSERS_DIR=$SRC/parsers
export TRACKMAIL_SMTP_LISTEN= TRACKMAIL_LMTP_LISTEN= TRACKMAIL_LOG_LEVEL=warn
export TRACKMAIL_DKIM_QUERY_FILE=$WORK/no-dkim-keys
: >"$TRACKMAIL_DKIM_QUERY_FILE"
D=$WORK/data
"$TRACKMAIL" accounts add bench --data-dir "$D" >/dev/null

# N message files with unique Message-IDs
mkdir "$WORK/mail"
python3 - "$SRC/fixtures/emails" "$WORK/mail" "$N" "${KIND:-fixtures}" <<'EOF'
import os, re, sys
src, out, n, kind = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if kind == "junk":
    bodies = [b"From: someone@example.com\r\nTo: t@bench.test\r\n"
              b"Subject: hello\r\n\r\nNot a supplier mail.\r\n"]
else:
    bodies = []
    for root, _, files in os.walk(src):
        for f in sorted(files):
            if f.endswith(".eml"):
                bodies.append(open(os.path.join(root, f), "rb").read())
mid = re.compile(rb"^Message-ID:[^\r\n]*\r?\n", re.I | re.M)
for i in range(n):
    b = mid.sub(b"", bodies[i % len(bodies)], count=1)
    with open(os.path.join(out, f"{i:07d}.eml"), "wb") as fh:
        fh.write(b"Message-ID: <drain-%d@bench.test>\r\n" % i + b)
print(f"# {n} messages from {len(bodies)} distinct mails ({kind})")
EOF
t0=$(date +%s.%N)
(cd "$WORK/mail" && ls | xargs "$TRACKMAIL" spool add --account bench \
	--data-dir "$D" >/dev/null)
t1=$(date +%s.%N)
spooled=$(ls "$D/spool/new" | wc -l)
awk -v a="$t0" -v b="$t1" -v n="$spooled" 'BEGIN {
	printf "spooled:  %d messages in %.1f s with `spool add` (%.0f msg/s, one durable write each)\n", n, b - a, n / (b - a) }'

# The device under the data directory, for its writes and cache flushes
# per decision (/proc/diskstats: writes completed, sectors written,
# flushes completed); empty when it has no line there.
dev=$(basename "$(findmnt -no SOURCE -T "$WORK" 2>/dev/null || echo none)")
disk() { awk -v d="$dev" '$3 == d { print $8, $10, $19 }' /proc/diskstats; }
read -r w0 s0 f0 _ <<<"$(disk) 0 0 0"
# WRAP: a command to run serve under (strace -f -c, perf record ...)
TRACKMAIL_WORKERS=$WORKERS ${WRAP:-} "$TRACKMAIL" serve --data-dir "$D" 2>"$WORK/serve.log" &
spid=$!
t0=$(date +%s.%N)
while [ -n "$(ls -A "$D/spool/new")" ]; do
	kill -0 "$spid" 2>/dev/null || { echo "serve died:" >&2; tail "$WORK/serve.log" >&2; exit 1; }
	sleep 0.1
done
t1=$(date +%s.%N)
read -r w1 s1 f1 _ <<<"$(disk) 0 0 0"
"$TRACKMAIL" messages list --json --data-dir "$D" >"$WORK/decided.jsonl"
decided=$(wc -l <"$WORK/decided.jsonl")
awk -v a="$t0" -v b="$t1" -v n="$spooled" -v d="$decided" -v w="$WORKERS" \
	-v load="$(cut -d' ' -f1-3 /proc/loadavg)" 'BEGIN {
	printf "drained:  %d messages in %.1f s: %.0f msg/s (workers %s, 0 = CPUs), %d decisions stored; load %s\n",
		n, b - a, n / (b - a), w, d, load }'
python3 - "$WORK/decided.jsonl" <<'EOF'
import json, sys, collections
c = collections.Counter(json.loads(l).get("outcome", "?") for l in open(sys.argv[1]))
print("outcomes: " + ", ".join(f"{k} {v}" for k, v in c.most_common()))
EOF
[ -n "$(disk)" ] && awk -v n="$spooled" -v d="$dev" -v w=$((w1 - w0)) \
	-v s=$((s1 - s0)) -v f=$((f1 - f0)) 'BEGIN {
	printf "device:   %s: %.1f writes, %.1f KB, %.2f cache flushes per message while draining\n",
		d, w / n, s / 2 / n, f / n }'
