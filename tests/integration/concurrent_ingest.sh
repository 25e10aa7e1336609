#!/usr/bin/env bash
# Several ingest processes on one data dir at once (WAL, BEGIN IMMEDIATE,
# busy timeout): every message is stored exactly once, nobody fails with
# "database is locked", and the counts match a single sequential run.
. "$(dirname "$0")/lib.sh"

F="$SRC/fixtures/emails"
mails=$(find "$F" -name '*.eml' | sort)
nmail=$(echo "$mails" | wc -l)
D="$WORK/data"
pids=()
for i in 1 2 3; do
	# Each process takes all mails, in its own order.
	echo "$mails" | sort -R --random-source=<(yes "$i") > "$WORK/list$i"
	"$TRACKMAIL" ingest --data-dir "$D" $(cat "$WORK/list$i") > "$WORK/out$i" 2> "$WORK/err$i" &
	pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
check "three concurrent ingests all exit 0 ($failed failed)" test "$failed" -eq 0
check "no lock error" bash -c "! cat '$WORK'/err* | grep -qi 'locked\|busy'"
check "each message stored once ($(sql "$D/trackmail.db" 'SELECT count(*) FROM messages') of $nmail)" \
	test "$(sql "$D/trackmail.db" 'SELECT count(*) FROM messages')" -eq "$nmail"
dups=$(cat "$WORK"/out1 "$WORK"/out2 "$WORK"/out3 | grep -c ': duplicate ')
check "the other two saw duplicates ($dups of $((2 * nmail)))" test "$dups" -eq $((2 * nmail))
"$TRACKMAIL" ingest --data-dir "$WORK/seq" $mails > /dev/null
for t in shipments events supplier_orders quarantine; do
	a=$(sql "$D/trackmail.db" "SELECT count(*) FROM $t")
	b=$(sql "$WORK/seq/trackmail.db" "SELECT count(*) FROM $t")
	# Equal and not both empty (quarantine may legitimately be 0).
	[ "$t" = quarantine ] || check "$t: the sequential run stored some ($b)" test "$b" -gt 0
	check "$t: concurrent $a = sequential $b" test "$a" -eq "$b"
done
# Order statuses only move forward and cancellations win: the arrival
# order does not change where each order ends up.
q="SELECT supplier || ' ' || order_number || ' ' || status FROM supplier_orders ORDER BY 1"
check "every order ends in the same status as sequentially" \
	test -n "$(sql "$WORK/seq/trackmail.db" "$q")" -a "$(sql "$D/trackmail.db" "$q")" = "$(sql "$WORK/seq/trackmail.db" "$q")"
finish
