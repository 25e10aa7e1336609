#!/usr/bin/env bash
# stores and orders commands: channel and URL rules, credentials files,
# orders add/import (CSV and JSON, one transaction, file:line errors),
# normalized supplier order numbers, list filters, outbox retry.
. "$SRC/tests/integration/lib.sh"
D="$WORK/data"
DB="$D/trackmail.db"
echo shpat_0123456789abcdef > "$WORK/tok"
"$TRACKMAIL" stores add fb --channel facebook --api-url https://x.example --token-file "$WORK/tok" --data-dir "$D" 2> "$WORK/e1"
check "facebook is refused (exit 2)" test $? -eq 2
check "with the reason" grep -q "Meta ended Facebook and Instagram checkout in 2025" "$WORK/e1"
"$TRACKMAIL" stores add ig --channel instagram --api-url https://x.example --token-file "$WORK/tok" --data-dir "$D" 2> /dev/null
check "instagram too" test $? -eq 2
"$TRACKMAIL" stores add s --channel shopify --api-url http://shop.example.com --token-file "$WORK/tok" --data-dir "$D" 2> "$WORK/e2"
check "plain http to a non-loopback host is refused" grep -q "http:// only to a loopback" "$WORK/e2"
"$TRACKMAIL" stores add s --channel nosuch --api-url https://x.example --token-file "$WORK/tok" --data-dir "$D" 2> /dev/null
check "an unknown channel is refused" test $? -eq 2
"$TRACKMAIL" stores add e --channel ebay --api-url https://api.ebay.com --token-file "$WORK/tok" --data-dir "$D" 2> "$WORK/e3"
check "eBay credentials must be a JSON object" grep -q "JSON object" "$WORK/e3"
"$TRACKMAIL" stores add shop --channel shopify --api-url https://shop.myshopify.com --token-file "$WORK/tok" --data-dir "$D" > /dev/null
check "a Shopify store is added" test "$(sql "$DB" "SELECT count(*) FROM stores")" -eq 1
"$TRACKMAIL" stores add shop --channel shopify --api-url https://shop.myshopify.com --token-file "$WORK/tok" --data-dir "$D" 2> "$WORK/e4"
check "the same name twice is refused" grep -q "a store named shop exists" "$WORK/e4"
"$TRACKMAIL" stores set shop api_version 2026-07 --data-dir "$D" > /dev/null
check "stores set writes the setting" test "$(sql "$DB" "SELECT json_extract(settings, '$.api_version') FROM stores")" = 2026-07
check "the database file is the service user's alone" test "$(stat -c %a "$DB")" = 600

# supplier orders as parsed mail left them
"$TRACKMAIL" accounts add default --data-dir "$D" > /dev/null 2>&1
sql "$DB" "INSERT INTO supplier_orders(account_id, supplier, order_number, status, created_at, updated_at)
	SELECT id, 'acme', 'AB-12 34', 'ordered', 0, 0 FROM accounts WHERE name='default';
	INSERT INTO supplier_orders(account_id, supplier, order_number, status, created_at, updated_at)
	SELECT id, 'acme', 'CD5678', 'awaiting_tracking', 0, 0 FROM accounts WHERE name='default';
	INSERT INTO supplier_orders(account_id, supplier, order_number, status, created_at, updated_at)
	SELECT id, 'acme', 'EF9', 'cancelled', 0, 0 FROM accounts WHERE name='default';"
printf 'store,channel_order,supplier,supplier_order,lines\nshop,1,acme,"ab1234",11:1 12:2\nshop,2,acme,cd-5678,\nnosuch,3,acme,x,\n' > "$WORK/bad.csv"
"$TRACKMAIL" orders import "$WORK/bad.csv" --data-dir "$D" 2> "$WORK/e5"
check "an import with a bad row exits 1" test $? -eq 1
check "naming file and line" grep -q "bad.csv:4: no store nosuch" "$WORK/e5"
check "and adds nothing (one transaction)" test "$(sql "$DB" "SELECT count(*) FROM seller_orders")" -eq 0
head -3 "$WORK/bad.csv" > "$WORK/good.csv"
"$TRACKMAIL" orders import "$WORK/good.csv" --data-dir "$D" > /dev/null
check "a good CSV imports its orders" test "$(sql "$DB" "SELECT count(*) FROM seller_orders")" -eq 2
check "with their lines" test "$(sql "$DB" "SELECT group_concat(line_id || ':' || quantity, ' ') FROM seller_order_lines")" = "11:1 12:2"
zw=$(printf 'e\u200bf-9')
printf '[{"store":"shop","channel_order":"3","supplier":"acme","supplier_order":"%s"}]' "$zw" > "$WORK/o.json"
"$TRACKMAIL" orders import "$WORK/o.json" --data-dir "$D" > /dev/null
check "a JSON import works" test "$(sql "$DB" "SELECT count(*) FROM seller_orders")" -eq 3
"$TRACKMAIL" orders list --json --data-dir "$D" > "$WORK/l.json"
check "statuses follow the supplier orders (case, dashes, spaces, invisible marks ignored)" \
	test "$(json_field "$WORK/l.json" status | tr '\n' ' ')" = "ordered awaiting_tracking supplier_cancelled "
"$TRACKMAIL" orders list --json --status awaiting_tracking --data-dir "$D" > "$WORK/l2.json"
check "orders list --status filters" test "$(json_field "$WORK/l2.json" channel_order)" = 2
"$TRACKMAIL" orders list --status delivered --data-dir "$D" 2> /dev/null
check "there is no Delivered status (usage error)" test $? -eq 2
"$TRACKMAIL" orders show 1 --data-dir "$D" > "$WORK/show.txt"
check "orders show prints the order" grep -q "shop .* 1 .*acme" "$WORK/show.txt"

# a shipment for order 1's supplier order: its push is due in the same transaction
ups=$(python3 "$SRC/tests/tools/tracking_gen.py" ups 1 3)
"$TRACKMAIL" tracking set --supplier acme --data-dir "$D" "AB-12 34" "$ups" ups > /dev/null
check "tracking set of a linked supplier order writes a due push" \
	test "$(sql "$DB" "SELECT state FROM pushes")" = due
sql "$DB" "UPDATE pushes SET state = 'dead'"
"$TRACKMAIL" outbox list --dead --json --data-dir "$D" > "$WORK/dead.json"
check "outbox list --dead shows it" test "$(json_field "$WORK/dead.json" tracking)" = "$ups"
"$TRACKMAIL" outbox retry 1 --data-dir "$D" > "$WORK/retry.out"
check "outbox retry makes it due" test "$(sql "$DB" "SELECT state FROM pushes")" = due
check "and says how many" grep -qx "1 push due again" "$WORK/retry.out"
"$TRACKMAIL" outbox retry 1 --data-dir "$D" > "$WORK/retry2.out" 2> "$WORK/retry2.err"
check "retrying a push that is not dead/manual exits 1" test $? -eq 1
check "and says so on stderr" grep -q "push 1 is not manual or dead" "$WORK/retry2.err"
check "with nothing on stdout" test ! -s "$WORK/retry2.out"
finish
