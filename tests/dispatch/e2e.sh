#!/usr/bin/env bash
# End to end: a seller order on a (fake) Shopify store, then `trackmail
# ingest` of the supplier's shipped mail, then `trackmail dispatch --once`:
# exactly one fulfilment on Shopify with the right number and company,
# and the seller order shipped. Then the same under `trackmail serve`,
# whose dispatch process sends the push by itself.
. "$SRC/tests/dispatch/lib_dispatch.sh"

D="$WORK/data"
DB="$D/trackmail.db"
start_fake 3
add_store shop
# The seller typed the AliExpress order number with dashes and spaces.
"$TRACKMAIL" orders add --store shop --channel-order 2 --supplier aliexpress \
	--supplier-order " 8112-9030 3049-4956" --line 21:1 --data-dir "$D" > "$WORK/add.txt"
check "orders add names the new order" grep -q "^order 1: shop 2 <- aliexpress" "$WORK/add.txt"
"$TRACKMAIL" orders list --json --status ordered --data-dir "$D" > "$WORK/before.json"
check "the seller order is 'ordered'" test "$(json_field "$WORK/before.json" status)" = ordered
"$TRACKMAIL" ingest --data-dir "$D" "$SRC/fixtures/emails/aliexpress/shipped_en_gmail.eml" > /dev/null
check "ingest stored the shipment and, in its transaction, its push (due)" \
	test "$(sql "$DB" "SELECT p.state FROM pushes p JOIN shipments s ON s.id = p.shipment_id WHERE s.tracking_number = 'LY425489926CN'")" = due
"$TRACKMAIL" dispatch --once --data-dir "$D" > "$WORK/dispatch.txt" 2>&1
check "dispatch --once exits 0" test $? -eq 0
check "it reports one push done" grep -q "^dispatch: 1 done, 0 manual, 0 dead" "$WORK/dispatch.txt"
check "exactly one fulfilment on Shopify" \
	test "$(state | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["fulfillments"]))')" -eq 1
check "with the number and Shopify's company name for China Post" \
	test "$(fcompany LY425489926CN | cut -d'|' -f1)" = "China Post"
check "on the right order" \
	test "$(state | python3 -c 'import json,sys; print(json.load(sys.stdin)["fulfillments"][0]["order"])')" = gid://shopify/Order/2
"$TRACKMAIL" orders list --json --data-dir "$D" > "$WORK/after.json"
check "the seller order is shipped" test "$(json_field "$WORK/after.json" status)" = shipped
check "orders list --json has the fields" \
	test "$(python3 -c 'import json,sys; o=json.loads(open(sys.argv[1]).readline()); print(all(k in o for k in ("id","store","channel_order","supplier","supplier_order","status")))' "$WORK/after.json")" = True
"$TRACKMAIL" dispatch --once --data-dir "$D" > /dev/null 2>&1
"$TRACKMAIL" ingest --data-dir "$D" "$SRC/fixtures/emails/aliexpress/shipped_en_gmail.eml" > /dev/null
"$TRACKMAIL" dispatch --once --data-dir "$D" > /dev/null 2>&1
check "the same mail again and more dispatch runs push nothing more" \
	test "$(state | python3 -c 'import json,sys; s=json.load(sys.stdin); print(len(s["fulfillments"]), s["creates"])')" = "1 1"

# The same path under `trackmail serve`: its dispatch process sends the
# push without anyone running `trackmail dispatch`.
stop_fake
start_fake 3
D="$WORK/serve-data"
add_store shop
"$TRACKMAIL" orders add --store shop --channel-order 3 --supplier aliexpress \
	--supplier-order "8112903030494956" --line 31:1 --data-dir "$D" > /dev/null
TRACKMAIL_SMTP_LISTEN= TRACKMAIL_LMTP_LISTEN= TRACKMAIL_WORKERS=1 \
	"$TRACKMAIL" serve --data-dir "$D" 2> "$WORK/serve.log" &
spid=$!
trap 'kill "$spid" 2> /dev/null; stop_fake; rm -rf "$WORK"' EXIT
"$TRACKMAIL" spool add --data-dir "$D" "$SRC/fixtures/emails/aliexpress/shipped_en_gmail.eml" > /dev/null
got=0
for _ in $(seq 150); do
	got=$(fcount LY425489926CN)
	[ "$got" = 1 ] && break
	sleep 0.2
done
check "serve: the spooled mail ends as one fulfilment, no manual dispatch" test "$got" = 1
check "serve: on the right order" \
	test "$(state | python3 -c 'import json,sys; print(json.load(sys.stdin)["fulfillments"][0]["order"])')" = gid://shopify/Order/3
check "serve: the dispatch process listens for wake-ups on dispatch.sock" test -S "$D/dispatch.sock"
check "serve: the dispatch process was started" grep -q "event=child-started child=dispatch" "$WORK/serve.log"
kill -TERM "$spid"
wait "$spid"
st=$?
check "serve: SIGTERM exits 0 (dispatch process included)" test "$st" -eq 0
check "serve: dispatch.sock removed on stop" test ! -e "$D/dispatch.sock"
check "serve: the dispatch process stopped cleanly" grep -q "event=child-exited child=dispatch .*status=0" "$WORK/serve.log"
check "serve: still exactly one fulfilment" \
	test "$(state | python3 -c 'import json,sys; s=json.load(sys.stdin); print(len(s["fulfillments"]), s["creates"])')" = "1 1"
finish
