#!/bin/bash
# serve.sh - `trackmail serve` as a real process tree: mail put into the
# spool (`trackmail spool add`) is decided by a worker and archived;
# SIGTERM while mail keeps arriving loses nothing (every spooled message
# is decided after the next start, exactly once); a killed worker is
# restarted; what a crash left in new/ is decided on start and stale tmp/
# files removed; SIGHUP makes the next mail decided by a changed parser
# file, a broken one keeps the old set; serve refuses a broken parser
# file unless --skip-broken-parsers; children die with the supervisor;
# SIGHUP reconciles the children with the config: an IMAP poller is
# added for the first mailbox, replaced when the list changes, removed
# with the last mailbox, kept on a broken config; dispatch is replaced.
. "$(dirname "$0")/lib.sh"

D="$WORK/data"
P="$WORK/parsers"
cp -r "$PARSERS" "$P"
export TRACKMAIL_PARSERS_DIR="$P"
# Mail comes through `spool add` here; the SMTP/LMTP listeners are off
# (an empty listen value), smtp_intake.sh and postfix_lmtp.sh test them.
printf 'smtp_listen: ""\nlmtp_listen: ""\n' >"$WORK/serve.yaml"
export TRACKMAIL_CONFIG="$WORK/serve.yaml"
LOG="$WORK/serve.log"
SERVE_PID=
stop_serve() {
	if [ -n "$SERVE_PID" ]; then
		kill -TERM "$SERVE_PID" 2>/dev/null
		wait "$SERVE_PID" 2>/dev/null
		SERVE_RC=$?
		SERVE_PID=
	fi
}
trap 'stop_serve; [ -n "${SERVE_PID:-}" ] && kill -9 -- -"$SERVE_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
start_serve() {
	setsid "$TRACKMAIL" serve --data-dir "$D" --workers 2 "$@" >>"$LOG" 2>&1 &
	SERVE_PID=$!
	for _ in $(seq 100); do
		grep -q "event=serve-ready pid=$SERVE_PID" "$LOG" && return 0
		sleep 0.1
	done
	return 1
}
# wait_for N: until N messages are stored (10 s at most).
wait_for() {
	for _ in $(seq 200); do
		[ "$("$TRACKMAIL" messages list --json --data-dir "$D" | wc -l)" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
# mail N: a message with its own Message-ID (distinct bytes).
mail() {
	sed "s/^Message-ID: <.*>/Message-ID: <serve-$1@test.example>/" \
		"$SRC/tests/data/fallback/schema_org_parcel.eml" >"$WORK/m$1.eml"
	echo "$WORK/m$1.eml"
}
count() { "$TRACKMAIL" messages list --json --data-dir "$D" | wc -l; }
# alive PID: running (a zombie is dead: PID 1 of a container may not reap)
alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${st#Z}" = "$st" ]; }
spool_new() { find "$D/spool/new" -type f | wc -l; }

# --- a message through the service ---
check "serve starts" start_serve
"$TRACKMAIL" spool add "$(mail 1)" --data-dir "$D" >"$WORK/id1" 2>&1
check "spool add prints the spool id" grep -q 'P[0-9]*Q' "$WORK/id1"
check "the worker decides it" wait_for 1
"$TRACKMAIL" messages list --json --data-dir "$D" >"$WORK/list.json"
check "messages list: source file, account default, message_id" \
	python3 -c '
import json, sys
o = json.loads(open(sys.argv[1]).readline())
assert o["source"] == "file" and o["account"] == "default", o
assert o["message_id"] == "serve-1@test.example", o
assert o["outcome"] == "shipped" and o["shipments"][0]["tracking"] == "1ZVYD40K1265428707", o
assert o["received"].endswith("Z")' "$WORK/list.json"
check "the raw message is archived under archive/<day>/" \
	test -f "$D/archive/$(date -u +%F)/$(cat "$WORK/id1")"
check "the spool is empty" test "$(spool_new)" -eq 0
check "messages show ID" sh -c "'$TRACKMAIL' messages show 1 --json --data-dir '$D' | grep -q serve-1@test.example"
check "messages list --since 1h has it, a future date not" sh -c "
	[ \$('$TRACKMAIL' messages list --json --since 1h --data-dir '$D' | wc -l) -eq 1 ] &&
	[ \$('$TRACKMAIL' messages list --json --since 2999-01-01 --data-dir '$D' | wc -l) -eq 0 ]"
check "messages list --account other lists nothing" sh -c "
	[ \$('$TRACKMAIL' messages list --json --account nobody --data-dir '$D' | wc -l) -eq 0 ]"
check "a bad --since is a usage error" sh -c "
	'$TRACKMAIL' messages list --since yesterday --data-dir '$D' 2>/dev/null; [ \$? -eq 2 ]"
"$TRACKMAIL" status --json --data-dir "$D" >"$WORK/status.json"
check "status: running, 2 workers, depth 0, last decision" python3 -c '
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert o["serve_running"] and o["workers"] == 2 and o["spool_depth"] == 0, o
assert o["last_decision"]["id"] == 1, o' "$WORK/status.json"
check "log lines are key=value with the spool id and message id" \
	grep -q 'event=decided worker=[0-9] spool_id="'"$(cat "$WORK/id1")"'" message_id="serve-1@test.example"' "$LOG"

# --- the same spool file taken twice is stored once ---
"$TRACKMAIL" spool add "$(mail 1)" --data-dir "$D" >/dev/null
sleep 1
check "the same bytes again: a duplicate, not a second row" test "$(count)" -eq 1

# --- a killed worker is restarted ---
wpid=$(grep -o "event=child-started child=worker index=0 pid=[0-9]*" "$LOG" | tail -1)
wpid=${wpid##*=}
kill -9 "$wpid"
restarted=no
for _ in $(seq 50); do
	if grep -q "event=child-started child=worker .* pid=" "$LOG" &&
		[ "$(grep -c 'event=child-started child=worker' "$LOG")" -ge 3 ]; then
		restarted=yes; break
	fi
	sleep 0.1
done
check "a killed worker is restarted" test "$restarted" = yes
check "the death is logged" grep -q "event=child-died child=worker .*pid=$wpid signal=9" "$LOG"
"$TRACKMAIL" spool add "$(mail 2)" --data-dir "$D" >/dev/null
check "mail is decided after the restart" wait_for 2

# --- the decoder child is kept across mails (worker.h worker_keep_*) ---
# decoders: the workers' decoder children (serve's grandchildren)
decoders() { for p in $(pgrep -P "$SERVE_PID"); do pgrep -P "$p"; done | sort | tr '\n' ' '; }
dec=$(decoders)
check "each worker has its decoder child before any mail ($dec)" test "$(echo $dec | wc -w)" -eq 2
# worker_nice (default 10): the workers and their decoder children run 10
# below the supervisor and the intake, which keep its priority.
nice_of() { awk '{print $19}' "/proc/$1/stat"; }
is_worker() { grep -q "event=worker-started worker=[0-9]* pid=$1 " "$LOG"; }
base=$(nice_of "$SERVE_PID")
wnice= others=
for p in $(pgrep -P "$SERVE_PID"); do
	if is_worker "$p"; then wnice+="$(nice_of "$p") "; else others+="$(nice_of "$p") "; fi
done
wnice=$(printf '%s\n' $wnice | sort -u | tr '\n' ' ')
check "workers run at nice $((base + 10)) (got: $wnice)" test "$wnice" = "$((base + 10)) "
check "  and so do their decoder children" test "$(for p in $dec; do nice_of "$p"; done | sort -u)" = "$((base + 10))"
check "  the intake and dispatch keep the supervisor's ($base)" \
	test "$(printf '%s\n' $others | sort -u)" = "$base"
"$TRACKMAIL" spool add "$(mail 5)" --data-dir "$D" >/dev/null
"$TRACKMAIL" spool add "$(mail 6)" --data-dir "$D" >/dev/null
check "mails decided" wait_for 4
check "by the same decoder children" test "$(decoders)" = "$dec"
kill -9 $dec
sleep 0.2
"$TRACKMAIL" spool add "$(mail 7)" --data-dir "$D" >/dev/null
"$TRACKMAIL" spool add "$(mail 8)" --data-dir "$D" >/dev/null
check "decoder children killed while idle: the next mails are decided" wait_for 6
check "  none of them blamed (no decoder-crash)" \
	test "$(sql "$D/trackmail.db" "SELECT count(*) FROM quarantine WHERE reason LIKE 'decoder-%'")" -eq 0
for _ in $(seq 20); do [ "$(decoders | wc -w)" -eq 2 ] && break; sleep 0.1; done
dec=$(decoders)

# --- SIGHUP: a changed parser file decides the next mail ---
cat >"$P/tinyshop_test.yaml" <<'YAML'
id: tinyshop_test
name: Tiny Shop (test)
kind: supplier
countries: [US]
match:
  domains: [tinyshop.example]
  subject:
    - 'on its way'
events:
  - event: shipped
    subject: ['on its way']
    tracking: optional
default_event: other
default_tracking: optional
extract:
  order:
    - '(?<order>SO-[0-9]+)'
YAML
kill -HUP "$SERVE_PID"
for _ in $(seq 50); do grep -q "event=reloaded" "$LOG" && break; sleep 0.1; done
check "SIGHUP reloads" grep -q "event=reloaded" "$LOG"
sleep 0.5
alive=0
for p in $dec; do alive "$p" && alive=$((alive + 1)); done
check "the decoder children are replaced with their workers" test "$alive" -eq 0
"$TRACKMAIL" spool add "$(mail 3)" --data-dir "$D" >/dev/null
wait_for 7
check "the next mail is decided by the new parser file" sh -c "
	'$TRACKMAIL' messages list --json --data-dir '$D' | grep serve-3@ | grep -q '\"supplier\":\"tinyshop_test\"'"
echo 'id: [broken' >"$P/broken_test.yaml"
kill -HUP "$SERVE_PID"
for _ in $(seq 50); do grep -q "event=reload-failed what=parsers" "$LOG" && break; sleep 0.1; done
check "a broken parser on SIGHUP keeps the old set and says so" \
	grep -q "event=reload-failed what=parsers action=kept-old" "$LOG"
"$TRACKMAIL" spool add "$(mail 4)" --data-dir "$D" >/dev/null
wait_for 8
check "the old set still decides" sh -c "
	'$TRACKMAIL' messages list --json --data-dir '$D' | grep serve-4@ | grep -q '\"supplier\":\"tinyshop_test\"'"

# --- SIGTERM while mail arrives: nothing lost ---
for i in $(seq 10 59); do mail "$i" >/dev/null; done
( for i in $(seq 10 59); do "$TRACKMAIL" spool add "$WORK/m$i.eml" --data-dir "$D" >/dev/null || echo fail; done ) >"$WORK/adds" &
adder=$!
sleep 0.3
pids=$(pgrep -g "$SERVE_PID" | tr '\n' ' ')
stop_serve
check "SIGTERM: serve exits 0" test "$SERVE_RC" -eq 0
alive=0
for p in $pids; do alive "$p" && alive=$((alive + 1)); done
check "SIGTERM: no process of the group is left" test "$alive" -eq 0
wait "$adder"
check "every spool add succeeded" test ! -s "$WORK/adds"
left=$(spool_new)
rm -f "$P/broken_test.yaml"
# a crash left a tmp/ file (never acknowledged) and whatever is in new/
echo "half written" >"$D/spool/tmp/1.M000001P999999999Q1.crashed"
check "serve refuses a broken parser file" sh -c "
	echo 'id: [broken' >'$P/broken2.yaml'
	'$TRACKMAIL' serve --data-dir '$D' --workers 1 >/dev/null 2>&1; rc=\$?
	[ \$rc -eq 3 ]"
rm -f "$P/broken2.yaml"
# With a new decoder child every 5 mails (recycling loses nothing) and a
# mail that needs 120-200 ms of CPU under a 40 ms limit (fixture mails
# take under 3 ms): it kills its kept decoder child, is quarantined as
# decoder-timeout, the rest is decided.
slow_mail "$WORK/slow.eml"
"$TRACKMAIL" spool add "$WORK/slow.eml" --data-dir "$D" >/dev/null
TRACKMAIL_WORKER_CPU_MS=40 TRACKMAIL_TEST_WORKER_RECYCLE=5 start_serve
check "restart: new/ left by the stop ($left) is decided, 59 in all" wait_for 59
check "exactly once: 59 rows for 59 distinct mails" test "$(count)" -eq 59
check "decoder children were recycled" grep -q "event=worker-recycled items=5" "$LOG"
check "the slow mail killed its decoder child: decoder-timeout" \
	test "$(sql "$D/trackmail.db" "SELECT count(*) FROM quarantine WHERE reason='decoder-timeout'")" -eq 1
check "  logged with the item in hand" grep -q 'event=worker-died item=[0-9]* why="cpu time limit of 40 ms"' "$LOG"
check "stale tmp/ file removed on start" test ! -e "$D/spool/tmp/1.M000001P999999999Q1.crashed"
check "the spool is empty" test "$(spool_new)" -eq 0

# --- a backlog: 2 workers take their batches from a kept listing of new/,
# skipping what the other one took (serve_worker.c take_batch) ---
stop_serve
archived=$(find "$D/archive" -type f | wc -l)
for i in $(seq 100 299); do mail "$i" >/dev/null; done
(cd "$WORK" && "$TRACKMAIL" spool add m1[0-9][0-9].eml m2[0-9][0-9].eml \
	--data-dir "$D" >/dev/null)
check "a backlog of 200 in new/ while serve is stopped" test "$(spool_new)" -eq 200
start_serve
for _ in $(seq 600); do [ "$(spool_new)" -eq 0 ] && break; sleep 0.1; done
check "the backlog is decided: new/ is empty" test "$(spool_new)" -eq 0
check "  each of the 200 exactly once (259 rows)" test "$(count)" -eq 259
check "  by both workers" test "$(grep -o 'event=decided worker=[0-9]* spool_id=[^ ]*' "$LOG" |
	awk '{print $2}' | sort -u | wc -l)" -ge 2
check "  each archived once" test "$(find "$D/archive" -type f | wc -l)" -eq $((archived + 200))

# --- children die with the supervisor (kill -9) ---
pids=$(pgrep -P "$SERVE_PID" | tr '\n' ' ')
kill -9 "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null
SERVE_PID=
sleep 0.5
alive=0
for p in $pids; do alive "$p" && alive=$((alive + 1)); done
check "kill -9 of the supervisor takes its workers with it" test "$alive" -eq 0
check "no imap mailboxes configured: no IMAP poller child started" \
	bash -c "! grep -q 'event=child-started child=imap' '$LOG'"
check "the dispatch process runs under serve" \
	grep -q 'event=child-started child=dispatch' "$LOG"

# --- SIGHUP reconciles the children with the config ---
# A mailbox on a closed loopback port: its poller exists and retries.
LOG="$WORK/reconcile.log"
"$TRACKMAIL" accounts add shop1 --data-dir "$D" >/dev/null
printf 'secret\n' >"$WORK/pw"
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mailboxes() { # mailboxes NAME...: the config with these mailboxes
	printf 'smtp_listen: ""\nlmtp_listen: ""\n'
	[ $# -gt 0 ] && printf 'imap:\n'
	for m in "$@"; do
		printf '  - {name: %s, host: 127.0.0.1, port: %s, user: u, password_file: %s, account: shop1, poll_seconds: 60}\n' \
			"$m" "$closed" "$WORK/pw"
	done
}
# wait_log N PATTERN: until PATTERN is in the log N times (5 s at most).
wait_log() {
	for _ in $(seq 50); do
		[ "$(grep -c -- "$2" "$LOG")" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
last_pid() { grep -o "event=child-started child=$1 index=0 pid=[0-9]*" "$LOG" | tail -1 | sed 's/.*pid=//'; }
hup() { kill -HUP "$SERVE_PID"; wait_log "$1" "event=reload-requested"; }
mailboxes >"$WORK/imap.yaml"
check "serve starts without mailboxes" start_serve --config "$WORK/imap.yaml"
check "no IMAP poller child" bash -c "! grep -q 'child-started child=imap' '$LOG'"
d1=$(last_pid dispatch)
mailboxes box1 >"$WORK/imap.yaml"
hup 1
check "a mailbox added: event=child-added" wait_log 1 "event=child-added child=imap mailboxes=1"
check "and the poller started" wait_log 1 "event=child-started child=imap"
i1=$(last_pid imap)
check "the poller is serve's child ($i1)" test "$(ps -o ppid= -p "$i1" | tr -d ' ')" = "$SERVE_PID"
check "polling the one mailbox" wait_log 1 "event=imap-error mailbox=box1"
check "the dispatch process is replaced on reload" \
	wait_log 2 "event=child-started child=dispatch"
check "the old dispatch process is gone" bash -c "! ps -p $d1 >/dev/null"
mailboxes box1 box2 >"$WORK/imap.yaml"
hup 2
check "the mailbox list changed: event=child-replaced" \
	wait_log 1 "event=child-replaced child=imap mailboxes=2 reason=mailboxes-changed"
check "a new poller started" wait_log 2 "event=child-started child=imap"
i2=$(last_pid imap)
check "the old poller is gone, the new one runs" bash -c "
	! ps -p $i1 >/dev/null && [ '$i2' != '$i1' ] && ps -p $i2 >/dev/null"
check "it polls both mailboxes (one process each)" wait_log 1 "event=imap-error mailbox=box2"
check "  two mailbox processes under it" \
	bash -c "for _ in \$(seq 20); do [ \$(pgrep -P $i2 | wc -l) -eq 2 ] && exit 0; sleep 0.1; done; exit 1"
hup 3
wait_log 4 "event=child-started child=dispatch"
check "an unchanged list: the poller stays" bash -c "
	[ \$(grep -c 'event=child-replaced child=imap' '$LOG') -eq 1 ] && ps -p $i2 >/dev/null"
printf 'imap:\n  - {name: box1, port: 0}\n' >"$WORK/imap.yaml"
hup 4
check "a broken config on SIGHUP is refused and says so" \
	wait_log 1 "event=reload-failed what=config action=kept-old"
check "  the running poller stays" bash -c "
	ps -p $i2 >/dev/null && [ \$(grep -c 'event=child-started child=imap' '$LOG') -eq 2 ]"
mailboxes >"$WORK/imap.yaml"
hup 5
check "the last mailbox removed: event=child-removed" \
	wait_log 1 "event=child-removed child=imap reason=no-mailboxes"
gone=no
for _ in $(seq 50); do ps -p "$i2" >/dev/null || { gone=yes; break; }; sleep 0.1; done
check "the poller stops" test "$gone" = yes
sleep 1.5
check "and is not restarted" test "$(grep -c 'event=child-started child=imap' "$LOG")" -eq 2
stop_serve
check "serve still stops with 0 (rc=$SERVE_RC)" test "$SERVE_RC" -eq 0
[ "$failed" -eq 0 ] || sed "s/^/# /" "$WORK/serve.log" "$LOG"
finish
