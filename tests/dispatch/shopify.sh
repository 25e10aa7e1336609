#!/usr/bin/env bash
# Shopify dispatch against the fake Shopify (fake_shopify.py, channels.md
# section 2): first push, repeat push (no duplicate), already fulfilled,
# unknown carrier, auth expiry, throttling (200 and 429), 5xx, a timeout,
# a corrected number, a fulfillment order held by another app, a
# shipment waiting for its seller order; and the token never shows.
. "$SRC/tests/dispatch/lib_dispatch.sh"

D="$WORK/data"
DB="$D/trackmail.db"
start_fake 60
"$TRACKMAIL" accounts add default --data-dir "$D" > /dev/null 2>&1
add_store shop
check "the store was added" test "$(sql "$DB" "SELECT channel FROM stores WHERE name='shop'")" = shopify
supplier_orders 1 20
dispatch() { local t0=$SECONDS; _dispatch; local rc=$?; echo "# dispatch took $((SECONDS - t0))s" >&2; return $rc; }
_dispatch() { "$TRACKMAIL" dispatch --once --timeout "${TMO:-5}" --data-dir "$D" >> "$WORK/out" 2>> "$WORK/err"; }
pushstate() { sql "$DB" "SELECT p.state FROM pushes p JOIN shipments s ON s.id = p.shipment_id WHERE s.tracking_number = '$1'"; }
order() { # order N NUMBER [LINE]: supplier order SO-N shipped with NUMBER, seller order N
	"$TRACKMAIL" tracking set --supplier acme --data-dir "$D" "SO-$1" "$2" ups > /dev/null
	"$TRACKMAIL" orders add --store shop --channel-order "$1" --supplier acme \
		--supplier-order "so $1" ${3:+--line "$3"} --data-dir "$D" > /dev/null
}
mapfile -t N < <(python3 "$SRC/tests/tools/tracking_gen.py" ups 20 7)

# 1. first push
order 1 "${N[1]}"
check "the shipment of a known seller order is due" test "$(pushstate "${N[1]}")" = due
dispatch
check "dispatch --once exits 0" test $? -eq 0
check "first push: exactly one fulfillment with the number" test "$(fcount "${N[1]}")" -eq 1
check "with Shopify's exact company name and our URL" \
	test "$(fcompany "${N[1]}")" = "UPS|https://www.ups.com/track?tracknum=${N[1]}"
check "the push is done" test "$(pushstate "${N[1]}")" = done
check "and records the fulfillment id" \
	grep -q "gid://shopify/Fulfillment/" <(sql "$DB" "SELECT remote_ref FROM pushes")
"$TRACKMAIL" orders list --json --data-dir "$D" > "$WORK/orders.json"
check "the seller order is shipped" test "$(json_field "$WORK/orders.json" status)" = shipped

# 2. repeat push: the same push due again sends nothing new
sql "$DB" "UPDATE pushes SET state = 'due'"
creates=$(state | python3 -c 'import json,sys; print(json.load(sys.stdin)["creates"])')
dispatch
check "repeat push: still one fulfillment" test "$(fcount "${N[1]}")" -eq 1
check "and no second fulfillmentCreate was sent" \
	test "$(state | python3 -c 'import json,sys; print(json.load(sys.stdin)["creates"])')" -eq "$creates"
check "the push is done again" test "$(pushstate "${N[1]}")" = done

# 3. already fulfilled with our number (a crashed earlier run): done, no call
curl -s -o /dev/null -H "X-Shopify-Access-Token: $TOKEN" -H 'Content-Type: application/json' \
	--data "{\"query\":\"mutation(\$f: FulfillmentInput!) { fulfillmentCreate(fulfillment: \$f) { fulfillment { id } userErrors { message } } }\",\"variables\":{\"f\":{\"trackingInfo\":{\"company\":\"UPS\",\"number\":\"${N[2]}\"},\"lineItemsByFulfillmentOrder\":[{\"fulfillmentOrderId\":\"gid://shopify/FulfillmentOrder/20\"}]}}}" \
	"$URL/admin/api/2026-10/graphql.json"
order 2 "${N[2]}"
dispatch
check "already fulfilled with our number: done" test "$(pushstate "${N[2]}")" = done
check "still exactly one fulfillment" test "$(fcount "${N[2]}")" -eq 1

# 4. fulfilled by hand with another number: a second parcel joins its numbers
curl -s -o /dev/null -H "X-Shopify-Access-Token: $TOKEN" -H 'Content-Type: application/json' \
	--data "{\"query\":\"mutation(\$f: FulfillmentInput!) { fulfillmentCreate(fulfillment: \$f) { fulfillment { id } userErrors { message } } }\",\"variables\":{\"f\":{\"trackingInfo\":{\"company\":\"UPS\",\"number\":\"${N[3]}\"},\"lineItemsByFulfillmentOrder\":[{\"fulfillmentOrderId\":\"gid://shopify/FulfillmentOrder/30\"}]}}}" \
	"$URL/admin/api/2026-10/graphql.json"
order 3 "${N[4]}"
dispatch
check "a second parcel of a fulfilled order: done" test "$(pushstate "${N[4]}")" = done
check "its number is added to the existing fulfillment" \
	test "$(state | python3 -c 'import json,sys; s=json.load(sys.stdin); print(len(s["fulfillments"]), s["updates"])')" = "3 1"
check "which keeps the first number" test "$(fcount "${N[3]}")" -eq 1

# 5. unknown carrier: the carrier's name and our tracking URL
sql "$DB" "INSERT INTO shipments(account_id, supplier_order_id, supplier, tracking_number, carrier, message_row, created_at)
	SELECT account_id, id, 'acme', 'H01EVR1234567890', 'evri', (SELECT min(id) FROM messages), 0 FROM supplier_orders WHERE order_number = 'SO-5'"
"$TRACKMAIL" orders add --store shop --channel-order 5 --supplier acme --supplier-order SO5 --data-dir "$D" > /dev/null
dispatch
check "a carrier without a Shopify name: company = its name, with the URL" \
	test "$(fcompany H01EVR1234567890)" = "Evri|https://www.evri.com/track/parcel/H01EVR1234567890"

# 6. throttling: THROTTLED with HTTP 200, then HTTP 429 + Retry-After
control '{"throttle": 2}'
order 6 "${N[6]}"
dispatch
check "THROTTLED (HTTP 200): retried, then done" test "$(pushstate "${N[6]}")" = done
check "throttling was reported and waited out" grep -q "throttled by Shopify (THROTTLED)" "$WORK/err"
control '{"throttle429": 2}'
order 7 "${N[7]}"
dispatch
check "HTTP 429: retried after Retry-After, then done" test "$(pushstate "${N[7]}")" = done
check "one fulfillment each" test "$(fcount "${N[6]}")$(fcount "${N[7]}")" = 11

# 7. 5xx
control '{"fail5xx": 2}'
order 8 "${N[8]}"
dispatch
check "5xx: retried with backoff, then done" test "$(pushstate "${N[8]}")" = done
check "exactly once" test "$(fcount "${N[8]}")" -eq 1

# 8. a timeout after the fake applied the fulfillment: the retry re-reads
control '{"slow": 1, "slow_s": 4}'
order 9 "${N[9]}"
TMO=2 dispatch
check "timeout: the answer was lost" grep -q "push.*no answer from Shopify" "$WORK/err"
check "but the re-read found our number: done" test "$(pushstate "${N[9]}")" = done
check "and no second fulfillment" test "$(fcount "${N[9]}")" -eq 1

# 9. a corrected number updates the fulfillment, never adds one
order 10 "${N[10]}"
dispatch
sql "$DB" "INSERT INTO shipments(account_id, supplier_order_id, supplier, tracking_number, carrier, message_row, created_at)
	SELECT account_id, id, 'acme', '${N[11]}', 'ups', (SELECT min(id) FROM messages), 0 FROM supplier_orders WHERE order_number = 'SO-10';
	UPDATE pushes SET previous_tracking = '${N[10]}' WHERE state = 'due'"
dispatch
check "corrected number: done" test "$(pushstate "${N[11]}")" = done
check "the fulfillment now shows the new number" test "$(fcount "${N[11]}")" -eq 1
check "not the old one" test "$(fcount "${N[10]}")" -eq 0
check "through fulfillmentTrackingInfoUpdate (no new fulfillment)" \
	test "$(state | python3 -c 'import json,sys; s=json.load(sys.stdin); print(sum(1 for f in s["fulfillments"] if f["order"].endswith("/10")))')" -eq 1

# 10. a fulfillment order held by another app: manual, exit 1
control '{"order": {"id": "12", "fos": [{"id": "gid://shopify/FulfillmentOrder/120", "actions": [], "lines": [{"id": "gid://shopify/FulfillmentOrderLineItem/121", "line": "gid://shopify/LineItem/121", "qty": 1}]}]}}'
order 12 "${N[12]}"
dispatch
check "another app's fulfillment order: dispatch exits 1" test $? -eq 1
check "the push is manual" test "$(pushstate "${N[12]}")" = manual
"$TRACKMAIL" outbox list --manual --data-dir "$D" > "$WORK/manual.txt"
check "outbox list --manual shows it with the reason" grep -q "${N[12]}.*another app" "$WORK/manual.txt"

# 11. auth expiry (token revoked): manual; new credentials + retry: done
control '{"revoke": true}'
order 13 "${N[13]}"
dispatch
check "revoked token: the push is manual" test "$(pushstate "${N[13]}")" = manual
check "saying how to fix it" grep -q "refused the access token" <(sql "$DB" "SELECT last_error FROM pushes WHERE state='manual'")
control '{"revoke": false}'
"$TRACKMAIL" stores set shop credentials --token-file "$WORK/token" --data-dir "$D" > /dev/null
"$TRACKMAIL" outbox retry --all --data-dir "$D" > /dev/null
sql "$DB" "UPDATE pushes SET state='dead' WHERE state='due' AND shipment_id IN (SELECT id FROM shipments WHERE tracking_number='${N[12]}')"
dispatch
check "after outbox retry the push is done" test "$(pushstate "${N[13]}")" = done

# 12. a shipment before its seller order waits, then goes
"$TRACKMAIL" tracking set --supplier acme --data-dir "$D" SO-14 "${N[14]}" ups > /dev/null
check "unknown seller order: awaiting_order" test "$(pushstate "${N[14]}")" = awaiting_order
dispatch
check "nothing was pushed for it" test "$(fcount "${N[14]}")" -eq 0
"$TRACKMAIL" orders add --store shop --channel-order 14 --supplier acme --supplier-order "So-14" --data-dir "$D" > /dev/null
check "adding the seller order makes it due" test "$(pushstate "${N[14]}")" = due
dispatch
check "and it is pushed once" test "$(fcount "${N[14]}")" -eq 1

# 13. the token never shows
"$TRACKMAIL" stores list --json --data-dir "$D" > "$WORK/stores.json"
"$TRACKMAIL" outbox list --json --data-dir "$D" > "$WORK/outbox.json"
"$TRACKMAIL" orders list --json --data-dir "$D" > "$WORK/orders.json"
sql "$DB" "SELECT * FROM pushes" > "$WORK/dump.txt"
check "no token in stores/outbox/orders --json, outbox dump, output or errors" \
	bash -c "! grep -l -- '$TOKEN' '$WORK/stores.json' '$WORK/outbox.json' '$WORK/orders.json' '$WORK/dump.txt' '$WORK/out' '$WORK/err'"
check "stores list --json shows no credentials field" bash -c "! grep -q credentials '$WORK/stores.json'"
"$TRACKMAIL" stores check shop --data-dir "$D" > "$WORK/check.txt" 2>&1
check "stores check proves the credentials" grep -q "credentials accepted" "$WORK/check.txt"
control '{"revoke": true}'
"$TRACKMAIL" stores check shop --data-dir "$D" > "$WORK/check2.txt" 2>&1
check "stores check with a refused token exits 1" test $? -eq 1
check "without printing the token" bash -c "! grep -q -- '$TOKEN' '$WORK/check2.txt'"
finish
