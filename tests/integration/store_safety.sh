#!/usr/bin/env bash
# Decision safety in the store path (issue 8, "Paths that bypass the
# rules"): quarantine retry goes through the pipeline (the allowlist holds,
# the message row is re-decided with its history kept, never a second row);
# a message is stored once even when its worker dies right after the
# commit; no SQLite connection crosses fork(); the quarantine file is
# written before the write lock and found by base name in its account's
# Maildir whatever happens to the commit; the old single folder migrates.
. "$(dirname "$0")/lib.sh"

F="$SRC/fixtures/emails"
good="$F/amazon/shipped_ups_gmail.eml"

# --- 1. retry of a sender-not-allowed entry keeps the allowlist ---------
D="$WORK/allow"
DB="$D/trackmail.db"
addr=$("$TRACKMAIL" accounts add shop --data-dir "$D" --allow-sender owner@shop.example | awk '{print $2}')
token=${addr%@*}
sed -e "1,/^\r\$/s/^To: .*/To: $token@localhost\r/" "$F/walmart/shipped_fedex_gmail.eml" > "$WORK/notallowed.eml"
"$TRACKMAIL" ingest --json --data-dir "$D" "$WORK/notallowed.eml" > "$WORK/na.json"
check "a forwarder off the allowlist is quarantined" grep -q '"reason":"sender-not-allowed"' "$WORK/na.json"
"$TRACKMAIL" quarantine retry 1 --data-dir "$D" > "$WORK/na-retry.txt" 2>&1
check "retrying it keeps it quarantined (the allowlist is checked)" \
	grep -q "^1: still quarantined: sender-not-allowed" "$WORK/na-retry.txt"
check "no shipment is stored by the retry" test "$(sql "$DB" "SELECT count(*) FROM shipments")" -eq 0
check "the entry stays open" test "$(sql "$DB" "SELECT state FROM quarantine WHERE id=1")" = open
check "and the message row stays quarantined" test "$(sql "$DB" "SELECT outcome FROM messages")" = quarantined

# --- 2. a re-decided message updates its row and keeps its history ------
D="$WORK/redecide"
DB="$D/trackmail.db"
mkdir "$WORK/amazononly"
cp "$PARSERS/amazon.yaml" "$WORK/amazononly/"
msg="$F/walmart/shipped_fedex_gmail.eml"
"$TRACKMAIL" ingest --data-dir "$D" --parsers "$WORK/amazononly" "$msg" > /dev/null
check "without its parser the mail is quarantined" test "$(sql "$DB" "SELECT count(*) FROM quarantine WHERE state='open'")" -eq 1
"$TRACKMAIL" quarantine retry 1 --data-dir "$D" > "$WORK/rd.txt" 2>&1
check "retry with the parser resolves it" grep -q "^1: resolved" "$WORK/rd.txt"
check "still one message row (not a new one)" test "$(sql "$DB" "SELECT count(*) FROM messages")" -eq 1
check "the row carries the new decision" test "$(sql "$DB" "SELECT outcome FROM messages")" = shipped
check "the earlier decision is kept in message_decisions" \
	test "$(sql "$DB" "SELECT outcome || ' ' || replaced_by FROM message_decisions WHERE message_row=1")" = "quarantined quarantine retry"
check "the shipment is stored once" test "$(sql "$DB" "SELECT count(*) FROM shipments WHERE carrier='fedex'")" -eq 1
"$TRACKMAIL" ingest --json --data-dir "$D" "$msg" > "$WORK/again.json"
check "the same mail again is a duplicate of that row" grep -q '"outcome":"duplicate"' "$WORK/again.json"
check "the resolved file is found in cur/ flagged Seen" \
	bash -c "'$TRACKMAIL' quarantine show 1 --json --data-dir '$D' | grep -q '\"path\":\"$D/quarantine/1/cur/[^\"]*:2,S\"'"
events1=$(sql "$DB" "SELECT count(*) FROM events WHERE message_row=1")
check "the decided message has its events" test "$events1" -ge 1
# Deciding the same row again (as replay will) replaces its events.
sql "$DB" "UPDATE quarantine SET state='open' WHERE id=1"
"$TRACKMAIL" quarantine retry 1 --data-dir "$D" > /dev/null 2>&1
check "a second re-decision keeps the events of one decision ($events1)" \
	test "$(sql "$DB" "SELECT count(*) FROM events WHERE message_row=1")" -eq "$events1"

# --- 3. a worker killed between its commit and its "done" report ---------
D="$WORK/kill"
DB="$D/trackmail.db"
cp "$good" "$WORK/killme.eml"
TRACKMAIL_TEST_KILL_AFTER_COMMIT=killme "$TRACKMAIL" ingest --json --data-dir "$D" \
	"$WORK/killme.eml" "$F/walmart/ordered_outlook.eml" > "$WORK/kill.jsonl" 2> "$WORK/kill.err"
rc=$?
check "ingest goes on after the worker died (rc=$rc)" test "$rc" -eq 0
check "the worker really died after the commit" grep -q "event=worker-died" "$WORK/kill.err"
check "the message is stored once (2 files, 2 rows)" test "$(sql "$DB" "SELECT count(*) FROM messages")" -eq 2
check "and never as decoder-crash or decoder-timeout" \
	test "$(sql "$DB" "SELECT count(*) FROM quarantine WHERE reason LIKE 'decoder-%'")" -eq 0
check "the report carries the stored decision" \
	grep -q '"file":"'"$WORK"'/killme.eml","outcome":"shipped"' "$WORK/kill.jsonl"

# --- 4. no connection crosses fork(): every worker opens its own ----------
if command -v strace > /dev/null; then
	slow_mail "$WORK/slow.eml"
	D="$WORK/fork"
	TRACKMAIL_WORKER_CPU_MS=40 strace -f -qq -e trace=openat -o "$WORK/strace.log" \
		"$TRACKMAIL" ingest --data-dir "$D" "$WORK/slow.eml" "$good" > /dev/null 2>&1
	# The process that read the good mail (the second worker, after the
	# parent stored the first one's crash) must open the database itself.
	pid=$(grep 'shipped_ups_gmail.eml' "$WORK/strace.log" | awk '{print $1}' | tail -1)
	check "the second worker opens trackmail.db itself (pid $pid)" \
		grep -Eq "^$pid +openat\(.*trackmail\.db\"" "$WORK/strace.log"
	check "and it is not the parent" \
		test "$pid" != "$(head -1 "$WORK/strace.log" | awk '{print $1}')"
	check "the crash was stored by the parent and the mail after it too" \
		test "$(sql "$D/trackmail.db" "SELECT count(*) FROM messages")" -eq 2
else
	echo "# SKIP: strace not installed: the fork check did not run (scripts/install-deps.sh installs it)"
	fail "strace missing"
fi

# --- 5. per-account quarantine; a failed retry commit loses no file ------
D="$WORK/peracct"
DB="$D/trackmail.db"
"$TRACKMAIL" accounts add a2 --data-dir "$D" > /dev/null
"$TRACKMAIL" ingest --data-dir "$D" --parsers "$WORK/amazononly" "$msg" > /dev/null
"$TRACKMAIL" ingest --data-dir "$D" --account a2 --parsers "$WORK/amazononly" "$msg" > /dev/null
a2=$(sql "$DB" "SELECT id FROM accounts WHERE name='a2'")
def=$(sql "$DB" "SELECT id FROM accounts WHERE name='default'")
check "each account has its own quarantine Maildir" \
	test "$(ls "$D/quarantine/$a2/new" | wc -l)" -eq 1 -a "$(ls "$D/quarantine/$def/new" | wc -l)" -eq 1
sql "$DB" "CREATE TRIGGER test_fail BEFORE UPDATE ON quarantine BEGIN SELECT RAISE(ABORT, 'test: commit refused'); END;"
"$TRACKMAIL" quarantine retry 1 --data-dir "$D" > "$WORK/fail.txt" 2>&1
rc=$?
check "a retry whose commit fails exits 1 (rc=$rc)" test "$rc" -eq 1
check "and says why" grep -q "commit refused" "$WORK/fail.txt"
"$TRACKMAIL" ingest --data-dir "$D" --parsers "$WORK/amazononly" "$F/walmart/shipped_two_carriers_yahoo.eml" > /dev/null
"$TRACKMAIL" quarantine retry --all --data-dir "$D" > "$WORK/failall.txt" 2>&1
check "retry --all stops at the first refused write" grep -q "2 entries not retried" "$WORK/failall.txt"
check "the row is still open" test "$(sql "$DB" "SELECT state FROM quarantine WHERE id=1")" = open
check "and still finds its file" \
	bash -c "'$TRACKMAIL' quarantine show 1 --json --data-dir '$D' | grep -q '\"path\":\"$D/quarantine/$def/new/'"
check "nothing half-stored: no shipment, no history row" \
	test "$(sql "$DB" "SELECT (SELECT count(*) FROM shipments) + (SELECT count(*) FROM message_decisions)")" -eq 0
sql "$DB" "DROP TRIGGER test_fail"
# A quarantined mail whose transaction fails leaves no file behind.
sql "$DB" "CREATE TRIGGER test_fail BEFORE INSERT ON quarantine BEGIN SELECT RAISE(ABORT, 'test: insert refused'); END;"
before=$(ls "$D"/quarantine/*/new | wc -l)
"$TRACKMAIL" ingest --data-dir "$D" --parsers "$WORK/amazononly" "$F/walmart/cancelled_gmail.eml" > /dev/null 2> "$WORK/fail2.err"
rc=$?
check "an ingest whose transaction fails exits 1 (rc=$rc)" test "$rc" -eq 1
check "its quarantine file is removed again" test "$(ls "$D"/quarantine/*/new | wc -l)" -eq "$before"
check "and no message row is left" \
	test "$(sql "$DB" "SELECT count(*) FROM messages WHERE source LIKE '%cancelled_gmail.eml'")" -eq 0
sql "$DB" "DROP TRIGGER test_fail"

# The single folder of schema 1 moves into the accounts' folders on open.
mkdir -p "$D/quarantine/new"
mv "$D/quarantine/$a2/new/"* "$D/quarantine/new/"
base=$(ls "$D/quarantine/new")
sql "$DB" "DROP TABLE message_decisions; DROP INDEX messages_hash;
	UPDATE quarantine SET path = '$D/quarantine/new/' || path WHERE account_id = $a2;
	PRAGMA user_version = 1;"
# Later steps' tables exist already (this data dir was made at the current
# schema): apply step 1 -> 2 alone.
TRACKMAIL_TEST_SCHEMA_STOP=2 "$TRACKMAIL" quarantine list --data-dir "$D" > /dev/null 2> "$WORK/mig.err"
check "opening a schema-1 data dir migrates it" test "$(sql "$DB" "PRAGMA user_version")" -eq 2
check "the old folder's file moved to its account" test -f "$D/quarantine/$a2/new/$base"
check "the row now names it by base name" test "$(sql "$DB" "SELECT path FROM quarantine WHERE account_id=$a2")" = "$base"
check "the old folder is gone" test ! -e "$D/quarantine/new"

# --- 6. the quarantine file is written before the write lock -------------
D="$WORK/lock"
DB="$D/trackmail.db"
"$TRACKMAIL" accounts add x --data-dir "$D" > /dev/null
"$TRACKMAIL" ingest --data-dir "$D" "$F/walmart/ordered_outlook.eml" > /dev/null
python3 -c '
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(4)
db.execute("ROLLBACK")' "$DB" "$WORK/locked" &
locker=$!
for _ in $(seq 1 100); do [ -e "$WORK/locked" ] && break; sleep 0.05; done
"$TRACKMAIL" ingest --data-dir "$D" --parsers "$WORK/amazononly" "$msg" > /dev/null 2>&1 &
ing=$!
sleep 2
files=$(ls "$D"/quarantine/*/new 2>/dev/null | wc -l)
check "while another process holds the write lock the file is already written ($files)" test "$files" -eq 1
wait "$locker"
wait "$ing"
check "and the row commits once the lock is free" \
	test "$(sql "$DB" "SELECT count(*) FROM quarantine")" -eq 1
finish
