# smtp_intake.sh - `trackmail serve` taking mail over SMTP and LMTP (the
# intake process of src/intake/intake_smtp.c): recipients are accounts
# (t-<token>@<domain>, token matched without case; unknown 550 5.1.1,
# another domain 550 5.7.1, disabled 550 5.2.1, a rotated-away token
# accepted in its grace period), a 250 only once the spool has the message,
# the decision in `messages list` with its source, a stale LMTP socket
# replaced, an empty listen value turning SMTP off, SIGTERM exiting 0.
. "$SRC/tests/integration/lib.sh"
D="$WORK/data"
export TRACKMAIL_DOMAIN=ex.test
spid=
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
	for _ in $(seq 100); do
		(exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

addr=$("$TRACKMAIL" accounts add shop --data-dir "$D" | awk '{print $2}')
token=${addr#t-}
token=${token%@*}
upper=$(echo "t-$token" | tr a-z A-Z)@EX.TEST

# a socket file left by a crash: nobody listens on it
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$D/lmtp.sock"
check "a stale socket file is there before start" test -S "$D/lmtp.sock"

PORT=$(free_port)
TRACKMAIL_SMTP_LISTEN=127.0.0.1:$PORT TRACKMAIL_WORKERS=1 \
	"$TRACKMAIL" serve --data-dir "$D" 2>"$WORK/serve.log" &
spid=$!
wait_port "$PORT"
check "serve listens on smtp_listen" [ $? -eq 0 ]

swaks --server 127.0.0.1:$PORT --from supplier@shop.test --to "$upper" \
	--header 'Subject: your order 4711 has shipped' \
	--body 'Tracking number 1Z999AA10123456784' >"$WORK/s1" 2>&1
check "SMTP to the account's address (any case): 250 queued" \
	grep -q '<-  250 2.0.0 Ok: queued as' "$WORK/s1"
swaks --server 127.0.0.1:$PORT --from a@shop.test \
	--to t-aaaaaaaaaaaaaaaaaaaaaaaaaa@ex.test >"$WORK/s2" 2>&1
check "unknown token: 550 5.1.1" grep -q '550 5.1.1' "$WORK/s2"
swaks --server 127.0.0.1:$PORT --from a@shop.test --to "t-$token@other.test" \
	>"$WORK/s3" 2>&1
check "another domain: 550 5.7.1 (never a relay)" grep -q '550 5.7.1' "$WORK/s3"

for _ in $(seq 50); do [ -S "$D/lmtp.sock" ] && break; sleep 0.1; done
swaks --socket "$D/lmtp.sock" --protocol LMTP --from supplier@shop.test \
	--to "$addr" --header 'Subject: lmtp delivery' >"$WORK/l1" 2>&1
check "stale socket replaced, LMTP delivery: 250 for the recipient" \
	grep -q "250 2.0.0 <$addr> queued as" "$WORK/l1"
check "LMTP socket mode 0660 (lmtp_socket_mode)" \
	[ "$(stat -c %a "$D/lmtp.sock")" = 660 ]

for _ in $(seq 100); do
	[ "$("$TRACKMAIL" messages list --json --data-dir "$D" 2>/dev/null | wc -l)" -ge 2 ] && break
	sleep 0.2
done
"$TRACKMAIL" messages list --json --data-dir "$D" >"$WORK/list" 2>&1
sources=$(json_field "$WORK/list" source | sort | tr '\n' ' ')
accounts=$(json_field "$WORK/list" account | sort -u)
check "both messages decided, sources smtp and lmtp, account shop" \
	[ "$sources" = "lmtp smtp " ] && [ "$accounts" = shop ]
check "log lines carry the session id" \
	grep -q 'event=smtp_queued session=s[0-9a-f]* id=' "$WORK/serve.log"

# a disabled account is refused (550 5.2.1) until enabled again; after
# `accounts rotate` the old address keeps working (grace period)
"$TRACKMAIL" accounts disable shop --data-dir "$D" >/dev/null
swaks --server 127.0.0.1:$PORT --from a@shop.test --to "$addr" \
	--header 'Subject: while disabled' >"$WORK/d1" 2>&1
check "disabled account: 550 5.2.1" grep -q '<\*\* *550 5.2.1' "$WORK/d1"
swaks --socket "$D/lmtp.sock" --protocol LMTP --from a@shop.test \
	--to "$addr" --header 'Subject: while disabled' >"$WORK/d2" 2>&1
check "disabled account over LMTP: 550 5.2.1" grep -q '550 5.2.1' "$WORK/d2"
"$TRACKMAIL" accounts enable shop --data-dir "$D" >/dev/null
swaks --server 127.0.0.1:$PORT --from a@shop.test --to "$addr" \
	--header 'Subject: enabled again' >"$WORK/d3" 2>&1
check "enabled again: 250" grep -q '<-  250 2.0.0 Ok: queued as' "$WORK/d3"
new_addr=$("$TRACKMAIL" accounts rotate shop --data-dir "$D" 2>/dev/null | awk '{print $2}')
check "rotate gives a new address" [ -n "$new_addr" ] && [ "$new_addr" != "$addr" ]
swaks --server 127.0.0.1:$PORT --from a@shop.test --to "$addr" \
	--header 'Subject: old address after rotate' >"$WORK/d4" 2>&1
check "old address in its grace period: 250" \
	grep -q '<-  250 2.0.0 Ok: queued as' "$WORK/d4"
swaks --server 127.0.0.1:$PORT --from a@shop.test --to "$new_addr" \
	--header 'Subject: new address after rotate' >"$WORK/d5" 2>&1
check "new address: 250" grep -q '<-  250 2.0.0 Ok: queued as' "$WORK/d5"

kill -TERM "$spid"
wait "$spid"
st=$?
spid=
check "SIGTERM: serve exits 0" [ "$st" -eq 0 ]
check "the LMTP socket is removed on exit" test ! -e "$D/lmtp.sock"

# STARTTLS from tls_cert/tls_key (a self-signed pair made here)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.ex.test \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1
PORT=$(free_port)
printf 'smtp_listen: "127.0.0.1:%s"\nlmtp_listen: ""\nworkers: 1\ntls_cert: %s\ntls_key: %s\nsmtp_hostname: mx.ex.test\n' \
	"$PORT" "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/tls.yaml"
"$TRACKMAIL" serve --config "$WORK/tls.yaml" --data-dir "$D" \
	2>"$WORK/serve3.log" &
spid=$!
wait_port "$PORT"
swaks --server 127.0.0.1:$PORT --from supplier@shop.test --to "$addr" -tls \
	--header 'Subject: over tls' >"$WORK/t1" 2>&1
check "tls_cert set: STARTTLS advertised, TLS started, 250 queued" \
	bash -c "grep -q 'TLS started' '$WORK/t1' && grep -q '250 2.0.0 Ok: queued as' '$WORK/t1' && grep -q '220 mx.ex.test' '$WORK/t1'"
check "no LMTP socket when lmtp_listen is empty" test ! -e "$D/lmtp.sock"
kill -TERM "$spid"
wait "$spid"
spid=

# an empty smtp_listen turns SMTP off (config file), LMTP stays
printf 'smtp_listen: ""\nworkers: 1\n' >"$WORK/off.yaml"
"$TRACKMAIL" serve --config "$WORK/off.yaml" --data-dir "$D" \
	2>"$WORK/serve2.log" &
spid=$!
for _ in $(seq 50); do [ -S "$D/lmtp.sock" ] && break; sleep 0.1; done
check "smtp_listen empty: no SMTP listener, LMTP still up" \
	bash -c "test -S '$D/lmtp.sock' && ! grep -q event=smtp_listen '$WORK/serve2.log'"
kill -TERM "$spid"
wait "$spid"
spid=
finish
