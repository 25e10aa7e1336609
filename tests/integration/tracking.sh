#!/usr/bin/env bash
# `trackmail tracking set`: a tracking number entered by hand completes an
# order that shipped without one, after the same carrier checks as a
# parsed number; the same entry twice changes nothing; bad entries are
# refused with a clear reason and store nothing.
. "$(dirname "$0")/lib.sh"

D="$WORK/data"
DB="$D/trackmail.db"
"$TRACKMAIL" ingest --data-dir "$D" "$SRC/fixtures/emails/amazon/shipped_no_number_apple.eml" > /dev/null
order=$(sql "$DB" "SELECT order_number FROM supplier_orders")
check "the order waits for tracking" test "$(sql "$DB" "SELECT status FROM supplier_orders")" = awaiting_tracking
ups=$(python3 "$SRC/tests/tools/tracking_gen.py" ups 1 99)
"$TRACKMAIL" tracking set --data-dir "$D" "$order" "$ups" > "$WORK/set.txt"
check "tracking set records the number (exit 0)" grep -q "^$order (amazon): shipped, $ups (ups)$" "$WORK/set.txt"
check "the order is now shipped" test "$(sql "$DB" "SELECT status FROM supplier_orders")" = shipped
check "with its shipment" test "$(sql "$DB" "SELECT carrier FROM shipments WHERE tracking_number='$ups'")" = ups
check "and a manual message row for the audit trail" \
	test "$(sql "$DB" "SELECT count(*) FROM messages WHERE source='manual' AND outcome='shipped'")" -eq 1
"$TRACKMAIL" tracking set --data-dir "$D" "$order" "$ups" ups > "$WORK/again.txt"
check "the same entry again changes nothing" grep -q "already recorded" "$WORK/again.txt"
check "still one shipment" test "$(sql "$DB" "SELECT count(*) FROM shipments")" -eq 1

bad=${ups%?}$(( (${ups: -1} + 1) % 10 ))
"$TRACKMAIL" tracking set --data-dir "$D" "$order" "$bad" 2> "$WORK/err1"
check "a number failing its check digit is refused (exit 1)" test $? -eq 1
check "with the reason" grep -q "not a valid tracking number (check-digit)" "$WORK/err1"
dhl=$(python3 "$SRC/tests/tools/tracking_gen.py" dhl 1 99)
"$TRACKMAIL" tracking set --data-dir "$D" "$order" "$dhl" 2> "$WORK/err2"
check "a number whose carrier is uncertain needs CARRIER" grep -q "name one as CARRIER" "$WORK/err2"
"$TRACKMAIL" tracking set --data-dir "$D" "$order" "$dhl" "DHL Express" > /dev/null
check "with the carrier named it is recorded" \
	test "$(sql "$DB" "SELECT carrier FROM shipments WHERE tracking_number='$dhl'")" = dhl
"$TRACKMAIL" tracking set --data-dir "$D" 000-0000000-0000000 "$ups" 2> "$WORK/err3"
check "an unknown order is refused" grep -q "no supplier order 000-0000000-0000000" "$WORK/err3"
"$TRACKMAIL" tracking set --data-dir "$D" "$order" "$ups" nosuchcarrier 2> /dev/null
check "an unknown carrier is a usage error (2)" test $? -eq 2
check "nothing else was stored" test "$(sql "$DB" "SELECT count(*) FROM shipments")" -eq 2
finish
