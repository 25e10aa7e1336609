# lib_dispatch.sh - shared by the dispatch tests: a fake Shopify on a free
# loopback port (killed on exit), a store on it, and supplier orders with
# shipments made through the real `trackmail tracking set` path.
. "$SRC/tests/integration/lib.sh"
TOKEN="shpat_$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
FAKE_PID=
# start_fake N: the fake with orders 1..N; sets PORT and URL.
start_fake() {
	rm -f "$WORK/port"
	python3 "$SRC/tests/dispatch/fake_shopify.py" --port-file "$WORK/port" \
		--token "$TOKEN" --orders "$1" &
	FAKE_PID=$!
	for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
	PORT=$(cat "$WORK/port")
	URL="http://127.0.0.1:$PORT"
}
stop_fake() { [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2> /dev/null; wait "$FAKE_PID" 2> /dev/null; FAKE_PID=; }
trap 'stop_fake; rm -rf "$WORK"' EXIT
control() { curl -s -o /dev/null -X POST --data "$1" "$URL/_control"; }
state() { curl -s "$URL/_state"; }
# fcount NUMBER: fulfillments on the fake carrying NUMBER.
fcount() { state | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(sum(1 for f in s["fulfillments"] for t in f["trackingInfo"] if t["number"] == sys.argv[1]))' "$1"; }
fcompany() { state | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(" ".join("%s|%s" % (t["company"], t["url"]) for f in s["fulfillments"] for t in f["trackingInfo"] if t["number"] == sys.argv[1]))' "$1"; }
# add_store NAME
add_store() {
	printf '%s\n' "$TOKEN" > "$WORK/token"
	"$TRACKMAIL" stores add "$1" --channel shopify --api-url "$URL" \
		--token-file "$WORK/token" --data-dir "$D" > /dev/null
}
# supplier_orders FIRST LAST: supplier orders SO-n of supplier "acme"
# (the parsed-mail table, written directly: setup only).
supplier_orders() {
	sqlite3 "$D/trackmail.db" "INSERT INTO supplier_orders(account_id, supplier, order_number, status, created_at, updated_at)
		SELECT (SELECT id FROM accounts WHERE name='default'), 'acme', 'SO-' || value, 'ordered', 0, 0 FROM generate_series($1, $2);" 2>/dev/null ||
	python3 - "$D/trackmail.db" "$1" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
acc = db.execute("SELECT id FROM accounts WHERE name='default'").fetchone()[0]
db.executemany("INSERT INTO supplier_orders(account_id, supplier, order_number, status, created_at, updated_at) VALUES (?, 'acme', ?, 'ordered', 0, 0)",
               [(acc, "SO-%d" % i) for i in range(int(sys.argv[2]), int(sys.argv[3]) + 1)])
db.commit()
PY
}
ups() { python3 "$SRC/tests/tools/tracking_gen.py" ups "$1" 1 | tail -1; }
# bulk FIRST LAST: supplier orders SO-n (supplier acme) each shipped with
# 1ZBULK<n> (written directly: setup; the push triggers run as for any
# shipment), and FILE $WORK/orders.csv for `orders import` linking seller
# order n of store "shop" to SO-n.
bulk() {
	python3 - "$D/trackmail.db" "$1" "$2" "$WORK/orders.csv" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
a, b = int(sys.argv[2]), int(sys.argv[3])
acc = db.execute("SELECT id FROM accounts WHERE name='default'").fetchone()[0]
cur = db.execute("INSERT INTO messages(account_id, message_id, content_hash, source, received_at) VALUES (?, 'bulk', 'bulk', 'bulk', 0)", (acc,))
msg = cur.lastrowid
for i in range(a, b + 1):
    so = db.execute("INSERT INTO supplier_orders(account_id, supplier, order_number, status, created_at, updated_at) VALUES (?, 'acme', ?, 'shipped', 0, 0)", (acc, "SO-%d" % i)).lastrowid
    db.execute("INSERT INTO shipments(account_id, supplier_order_id, supplier, tracking_number, carrier, message_row, created_at) VALUES (?, ?, 'acme', ?, 'ups', ?, 0)", (acc, so, "1ZBULK%08d" % i, msg))
db.commit()
with open(sys.argv[4], "w") as f:
    f.write("store,channel_order,supplier,supplier_order,lines\n")
    for i in range(a, b + 1):
        f.write('shop,%d,acme,"so %d",%d:1\n' % (i, i, i * 10 + 1))
PY
}
