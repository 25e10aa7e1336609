#!/usr/bin/env bash
# The imap: list of the config file: a valid list loads; every mistake is
# an error naming the file and line; imap-poll without mailboxes is a
# usage error.
. "$(dirname "$0")/lib.sh"

cat > "$WORK/ok.yaml" <<EOT
data_dir: $WORK/data
imap:
  - name: a
    host: imap.example.com
    user: u
    password_file: /nonexistent
    account: shop1
  - name: b
    host: imap.example.com
    port: 1993
    user: u
    oauth2_token_command: echo token
    account: shop1
    poll_seconds: 30
EOT
"$TRACKMAIL" config check "$WORK/ok.yaml" > /dev/null 2> "$WORK/ok.err"
check "a valid imap: list is accepted (rc=$?)" test ! -s "$WORK/ok.err"
bad() { # bad NAME EXPECTED_TEXT YAML
	printf 'imap:\n%s\n' "$3" > "$WORK/bad.yaml"
	"$TRACKMAIL" config check "$WORK/bad.yaml" > /dev/null 2> "$WORK/bad.err"
	local rc=$?
	check "$1 is an error (rc=$rc)" bash -c "[ $rc -ne 0 ] && grep -q '$WORK/bad.yaml:[0-9]*: .*$2' '$WORK/bad.err'"
}
bad "a missing host" "needs host" "  - {name: a, user: u, account: s, password_file: /p}"
bad "neither password_file nor a token command" "password_file or oauth2_token_command" "  - {name: a, host: h, user: u, account: s}"
bad "both secrets" "password_file or oauth2_token_command" "  - {name: a, host: h, user: u, account: s, password_file: /p, oauth2_token_command: x}"
bad "an unknown key" "unknown key .pasword_file." "  - {name: a, host: h, user: u, account: s, pasword_file: /p}"
bad "a port out of range" "port must be a whole number from 1 to 65535" "  - {name: a, host: h, port: 0, user: u, account: s, password_file: /p}"
bad "two mailboxes of one name" "two imap mailboxes named a" "  - {name: a, host: h, user: u, account: s, password_file: /p}
  - {name: a, host: h, user: u, account: s, password_file: /p}"
bad "a mapping instead of a list" "imap is a list" "  name: a"
printf 'data_dir: %s/data\n' "$WORK" > "$WORK/none.yaml"
"$TRACKMAIL" imap-poll --once --config "$WORK/none.yaml" 2> "$WORK/none.err"
rc=$?
check "imap-poll without mailboxes is a usage error (rc=$rc)" test "$rc" -eq 2
printf 'data_dir: %s/data\nimap:\n  - {name: a, host: 127.0.0.1, port: 1, user: u, account: nosuch, password_file: /p}\n' "$WORK" > "$WORK/noacct.yaml"
"$TRACKMAIL" imap-poll --once --config "$WORK/noacct.yaml" 2> "$WORK/noacct.err"
rc=$?
check "a mailbox of an unknown account fails and says so (rc=$rc)" \
	bash -c "[ $rc -eq 1 ] && grep -q 'account=nosuch error=\"no such account' '$WORK/noacct.err'"
finish
