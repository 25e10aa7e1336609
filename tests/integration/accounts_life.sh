#!/usr/bin/env bash
# Accounts over their life: rotate (the old address keeps working for the
# grace period), disable/enable, passwd (a SHA512-CRYPT hash in the Dovecot
# passwd-file trackmail writes, checked by Dovecot's own doveadm), delete
# (rows and quarantine files), and backup while mail is being stored.
. "$(dirname "$0")/lib.sh"

D="$WORK/data"
DB="$D/trackmail.db"
FIX="$SRC/fixtures/emails"
addr=$("$TRACKMAIL" accounts add shop1 --data-dir "$D" --domain in.example | awk '{print $2}')
to() { sed -e "1,/^\r\$/s/^To: .*/To: $1\r/" "$2"; }

new=$("$TRACKMAIL" accounts rotate shop1 --data-dir "$D" --domain in.example 2> "$WORK/rot.err" | awk '{print $2}')
check "rotate prints a new address ($new)" bash -c "[ '$new' != '$addr' ] && echo '$new' | grep -Eqx 't-[a-z2-7]{26}@in\.example'"
check "and says how long the old one works" grep -q "14 days" "$WORK/rot.err"
to "$addr" "$FIX/amazon/shipped_ups_gmail.eml" > "$WORK/old.eml"
"$TRACKMAIL" ingest --json --data-dir "$D" "$WORK/old.eml" > "$WORK/old.json"
check "mail to the old address still reaches shop1 in the grace period" \
	test "$(json_field "$WORK/old.json" account)" = shop1
to "$new" "$FIX/walmart/shipped_fedex_gmail.eml" > "$WORK/new.eml"
"$TRACKMAIL" ingest --json --data-dir "$D" "$WORK/new.eml" > "$WORK/new.json"
check "mail to the new address reaches shop1" test "$(json_field "$WORK/new.json" account)" = shop1
TRACKMAIL_TOKEN_GRACE_DAYS=0 "$TRACKMAIL" accounts rotate shop1 --data-dir "$D" > /dev/null 2>&1
to "$new" "$FIX/walmart/cancelled_gmail.eml" > "$WORK/stale.eml"
"$TRACKMAIL" ingest --json --data-dir "$D" "$WORK/stale.eml" > "$WORK/stale.json"
check "with token_grace_days 0 a replaced address stops naming shop1" \
	test "$(json_field "$WORK/stale.json" account)" = default

printf 's3cret pass\n' | "$TRACKMAIL" accounts passwd shop1 --data-dir "$D"
rc=$?
P="$D/dovecot-passwd"
check "accounts passwd reads one line from a pipe (rc=$rc)" test "$rc" -eq 0
check "dovecot-passwd is mode 0640" test "$(stat -c %a "$P")" = 640
line=$(grep '^shop1:' "$P")
id=$(sql "$DB" "SELECT id FROM accounts WHERE name='shop1'")
check "its line is a SHA512-CRYPT hash and the account's quarantine Maildir" \
	bash -c "echo '$line' | grep -Eq '^shop1:\{SHA512-CRYPT\}\\\$6\\\$[^:]+::::/[^:]*/quarantine/$id::userdb_mail=maildir:/.*/quarantine/$id\$'"
hash=$(echo "$line" | cut -d: -f2)
if command -v doveadm > /dev/null; then
	check "doveadm accepts the password against the hash (newline stripped)" \
		bash -c "doveadm pw -t '$hash' -p 's3cret pass' > /dev/null"
	check "doveadm rejects another password" bash -c "! doveadm pw -t '$hash' -p 's3cret pass
' 2>/dev/null"
fi
printf '\n' | "$TRACKMAIL" accounts passwd shop1 --data-dir "$D" 2> /dev/null
rc=$?
check "an empty password is refused (rc=$rc)" test "$rc" -eq 2
check "and the hash is unchanged" grep -qF "$hash" "$P"

"$TRACKMAIL" accounts disable shop1 --data-dir "$D"
check "disable marks the account" test "$(sql "$DB" "SELECT disabled FROM accounts WHERE name='shop1'")" = 1
check "a disabled account has no IMAP login" bash -c "! grep -q '^shop1:' '$P'"
"$TRACKMAIL" accounts enable shop1 --data-dir "$D"
check "enable restores the login" grep -q '^shop1:' "$P"
"$TRACKMAIL" accounts disable nosuch --data-dir "$D" 2> "$WORK/err"
rc=$?
check "an unknown account is a usage error (rc=$rc)" test "$rc" -eq 2
check "that names it" grep -q "no account named nosuch" "$WORK/err"

# Backup while another process stores mail.
( for f in "$FIX"/walmart/*.eml "$FIX"/amazon/*.eml; do
	"$TRACKMAIL" ingest --data-dir "$D" --account shop1 "$f" > /dev/null 2>&1
done ) &
ingester=$!
sleep 0.3
"$TRACKMAIL" backup "$WORK/copy.db" --data-dir "$D"
rc=$?
wait "$ingester"
check "backup succeeds while mail is being stored (rc=$rc)" test "$rc" -eq 0
check "the copy passes integrity_check" test "$(sql "$WORK/copy.db" 'PRAGMA integrity_check')" = ok
check "the copy holds the accounts" test "$(sql "$WORK/copy.db" "SELECT count(*) FROM accounts WHERE name='shop1'")" = 1
"$TRACKMAIL" backup "$WORK/copy.db" --data-dir "$D" 2> "$WORK/err"
rc=$?
check "a backup never overwrites a file (rc=$rc)" test "$rc" -eq 1
check "and says so" grep -q "exists" "$WORK/err"

# Delete: a quarantined mail gives shop1 a quarantine folder.
"$TRACKMAIL" accounts add shop2 --data-dir "$D" > /dev/null
printf 'From: a@b.example\r\nTo: x@y\r\nSubject: nothing\r\n\r\nhello\r\n' > "$WORK/junk.eml"
"$TRACKMAIL" ingest --data-dir "$D" --account shop1 "$WORK/junk.eml" > /dev/null
"$TRACKMAIL" ingest --data-dir "$D" --account shop2 "$WORK/junk.eml" > /dev/null
check "shop1 has a quarantine folder" test -d "$D/quarantine/$id"
"$TRACKMAIL" accounts delete shop1 --data-dir "$D" 2> /dev/null
rc=$?
check "delete without --yes is refused (rc=$rc)" test "$rc" -eq 2
check "and changes nothing" test "$(sql "$DB" "SELECT count(*) FROM accounts WHERE name='shop1'")" = 1
"$TRACKMAIL" accounts delete shop1 --yes --data-dir "$D" 2> /dev/null
rc=$?
check "delete --yes succeeds (rc=$rc)" test "$rc" -eq 0
check "no row refers to shop1 any more" test "$(sql "$DB" "SELECT (SELECT count(*) FROM accounts WHERE id=$id) + (SELECT count(*) FROM messages WHERE account_id=$id) + (SELECT count(*) FROM quarantine WHERE account_id=$id) + (SELECT count(*) FROM events WHERE account_id=$id)")" = 0
check "its quarantine folder is gone" test ! -e "$D/quarantine/$id"
check "shop2's mail is untouched" test "$(sql "$DB" "SELECT count(*) FROM messages m JOIN accounts a ON a.id=m.account_id WHERE a.name='shop2'")" = 1
check "the passwd-file no longer lists shop1" bash -c "! grep -q '^shop1:' '$P'"
finish
