#!/usr/bin/env bash
# Crash test (slow suite): kill -9 the dispatch process again and again
# while it pushes 500 shipments through the fake Shopify, including kills
# placed between the channel's answer and our commit (the fake applies the
# fulfilment, then holds its answer until told). Afterwards every
# shipment is on the channel exactly once and every push is done.
. "$SRC/tests/dispatch/lib_dispatch.sh"
D="$WORK/data"
N=${CRASH_PUSHES:-500}
start_fake "$N"
"$TRACKMAIL" accounts add default --data-dir "$D" > /dev/null 2>&1
add_store shop
bulk 1 "$N"
"$TRACKMAIL" orders import "$WORK/orders.csv" --data-dir "$D" > /dev/null
creates() { state | python3 -c 'import json,sys; print(json.load(sys.stdin)["creates"])'; }
held_kills=0
for round in $(seq 1 12); do
	if [ $((round % 2)) -eq 0 ]; then
		# between the answer and our commit: the fake applies, holds
		control '{"hold": true}'
		before=$(creates)
		"$TRACKMAIL" dispatch --concurrency 8 --data-dir "$D" > /dev/null 2>&1 &
		pid=$!
		for _ in $(seq 100); do [ "$(creates)" -gt "$before" ] && break; sleep 0.1; done
		[ "$(creates)" -gt "$before" ] && held_kills=$((held_kills + 1))
		kill -9 "$pid"; wait "$pid" 2> /dev/null
		control '{"hold": false}'
	else
		"$TRACKMAIL" dispatch --concurrency 8 --data-dir "$D" > /dev/null 2>&1 &
		pid=$!
		sleep "0.$((RANDOM % 9 + 1))"
		kill -9 "$pid"; wait "$pid" 2> /dev/null
	fi
done
check "kills landed between an applied fulfilment and our commit ($held_kills)" test "$held_kills" -ge 4
left=$(sql "$D/trackmail.db" "SELECT count(*) FROM pushes WHERE state <> 'done'")
check "some pushes were still open after the kills ($left)" test "$left" -gt 0
"$TRACKMAIL" dispatch --once --data-dir "$D" > "$WORK/final.txt" 2>&1
check "a final dispatch --once exits 0" test $? -eq 0
check "every push is done" test "$(sql "$D/trackmail.db" "SELECT count(*) FROM pushes WHERE state='done'")" -eq "$N"
state > "$WORK/state.json"
check "every shipment is on the channel exactly once" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
seen = {}
for f in s["fulfillments"]:
    for t in f["trackingInfo"]:
        seen[t["number"]] = seen.get(t["number"], 0) + 1
want = {"1ZBULK%08d" % i for i in range(1, n + 1)}
bad = [k for k in want if seen.get(k) != 1]
sys.exit(1 if bad or len(s["fulfillments"]) != n else 0)' "$WORK/state.json" "$N"
finish
