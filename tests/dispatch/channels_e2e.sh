#!/usr/bin/env bash
# End to end, one seller order per channel other than Shopify: the real
# trackmail binary (`tracking set`, `orders add`, `dispatch --once`)
# against each channel's fake (fake_<channel>.py run by fake_serve.py):
# the push is done, the channel shows the number from exactly one write,
# a push made due again writes nothing, `stores check` answers, and no
# secret shows in any output or in the outbox.
. "$SRC/tests/dispatch/lib_dispatch.sh"

D="$WORK/data"
DB="$D/trackmail.db"
"$TRACKMAIL" accounts add default --data-dir "$D" > /dev/null 2>&1
supplier_orders 1 8
mapfile -t N < <(python3 "$SRC/tests/tools/tracking_gen.py" ups 10 11)
fstate() { curl -s "$URL/_fake/state"; }
# writes NUMBER: requests other than GET whose body carries NUMBER.
writes() { fstate | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(sum(1 for r in s["log"] if r["method"] != "GET" and sys.argv[1] in r["body"]))' "$1"; }
shows() { fstate | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(json.dumps(s["state"]).count(sys.argv[1]) > 0)' "$1"; }
pushstate() { sql "$DB" "SELECT p.state FROM pushes p JOIN shipments s ON s.id = p.shipment_id WHERE s.tracking_number = '$1'"; }

i=0
for ch in woocommerce etsy ebay bigcommerce wix amazon walmart tiktok; do
	i=$((i + 1))
	F="$WORK/fake-$ch"
	mkdir -p "$F"
	(cd "$SRC/tests/dispatch" && exec python3 fake_serve.py "$ch" "$F") &
	FAKE_PID=$!
	for _ in $(seq 100); do [ -s "$F/port" ] && break; sleep 0.1; done
	URL="http://127.0.0.1:$(cat "$F/port")"
	"$TRACKMAIL" stores add "s-$ch" --channel "$ch" --api-url "$URL" \
		--token-file "$F/creds" --data-dir "$D" > /dev/null
	while read -r key value; do
		"$TRACKMAIL" stores set "s-$ch" "$key" "$value" --data-dir "$D" > /dev/null
	done < "$F/settings"
	"$TRACKMAIL" stores check "s-$ch" --data-dir "$D" > "$F/check.txt" 2>&1
	check "$ch: stores check proves the credentials" test $? -eq 0
	num=${N[$i]}
	"$TRACKMAIL" tracking set --supplier acme --data-dir "$D" "SO-$i" "$num" ups > /dev/null
	"$TRACKMAIL" orders add --store "s-$ch" --channel-order "$(cat "$F/order")" \
		--supplier acme --supplier-order "SO-$i" --data-dir "$D" > /dev/null
	"$TRACKMAIL" dispatch --once --timeout 5 --data-dir "$D" > "$F/out" 2> "$F/err"
	check "$ch: dispatch --once exits 0" test $? -eq 0
	check "$ch: the push is done" test "$(pushstate "$num")" = done
	check "$ch: the channel shows the number" test "$(shows "$num")" = True
	check "$ch: from exactly one write" test "$(writes "$num")" -eq 1
	sql "$DB" "UPDATE pushes SET state = 'due' WHERE shipment_id IN (SELECT id FROM shipments WHERE tracking_number = '$num')"
	"$TRACKMAIL" dispatch --once --timeout 5 --data-dir "$D" >> "$F/out" 2>> "$F/err"
	check "$ch: a repeat push is done again" test "$(pushstate "$num")" = done
	check "$ch: and writes nothing" test "$(writes "$num")" -eq 1
	"$TRACKMAIL" outbox list --json --data-dir "$D" > "$F/outbox.json"
	"$TRACKMAIL" stores list --json --data-dir "$D" > "$F/stores.json"
	secrets=$(python3 -c '
import json, sys
raw = open(sys.argv[1]).read().strip()
try:
    c = json.loads(raw)
    vals = [v for k, v in c.items() if k not in ("app_key", "client_id", "keystring", "consumer_key", "shop_cipher")]
except ValueError:
    vals = [raw]
print("\n".join(vals))' "$F/creds")
	leak=0
	while read -r s; do
		[ -n "$s" ] && grep -qF -- "$s" "$F/out" "$F/err" "$F/outbox.json" \
			"$F/stores.json" "$F/check.txt" && leak=1
	done <<< "$secrets"
	check "$ch: no secret in output, errors, stores/outbox --json" test "$leak" -eq 0
	stop_fake
done
finish
