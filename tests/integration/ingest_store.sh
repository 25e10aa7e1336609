#!/usr/bin/env bash
# `trackmail ingest` stores decisions in a real SQLite file: orders,
# shipments (unique per order and number), events, quarantine rows with
# their Maildir copies; the same message twice changes nothing; a
# quarantined message is retried after a parser fix and resolved.
. "$(dirname "$0")/lib.sh"

D="$WORK/data"
DB="$D/trackmail.db"
F="$SRC/fixtures/emails"

"$TRACKMAIL" ingest --data-dir "$D" --json "$F/amazon" "$F/walmart" "$F/aliexpress" > "$WORK/first.jsonl" 2> "$WORK/err"
rc=$?
check "ingest exits 0 (rc=$rc)" test "$rc" -eq 0
sed 's/^/# /' "$WORK/err" | head -5
check "the database is WAL" test "$(sql "$DB" 'PRAGMA journal_mode')" = wal
check "schema version is set" test "$(sql "$DB" 'PRAGMA user_version')" -ge 1
# Shipments are unique per (supplier, order, number): a delivery notice
# naming an already shipped parcel adds an event, not a shipment.
want_ships=$(python3 -c '
import json, glob, sys
seen = set()
for f in glob.glob(sys.argv[1] + "/*/*.json"):
    supplier = f.split("/")[-2]
    if supplier in ("amazon", "walmart", "aliexpress"):
        d = json.load(open(f))
        if d["outcome"] == "shipped":
            for s in d["shipments"]:
                seen.add((supplier, s["order"], s["tracking"]))
print(len(seen))' "$F")
got_ships=$(sql "$DB" 'SELECT count(*) FROM shipments')
check "every expected shipment is stored ($got_ships of $want_ships)" test "$got_ships" -eq "$want_ships"
check "no order is ever Delivered" test "$(sql "$DB" "SELECT count(*) FROM supplier_orders WHERE status LIKE '%deliver%'")" -eq 0
check "delivered mail is recorded as an event" test "$(sql "$DB" "SELECT count(*) FROM events WHERE event='delivered'")" -ge 1
check "a cancellation is flagged on its order" \
	test "$(sql "$DB" "SELECT count(*) FROM supplier_orders WHERE status='cancelled'")" -ge 1
q=$(sql "$DB" "SELECT count(*) FROM quarantine WHERE reason='template-drift'")
check "the drifted walmart mail is quarantined ($q)" test "$q" -eq 1
qid=$(sql "$DB" "SELECT id FROM quarantine WHERE reason='template-drift'")
qacct=$(sql "$DB" "SELECT account_id FROM quarantine WHERE reason='template-drift'")
qbase=$(sql "$DB" "SELECT path FROM quarantine WHERE reason='template-drift'")
qpath="$D/quarantine/$qacct/new/$qbase"
check "its Maildir copy exists in its account's quarantine/<id>/new" test -f "$qpath"
check "the row names the file by Maildir base name" \
	bash -c "case '$qbase' in */*|*:*|'') exit 1;; esac"
check "quarantine show names that file" \
	test "$("$TRACKMAIL" quarantine show "$qid" --json --data-dir "$D" | json_field /dev/stdin path)" = "$qpath"
check "the copy carries the reason header" grep -q "^X-Trackmail-Quarantine-Reason: template-drift" "$qpath"
check "the copy holds the whole original message" grep -q "^Subject: Fwd: Shipped:" "$qpath"

# Shipped without a number: "shipped, awaiting tracking", link kept; a
# later mail with the number completes it; an older "ordered" mail arriving
# late does not move it back.
D3="$WORK/data3"
"$TRACKMAIL" ingest --data-dir "$D3" "$F/amazon/shipped_no_number_apple.eml" > /dev/null
order=$(sql "$D3/trackmail.db" "SELECT order_number FROM supplier_orders")
check "an order shipped without a number waits for tracking" \
	test "$(sql "$D3/trackmail.db" "SELECT status FROM supplier_orders")" = awaiting_tracking
check "with its tracking link kept" \
	test "$(sql "$D3/trackmail.db" "SELECT count(*) FROM supplier_orders WHERE tracking_link LIKE 'https://www.amazon.com/%'")" -eq 1
"$TRACKMAIL" ingest --data-dir "$D3" "$F/amazon/shipped_ups_gmail.eml" > /dev/null
check "the later mail with the number makes it shipped" \
	test "$(sql "$D3/trackmail.db" "SELECT status FROM supplier_orders WHERE order_number='$order'")" = shipped
check "and stores its shipment against that order" \
	test "$(sql "$D3/trackmail.db" "SELECT count(*) FROM shipments s JOIN supplier_orders o ON o.id = s.supplier_order_id WHERE o.order_number='$order' AND s.carrier='ups'")" -eq 1

msgs=$(sql "$DB" 'SELECT count(*) FROM messages')
ev=$(sql "$DB" 'SELECT count(*) FROM events')
"$TRACKMAIL" ingest --data-dir "$D" --json "$F/amazon" "$F/walmart" "$F/aliexpress" > "$WORK/second.jsonl"
dups=$(grep -c '"outcome":"duplicate"' "$WORK/second.jsonl")
total=$(wc -l < "$WORK/second.jsonl")
check "ingesting again: every message is a duplicate ($dups of $total)" test "$dups" -eq "$total" -a "$total" -gt 0
check "ingesting again adds no message row" test "$(sql "$DB" 'SELECT count(*) FROM messages')" -eq "$msgs"
check "ingesting again adds no event" test "$(sql "$DB" 'SELECT count(*) FROM events')" -eq "$ev"
check "ingesting again adds no shipment" test "$(sql "$DB" 'SELECT count(*) FROM shipments')" -eq "$got_ships"

# A carrier's own notice attaches its event to the shipment with that
# number: the UPS "delivered" mail about the number an Amazon mail shipped.
D4="$WORK/data4"
ups=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["notices"][0]["tracking"])' "$F/ups/delivered_outlook.json")
"$TRACKMAIL" ingest --data-dir "$D4" "$F/ups/delivered_outlook.eml" > /dev/null
check "a notice about an unknown number is kept as an event without a shipment" \
	test "$(sql "$D4/trackmail.db" "SELECT count(*) FROM events WHERE event='delivered' AND shipment_id IS NULL")" -eq 1
sed -e "s/$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["shipments"][0]["tracking"])' "$F/amazon/shipped_ups_gmail.json")/$ups/g" \
	"$F/amazon/shipped_ups_gmail.eml" > "$WORK/amazon_ups.eml"
"$TRACKMAIL" ingest --data-dir "$D4" --json "$WORK/amazon_ups.eml" > "$WORK/amazon_ups.json"
check "the supplier mail ships that number" grep -q '"tracking":"'"$ups"'","carrier":"ups"' "$WORK/amazon_ups.json"
sed -e 's/^Subject: /Subject: Re: /' "$F/ups/delivered_outlook.eml" > "$WORK/ups_again.eml"
"$TRACKMAIL" ingest --data-dir "$D4" "$WORK/ups_again.eml" > /dev/null
check "the next notice attaches to that shipment" \
	test "$(sql "$D4/trackmail.db" "SELECT count(*) FROM events e JOIN shipments s ON s.id = e.shipment_id WHERE e.event='delivered' AND s.tracking_number='$ups'")" -eq 1
check "and the order is still not Delivered" \
	test "$(sql "$D4/trackmail.db" "SELECT status FROM supplier_orders")" = shipped

# Template drift stands out in the per-supplier statistics.
"$TRACKMAIL" parsers stats --data-dir "$D" > "$WORK/stats.txt"
check "parsers stats counts the quarantined walmart mail" \
	grep -Eq '^walmart +6 +2 +33\.3% +3 +50\.0% +1 +16\.7%' "$WORK/stats.txt"

# Quarantine: a message no parser takes, then the parser arrives.
mkdir "$WORK/noparsers"
cp "$PARSERS/amazon.yaml" "$WORK/noparsers/"
msg="$F/walmart/shipped_fedex_gmail.eml"
D2="$WORK/data2"
"$TRACKMAIL" ingest --data-dir "$D2" --parsers "$WORK/noparsers" --json "$msg" > "$WORK/q.json"
check "an unknown sender's labelled number waits for a person (needs review)" \
	grep -q '"needs_review":true' "$WORK/q.json"
"$TRACKMAIL" quarantine list --data-dir "$D2" > "$WORK/list.txt"
check "quarantine list shows it with its reason" grep -Eq '^1 +open +(unknown-sender|needs-review)' "$WORK/list.txt"
"$TRACKMAIL" quarantine show 1 --data-dir "$D2" --json > "$WORK/show.json"
check "quarantine show gives the original sender" grep -q '"from":"help@walmart.com"' "$WORK/show.json"
"$TRACKMAIL" quarantine retry 1 --data-dir "$D2" --parsers "$WORK/noparsers" > "$WORK/retry1.txt"
check "retry with the same parsers keeps it quarantined" grep -q "still quarantined" "$WORK/retry1.txt"
"$TRACKMAIL" quarantine retry 1 --data-dir "$D2" --parsers "$PARSERS" > "$WORK/retry2.txt"
check "retry after the parser fix resolves it" grep -q "^1: resolved" "$WORK/retry2.txt"
check "the shipment is stored on retry" \
	test "$(sql "$D2/trackmail.db" "SELECT count(*) FROM shipments WHERE carrier='fedex'")" -eq 1
check "the message row now carries the decision" \
	test "$(sql "$D2/trackmail.db" "SELECT outcome FROM messages")" = shipped
check "the Maildir file moved to cur/ flagged Seen" \
	test "$(ls "$D2"/quarantine/1/cur/ | grep -c ':2,S$')" -eq 1
"$TRACKMAIL" quarantine retry 1 --data-dir "$D2" > /dev/null 2>&1
check "a resolved entry cannot be retried again (exit 1)" test $? -eq 1
"$TRACKMAIL" quarantine drop 99 --data-dir "$D2" > /dev/null 2>&1
check "dropping an unknown id is an error" test $? -eq 1
"$TRACKMAIL" ingest --data-dir "$D2" --parsers "$WORK/noparsers" "$F/aliexpress/ordered_de_outlook.eml" > /dev/null
"$TRACKMAIL" quarantine drop 2 --data-dir "$D2" > "$WORK/drop.txt"
check "drop marks the entry dropped" grep -q "^2: dropped" "$WORK/drop.txt"
check "the dropped file is kept, flagged Trashed" test "$(ls "$D2"/quarantine/1/cur/ | grep -c ':2,T$')" -eq 1
"$TRACKMAIL" quarantine list --all --json --data-dir "$D2" > "$WORK/all.jsonl"
check "list --all shows the resolved entry" test "$(grep -c '"state":"resolved"' "$WORK/all.jsonl")" -eq 1
check "and the dropped one" test "$(grep -c '"state":"dropped"' "$WORK/all.jsonl")" -eq 1
finish
