# smtp_protocol.sh - the SMTP/LMTP engine against real clients: swaks
# (plain, pipelined, STARTTLS with a certificate made here by openssl,
# LMTP over a unix socket) and a raw-socket client (smtp_client.py) for
# BDAT, 8-bit data, bare-LF normalization, SMTP smuggling, every bound and
# malformed commands, each with its reply code. The engine runs in
# smtp_harness, which writes accepted messages to a directory.
. "$SRC/tests/integration/lib.sh"
HARNESS=${SMTP_HARNESS:?set SMTP_HARNESS}
CLIENT="python3 $SRC/tests/intake/smtp_client.py"
DOMAIN=ex.test
TO=t-abcdef@$DOMAIN
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$WORK"' EXIT

# start NAME [K=V...]: runs a harness writing to $WORK/NAME/mail, sets PORT
# and HPID; its log is $WORK/NAME/log.
start() {
	local name=$1
	shift
	mkdir -p "$WORK/$name/mail"
	"$HARNESS" "$WORK/$name/mail" "$DOMAIN" "$@" \
		>"$WORK/$name/out" 2>"$WORK/$name/log" &
	HPID=$!
	pids+=("$HPID")
	for _ in $(seq 100); do
		grep -q '^ready' "$WORK/$name/out" 2>/dev/null && break
		sleep 0.05
	done
	PORT=$(sed -n 's/^smtp_port=//p' "$WORK/$name/out")
}
# chat NAME ADDR: runs the client script on stdin, transcript in
# $WORK/NAME.chat; succeeds when every expected code came.
chat() {
	$CLIENT "$2" >"$WORK/$1.chat" 2>&1
}
nmail() { find "$WORK/$1/mail" -name '*.eml' | wc -l; }
onemail() { find "$WORK/$1/mail" -name '*.eml' | head -1; }

start main lmtp="unix:$WORK/lmtp.sock"
MAIN=$PORT

# --- real clients ---
swaks --server 127.0.0.1:$MAIN --from a@sender.test --to $TO \
	--body 'plain body' >"$WORK/swaks1" 2>&1
check "swaks plain SMTP: 250 and the message written" \
	bash -c "grep -q '<-  250 2.0.0 Ok' '$WORK/swaks1' && grep -rq 'plain body' '$WORK/main/mail'"

swaks --server 127.0.0.1:$MAIN --from a@sender.test --to $TO --pipeline \
	--body 'pipelined body' >"$WORK/swaks2" 2>&1
check "swaks pipelined: 250" \
	bash -c "grep -q '250 2.0.0 Ok' '$WORK/swaks2' && grep -rq 'pipelined body' '$WORK/main/mail'"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=harness.test \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1
start tls cert="$WORK/cert.pem" key="$WORK/key.pem"
TLS=$PORT
swaks --server 127.0.0.1:$TLS --from a@sender.test --to $TO -tls \
	--body 'tls body' >"$WORK/swaks3" 2>&1
check "swaks STARTTLS (self-signed): TLS then 250" \
	bash -c "grep -q 'TLS started' '$WORK/swaks3' && grep -q '250 2.0.0 Ok' '$WORK/swaks3' && grep -rq 'tls body' '$WORK/tls/mail'"
swaks --server 127.0.0.1:$MAIN --from a@sender.test --to $TO -tls \
	>"$WORK/swaks4" 2>&1
check "STARTTLS not advertised without a certificate" \
	bash -c "grep -q 'did not advertise STARTTLS' '$WORK/swaks4' && ! grep -q '^ -> MAIL FROM' '$WORK/swaks4'"
chat starttls_pipe $TLS <<'EOF'
S EHLO x
E 250
R b'STARTTLS\r\nRSET\r\n'
E 220
EOF
check "STARTTLS with a pipelined command: the command is discarded" \
	bash -c "grep -q 'event=smtp_starttls_pipelined' '$WORK/tls/log'"

swaks --socket "$WORK/lmtp.sock" --protocol LMTP --from a@sender.test \
	--to "$TO,t-fail@$DOMAIN" --body 'lmtp body' >"$WORK/swaks5" 2>&1
check "LMTP over the unix socket: one reply per recipient (250, 451)" \
	bash -c "grep -q '250 2.0.0 <$TO>' '$WORK/swaks5' && grep -q '451 4.3.0 <t-fail@$DOMAIN>' '$WORK/swaks5'"
chat lmtp_ehlo "unix:$WORK/lmtp.sock" <<'EOF'
S EHLO x
E 500
S LHLO x
E 250
EOF
check "LMTP: EHLO refused 500, LHLO 250" [ $? -eq 0 ]

# --- data handling ---
before=$(nmail main)
chat bdat $MAIN <<EOF
S EHLO x
E 250
S MAIL FROM:<a@sender.test>
E 250
S RCPT TO:<$TO>
E 250
R b'BDAT 15\r\nSubject: bdat\r\n'
E 250
R b'BDAT 13 LAST\r\n\r\nchunk two\r\n'
E 250
S QUIT
E 221
EOF
r=$?
check "BDAT (CHUNKING): two chunks, 250 each, message stored" \
	bash -c "[ $r -eq 0 ] && [ $(nmail main) -eq $((before + 1)) ] && grep -rlq 'chunk two' '$WORK/main/mail'"

start data
chat eightbit $PORT <<EOF
S EHLO x
E 250
S MAIL FROM:<a@sender.test>
E 250
S RCPT TO:<$TO>
E 250
S DATA
E 354
R b'Subject: 8bit\r\n\r\ncaf\xc3\xa9 \xff\r\nbare\nlf\n..dot\r\n.\r\n'
E 250
EOF
r=$?
f=$(onemail data)
check "8-bit without BODY=8BITMIME accepted, bytes kept" \
	bash -c "[ $r -eq 0 ] && grep -q \$'caf\xc3\xa9 \xff' '$f'"
check "bare LF lines stored with CRLF" \
	bash -c "grep -q \$'^bare\r\$' '$f' && grep -q \$'^lf\r\$' '$f'"
check "dot-stuffing undone" bash -c "grep -q \$'^.dot\r\$' '$f'"

# the same kind of data one byte per segment: lines, the dot-stuffing,
# bare LFs and the terminator split across reads change nothing
before=$(nmail data)
chat onebyte $PORT <<EOF
S EHLO x
E 250
S MAIL FROM:<a@sender.test>
E 250
S RCPT TO:<$TO>
E 250
S DATA
E 354
B b'Subject: bytes\r\n\r\nbare\nlf\r\n..dot\r\nx\n.\r\nstill data\r\n.\r\n'
E 550
S NOOP
E 250
S MAIL FROM:<a@sender.test>
E 250
S RCPT TO:<$TO>
E 250
S DATA
E 354
B b'Subject: bytes2\r\n\r\nbare\nlf\r\n..dot\r\n.\r\n'
E 250
EOF
r=$?
f=$(grep -rl 'Subject: bytes2' "$WORK/data/mail")
check "DATA one byte per segment: smuggling still refused, then stored normalized" \
	bash -c "[ $r -eq 0 ] && [ $(nmail data) -eq $((before + 1)) ] && grep -q \$'^bare\r\$' '$f' && grep -q \$'^.dot\r\$' '$f'"

# SMTP smuggling: a dot next to a bare LF or CR never ends the data; the
# message is refused at the real end, the smuggled command never runs.
i=0
for payload in "b'x\\r\\n.\\nMAIL FROM:<evil@x>\\r\\n'" \
	"b'x\\n.\\r\\nMAIL FROM:<evil@x>\\r\\n'" \
	"b'x\\r.\\r\\nMAIL FROM:<evil@x>\\r\\n'" \
	"b'x\\r\\n.\\rMAIL FROM:<evil@x>\\r\\n'"; do
	i=$((i + 1))
	start smuggle$i
	chat smuggle$i $PORT <<EOF
S EHLO x
E 250
S MAIL FROM:<a@sender.test>
E 250
S RCPT TO:<$TO>
E 250
S DATA
E 354
R $payload
R b'more\r\n.\r\n'
E 550
S NOOP
E 250
EOF
	r=$?
	check "smuggling variant $i refused 550 at the real end, nothing stored" \
		bash -c "[ $r -eq 0 ] && [ $(nmail smuggle$i) -eq 0 ] && grep -q '5.5.2' '$WORK/smuggle$i.chat' && grep -q event=smtp_smuggling '$WORK/smuggle$i/log'"
done

chat halfclose $MAIN <<EOF
R b'EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<$TO>\r\nDATA\r\n'
E 250
E 250
E 250
E 354
R b'Subject: half\r\n\r\nclosed\r\n.\r\nQUIT\r\n'
H
E 250
E 221
C
EOF
check "client half-closes after QUIT: the 250 (after the spool) and 221 still come" \
	bash -c "[ $? -eq 0 ] && grep -rlq '^closed' '$WORK/main/mail'"

# --- malformed commands ---
chat malformed $MAIN <<EOF
S MAIL FROM:<a@b>
E 503
S EHLO x
E 250
S FOO
E 500
S LHLO x
E 500
S RCPT TO:<$TO>
E 503
S DATA
E 503
S MAIL FROM:a@b
E 501
S MAIL FROM:<a@b> FOO=1
E 555
S MAIL FROM:<a@b> BODY=8BITMIME SMTPUTF8
E 250
S MAIL FROM:<a@b>
E 503
S QUIT
E 221
C
EOF
r1=$?
chat malformed2 $MAIN <<EOF
S HELO x
E 250
S MAIL FROM:<a@b> BODY=8BITMIME SMTPUTF8
E 250
S DATA
E 554
S RCPT TO:<>
E 501
S RCPT TO:<x@other.test>
E 550
S RCPT TO:<nobody@$DOMAIN>
E 550
S RCPT TO:<$TO> NOTIFY=NEVER
E 555
S DATA x
E 501
S VRFY someone
E 252
S HELP
E 214
S NOOP
E 250
S STARTTLS
E 502
S RSET
E 250
S QUIT
E 221
C
EOF
r2=$?
check "malformed commands: 503 500 501 555 554 550 252 214 502 221" \
	bash -c "[ $r1 -eq 0 ] && [ $r2 -eq 0 ]"
check "another domain 550 5.7.1, unknown local part 550 5.1.1" \
	bash -c "grep -q '550 5.7.1' '$WORK/malformed2.chat' && grep -q '550 5.1.1' '$WORK/malformed2.chat'"
chat badbdat $MAIN <<'EOF'
S EHLO x
E 250
S BDAT x
E 501
C
EOF
check "BDAT without a size: 501 and close (the stream is lost)" [ $? -eq 0 ]
chat bdatseq $MAIN <<'EOF'
S EHLO x
E 250
R b'BDAT 5\r\nhello'
E 503
S NOOP
E 250
EOF
check "BDAT before MAIL: chunk read, 503" [ $? -eq 0 ]

# --- bounds ---
start bounds max_line=600 max_data_line=1000 max_size=2000 max_rcpt=2 \
	max_bad=3
B=$PORT
long=$(head -c 700 /dev/zero | tr '\0' a)
chat line_complete $B <<EOF
S NOOP $long
E 500
C
EOF
check "command line too long (complete): 500 5.5.2 and close" \
	bash -c "[ $? -eq 0 ] && grep -q '500 5.5.2 Line too long' '$WORK/line_complete.chat'"
chat line_partial $B <<EOF
R b'NOOP $long'
E 500
C
EOF
check "command line too long (partial, no LF yet): 500 and close" [ $? -eq 0 ]
chat size_declared $B <<EOF
S EHLO x
E 250
S MAIL FROM:<a@b> SIZE=5000
E 552
EOF
check "SIZE above max_message_size: 552 5.3.4" \
	bash -c "[ $? -eq 0 ] && grep -q 'SIZE 2000' '$WORK/size_declared.chat'"
body=$(head -c 900 /dev/zero | tr '\0' b)
chat size_data $B <<EOF
S EHLO x
E 250
S MAIL FROM:<a@b>
E 250
S RCPT TO:<$TO>
E 250
S DATA
E 354
S $body
S $body
S $body
S .
E 552
S NOOP
E 250
EOF
check "message over max_message_size: 552 after the data, nothing stored" \
	bash -c "[ $? -eq 0 ] && [ $(nmail bounds) -eq 0 ]"
chat data_line $B <<EOF
S EHLO x
E 250
S MAIL FROM:<a@b>
E 250
S RCPT TO:<$TO>
E 250
S DATA
E 354
S $body$body
S .
E 500
EOF
check "DATA line over max_data_line: 500 5.5.2 after the data" [ $? -eq 0 ]
chat rcpts $B <<EOF
S EHLO x
E 250
S MAIL FROM:<a@b>
E 250
S RCPT TO:<t-1@$DOMAIN>
E 250
S RCPT TO:<t-2@$DOMAIN>
E 250
S RCPT TO:<t-3@$DOMAIN>
E 452
S RCPT TO:<t-4@$DOMAIN>
E 452
EOF
check "recipients over max_rcpt: 452 4.5.3, logged once" \
	bash -c "[ $? -eq 0 ] && [ \$(grep -c 'limit=recipients' '$WORK/bounds/log') -eq 1 ]"
chat badcmds $B <<'EOF'
S FOO
E 500
S BAR
E 500
S BAZ
E 500
E 421
C
EOF
check "bad-command limit: 421 4.7.0 and close" [ $? -eq 0 ]

start idle idle=1
chat idle $PORT <<'EOF'
S EHLO x
E 250
W 2
E 421
C
EOF
check "idle timeout: 421 4.4.2 and close" [ $? -eq 0 ]
start total total=2 idle=30
chat total $PORT <<'EOF'
S EHLO x
E 250
W 1.2
S NOOP
E 250
W 1.5
E 421
C
EOF
check "session time limit: 421 4.4.2 even when active" [ $? -eq 0 ]

start sessions max_sessions=2 max_per_client=0
S=$PORT
exec 5<>/dev/tcp/127.0.0.1/$S 6<>/dev/tcp/127.0.0.1/$S
sleep 0.3
chat sessions $S <<'EOF'
EOF
grep -q 'MISMATCH want 220 got 421' "$WORK/sessions.chat"
check "sessions limit: 421 4.7.0 to the session over max" [ $? -eq 0 ]
exec 5>&- 6>&-
start perclient max_per_client=1
exec 5<>/dev/tcp/127.0.0.1/$PORT
sleep 0.3
chat perclient $PORT <<'EOF'
EOF
check "per-client limit: 421 4.7.0" \
	bash -c "grep -q 'got 421' '$WORK/perclient.chat' && grep -q limit=sessions_per_client '$WORK/perclient/log'"
exec 5>&-

# bounded pipelining: 50,000 NOOPs sent without reading replies. The
# engine stops reading while its unread replies pass max_output, so it
# holds a bounded amount; it then answers every one in order.
start pipe
chat pipelining $PORT <<'EOF'
N 50000
S QUIT
E 221
EOF
r=$?
rss=$(awk '/VmHWM/ {print $2}' /proc/$HPID/status)
check "bounded pipelining: 50000 NOOPs answered, peak RSS ${rss} kB < 32 MB" \
	bash -c "[ $r -eq 0 ] && [ ${rss:-999999} -lt 32768 ]"

# SIGTERM: listeners closed, 421 to idle sessions, exit 0
start term
exec 5<>/dev/tcp/127.0.0.1/$PORT
sleep 0.2
kill -TERM $HPID
wait $HPID
st=$?
reply=$(timeout 2 cat <&5 | tr -d '\r' | tail -1)
exec 5>&-
check "SIGTERM: idle session gets 421 4.3.2, harness exits 0" \
	bash -c "[ $st -eq 0 ] && [ '${reply:0:3}' = 421 ]"

finish
