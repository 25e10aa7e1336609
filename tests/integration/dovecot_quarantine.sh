#!/usr/bin/env bash
# The quarantine folders over IMAP: a real Dovecot, started from
# deploy/dovecot-trackmail.conf (paths replaced, test settings appended),
# authenticates accounts against the passwd-file trackmail writes; each
# account sees its own quarantined mail in its INBOX and not another's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dovecot_lib.sh"

if ! command -v dovecot > /dev/null; then
	echo "1..0 # SKIP dovecot is not installed (scripts/install-deps.sh)"
	exit 0
fi
D="$WORK/data"
mkdir -p "$WORK/dc/run" "$WORK/dc/state"
dovecot_mail_dir "$D"
tm() { "${AS_MAIL_USER[@]}" "$TRACKMAIL" "$@"; }
tm accounts add alice --data-dir "$D" > /dev/null
tm accounts add bob --data-dir "$D" > /dev/null
printf 'alice-pw\n' | tm accounts passwd alice --data-dir "$D"
printf 'bob-pw\n' | tm accounts passwd bob --data-dir "$D"
printf 'From: a@unknown.example\r\nTo: x@y\r\nSubject: for alice only\r\nMessage-ID: <a1@t>\r\n\r\nhello\r\n' > "$WORK/a.eml"
printf 'From: b@unknown.example\r\nTo: x@y\r\nSubject: for bob only\r\nMessage-ID: <b1@t>\r\n\r\nhello\r\n' > "$WORK/b.eml"
tm ingest --json --data-dir "$D" --account alice "$WORK/a.eml" > "$WORK/a.json"
tm ingest --json --data-dir "$D" --account bob "$WORK/b.eml" > "$WORK/b.json"
check "both mails are quarantined" test "$(json_field "$WORK/a.json" outcome)$(json_field "$WORK/b.json" outcome)" = quarantinedquarantined

port=$(free_port)
absd=$(cd "$D" && pwd)
{ dovecot_conf_paths "$absd" < "$SRC/deploy/dovecot-trackmail.conf"
  dovecot_test_settings "$WORK/dc" "$port"; } > "$WORK/dc/dovecot.conf"
dovecot_start "$WORK/dc/dovecot.conf" "$port" "$WORK/dc/stderr" || { fail "dovecot starts"; finish; exit 1; }
ok "dovecot starts from deploy/dovecot-trackmail.conf on port $port"

imap() { python3 - "$port" "$@" <<'PY'
import imaplib, sys
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
m = imaplib.IMAP4("127.0.0.1", port)
try:
    m.login(user, pw)
except imaplib.IMAP4.error as e:
    print("LOGIN-FAILED", e)
    sys.exit(0)
typ, data = m.select("INBOX", readonly=True)
typ, data = m.search(None, "ALL")
for num in data[0].split():
    typ, d = m.fetch(num, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    print(d[0][1].decode().strip())
m.logout()
PY
}
imap alice alice-pw > "$WORK/alice.out" 2>&1
imap bob bob-pw > "$WORK/bob.out" 2>&1
imap alice bob-pw > "$WORK/wrong.out" 2>&1
check "alice sees her quarantined mail over IMAP" grep -q "Subject: for alice only" "$WORK/alice.out"
check "and not bob's" bash -c "! grep -q 'for bob' '$WORK/alice.out'"
check "bob sees his and not alice's" bash -c "grep -q 'Subject: for bob only' '$WORK/bob.out' && ! grep -q 'for alice' '$WORK/bob.out'"
check "a wrong password is refused" grep -q "LOGIN-FAILED.*AUTHENTICATIONFAILED" "$WORK/wrong.out"
tm accounts disable alice --data-dir "$D"
imap alice alice-pw > "$WORK/disabled.out" 2>&1
check "a disabled account cannot log in" grep -q "LOGIN-FAILED.*AUTHENTICATIONFAILED" "$WORK/disabled.out"
aid=$(sql "$D/trackmail.db" "SELECT id FROM accounts WHERE name='alice'")
check "alice's quarantine folder stays private (0700) after Dovecot used it" \
	test "$(stat -c %a "$D/quarantine/$aid")" = 700
if ! [ "$failed" -eq 0 ]; then sed 's/^/# /' "$WORK/dc/dovecot.log" "$WORK"/*.out; fi
finish
