#!/usr/bin/env bash
# Tracking conversion against a local provider implementing the contract
# of docs/dispatch.md: off by default; when on for a supplier the channel
# gets the provider's number, the original stays on the shipment, the
# conversion is recorded with its cost and reused on a retry; a provider
# without an answer, or without another number, never blocks the original.
. "$SRC/tests/dispatch/lib_dispatch.sh"
D="$WORK/data"
DB="$D/trackmail.db"
start_fake 10
"$TRACKMAIL" accounts add default --data-dir "$D" > /dev/null 2>&1
add_store shop
bulk 1 5
mapfile -t F < <(python3 "$SRC/tests/tools/tracking_gen.py" fedex 2 4)
printf '{"1ZBULK00000001": {"carrier": "fedex", "number": "%s", "cost": 0.05}}' "${F[0]}" > "$WORK/map.json"
python3 "$SRC/tests/dispatch/fake_conversion.py" --port-file "$WORK/cport" --map "$WORK/map.json" &
CPID=$!
trap 'kill $CPID 2> /dev/null; stop_fake; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do [ -s "$WORK/cport" ] && break; sleep 0.1; done
CURL_="http://127.0.0.1:$(cat "$WORK/cport")"
calls() { curl -s "$CURL_/_calls" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
pushed() { state | python3 -c 'import json,sys; print(" ".join(sorted(t["number"] for f in json.load(sys.stdin)["fulfillments"] for t in f["trackingInfo"])))'; }
disp() { local t0=$SECONDS; _disp; echo "# dispatch took $((SECONDS - t0))s" >&2; }
_disp() { "$TRACKMAIL" dispatch --once --timeout 3 --data-dir "$D" >> "$WORK/out" 2>&1; }

# off by default
head -2 "$WORK/orders.csv" > "$WORK/o1.csv"
"$TRACKMAIL" orders import "$WORK/o1.csv" --data-dir "$D" > /dev/null
disp
check "off by default: the provider is not asked" test "$(calls)" -eq 0
check "and the original number is pushed" test "$(pushed)" = 1ZBULK00000001

# on for supplier acme: order 2 has no mapping, so the reason is kept
"$TRACKMAIL" stores set shop conversion "{\"url\": \"$CURL_/convert\", \"suppliers\": [\"acme\"], \"country\": \"US\"}" --data-dir "$D" > /dev/null
sql "$DB" "DELETE FROM pushes WHERE id = 1"   # forget order 1's push: setup for the converted case below
sed -n '1p;3p' "$WORK/orders.csv" > "$WORK/o2.csv"
"$TRACKMAIL" orders import "$WORK/o2.csv" --data-dir "$D" > /dev/null
disp
check "no other number: the original is pushed" test "$(pushed)" = "1ZBULK00000001 1ZBULK00000002"
check "the failed conversion is recorded with the provider's reason" \
	test "$(sql "$DB" "SELECT reason FROM conversions WHERE original_number = '1ZBULK00000002'")" = "no other number known for this parcel"
check "the provider got the contract's fields" \
	bash -c "curl -s '$CURL_/_calls' | grep -q '\"supplier\": \"acme\", \"destination_country\": \"US\"'"

# a mapped number: the channel gets the provider's number
sql "$DB" "INSERT INTO pushes(shipment_id, seller_order_id, state, next_at, created_at, updated_at)
	SELECT s.id, o.id, 'due', 0, 0, 0 FROM shipments s, seller_orders o WHERE s.tracking_number = '1ZBULK00000001' AND o.channel_order = '1'"
control '{"order": {"id": "1", "fos": [{"id": "gid://shopify/FulfillmentOrder/1000", "lines": [{"id": "gid://shopify/FulfillmentOrderLineItem/1001", "line": "gid://shopify/LineItem/11", "qty": 1}]}]}}'
sql "$DB" "UPDATE seller_order_lines SET line_id = '11'"
disp
check "converted: the channel shows the provider's number" test "$(fcount "${F[0]}")" -eq 1
check "with the new carrier's company" test "$(fcompany "${F[0]}" | cut -d'|' -f1)" = FedEx
check "the original stays on the shipment" test "$(sql "$DB" "SELECT count(*) FROM shipments WHERE tracking_number = '1ZBULK00000001'")" -eq 1
check "the conversion is recorded with its cost" \
	test "$(sql "$DB" "SELECT number || ' ' || cost || ' ' || currency FROM conversions WHERE original_number = '1ZBULK00000001'")" = "${F[0]} 0.05 USD"
ncalls=$(calls)
sql "$DB" "UPDATE pushes SET state = 'due', next_at = 0"
disp
check "a retry reuses the recorded conversion (no second call)" test "$(calls)" -eq "$ncalls"
check "and pushes nothing new" test "$(fcount "${F[0]}")" -eq 1

# the provider down: the original goes out anyway
kill $CPID; wait $CPID 2> /dev/null
sed -n '1p;4p' "$WORK/orders.csv" > "$WORK/o3.csv"
"$TRACKMAIL" orders import "$WORK/o3.csv" --data-dir "$D" > /dev/null
disp
check "provider unreachable: the original is pushed" test "$(fcount 1ZBULK00000003)" -eq 1
check "and the failure recorded" grep -q "no answer" <(sql "$DB" "SELECT reason FROM conversions WHERE original_number = '1ZBULK00000003'")
finish
