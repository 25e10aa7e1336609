#!/usr/bin/env bash
# Per-store rules against the fake Shopify (docs/dispatch.md "Rules as
# data"): `stores set NAME rules.<rule> VALUE` changes what happens to a
# push, and an unknown rule name or value is refused. And a corrected
# number (docs/dispatch.md "Corrected numbers"): `tracking set` with a new
# number for a shipment already pushed updates the fulfilment, never
# adds a second one.
. "$SRC/tests/dispatch/lib_dispatch.sh"

D="$WORK/data"
DB="$D/trackmail.db"
start_fake 20
"$TRACKMAIL" accounts add default --data-dir "$D" > /dev/null 2>&1
add_store shop
supplier_orders 1 10
dispatch() { "$TRACKMAIL" dispatch --once --timeout 5 --data-dir "$D" >> "$WORK/out" 2>> "$WORK/err"; }
pushstate() { sql "$DB" "SELECT p.state FROM pushes p JOIN shipments s ON s.id = p.shipment_id WHERE s.tracking_number = '$1'"; }
creates() { state | python3 -c 'import json,sys; print(json.load(sys.stdin)["creates"])'; }
order() { # order N NUMBER: supplier order SO-N shipped with NUMBER, seller order N
	"$TRACKMAIL" tracking set --supplier acme --data-dir "$D" "SO-$1" "$2" ups > /dev/null
	"$TRACKMAIL" orders add --store shop --channel-order "$1" --supplier acme \
		--supplier-order "so $1" --data-dir "$D" > /dev/null
}
mapfile -t N < <(python3 "$SRC/tests/tools/tracking_gen.py" ups 10 11)

# 1. an unknown rule name is refused, with the names it knows
"$TRACKMAIL" stores set shop rules.hold_everything on --data-dir "$D" > /dev/null 2> "$WORK/e1"
check "stores set refuses an unknown rule (exit 1)" test $? -eq 1
check "naming it" grep -q "unknown rule 'hold_everything'" "$WORK/e1"
check "and the rules it knows" grep -q "hold_all" "$WORK/e1"
"$TRACKMAIL" stores set shop rules.hold_all maybe --data-dir "$D" > /dev/null 2> "$WORK/e2"
check "a value the rule does not take is refused" test $? -eq 1
check "naming the values it takes" grep -q "on, off" "$WORK/e2"
check "nothing was stored" test "$(sql "$DB" "SELECT settings FROM stores WHERE name='shop'")" = "{}" -o \
	-z "$(sql "$DB" "SELECT json_extract(settings, '\$.\"rules.hold_all\"') FROM stores WHERE name='shop'")"

# 2. rules.hold_all on: the push goes to the manual list, nothing reaches Shopify
"$TRACKMAIL" stores set shop rules.hold_all on --data-dir "$D" > /dev/null
check "stores set takes a known rule" test $? -eq 0
c0=$(creates)
order 1 "${N[1]}"
dispatch
check "hold_all: dispatch --once exits 1 (a manual push)" test $? -eq 1
check "hold_all: the push is manual" test "$(pushstate "${N[1]}")" = manual
check "with the rule named as the reason" \
	grep -q "rules.hold_all" <(sql "$DB" "SELECT last_error FROM pushes")
check "and no fulfillment was created" test "$(fcount "${N[1]}")" -eq 0 -a "$(creates)" -eq "$c0"
"$TRACKMAIL" outbox list --manual --data-dir "$D" > "$WORK/manual"
check "it is on the manual list" grep -q "${N[1]}" "$WORK/manual"

# 3. back to the channel's default: the retried push goes out once
"$TRACKMAIL" stores set shop rules.hold_all off --data-dir "$D" > /dev/null
"$TRACKMAIL" outbox retry --all --data-dir "$D" > /dev/null
dispatch
check "hold_all off: the push is done" test "$(pushstate "${N[1]}")" = done
check "with exactly one fulfillment" test "$(fcount "${N[1]}")" -eq 1

# 4. rules.unknown_carrier: hold keeps a carrier Shopify has no name for
"$TRACKMAIL" stores set shop rules.unknown_carrier hold --data-dir "$D" > /dev/null
sql "$DB" "INSERT INTO shipments(account_id, supplier_order_id, supplier, tracking_number, carrier, message_row, created_at)
	SELECT account_id, id, 'acme', 'H01EVR1234567890', 'evri', (SELECT min(id) FROM messages), 0 FROM supplier_orders WHERE order_number = 'SO-3'"
"$TRACKMAIL" orders add --store shop --channel-order 3 --supplier acme --supplier-order SO3 --data-dir "$D" > /dev/null
c2=$(creates)
order 4 "${N[4]}"
dispatch
check "unknown_carrier hold: the Evri push is manual" test "$(pushstate H01EVR1234567890)" = manual
check "naming the rule" grep -q "rules.unknown_carrier" <(sql "$DB" "SELECT last_error FROM pushes WHERE state = 'manual'")
check "nothing sent for it" test "$(fcount H01EVR1234567890)" -eq 0
check "a UPS push of the same store still goes out" test "$(pushstate "${N[4]}")" = done
check "(one create in all)" test "$(creates)" -eq $((c2 + 1))
"$TRACKMAIL" stores set shop rules.unknown_carrier other --data-dir "$D" > /dev/null
"$TRACKMAIL" outbox retry --all --data-dir "$D" > /dev/null
dispatch
check "unknown_carrier other: the name and our URL" \
	test "$(fcompany H01EVR1234567890)" = "Evri|https://www.evri.com/track/parcel/H01EVR1234567890"

# 5. a corrected number: tracking set on a pushed shipment updates it
c1=$(creates)
"$TRACKMAIL" tracking set --supplier acme --data-dir "$D" SO-1 "${N[2]}" ups > /dev/null
check "the corrected push is due" test "$(pushstate "${N[2]}")" = due
check "carrying the pushed number as previous_tracking" \
	test "$(sql "$DB" "SELECT p.previous_tracking FROM pushes p JOIN shipments s ON s.id = p.shipment_id WHERE s.tracking_number = '${N[2]}'")" = "${N[1]}"
dispatch
check "corrected number: dispatch --once exits 0" test $? -eq 0
check "corrected number: done" test "$(pushstate "${N[2]}")" = done
check "the fulfillment carries the new number" test "$(fcount "${N[2]}")" -eq 1
check "not the old one" test "$(fcount "${N[1]}")" -eq 0
check "no second fulfillmentCreate" test "$(creates)" -eq "$c1"
check "one fulfillment on the order" \
	test "$(state | python3 -c 'import json,sys; s=json.load(sys.stdin); print(sum(1 for f in s["fulfillments"] if f["order"].endswith("/1")))')" -eq 1

# 6. a first number for an order not pushed yet is no correction
order 2 "${N[3]}"
check "a first number has no previous_tracking" \
	test -z "$(sql "$DB" "SELECT p.previous_tracking FROM pushes p JOIN shipments s ON s.id = p.shipment_id WHERE s.tracking_number = '${N[3]}'")"

finish
