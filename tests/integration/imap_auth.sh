#!/usr/bin/env bash
# XOAUTH2 against a real Dovecot over TLS (a private CA made here) whose
# oauth2 passdb asks a token introspection server on loopback (a small
# python3 http.server started here): with the token the
# oauth2_token_command prints, `imap-poll --once` logs in and spools the
# waiting mail; a token the server calls inactive is refused with an
# event=imap-error naming the refused XOAUTH2 login, nothing spooled; a
# token command that prints nothing or fails is a clear error; no token
# ever appears in a log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dovecot_lib.sh"

imaps_test_setup

# The tokens: random, so a leak into a log cannot be a coincidence.
good_token="tm-good-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
bad_token="tm-bad-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$good_token" > "$WORK/good.token"
printf '%s\n' "$bad_token" > "$WORK/bad.token"

# The introspection endpoint (RFC 7662 style, POST token=...): active for
# the good token, for user seller; inactive for anything else. It logs
# only "good" or "bad" per request, never the token.
iport=$(free_port)
cat > "$WORK/introspect.py" <<'PY'
import http.server, json, sys, urllib.parse
good, log = open(sys.argv[2]).read().strip(), open(sys.argv[3], "a")
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        ok = form.get("token", [""])[0] == good
        log.write(("good" if ok else "bad") + "\n")
        log.flush()
        body = json.dumps({"active": True, "username": "seller"} if ok
                          else {"active": False}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$WORK/introspect.py" "$iport" "$WORK/good.token" "$WORK/introspect.log" \
	2> "$WORK/introspect.err" &
DOVECOT_PIDS+=("$!")
for _ in $(seq 50); do
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()' "$iport" 2> /dev/null && break
	sleep 0.1
done
check "the introspection server listens on port $iport" \
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()' "$iport"

# The seller's mailbox on a Dovecot whose only login is XOAUTH2.
H="$WORK/home/seller"
mkdir -p "$H/Maildir/new" "$H/Maildir/cur" "$H/Maildir/tmp"
[ "$(id -u)" -eq 0 ] && chown -R "$MAIL_USER:$MAIL_GROUP" "$WORK/home"
chmod 755 "$WORK/home"
printf 'seller:::::%s::\n' "$H" > "$WORK/users"
chmod 644 "$WORK/users"
cat > "$WORK/dc/dovecot-oauth2.conf.ext" <<EOT
introspection_mode = post
introspection_url = http://127.0.0.1:$iport/introspect
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
EOT
chmod 644 "$WORK/dc/dovecot-oauth2.conf.ext"
port=$(free_port)
{ cat <<EOT
protocols = imap
mail_location = maildir:~/Maildir
auth_mechanisms = xoauth2
passdb {
  driver = oauth2
  mechanisms = xoauth2
  args = $WORK/dc/dovecot-oauth2.conf.ext
}
userdb {
  driver = passwd-file
  args = username_format=%u $WORK/users
}
EOT
  dovecot_test_settings "$WORK/dc" 0
  dovecot_imaps_settings "$C" "$port"
} > "$WORK/dc/dovecot.conf"
doveconf -n -c "$WORK/dc/dovecot.conf" > "$WORK/doveconf.out" 2>&1
rc=$?
check "doveconf accepts the oauth2 passdb config (rc=$rc)" \
	bash -c "[ $rc -eq 0 ] && grep -q 'driver = oauth2' '$WORK/doveconf.out'"
dovecot_start "$WORK/dc/dovecot.conf" "$port" "$WORK/dc/stderr" || { fail "dovecot starts"; finish; exit 1; }
ok "dovecot serves IMAPS with XOAUTH2 on port $port"

f=$(mktemp "$H/Maildir/tmp/XXXXXXXX")
printf 'From: someone@unknown.example\r\nTo: seller@shop.example\r\nSubject: oauth one\r\nMessage-ID: <oauth1@unknown.example>\r\n\r\nhello\r\n' > "$f"
mv "$f" "$H/Maildir/new/"
[ "$(id -u)" -eq 0 ] && chown -R "$MAIL_USER:$MAIL_GROUP" "$H/Maildir"

"$TRACKMAIL" accounts add shop1 --data-dir "$D" > /dev/null
config() { # config TOKEN_COMMAND
	cat <<EOT
data_dir: $D
smtp_listen: ""
lmtp_listen: ""
workers: 1
imap:
  - name: seller-oauth
    host: localhost
    port: $port
    user: seller
    oauth2_token_command: $1
    folder: INBOX
    account: shop1
    ca_file: $C/testca.pem
    poll_seconds: 2
EOT
}
spooled() { find "$D/spool/new" -type f 2> /dev/null | wc -l; }
# poll NAME TOKEN_COMMAND: one `imap-poll --once` with that token
# command; its stderr in $WORK/NAME.err, its exit status returned.
poll() {
	config "$2" > "$WORK/$1.yaml"
	"$TRACKMAIL" imap-poll --once --config "$WORK/$1.yaml" 2> "$WORK/$1.err"
}
logins() { grep -c "Login: user=<seller>" "$WORK/dc/dovecot.log"; }

# A token the server calls inactive: refused, nothing spooled.
poll bad "cat $WORK/bad.token"
rc=$?
check "a refused token fails imap-poll --once (rc=$rc)" test "$rc" -eq 1
check "event=imap-error names the refused XOAUTH2 login" \
	grep -q "event=imap-error mailbox=seller-oauth error=\"XOAUTH2 login as seller refused by localhost:$port: " "$WORK/bad.err"
check "the server asked the introspection endpoint and was told no" \
	grep -qx bad "$WORK/introspect.log"
check "nothing logged in" test "$(logins)" -eq 0
check "nothing spooled" test "$(spooled)" -eq 0

# A token command that prints nothing, and one that fails.
poll empty "true"
rc=$?
check "a token command that prints nothing fails (rc=$rc)" test "$rc" -eq 1
check "saying it printed no token" \
	grep -q 'event=imap-error mailbox=seller-oauth error="oauth2_token_command .*printed no token' "$WORK/empty.err"
poll fails "exit 3"
rc=$?
check "a token command that exits 3 fails (rc=$rc)" test "$rc" -eq 1
check "saying it exited with status 3" \
	grep -q 'event=imap-error mailbox=seller-oauth error="oauth2_token_command .*exited with status 3' "$WORK/fails.err"
check "neither reached the server" test "$(grep -c . "$WORK/introspect.log")" -eq 1
check "still nothing spooled" test "$(spooled)" -eq 0

# The good token: logged in with XOAUTH2, the mail spooled.
poll good "cat $WORK/good.token"
rc=$?
check "the good token: imap-poll --once succeeds (rc=$rc)" test "$rc" -eq 0
check "logged in" grep -q "event=imap-connected mailbox=seller-oauth" "$WORK/good.err"
check "the mail is spooled" test "$(spooled)" -eq 1
check "Dovecot saw an XOAUTH2 login of seller" \
	grep -q "Login: user=<seller>, method=XOAUTH2" "$WORK/dc/dovecot.log"
check "stored for shop1 from imap" \
	test "$(sql "$D/trackmail.db" "SELECT count(*) FROM imap_delivered")" = 1

sleep 0.3 # Dovecot's log lines of the last session
check "no token in any log (trackmail's, Dovecot's)" bash -c "
	! grep -q -e '$good_token' -e '$bad_token' '$WORK'/*.err '$WORK/dc/dovecot.log' '$WORK/dc/stderr'"
if ! [ "$failed" -eq 0 ]; then sed 's/^/# /' "$WORK/dc/dovecot.log" "$WORK"/*.err | tail -60; fi
finish
