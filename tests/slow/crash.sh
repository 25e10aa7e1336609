#!/bin/bash
# crash.sh (slow) - while a client sends 2,000 messages over SMTP,
# `kill -9` the whole process group of `trackmail serve` at random moments
# 20 times and restart it: every message that got a 250 is in `messages
# list` exactly once, and no message is there twice (the client resends a
# message whose 250 it never saw: a duplicate by content hash).
. "$SRC/tests/integration/lib.sh"
D="$WORK/data"
N=${CRASH_MESSAGES:-2000}
KILLS=${CRASH_KILLS:-20}
export TRACKMAIL_DOMAIN=ex.test
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
printf 'smtp_listen: "127.0.0.1:%s"\nlmtp_listen: ""\nworkers: 2\n' "$PORT" >"$WORK/c.yaml"
export TRACKMAIL_CONFIG="$WORK/c.yaml"
spid=
cpid=
trap '[ -n "$spid" ] && kill -9 -- -"$spid" 2>/dev/null; [ -n "$cpid" ] && kill "$cpid" 2>/dev/null; rm -rf "$WORK"' EXIT
start() {
	setsid "$TRACKMAIL" serve --data-dir "$D" >>"$WORK/serve.log" 2>&1 &
	spid=$!
	for _ in $(seq 100); do
		(exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
addr=$("$TRACKMAIL" accounts add shop --data-dir "$D" | awk '{print $2}')
start
python3 "$SRC/tests/slow/smtp_client.py" "$PORT" "$addr" "$N" "$WORK/acks" &
cpid=$!
kills=0
# The kills fall at random points of the run, by progress rather than by
# clock (a fast machine sends 2,000 messages before 20 timed kills): each
# waits for a random number of acknowledged messages, all before 90 %.
thresholds=$(python3 -c '
import random, sys
n, k = int(sys.argv[1]), int(sys.argv[2])
print(" ".join(map(str, sorted(random.randint(n // 50, n * 9 // 10) for _ in range(k)))))' "$N" "$KILLS")
acked() { [ -f "$WORK/acks" ] && wc -l <"$WORK/acks" || echo 0; }
for t in $thresholds; do
	while [ "$(acked)" -lt "$t" ] && kill -0 "$cpid" 2>/dev/null; do
		sleep 0.02
	done
	kill -0 "$cpid" 2>/dev/null || break
	kill -9 -- -"$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	kills=$((kills + 1))
	start || break
done
wait "$cpid"
crc=$?
cpid=
check "the client got a 250 for every message ($N) across $kills kills" \
	test "$crc" -eq 0 -a "$(sort -un "$WORK/acks" | wc -l)" -eq "$N"
check "20 kills happened while it sent" test "$kills" -ge "$KILLS"
# the last start decides what the kills left in new/
for _ in $(seq 600); do
	[ "$(find "$D/spool/new" -type f | wc -l)" -eq 0 ] && break
	sleep 0.1
done
check "the spool is drained" test "$(find "$D/spool/new" -type f | wc -l)" -eq 0
"$TRACKMAIL" messages list --json --data-dir "$D" >"$WORK/list"
check "every acknowledged message is stored exactly once, none twice" python3 -c '
import collections, json, sys
acks = {int(l) for l in open(sys.argv[1])}
ids = collections.Counter()
for line in open(sys.argv[2]):
    o = json.loads(line)
    assert o["source"] == "smtp" and o["account"] == "shop", o
    ids[o["message_id"]] += 1
twice = [m for m, c in ids.items() if c > 1]
assert not twice, ("stored twice", twice[:5])
missing = [i for i in acks if ids.get(f"crash-{i}@tinyshop.example") != 1]
assert not missing, ("acknowledged but not stored", missing[:5])
print(f"# {len(acks)} acknowledged, {sum(ids.values())} stored")' "$WORK/acks" "$WORK/list"
kill -TERM "$spid"; wait "$spid"
check "serve stops with 0 after all that" test $? -eq 0
spid=
finish
