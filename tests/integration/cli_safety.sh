#!/usr/bin/env bash
# Security and operations (issue 8): private file modes; mail-derived text
# and file names escaped on the terminal; a full disk said as such, naming
# the file, and ingest stopping there with nothing half-stored; a broken
# parser file refusing ingest; directories yielding mail files only; the
# worker's wall-clock limit.
. "$(dirname "$0")/lib.sh"

F="$SRC/fixtures/emails"
good="$F/amazon/shipped_ups_gmail.eml"
mkdir "$WORK/amazononly"
cp "$PARSERS/amazon.yaml" "$WORK/amazononly/"
mode() { stat -c %a "$1"; }

# --- modes ---------------------------------------------------------------
D="$WORK/modes"
"$TRACKMAIL" ingest --data-dir "$D" --parsers "$WORK/amazononly" "$good" "$F/walmart/shipped_fedex_gmail.eml" > /dev/null
check "the data dir is 0700 ($(mode "$D"))" test "$(mode "$D")" = 700
# -wal and -shm go away with the last connection: a process killed right
# after its commit (the test hook) leaves them as it created them.
( TRACKMAIL_TEST_KILL_AFTER_COMMIT=ordered "$TRACKMAIL" ingest --no-isolate --data-dir "$D" \
	"$F/walmart/ordered_outlook.eml" > /dev/null 2>&1 ) 2> /dev/null
for f in trackmail.db trackmail.db-wal trackmail.db-shm; do
	if [ -e "$D/$f" ]; then
		check "$f is 0600 ($(mode "$D/$f"))" test "$(mode "$D/$f")" = 600
	else
		fail "$f exists"
	fi
done
qf=$(ls "$D"/quarantine/*/new/* | head -1)
check "the quarantine copy is 0600 ($(mode "$qf"))" test "$(mode "$qf")" = 600
check "the quarantine folders are 0700" \
	test "$(stat -c %a "$D/quarantine" "$D"/quarantine/*/new | sort -u)" = 700
# A data dir made by an older version (or a person) with 0755 and 0644.
D="$WORK/oldmodes"
"$TRACKMAIL" accounts add s --data-dir "$D" > /dev/null
chmod 755 "$D"
chmod 644 "$D"/trackmail.db*
"$TRACKMAIL" accounts list --data-dir "$D" > /dev/null
check "an existing 0755 data dir becomes 0700" test "$(mode "$D")" = 700
check "an existing 0644 database becomes 0600" test "$(mode "$D/trackmail.db")" = 600

# --- terminal escapes ------------------------------------------------------
# U+009B (CSI) and U+202E (right-to-left override) in an encoded Subject.
subj=$(printf 'Order \xc2\x9b31mRED \xe2\x80\xaeevil' | base64 -w0)
printf 'From: Shop <shop@unknown.example>\r\nTo: me@x.example\r\nSubject: =?UTF-8?B?%s?=\r\nMessage-ID: <esc1@x>\r\nContent-Type: text/plain\r\n\r\nTracking number: 1Z999AA10123456784\r\n' "$subj" > "$WORK/esc.eml"
D="$WORK/esc"
"$TRACKMAIL" ingest --data-dir "$D" --parsers "$WORK/amazononly" "$WORK/esc.eml" > /dev/null
"$TRACKMAIL" quarantine list --data-dir "$D" > "$WORK/qlist.txt"
"$TRACKMAIL" quarantine show 1 --data-dir "$D" > "$WORK/qshow.txt"
"$TRACKMAIL" quarantine show 1 --json --data-dir "$D" > "$WORK/qshow.json"
for f in qlist.txt qshow.txt qshow.json; do
	check "$f has an entry" grep -q 'Order' "$WORK/$f"
	check "$f carries no raw C1 control or bidi override" \
		bash -c "! LC_ALL=C grep -q \$'\\xc2\\x9b\\|\\xe2\\x80\\xae' '$WORK/$f'"
	check "$f shows them escaped" grep -qi '\\u009b31mRED \\u202eevil' "$WORK/$f"
done
# parse --json on a terminal prints ASCII-only JSON (the same value).
if command -v script > /dev/null; then
	script -qc "'$TRACKMAIL' parse --json --parsers '$WORK/amazononly' '$WORK/esc.eml'" /dev/null > "$WORK/tty.json" < /dev/null
	check "parse --json on a terminal escapes C1 and bidi controls" grep -qi '\\u009b31mRED \\u202eevil' "$WORK/tty.json"
	check "and prints none raw" bash -c "! LC_ALL=C grep -q \$'\\xc2\\x9b\\|\\xe2\\x80\\xae' '$WORK/tty.json'"
else
	echo "# SKIP: script (bsdutils) not installed: the terminal JSON check did not run"
	fail "script missing"
fi
"$TRACKMAIL" parse --json --parsers "$WORK/amazononly" "$WORK/esc.eml" > "$WORK/pipe.json"
check "to a file the JSON line keeps its UTF-8 (the contract)" \
	bash -c "LC_ALL=C grep -q \$'\\xe2\\x80\\xae' '$WORK/pipe.json'"
cp "$good" "$WORK/$(printf 'evil\033[31m.eml')"
"$TRACKMAIL" parse "$WORK/$(printf 'evil\033[31m.eml')" > "$WORK/name.txt"
check "parse prints a file name's ESC escaped" grep -q 'evil\\x1b\[31m.eml' "$WORK/name.txt"
check "and never raw" bash -c "! grep -q \$'\\033' '$WORK/name.txt'"

# --- disk full -------------------------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
	echo "# SKIP: not root: cannot mount a small tmpfs for the disk-full check"
	ok "disk full # SKIP not root"
else
	M="$WORK/small"
	mkdir "$M"
	if mount -t tmpfs -o size=4m tmpfs "$M" 2> "$WORK/mount.err"; then
		trap 'umount "$M" 2>/dev/null; rm -rf "$WORK"' EXIT
		D="$M/data"
		"$TRACKMAIL" ingest --data-dir "$D" "$F/walmart/ordered_outlook.eml" > /dev/null
		# Full but for a little room: the store opens, then runs out
		# while it stores the directory's mail.
		dd if=/dev/zero of="$M/fill" bs=4k 2> /dev/null
		truncate -s -64k "$M/fill"
		"$TRACKMAIL" ingest --data-dir "$D" "$F/amazon" > "$WORK/full.out" 2> "$WORK/full.err"
		rc=$?
		sed 's/^/# /' "$WORK/full.err" | head -5
		check "ingest on a full disk exits 1 (rc=$rc)" test "$rc" -eq 1
		check "it says disk full and names the file" grep -q "disk full: $D/trackmail.db" "$WORK/full.err"
		check "it stops after the first refused write" \
			test "$(grep -c 'not stored' "$WORK/full.err")" -eq 1
		check "and says how many files it left" grep -q "files not processed" "$WORK/full.err"
		rm "$M/fill"
		check "nothing half-stored: every stored message has its decision" \
			test "$(sql "$D/trackmail.db" "SELECT count(*) - count(outcome) FROM messages")" -eq 0
		"$TRACKMAIL" ingest --data-dir "$D" "$F/amazon" > /dev/null 2>&1
		check "once space is back, ingest stores the rest" \
			test "$(sql "$D/trackmail.db" "SELECT count(*) FROM messages")" -eq $(( $(ls "$F"/amazon/*.eml | wc -l) + 1 ))
		# The quarantine file is named when it is the write that fails.
		python3 -c '
import sys
with open(sys.argv[1], "w") as f:
    f.write("From: a@b.example\r\nSubject: big\r\nContent-Type: text/plain\r\n\r\nTracking number: 1Z999AA10123456784\r\n")
    f.write(("x" * 76 + "\r\n") * 4000)
' "$WORK/big.eml"
		dd if=/dev/zero of="$M/fill" bs=4k 2> /dev/null
		truncate -s -64k "$M/fill"
		"$TRACKMAIL" ingest --data-dir "$D" --parsers "$WORK/amazononly" "$WORK/big.eml" > /dev/null 2> "$WORK/full2.err"
		sed 's/^/# /' "$WORK/full2.err" | head -3
		check "a full disk under the quarantine copy names that file" \
			grep -q "disk full: $D/quarantine/[0-9]*/tmp/" "$WORK/full2.err"
		rm -f "$M/fill"
		umount "$M"
	else
		echo "# SKIP: mount -t tmpfs failed: $(cat "$WORK/mount.err")"
		ok "disk full # SKIP no tmpfs"
	fi
fi

# --- a broken parser file --------------------------------------------------
mkdir "$WORK/parsers"
cp "$PARSERS"/*.yaml "$WORK/parsers/"
cat > "$WORK/parsers/broken.yaml" <<'YAML'
id: broken
name: Broken
match:
  domains: [broken.example]
  # (the sender's domain attributes)
  subject: ['x']
extract:
  tracking:
    - '(?<tracking>[A-Z0-9'
YAML
D="$WORK/broken"
"$TRACKMAIL" ingest --data-dir "$D" --parsers "$WORK/parsers" "$good" > /dev/null 2> "$WORK/broken.err"
rc=$?
check "ingest refuses a broken parser file (rc=$rc, want 3)" test "$rc" -eq 3
check "naming file and line" grep -q "broken.yaml:9:" "$WORK/broken.err"
check "and the way out" grep -q -- "--skip-broken-parsers" "$WORK/broken.err"
check "nothing was stored" test ! -e "$D/trackmail.db" -o "$(sql "$D/trackmail.db" "SELECT count(*) FROM messages" 2>/dev/null || echo 0)" = 0
"$TRACKMAIL" ingest --data-dir "$D" --parsers "$WORK/parsers" --skip-broken-parsers "$good" > /dev/null 2>&1
rc=$?
check "--skip-broken-parsers starts anyway (rc=$rc)" test "$rc" -eq 0
"$TRACKMAIL" quarantine retry --all --data-dir "$D" --parsers "$WORK/parsers" > /dev/null 2>&1
rc=$?
check "quarantine retry refuses it too (rc=$rc)" test "$rc" -eq 3
"$TRACKMAIL" parse --parsers "$WORK/parsers" "$good" > /dev/null 2> "$WORK/parse.err"
rc=$?
check "parse goes on with a warning (rc=$rc)" test "$rc" -eq 0 -a -s "$WORK/parse.err"

# --- directories yield mail files only -------------------------------------
D="$WORK/dir"
"$TRACKMAIL" ingest --data-dir "$D" "$F/walmart" > /dev/null 2> "$WORK/dir.err"
n_eml=$(ls "$F"/walmart/*.eml | wc -l)
n_other=$(ls "$F"/walmart | grep -vc '\.eml$')
check "ingest DIR stores the $n_eml .eml files only" \
	test "$(sql "$D/trackmail.db" "SELECT count(*) FROM messages")" -eq "$n_eml"
check "no .json file became a message" \
	test "$(sql "$D/trackmail.db" "SELECT count(*) FROM messages WHERE source LIKE '%.json'")" -eq 0
check "and it says what it skipped" grep -q "skipped $n_other files that are not mail" "$WORK/dir.err"
mkdir -p "$WORK/md/cur" "$WORK/md/new" "$WORK/md/tmp"
cp "$good" "$WORK/md/cur/1700000000.M1P1.host:2,S"
cp "$F/walmart/ordered_outlook.eml" "$WORK/md/new/1700000001.M2P2.host"
"$TRACKMAIL" parse --json "$WORK/md" > "$WORK/md.jsonl" 2> "$WORK/md.err"
check "a Maildir's cur/ and new/ entries are mail" test "$(wc -l < "$WORK/md.jsonl")" -eq 2

# --- the worker's wall-clock limit -----------------------------------------
mkfifo "$WORK/fifo"
sleep 60 > "$WORK/fifo" &
writer=$!
start=$(date +%s)
TRACKMAIL_WORKER_WALL_MS=1000 timeout 30 "$TRACKMAIL" parse --json "$WORK/fifo" "$good" > "$WORK/wall.jsonl" 2> "$WORK/wall.err"
rc=$?
took=$(( $(date +%s) - start ))
kill "$writer" 2> /dev/null
check "a read that blocks is stopped by the wall-clock limit (${took}s, rc=$rc)" \
	test "$rc" -ne 124 -a "$took" -lt 20
check "the limit is named" grep -q "wall-clock limit of 1000 ms" "$WORK/wall.err"
check "the file after it still gets its decision" grep -q '"outcome":"shipped"' "$WORK/wall.jsonl"

# A worker never outlives its parent (PR_SET_PDEATHSIG, checked against a
# parent that died before it was set). The worker holds a FIFO nobody
# writes: it would block in open() for ever, so only its parent's death
# can end it (a real file could simply be finished first).
mkfifo "$WORK/orphan.eml"
TRACKMAIL_WORKER_CPU_MS=60000 TRACKMAIL_WORKER_WALL_MS=600000 "$TRACKMAIL" parse --json "$WORK/orphan.eml" > /dev/null 2>&1 &
parent=$!
child=
for _ in $(seq 1 200); do
	child=$(pgrep -P "$parent" | head -1)
	[ -n "$child" ] && [ "$(cat "/proc/$child/wchan" 2>/dev/null)" = wait_for_partner ] && break
	child=
	sleep 0.05
done
check "the worker is blocked on the FIFO (child ${child:-none found})" test -n "$child"
{ kill -KILL "$parent"; wait "$parent"; } 2> /dev/null
gone=no
for _ in $(seq 1 40); do
	# Gone, or a zombie waiting for its new parent to reap it.
	if [ -n "$child" ] && { ! kill -0 "$child" 2> /dev/null ||
		[ "$(awk '{print $3}' "/proc/$child/stat" 2> /dev/null)" = Z ]; }; then
		gone=yes
		break
	fi
	sleep 0.05
done
[ "$gone" = yes ] || kill -KILL "$child" 2> /dev/null
check "the worker dies with its parent (child ${child:-none found})" test "$gone" = yes
finish
