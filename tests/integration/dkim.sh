#!/usr/bin/env bash
# DKIM of the original message, with a local key table (no DNS): a mail
# signed by the supplier's domain that verifies is recorded as evidence; a
# changed one is quarantined as dkim-fail; a signature of another domain
# or one whose key is unknown quarantines nothing.
. "$(dirname "$0")/lib.sh"

if ! command -v opendkim-testmsg > /dev/null; then
	echo "1..0 # SKIP opendkim-tools is not installed (scripts/install-deps.sh)"
	exit 0
fi
D="$WORK/data"
K="$WORK/keys"
mkdir -p "$K"
# keyline DOMAIN SELECTOR: a key pair, and its line of the key table.
keyline() {
	opendkim-genkey -D "$K" -d "$1" -s "$2" || return 1
	mv "$K/$2.private" "$K/$1-$2.private"
	printf '%s._domainkey.%s %s\n' "$2" "$1" "$(tr -d '\n' < "$K/$2.txt" |
		sed -e 's/^[^(]*( *//' -e 's/ *).*$//' -e 's/"[[:space:]]*"//g' -e 's/"//g' -e 's/ h=sha256;//')"
}
{ keyline amazon.com sel1; keyline evil.example sel1; } > "$K/table"
export TRACKMAIL_DKIM_QUERY_FILE="$K/table"
# sign DOMAIN SELECTOR < mail (opendkim-testmsg signs rsa-sha1, hence the
# key lines above accept any hash).
sign() { opendkim-testmsg -C -d "$1" -s "$2" -k "$K/$1-$2.private"; }
mail() {
	printf 'From: Amazon.com <shipment-tracking@amazon.com>\r\nTo: t-aaaaaaaaaaaaaaaaaaaaaaaaaa@localhost\r\n'
	printf 'Subject: Your Amazon.com order #112-7226196-4615469 has shipped\r\nDate: Tue, 03 Nov 2026 14:05:00 +0000\r\n'
	printf 'Message-ID: <%s@amazon.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n' "$1"
	printf 'Shipping Confirmation\r\n\r\nHi Dana, your package will arrive Friday, November 6.\r\nOrder #112-7226196-4615469\r\n'
	printf 'Shipped with UPS\r\nTracking ID: 1ZFE1KM20353416536\r\nTrack package\r\n'
}
mail good | sign amazon.com sel1 > "$WORK/good.eml"
check "opendkim-testmsg signed the test mail" grep -q '^DKIM-Signature: .*d=amazon.com' "$WORK/good.eml"
"$TRACKMAIL" ingest --json --data-dir "$D" "$WORK/good.eml" > "$WORK/good.json"
check "a verified signature of the supplier's domain is decided normally" \
	test "$(json_field "$WORK/good.json" outcome)" = shipped
check "and recorded as evidence: dkim pass amazon.com" \
	grep -q '"dkim":{"result":"pass","domain":"amazon.com"}' "$WORK/good.json"
check "in the stored decision too" \
	test "$(sql "$D/trackmail.db" "SELECT count(*) FROM messages WHERE result_json LIKE '%\"dkim\":{\"result\":\"pass\"%'")" = 1

mail tampered | sign amazon.com sel1 | sed 's/Friday/Monday/' > "$WORK/tampered.eml"
"$TRACKMAIL" ingest --json --data-dir "$D" "$WORK/tampered.eml" > "$WORK/tampered.json"
check "a changed body of a signed supplier mail is quarantined as dkim-fail" \
	test "$(json_field "$WORK/tampered.json" outcome) $(json_field "$WORK/tampered.json" reason)" = "quarantined dkim-fail"
check "whose detail names the domain and the reason" \
	grep -q 'amazon.com does not verify: body hash mismatch' "$WORK/tampered.json"
check "with a quarantine row" test "$(sql "$D/trackmail.db" "SELECT count(*) FROM quarantine WHERE reason='dkim-fail'")" = 1

mail hdr | sign amazon.com sel1 | sed 's/^Subject: Your/Subject: Re: Your/' > "$WORK/header.eml"
"$TRACKMAIL" ingest --json --data-dir "$D" "$WORK/header.eml" > "$WORK/header.json"
check "a changed signed header is a dkim-fail too" \
	test "$(json_field "$WORK/header.json" reason)" = dkim-fail

mail other | sign evil.example sel1 | sed 's/Friday/Monday/' > "$WORK/other.eml"
"$TRACKMAIL" ingest --json --data-dir "$D" "$WORK/other.eml" > "$WORK/other.json"
check "a signature of another domain proves nothing and quarantines nothing" \
	test "$(json_field "$WORK/other.json" outcome) $(json_field "$WORK/other.json" reason)" = "shipped null"
check "it is reported as unaligned" grep -q '"dkim":{"result":"unaligned"' "$WORK/other.json"

keyline amazon.com sel9 > /dev/null
mail nokey | sign amazon.com sel9 > "$WORK/nokey.eml"
"$TRACKMAIL" ingest --json --data-dir "$D" "$WORK/nokey.eml" > "$WORK/nokey.json"
check "an unknown key is a permerror, not a quarantine" \
	test "$(json_field "$WORK/nokey.json" outcome) $(json_field "$WORK/nokey.json" dkim)" = 'shipped {"result": "permerror", "domain": "amazon.com"}'
mail plain > "$WORK/plain.eml"
"$TRACKMAIL" ingest --json --data-dir "$D" "$WORK/plain.eml" > "$WORK/plain.json"
check "an unsigned mail has no dkim field" bash -c "! grep -q '\"dkim\"' '$WORK/plain.json'"

# The same key table under `trackmail serve`: its workers take
# dkim_query_file too (without it the keys would be looked up in DNS).
D2="$WORK/serve-data"
TRACKMAIL_SMTP_LISTEN= TRACKMAIL_LMTP_LISTEN= TRACKMAIL_WORKERS=1 \
	"$TRACKMAIL" serve --data-dir "$D2" 2> "$WORK/serve.log" &
spid=$!
trap 'kill "$spid" 2> /dev/null; rm -rf "$WORK"' EXIT
"$TRACKMAIL" spool add --data-dir "$D2" "$WORK/good.eml" "$WORK/tampered.eml" > /dev/null
for _ in $(seq 150); do
	[ "$("$TRACKMAIL" messages list --json --data-dir "$D2" 2> /dev/null | wc -l)" -ge 2 ] && break
	sleep 0.2
done
"$TRACKMAIL" messages list --json --data-dir "$D2" > "$WORK/served.json" 2>&1
check "serve: the signed mail is a dkim pass (key from dkim_query_file)" \
	grep -q '"dkim":{"result":"pass","domain":"amazon.com"}' "$WORK/served.json"
check "serve: the changed one is quarantined as dkim-fail" \
	grep -q '"reason":"dkim-fail"' "$WORK/served.json"
kill -TERM "$spid"
wait "$spid"
check "serve: SIGTERM exits 0" test $? -eq 0
finish
