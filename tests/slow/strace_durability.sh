#!/bin/bash
# strace_durability.sh (slow) - a kill does not test fsync (the page cache
# survives it), so this checks the order of the system calls instead:
# `trackmail serve` runs under strace -f while a client sends N messages
# over SMTP; for each message the fsync (or fdatasync: the spool syncs a
# batch's files with fdatasync from several threads at once, still one
# per file, which is as durable for a new file) of its tmp/ file, its rename into
# new/ and an fsync of new/ all complete before the write of its "250 ...
# queued as ID" reply, and N 250 replies are seen for N messages.
. "$SRC/tests/integration/lib.sh"
if ! command -v strace >/dev/null; then
	echo "1..0 # SKIP strace not installed"
	exit 0
fi
D="$WORK/data"
N=${STRACE_MESSAGES:-200}
export TRACKMAIL_DOMAIN=ex.test
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
printf 'smtp_listen: "127.0.0.1:%s"\nlmtp_listen: ""\nworkers: 1\n' "$PORT" >"$WORK/c.yaml"
export TRACKMAIL_CONFIG="$WORK/c.yaml"
spid=
trap '[ -n "$spid" ] && kill -9 "$spid" $(pgrep -P "$spid") 2>/dev/null; rm -rf "$WORK"' EXIT
addr=$("$TRACKMAIL" accounts add shop --data-dir "$D" | awk '{print $2}')
strace -f -ttt -y -s 256 -o "$WORK/trace" \
	-e trace=fsync,fdatasync,rename,renameat,renameat2,write,writev,sendto,sendmsg \
	"$TRACKMAIL" serve --data-dir "$D" 2>"$WORK/serve.log" &
spid=$!
for _ in $(seq 200); do
	(exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
	sleep 0.05
done
# 4 clients at once, so that the group commit batches
for k in 0 1 2 3; do
	python3 "$SRC/tests/slow/smtp_client.py" "$PORT" "$addr" $((N / 4)) "$WORK/acks" $((k * N / 4)) &
done
wait_all() { for _ in $(seq 600); do [ "$(cat "$WORK/acks" 2>/dev/null | wc -l)" -ge "$N" ] && return; sleep 0.1; done; }
wait_all
# SIGTERM to serve itself (strace keeps running until its tracee ends)
kill -TERM "$(pgrep -P "$spid" | head -1)"; wait "$spid"; spid=
check "the client got $N 250 replies" test "$(sort -un "$WORK/acks" | wc -l)" -eq "$N"
check "order: file fsync, rename, directory fsync, then 250 (each of $N)" python3 - "$WORK/trace" "$N" <<'PY'
import re, sys
path, n = sys.argv[1], int(sys.argv[2])
pending = {}
events = []  # (time completed, syscall, args)
line_re = re.compile(r'^(\d+)\s+(\d+\.\d+)\s+(.*)$')
for line in open(path, errors="replace"):
    m = line_re.match(line)
    if not m:
        continue
    pid, ts, rest = m.group(1), float(m.group(2)), m.group(3)
    if rest.endswith("<unfinished ...>"):
        pending[pid] = rest[:-len("<unfinished ...>")]
        continue
    r = re.match(r'<\.\.\. (\w+) resumed>(.*)$', rest)
    if r:
        rest = pending.pop(pid, r.group(1) + "(") + r.group(2)
    c = re.match(r'(\w+)\((.*)\)\s+=\s+(-?\d+)', rest)
    if not c or int(c.group(3)) < 0:
        continue
    events.append((ts, c.group(1), c.group(2), pid))
events.sort(key=lambda e: e[0])
file_sync, renamed, replied = {}, {}, {}
dir_syncs = []
for ts, call, args, pid in events:
    if call in ("fsync", "fdatasync"):
        m = re.search(r'</[^>]*/spool/tmp/([^>/]+)>', args)
        if m:
            file_sync[m.group(1)] = ts
        elif re.search(r'</[^>]*/spool/new>', args):
            dir_syncs.append((ts, pid))
    elif call.startswith("rename"):
        m = re.search(r'/spool/tmp/([^"]+)".*/spool/new/', args)
        if m:
            renamed[m.group(1)] = (ts, pid)
    elif call in ("write", "writev", "sendto", "sendmsg"):
        for m in re.finditer(r'250 [^"]*queued as ([^\\"]+)\\r\\n', args):
            replied[m.group(1)] = ts
bad = []
for id_, t250 in replied.items():
    tf, (tr, rpid) = file_sync.get(id_), renamed.get(id_, (None, None))
    if tf is None or tr is None or not tf < tr < t250:
        bad.append((id_, "fsync/rename", tf, tr, t250))
        continue
    # the spool's own fsync of new/ (same thread as the rename), not a
    # worker's after archiving
    if not any(tr < td < t250 and p == rpid for td, p in dir_syncs):
        bad.append((id_, "no directory fsync between rename and 250"))
print(f"# {len(replied)} replies, {len(file_sync)} file fsyncs, "
      f"{len(renamed)} renames, {len(dir_syncs)} directory fsyncs")
assert len(replied) == n, ("250 replies seen", len(replied))
assert not bad, bad[:3]
PY
finish
