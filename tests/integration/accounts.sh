#!/usr/bin/env bash
# Accounts: each seller gets an unguessable t-<token>@domain address; mail
# to it is filed under that account; an allowlist quarantines other
# forwarders; --account overrides.
. "$(dirname "$0")/lib.sh"

D="$WORK/data"
DB="$D/trackmail.db"
addr=$("$TRACKMAIL" accounts add shop1 --data-dir "$D" --domain in.example | awk '{print $2}')
check "accounts add prints a t-<26 base32> address ($addr)" \
	bash -c "echo '$addr' | grep -Eqx 't-[a-z2-7]{26}@in\.example'"
addr2=$("$TRACKMAIL" accounts add shop2 --data-dir "$D" --allow-sender Owner@Shop2.example | awk '{print $2}')
check "two accounts get different tokens" test "$addr" != "$addr2"
"$TRACKMAIL" accounts list --json --data-dir "$D" > "$WORK/list.jsonl"
check "accounts list shows both with the allowlist" \
	grep -q '"name":"shop2".*"allowed_senders":"owner@shop2.example"' "$WORK/list.jsonl"

token=${addr%@*}
upper=$(echo "$token" | tr a-z A-Z)
# A forward addressed to shop1's address (upper-cased by a forwarder).
sed -e "1,/^\r\$/s/^To: .*/To: $upper@in.example\r/" "$SRC/fixtures/emails/amazon/shipped_ups_gmail.eml" > "$WORK/to_shop1.eml"
"$TRACKMAIL" ingest --json --data-dir "$D" "$WORK/to_shop1.eml" > "$WORK/a.json"
check "mail to the token address is filed under its account" grep -q '"account":"shop1"' "$WORK/a.json"

token2=${addr2%@*}
sed -e "1,/^\r\$/s/^To: .*/To: $token2@localhost\r/" "$SRC/fixtures/emails/walmart/shipped_fedex_gmail.eml" > "$WORK/to_shop2.eml"
"$TRACKMAIL" ingest --json --data-dir "$D" "$WORK/to_shop2.eml" > "$WORK/b.json"
# Both halves on the one line, as JSON fields (a grep 'A.*\|B' passed when
# either half matched).
check "a forwarder not on the allowlist is quarantined under its account" \
	test "$(json_field "$WORK/b.json" outcome) $(json_field "$WORK/b.json" account)" = "quarantined shop2"
check "with reason sender-not-allowed" test "$(json_field "$WORK/b.json" reason)" = sender-not-allowed
sed -e "1,/^\r\$/s/^To: .*/To: $token2@localhost\r/" \
	-e "1,/^\r\$/s/^From: .*/From: Owner <owner@shop2.example>\r/" \
	"$SRC/fixtures/emails/walmart/ordered_outlook.eml" > "$WORK/to_shop2_ok.eml"
"$TRACKMAIL" ingest --json --data-dir "$D" "$WORK/to_shop2_ok.eml" > "$WORK/c.json"
check "an allowed forwarder's mail is decided" grep -q '"outcome":"info"' "$WORK/c.json"

# Gmail's automatic forwarding keeps To: (the seller) and names the
# forwarding target in X-Forwarded-To.
{ printf 'X-Forwarded-To: %s\r\nX-Forwarded-For: owner@shop1.example %s\r\n' "$addr" "$addr"; cat "$SRC/fixtures/emails/walmart/cancelled_gmail.eml"; } > "$WORK/autofwd.eml"
"$TRACKMAIL" ingest --json --data-dir "$D" "$WORK/autofwd.eml" > "$WORK/f.json"
check "an automatic forward is filed by its X-Forwarded-To address" grep -q '"account":"shop1"' "$WORK/f.json"
"$TRACKMAIL" ingest --json --data-dir "$D" "$SRC/fixtures/emails/aliexpress/ordered_de_outlook.eml" > "$WORK/d.json"
check "mail to an unknown address goes to the default account" grep -q '"account":"default"' "$WORK/d.json"
"$TRACKMAIL" ingest --json --data-dir "$D" --account shop1 "$SRC/fixtures/emails/walmart/delivered_thunderbird.eml" > "$WORK/e.json"
check "--account overrides the address" grep -q '"account":"shop1"' "$WORK/e.json"
"$TRACKMAIL" ingest --data-dir "$D" --account nosuch "$SRC/fixtures/emails/walmart/delivered_thunderbird.eml" > /dev/null 2> "$WORK/err"
rc=$?
check "an unknown --account is a clear usage error (rc=$rc)" test "$rc" -eq 2
check "which says how to create it" grep -q "trackmail accounts add nosuch" "$WORK/err"
finish
