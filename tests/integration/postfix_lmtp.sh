#!/bin/bash
# postfix_lmtp.sh - a real Postfix, started from a private config
# directory with deploy/postfix-main.cf.snippet (domain and socket adapted
# to the test), relays mail for the trackmail domain to `trackmail serve`'s
# LMTP socket in its queue directory: the message is decided with source
# lmtp in the right account; an unknown token is refused by trackmail per
# recipient and bounced by Postfix, nothing stored. Needs root (Postfix's
# master drops to the postfix user).
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ] || ! command -v postfix >/dev/null || ! command -v swaks >/dev/null; then
	echo "1..0 # SKIP needs root, postfix and swaks"
	exit 0
fi
D="$WORK/data"
PF="$WORK/pf"
Q="$WORK/pfq"
mkdir -p "$PF" "$Q" "$WORK/pfdata"
chmod 755 "$WORK"
chown postfix "$WORK/pfdata"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
spid=
cleanup() {
	postfix -c "$PF" stop >/dev/null 2>&1
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

sed -e "s|@QUEUE@|$Q|" -e "s|@DATA@|$WORK/pfdata|" -e "s|@LOG@|$WORK/postfix.log|" \
	-e "s|@LOGDIR@|$WORK|" "$SRC/tests/integration/postfix_main.cf" >"$PF/main.cf"
cat >>"$PF/main.cf" <<CF
myhostname = pf.test
mydomain = pf.test
myorigin = pf.test
# nothing leaves the machine (bounce notices included): no DNS
default_transport = error:no outbound mail in this test
syslog_name = postfix-trackmail-test
CF
# the deploy snippet, with the test's domain
sed 's/track\.example\.com/ex.test/g' "$SRC/deploy/postfix-main.cf.snippet" >>"$PF/main.cf"
sed "s/@PORT@/$PORT/" "$SRC/tests/integration/postfix_master.cf" >"$PF/master.cf"
check "the snippet's transport is in the config" sh -c "postconf -c '$PF' -h transport_maps | grep -q 'lmtp:unix:private/trackmail-lmtp'"
postfix -c "$PF" start >"$WORK/pfstart" 2>&1
check "postfix starts from the private config directory" test $? -eq 0

addr=$("$TRACKMAIL" accounts add shop --data-dir "$D" --domain ex.test | awk '{print $2}')
TRACKMAIL_DOMAIN=ex.test TRACKMAIL_SMTP_LISTEN=127.0.0.1:$(free_port) \
TRACKMAIL_LMTP_LISTEN="unix:$Q/private/trackmail-lmtp" \
TRACKMAIL_LMTP_SOCKET_GROUP=postfix TRACKMAIL_LMTP_SOCKET_MODE=0660 \
	"$TRACKMAIL" serve --data-dir "$D" --workers 1 2>"$WORK/serve.log" &
spid=$!
for _ in $(seq 100); do [ -S "$Q/private/trackmail-lmtp" ] && break; sleep 0.1; done
check "trackmail's LMTP socket is in Postfix's queue directory" test -S "$Q/private/trackmail-lmtp"
check "the socket is group postfix" test "$(stat -c %G "$Q/private/trackmail-lmtp")" = postfix

swaks --server "127.0.0.1:$PORT" --from orders@tinyshop.example --to "$addr" \
	--header 'Subject: Your order is on its way' \
	--header 'Message-Id: <pf-1@tinyshop.example>' \
	--body 'Your order SO-55512 ships with UPS, tracking number 1ZVYD40K1265428707' \
	>"$WORK/s1" 2>&1
check "Postfix takes the mail (250)" grep -q '<-  250 2.0.0 Ok: queued' "$WORK/s1"
swaks --server "127.0.0.1:$PORT" --from orders@tinyshop.example \
	--to t-aaaaaaaaaaaaaaaaaaaaaaaaaa@ex.test >"$WORK/s2" 2>&1
stored=
for _ in $(seq 300); do
	"$TRACKMAIL" messages list --json --data-dir "$D" >"$WORK/list" 2>/dev/null
	[ -s "$WORK/list" ] && grep -q 'status=bounced' "$WORK/postfix.log" 2>/dev/null && { stored=1; break; }
	sleep 0.1
done
check "the mail reaches trackmail over LMTP and is decided" test -n "$stored"
check "source lmtp, account shop, its Message-ID" python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 1, rows
o = rows[0]
assert o["source"] == "lmtp" and o["account"] == "shop", o
assert o["message_id"] == "pf-1@tinyshop.example", o' "$WORK/list"
check "Postfix logs the LMTP delivery to trackmail as sent" \
	grep -q 'relay=.*trackmail-lmtp.*status=sent' "$WORK/postfix.log"
check "the unknown token: trackmail's 550 5.1.1, bounced by Postfix" \
	grep -q 'status=bounced.*550 5.1.1' "$WORK/postfix.log"
if [ "$failed" -ne 0 ]; then
	sed 's/^/# pf: /' "$WORK/postfix.log" "$WORK/pfstart" 2>/dev/null | tail -40
	sed 's/^/# serve: /' "$WORK/serve.log" | tail -20
fi
finish
