#!/usr/bin/env bash
# Benchmark: pushes/s through the fake Shopify with 1,000 queued
# shipments (pre-read + fulfillmentCreate each, concurrency 16). Prints
# the figure; fails only if a push did not end done exactly once.
. "$SRC/tests/dispatch/lib_dispatch.sh"
D="$WORK/data"
N=${BENCH_PUSHES:-1000}
start_fake "$N"
"$TRACKMAIL" accounts add default --data-dir "$D" > /dev/null 2>&1
add_store shop
bulk 1 "$N"
"$TRACKMAIL" orders import "$WORK/orders.csv" --data-dir "$D" > /dev/null
check "$N pushes due" test "$(sql "$D/trackmail.db" "SELECT count(*) FROM pushes WHERE state='due'")" -eq "$N"
t0=$(date +%s.%N)
"$TRACKMAIL" dispatch --once --concurrency "${BENCH_CONCURRENCY:-16}" --data-dir "$D" > "$WORK/out" 2> /dev/null
t1=$(date +%s.%N)
rate=$(python3 -c "print('%.1f' % ($N / ($t1 - $t0)))")
echo "# $N pushes in $(python3 -c "print('%.2f' % ($t1 - $t0))") s: $rate pushes/s"
check "all $N done" test "$(sql "$D/trackmail.db" "SELECT count(*) FROM pushes WHERE state='done'")" -eq "$N"
check "exactly $N fulfillments on the fake" \
	test "$(state | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["fulfillments"]))')" -eq "$N"
finish
