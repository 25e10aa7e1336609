#!/usr/bin/env bash
# The IMAP poller against a real Dovecot over TLS (a private CA made here):
# `imap-poll --once` spools new mail and moves it to Processed; `serve`
# decides it and its poller (IDLE) copies the quarantined one to
# Quarantine and takes mail that arrives while it waits; a certificate for
# another host name and one from an unknown CA are refused before any
# IMAP byte is parsed (nothing logged in, nothing spooled).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dovecot_lib.sh"

imaps_test_setup
tls_ca "$C" otherca # for the unknown-CA check

# The seller's mailbox on a Dovecot of its own (plain passwd-file).
H="$WORK/home/seller"
mkdir -p "$H/Maildir/new" "$H/Maildir/cur" "$H/Maildir/tmp"
[ "$(id -u)" -eq 0 ] && chown -R "$MAIL_USER:$MAIL_GROUP" "$WORK/home"
chmod 755 "$WORK/home"
printf 'seller:{PLAIN}mailbox-pw::::%s::\n' "$H" > "$WORK/users"
chmod 644 "$WORK/users"
port=$(free_port)
{ cat <<EOT
protocols = imap
mail_location = maildir:~/Maildir
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $WORK/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $WORK/users
}
EOT
  dovecot_test_settings "$WORK/dc" 0
  dovecot_imaps_settings "$C" "$port"
} > "$WORK/dc/dovecot.conf"
dovecot_start "$WORK/dc/dovecot.conf" "$port" "$WORK/dc/stderr" || { fail "dovecot starts"; finish; exit 1; }
ok "dovecot serves IMAPS on port $port"

# put NAME: a mail into the seller's INBOX, as delivery would.
put() {
	local f
	f=$(mktemp "$H/Maildir/tmp/XXXXXXXX")
	cat > "$f"
	mv "$f" "$H/Maildir/new/"
	f="$H/Maildir/new/${f##*/}"
	[ "$(id -u)" -eq 0 ] && chown "$MAIL_USER:$MAIL_GROUP" "$f"
	return 0
}
shipped() {
	printf 'From: Amazon.com <shipment-tracking@amazon.com>\r\nTo: seller@shop.example\r\n'
	printf 'Subject: Your Amazon.com order #112-7226196-461546%s has shipped\r\n' "$1"
	printf 'Message-ID: <ship%s@amazon.com>\r\nDate: Tue, 03 Nov 2026 14:05:00 +0000\r\n\r\n' "$1"
	printf 'Shipping Confirmation\r\nOrder #112-7226196-461546%s\r\nShipped with UPS\r\nTracking ID: 1ZFE1KM20353416536\r\n' "$1"
}
junk() {
	printf 'From: someone@unknown.example\r\nTo: seller@shop.example\r\nSubject: hello %s\r\n' "$1"
	printf 'Message-ID: <junk%s@unknown.example>\r\n\r\nnothing to see\r\n' "$1"
}
shipped 9 | put
junk 1 | put

# folder NAME: the Subject lines in that folder of the seller's mailbox.
folder() { python3 - "$port" "$C/testca.pem" "$1" <<'PY'
import imaplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
m = imaplib.IMAP4_SSL("localhost", int(sys.argv[1]), ssl_context=ctx)
m.login("seller", "mailbox-pw")
typ, _ = m.select(sys.argv[3], readonly=True)
if typ == "OK":
    typ, data = m.search(None, "ALL")
    for num in data[0].split():
        typ, d = m.fetch(num, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        print(d[0][1].decode().strip())
m.logout()
PY
}
"$TRACKMAIL" accounts add shop1 --data-dir "$D" > /dev/null
printf 'mailbox-pw\n' > "$WORK/pw"
config() { # config HOST CA_FILE
	cat <<EOT
data_dir: $D
smtp_listen: ""
lmtp_listen: ""
workers: 1
imap:
  - name: seller-inbox
    host: $1
    port: $port
    user: seller
    password_file: $WORK/pw
    folder: INBOX
    account: shop1
    ca_file: $2
    poll_seconds: 2
EOT
}
config localhost "$C/testca.pem" > "$WORK/good.yaml"
"$TRACKMAIL" imap-poll --once --config "$WORK/good.yaml" 2> "$WORK/once.err"
rc=$?
check "imap-poll --once succeeds (rc=$rc)" test "$rc" -eq 0
check "both mails are in the spool" test "$(ls "$D/spool/new" | wc -l)" -eq 2
folder INBOX > "$WORK/inbox.out"
folder Processed > "$WORK/processed.out"
check "the INBOX is empty" test ! -s "$WORK/inbox.out"
check "both were moved to Processed" test "$(grep -c Subject "$WORK/processed.out")" -eq 2
check "UIDVALIDITY and the last UID are stored" \
	test "$(sql "$D/trackmail.db" "SELECT last_uid > 0 AND uidvalidity > 0 FROM imap_mailboxes WHERE name='seller-inbox'")" = 1
"$TRACKMAIL" imap-poll --once --config "$WORK/good.yaml" 2> /dev/null
check "a second pass spools nothing again" test "$(ls "$D/spool/new" | wc -l)" -eq 2

# serve: workers decide, the poller copies the quarantined mail and
# takes new mail while it waits in IDLE.
"$TRACKMAIL" serve --config "$WORK/good.yaml" --parsers "$PARSERS" 2> "$WORK/serve.err" &
serve_pid=$!
DOVECOT_PIDS+=("$serve_pid")
for _ in $(seq 60); do
	folder Quarantine > "$WORK/quarantine.out" 2> /dev/null
	grep -q "hello 1" "$WORK/quarantine.out" && break
	sleep 0.5
done
check "the quarantined mail is copied to Quarantine" grep -q "Subject: hello 1" "$WORK/quarantine.out"
check "and only that one" test "$(grep -c Subject "$WORK/quarantine.out")" -eq 1
check "both are decided, from imap, for shop1" \
	test "$(sql "$D/trackmail.db" "SELECT count(*) FROM messages m JOIN accounts a ON a.id=m.account_id WHERE a.name='shop1' AND m.intake='imap'")" = 2
check "the IDLE poller is connected" grep -q "event=imap-connected mailbox=seller-inbox idle=yes" "$WORK/serve.err"
shipped 8 | put
for _ in $(seq 40); do
	folder Processed > "$WORK/processed2.out" 2> /dev/null
	grep -q "4615468" "$WORK/processed2.out" && break
	sleep 0.5
done
check "mail arriving during IDLE is taken and moved to Processed" grep -q 4615468 "$WORK/processed2.out"
for _ in $(seq 40); do
	[ "$(sql "$D/trackmail.db" "SELECT count(*) FROM messages WHERE intake='imap'")" = 3 ] && break
	sleep 0.5
done
check "and decided" test "$(sql "$D/trackmail.db" "SELECT outcome FROM messages WHERE orig_subject LIKE '%4615468%'")" = shipped
kill -TERM "$serve_pid"
wait "$serve_pid"
rc=$?
check "serve stops on SIGTERM with 0 (rc=$rc)" test "$rc" -eq 0
check "no password in the log" bash -c "! grep -q mailbox-pw '$WORK/serve.err' '$WORK/once.err'"

# Refused certificates: nothing logged in, nothing spooled.
junk 2 | put
logins=$(grep -c "Login: user=<seller>" "$WORK/dc/dovecot.log")
config 127.0.0.1 "$C/testca.pem" > "$WORK/wronghost.yaml"
"$TRACKMAIL" imap-poll --once --config "$WORK/wronghost.yaml" 2> "$WORK/wronghost.err"
rc=$?
check "a certificate for another host name is refused (rc=$rc)" test "$rc" -eq 1
check "saying so" grep -q "certificate of 127.0.0.1 refused" "$WORK/wronghost.err"
config localhost "$C/otherca.pem" > "$WORK/otherca.yaml"
"$TRACKMAIL" imap-poll --once --config "$WORK/otherca.yaml" 2> "$WORK/otherca.err"
rc=$?
check "a certificate from an unknown CA is refused (rc=$rc)" test "$rc" -eq 1
check "saying so" grep -q "certificate of localhost refused" "$WORK/otherca.err"
check "neither read the greeting nor logged in" bash -c "! grep -q imap-connected '$WORK/wronghost.err' '$WORK/otherca.err' && [ \$(grep -c 'Login: user=<seller>' '$WORK/dc/dovecot.log') = $logins ]"
check "nor spooled the waiting mail" test "$(sql "$D/trackmail.db" "SELECT count(*) FROM imap_delivered")" = 3
# A server without IDLE and MOVE: the poller polls, and moves with COPY +
# \Deleted + UID EXPUNGE. A second Dovecot on the same mailboxes
# announces only these capabilities after login.
mkdir -p "$WORK/dc2/run" "$WORK/dc2/state"
port2=$(free_port)
sed -e "s|$WORK/dc/|$WORK/dc2/|g" -e "s|port = $port\$|port = $port2|" "$WORK/dc/dovecot.conf" > "$WORK/dc2/dovecot.conf"
printf 'imap_capability = IMAP4rev1 SASL-IR LITERAL+ UIDPLUS\n' >> "$WORK/dc2/dovecot.conf"
dovecot_start "$WORK/dc2/dovecot.conf" "$port2" "$WORK/dc2/stderr" || fail "a second dovecot starts"
config localhost "$C/testca.pem" | sed -e "s/name: seller-inbox/name: seller-plain/" \
	-e "s/port: $port\$/port: $port2/" -e "s/poll_seconds: 2/poll_seconds: 1/" > "$WORK/plain.yaml"
"$TRACKMAIL" imap-poll --config "$WORK/plain.yaml" 2> "$WORK/plain.err" &
poller=$!
DOVECOT_PIDS+=("$poller")
for _ in $(seq 40); do grep -q "imap-connected" "$WORK/plain.err" && break; sleep 0.25; done
check "without IDLE the poller polls" grep -q "event=imap-connected mailbox=seller-plain idle=no" "$WORK/plain.err"
junk 3 | put
for _ in $(seq 40); do
	folder Processed > "$WORK/processed3.out" 2> /dev/null
	grep -q "hello 3" "$WORK/processed3.out" && break
	sleep 0.5
done
folder INBOX > "$WORK/inbox3.out"
check "a polled mail is moved to Processed by COPY + EXPUNGE" grep -q "hello 3" "$WORK/processed3.out"
check "and the INBOX is empty again" test ! -s "$WORK/inbox3.out"
kill -TERM "$poller"
wait "$poller"
rc=$?
check "imap-poll stops on SIGTERM with 0 (rc=$rc)" test "$rc" -eq 0
sleep 0.5
check "the second Dovecot saw an EXPUNGE (no MOVE offered)" grep -q "Logged out .*expunged=[1-9]" "$WORK/dc2/dovecot.log"
if ! [ "$failed" -eq 0 ]; then sed 's/^/# /' "$WORK/dc/dovecot.log" "$WORK"/*.err | tail -60; fi
finish
