#!/usr/bin/env bash
# Mail no supplier parser takes: the fallback accepts only numbers that
# pass their check digit next to a label, or schema.org ParcelDelivery
# markup; decoys (order numbers, SKUs, phones, ZIPs, prices, dates, coupon
# and invoice codes) never pass; nothing trustworthy is quarantined.
. "$(dirname "$0")/lib.sh"

T="$SRC/tests/data/fallback"
ups=$(python3 "$SRC/tests/tools/tracking_gen.py" ups 1 4242)
"$TRACKMAIL" parse --json "$T/schema_org_parcel.eml" > "$WORK/a.json"
check "schema.org ParcelDelivery gives the number, carrier and order" \
	grep -q '"shipments":\[{"order":"SO-55512","tracking":"'"$ups"'","carrier":"ups"}\]' "$WORK/a.json"
check "an unknown sender's shipment needs review" grep -q '"needs_review":true' "$WORK/a.json"
"$TRACKMAIL" parse --json "$T/decoys_one_number.eml" > "$WORK/b.json"
check "a mail full of decoys yields exactly its one number" \
	grep -q '"shipments":\[{"order":null,"tracking":"'"$ups"'","carrier":"ups"}\]' "$WORK/b.json"
"$TRACKMAIL" parse --json "$T/nothing_trustworthy.eml" > "$WORK/c.json"
check "nothing trustworthy: quarantined as unknown-sender" \
	grep -q '"outcome":"quarantined".*"reason":"unknown-sender"' "$WORK/c.json"
check "and no shipment invented" grep -q '"shipments":\[\]' "$WORK/c.json"
finish
