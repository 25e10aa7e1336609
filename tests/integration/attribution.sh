#!/usr/bin/env bash
# Attribution and events (issue 8): the original sender's address domain
# attributes a supplier; a display name, a look-alike domain, a body or an
# order-number format never does on its own; relays attribute by the
# supplier's own links or the sender they encode; reworded subjects from
# the supplier's domain are template drift, not the fallback. Events are
# structural: product names never decide them. Every mail is built here
# and parsed by the real binary.
. "$(dirname "$0")/lib.sh"

ups=$(python3 "$SRC/tests/tools/tracking_gen.py" ups 1 4242)
M="$WORK/mail"
mkdir -p "$M"
# mail NAME FROM SUBJECT [BODY-EXTRA]: an Amazon-like shipped mail with
# an Amazon link and a UPS number, from FROM with SUBJECT.
mail() {
	cat > "$M/$1.eml" <<EOT
From: $2
To: seller@example.org
Subject: $3
Date: Tue, 01 Dec 2026 10:00:00 +0000
Message-ID: <$1@test.example>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><body><p>Hello,</p>
<p>${4-Your package was shipped with UPS. Tracking number: $ups.}</p>
<p>Order #112-1234567-7654321</p>
<p><a href="https://www.amazon.com/gp/your-account/order-details?orderID=112-1234567-7654321">View order</a></p>
</body></html>
EOT
}
# field NAME KEY: one JSON field of the parse of mail NAME.
field() {
	"$TRACKMAIL" parse --json "$M/$1.eml" | python3 -c '
import json, sys
v = json.loads(sys.stdin.readline()).get(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v))' "$2"
}
is() { [ "$(field "$1" "$2")" = "$3" ]; }

# --- attribution ------------------------------------------------------
mail real '"Amazon.com" <shipment-tracking@amazon.com>' \
	'Shipped: "USB Cable" and 1 more item'
check "control: Amazon's own domain is Amazon" is real supplier amazon
check "control: shipped with the UPS number" is real outcome shipped

mail spoof 'Amazon <evil@attacker.example>' 'Shipped: "USB Cable"'
check "display name 'Amazon' at a foreign domain is not Amazon" \
	is spoof supplier null
check "a spoofed mail's number needs review" is spoof needs_review true

mail spoof2 '"Amazon.com" <shipment-tracking@amazon.com.evil.example>' \
	'Shipped: "USB Cable"'
check "look-alike amazon.com.evil.example is not Amazon" is spoof2 supplier null
mail spoof3 '"Amazon.com" <shipment-tracking@amaz0n.com>' 'Shipped: "USB Cable"'
check "look-alike amaz0n.com is not Amazon" is spoof3 supplier null
mail spoof4 '"Amazon.com" <a@amazon-com.example>' 'Shipped: "USB Cable"'
check "look-alike amazon-com.example is not Amazon" is spoof4 supplier null
mail spoof5 'Walmart <orders@walmart.com.attacker.example>' 'Shipped: "USB Cable"'
check "walmart.com.attacker.example is neither Walmart nor Amazon" \
	is spoof5 supplier null

mail sub '"Amazon.com" <ship-confirm@orders.amazon.com>' 'Shipped: "USB Cable"'
check "a subdomain (orders.amazon.com) attributes Amazon" is sub supplier amazon
check "attributed by the domain" is sub attributed_by domain

mail drift '"Amazon.com" <ship-confirm@amazon.co.uk>' \
	'A note about something you bought' \
	"Tracking number: $ups"
sed -i 's|https://www.amazon.com/gp/your-account/order-details|https://example.net/x|' "$M/drift.eml"
check "a reworded subject from amazon.co.uk is still Amazon" is drift supplier amazon
check "... flagged as template drift" is drift template_drift true
check "... and Amazon's extraction ran (shipped)" is drift outcome shipped

mail relay_link 'Amazon <abc123@privaterelay.appleid.com>' 'Shipped: "USB Cable"'
check "a relay address with Amazon's own link is Amazon" \
	is relay_link supplier amazon
check "... attributed by the relay's body markers" \
	is relay_link attributed_by relay-body

mail relay_order 'Amazon <abc123@privaterelay.appleid.com>' 'Shipped: "USB Cable"'
sed -i 's|https://www.amazon.com/gp/your-account/order-details|https://example.net/x|' "$M/relay_order.eml"
check "a relay with only an Amazon-format order number is not Amazon" \
	is relay_order supplier null

mail relay_enc 'Amazon <shipment-tracking_at_amazon_com_k3v9x2m7qa@privaterelay.appleid.com>' \
	'Shipped: "USB Cable"'
sed -i 's|https://www.amazon.com/gp/your-account/order-details|https://example.net/x|' "$M/relay_enc.eml"
check "Apple relay encoding amazon.com attributes Amazon" is relay_enc supplier amazon
mail relay_enc_evil 'Amazon <x_at_amazon_com_evil_example_k3v9x2m7qa@privaterelay.appleid.com>' \
	'Shipped: "USB Cable"'
sed -i 's|https://www.amazon.com/gp/your-account/order-details|https://example.net/x|' "$M/relay_enc_evil.eml"
check "Apple relay encoding amazon.com.evil.example is not Amazon" \
	is relay_enc_evil supplier null

mail icloud 'Amazon <friend@icloud.com>' 'Shipped: "USB Cable"'
check "an ordinary icloud.com address with Amazon links is not Amazon" \
	is icloud supplier null

# A forward: the forwarder (at amazon.com) never attributes; the
# original sender inside the forward does.
cat > "$M/fwd.eml" <<EOT
From: Seller <seller@amazon.com>
To: in@example.org
Subject: Fwd: Shipped: "USB Cable"
Date: Tue, 01 Dec 2026 10:00:00 +0000
Message-ID: <fwd@test.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

---------- Forwarded message ---------
From: Amazon <evil@attacker.example>
Date: Tue, 1 Dec 2026 at 09:00
Subject: Shipped: "USB Cable"
To: <seller@amazon.com>

Your package was shipped with UPS. Tracking number: $ups.
https://www.amazon.com/gp/your-account/order-details?orderID=112-1234567-7654321
EOT
check "the forwarder's own amazon.com address does not attribute" \
	is fwd supplier null

# --- events -----------------------------------------------------------
from='"Amazon.com" <shipment-tracking@amazon.com>'
mail ev1 "$from" 'Shipped: "Anti-Cancellation Noise Headphones"'
check "Shipped: \"Anti-Cancellation ...\" is shipped, not cancelled" is ev1 event shipped
check "... and its outcome shipped" is ev1 outcome shipped
mail ev2 "$from" 'Your Amazon.com order of "Refund-Proof Phone Case" has shipped'
check "\"Refund-Proof\" in a product name is not a refund" is ev2 event shipped
mail ev3 "$from" 'Shipped: "Delivered Fresh Coffee Beans"'
check "\"Delivered Fresh\" in a product name is not delivered" is ev3 event shipped
mail ev4 "$from" 'Re: Fwd: Shipped: “Cancel-Anytime Subscription Box”'
check "after Re:/Fwd: the leading verb decides; curly quotes masked" is ev4 event shipped
mail ev5 "$from" 'Your order of Refund-Proof Case has shipped'
check "unquoted product name: shipped is tried before refunded" is ev5 event shipped
mail ev6 "$from" 'Delivered: "Shipped-Ready Gift Box"'
check "Delivered: with a product named Shipped-... is delivered" is ev6 event delivered
mail ev7 "$from" 'Your Amazon.com order has been cancelled' ' '
check "a real cancellation is still cancelled" is ev7 event cancelled
mail ev8 "$from" 'An update about your purchase'
check "a valid number makes the event shipped, never other" is ev8 event shipped
check "... with outcome shipped" is ev8 outcome shipped

# --- platform templates ---------------------------------------------------
PF="$SRC/fixtures/emails/shopify/shipped_ups_store_domain.eml"
check "a Shopify template: supplier shopify:<store domain>, lower case, no www." \
	bash -c "'$TRACKMAIL' parse --json '$PF' | grep -q '\"supplier\":\"shopify:littlefern.com\",\"platform\":\"shopify\",\"store_name\":\"Little Fern\"'"
sed 's/^From: .*/From: "Amazon.com" <store@www.Amazon-Deals.example>/' "$PF" > "$M/shop_spoof.eml"
sed -i 's|https://www.littlefern.com/55512345|https://www.Amazon-Deals.example/55512345|' "$M/shop_spoof.eml"
check "a Shopify template with an Amazon display name is the store, not Amazon" \
	is shop_spoof supplier shopify:amazon-deals.example
sed 's/^From: .*/From: Amazon <ship@amazon.com>/' "$PF" > "$M/shop_amazon.eml"
check "Amazon's own domain wins over a platform template" is shop_amazon supplier amazon

# --- the store keeps per-supplier drift counts ---------------------------
D="$WORK/data"
"$TRACKMAIL" ingest --data-dir "$D" --json "$M/real.eml" "$M/drift.eml" \
	"$M/spoof.eml" > "$WORK/ingest.jsonl" 2> "$WORK/ingest.err"
DB="$D/trackmail.db"
check "supplier_drift counts amazon's two mails, one drifted" \
	test "$(sql "$DB" "SELECT mails || ' ' || drift_mails FROM supplier_drift WHERE supplier = 'amazon'")" = "2 1"
check "the drifted mail is recorded as attributed by domain" \
	test "$(sql "$DB" "SELECT attributed_by FROM message_attribution WHERE template_drift = 1")" = domain
check "the spoofed mail is attributed to no supplier" \
	test "$(sql "$DB" "SELECT count(*) FROM message_attribution WHERE supplier <> 'amazon'")" = 0
"$TRACKMAIL" ingest --data-dir "$D" --json "$M/drift.eml" > /dev/null 2>&1
check "ingesting the drifted mail again does not count it twice" \
	test "$(sql "$DB" "SELECT drift_mails FROM supplier_drift WHERE supplier = 'amazon'")" = 1

# No mail anywhere above is outcome shipped with event other.
bad=$(for f in "$M"/*.eml; do "$TRACKMAIL" parse --json "$f"; done |
	grep -c '"outcome":"shipped","event":"other"')
check "no outcome shipped with event other" [ "$bad" = 0 ]
finish
