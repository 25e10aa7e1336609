#!/usr/bin/env bash
# `orders sync STORE` against the fake Shopify: the supplier order number
# comes from a note attribute (or a metafield) named in the store's
# settings; open orders only, every page; a second sync adds nothing.
. "$SRC/tests/dispatch/lib_dispatch.sh"
D="$WORK/data"
DB="$D/trackmail.db"
start_fake 0
add_store shop
"$TRACKMAIL" orders sync shop --data-dir "$D" 2> "$WORK/e1"
check "without a sync setting: exit 1 with how to set it" grep -q "set \`sync\` first" "$WORK/e1"
for i in $(seq 1 60); do
	control "{\"order\": {\"id\": \"$i\", \"attributes\": {\"supplier_order\": \"SO-$i\", \"gift\": \"no\"}, \"metafields\": {\"custom.so\": \"M-$i\"}, \"fos\": [{\"id\": \"gid://shopify/FulfillmentOrder/${i}0\", \"lines\": [{\"id\": \"gid://shopify/FulfillmentOrderLineItem/${i}1\", \"line\": \"gid://shopify/LineItem/${i}1\", \"qty\": 1}]}]}}"
done
control '{"order": {"id": "61", "fos": [{"id": "gid://shopify/FulfillmentOrder/610", "lines": [{"id": "gid://shopify/FulfillmentOrderLineItem/611", "line": "gid://shopify/LineItem/611", "qty": 1}]}]}}'
"$TRACKMAIL" stores set shop sync '{"attribute": "supplier_order", "supplier": "aliexpress"}' --data-dir "$D" > /dev/null
"$TRACKMAIL" orders sync shop --data-dir "$D" > "$WORK/s1"
check "sync reads all pages (60 orders with the attribute)" grep -q "60 orders with a supplier order number, 60 new links" "$WORK/s1"
check "the links carry the attribute's value" test "$(sql "$DB" "SELECT supplier_order FROM order_links l JOIN seller_orders o ON o.id = l.seller_order_id WHERE o.channel_order = '42'")" = SO-42
check "an order without the attribute is skipped" test "$(sql "$DB" "SELECT count(*) FROM seller_orders WHERE channel_order = '61'")" -eq 0
"$TRACKMAIL" orders sync shop --data-dir "$D" > "$WORK/s2"
check "a second sync adds no link" grep -q ", 0 new links" "$WORK/s2"
"$TRACKMAIL" stores set shop sync '{"metafield": "custom.so", "supplier": "aliexpress"}' --data-dir "$D" > /dev/null
"$TRACKMAIL" orders sync shop --data-dir "$D" > "$WORK/s3"
check "a metafield works too" test "$(sql "$DB" "SELECT count(*) FROM order_links WHERE supplier_order LIKE 'M-%'")" -eq 60
check "the token never shows" bash -c "! grep -q -- '$TOKEN' '$WORK/s1' '$WORK/s2' '$WORK/s3' '$WORK/e1'"
finish
