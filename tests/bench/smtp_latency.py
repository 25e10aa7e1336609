"""smtp_latency.py - end-to-end latency from the SMTP 250 to the stored
decision under `trackmail serve` (a benchmark, not a test; issue 9,
docs/intake.md "Figures").

Starts `trackmail serve` on a private data dir, SMTP on a free loopback
port (no LMTP, the per-client-address session limit off), then:

1. Sustained end-to-end rate (accept + decide): N messages sent over a few
   SMTP connections at once, timed from the first connection to the last
   stored decision.
2. At half that rate, messages are sent one at a time on one connection
   (smtplib, open loop: each starts at its slot); each one's latency is
   from the moment its 250 to DATA arrived to the moment its decision was
   stored. Prints p50/p99/max and the count.

The bodies are the fixture mails (fixtures/emails/**/*.eml, real-looking
shipping mails), each with a unique Message-ID so that none is a
duplicate.

"Stored decision" signal: the worker logs `event=decided ...
message_id=...` on stderr (unbuffered) right after the transaction with
the decision committed (pipeline_process() returned) and before the
archive rename. A reader thread stamps each line with time.monotonic()
when it arrives, the same clock as the 250 (sub-ms; a pipe read wake-up,
no polling). The messages table only holds seconds (received_at), and
the archive file's ctime uses the kernel's coarse clock (a jiffy, up to
4 ms), so neither is precise enough.

usage: smtp_latency.py TRACKMAIL SRC [WORKERS [N [CONNECTIONS]]]
(WORKERS 0: the number of CPUs, serve's default; SMTP_LATENCY_RATE=R in
the environment measures the latency at R msg/s instead of half the
sustained rate, for profiling)
"""
import glob
import os
import re
import shutil
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

tm, src = sys.argv[1], sys.argv[2]
workers = int(sys.argv[3]) if len(sys.argv) > 3 else 0
n_sustained = int(sys.argv[4]) if len(sys.argv) > 4 else 600
n_conns = int(sys.argv[5]) if len(sys.argv) > 5 else 4
TIMEOUT = 300.0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


work = tempfile.mkdtemp(prefix="trackmail-smtp-lat.")
data = os.path.join(work, "data")
conf = os.path.join(work, "c.yaml")
dkim = os.path.join(work, "dkim.txt")  # no DNS: loopback only
open(dkim, "w").close()
port = free_port()
with open(conf, "w") as f:
    f.write('smtp_listen: "127.0.0.1:%d"\n' % port)
    f.write('lmtp_listen: ""\n')
    f.write("workers: %d\n" % workers)
    f.write("smtp_max_sessions_per_client: 0\n")
    f.write('dkim_query_file: "%s"\n' % dkim)
    f.write("log_level: info\n")
env = dict(os.environ, TRACKMAIL_CONFIG=conf, TRACKMAIL_DOMAIN="bench.test",
           TRACKMAIL_PARSERS_DIR=os.path.join(src, "parsers"))
for k in list(env):
    if k.startswith("TRACKMAIL_") and k not in ("TRACKMAIL_CONFIG",
                                                "TRACKMAIL_DOMAIN",
                                                "TRACKMAIL_PARSERS_DIR"):
        del env[k]

bodies = []
for p in sorted(glob.glob(os.path.join(src, "fixtures/emails/**/*.eml"),
                          recursive=True)):
    raw = open(p, "rb").read()
    if re.search(rb"(?im)^Message-ID:[ \t]*<", raw):
        bodies.append(raw)
if not bodies:
    sys.exit("no fixture mails under %s/fixtures/emails" % src)


def mail(i):
    """Fixture i mod len, with the unique Message-ID <lat-I-...>."""
    raw = bodies[i % len(bodies)]
    return re.sub(rb"(?im)^(Message-ID:[ \t]*<)", b"\\1lat-%d-" % i, raw,
                  count=1)


decided = {}  # i -> monotonic time its decision line arrived
decided_cv = threading.Condition()
other_lines = []
MSGID = re.compile(rb'event=(?:decided|decoder-crash) .*message_id="lat-(\d+)-')


def read_log(pipe):
    for line in iter(pipe.readline, b""):
        t = time.monotonic()
        m = MSGID.search(line)
        if m:
            with decided_cv:
                decided.setdefault(int(m.group(1)), t)
                decided_cv.notify_all()
        elif b"level=error" in line or b"level=warn" in line:
            other_lines.append(line.decode(errors="replace").rstrip())


def wait_decided(ids):
    deadline = time.monotonic() + TIMEOUT
    with decided_cv:
        while not all(i in decided for i in ids):
            left = deadline - time.monotonic()
            if left <= 0:
                missing = [i for i in ids if i not in decided]
                sys.exit("%d messages not decided after %.0f s (first: %s)"
                         % (len(missing), TIMEOUT, missing[:5]))
            decided_cv.wait(left)


def send_range(addr, ids, errors):
    try:
        c = smtplib.SMTP("127.0.0.1", port, timeout=60)
        c.ehlo("bench.test")
        for i in ids:
            c.sendmail("sender@bench.test", [addr], mail(i))
        c.quit()
    except Exception as e:  # reported by the main thread
        errors.append(repr(e))


out = subprocess.run([tm, "accounts", "add", "bench", "--data-dir", data],
                     env=env, check=True, capture_output=True)
addr = out.stdout.decode().split()[1]
serve = subprocess.Popen([tm, "serve", "--data-dir", data], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         start_new_session=True)
reader = threading.Thread(target=read_log, args=(serve.stderr,),
                          daemon=True)
reader.start()
try:
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            break
        except OSError:
            time.sleep(0.025)
    else:
        sys.exit("serve does not listen on 127.0.0.1:%d" % port)
    time.sleep(0.5)  # let the workers start

    # 1. sustained end-to-end rate
    n = n_sustained
    errors = []
    parts = [list(range(k, n, n_conns)) for k in range(n_conns)]
    threads = [threading.Thread(target=send_range, args=(addr, p, errors))
               for p in parts]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t_acc = time.monotonic() - t0
    if errors:
        sys.exit("sending failed: %s" % errors[:3])
    wait_decided(range(n))
    t_all = max(decided[i] for i in range(n)) - t0
    rate = n / t_all
    print("load average: %s" % " ".join(
        open("/proc/loadavg").read().split()[:3]))
    print("sustained: %d messages (%d fixture mails), %d connections: "
          "accepted in %.2f s (%.0f/s), all decided in %.2f s: "
          "%.1f msg/s end to end (workers %s)"
          % (n, len(bodies), n_conns, t_acc, n / t_acc, t_all, rate,
             workers or "= CPUs"))

    # 2. latency at half that rate, one message at a time
    half = float(os.environ.get("SMTP_LATENCY_RATE") or rate / 2)
    m = int(min(1000, max(200, half * 20)))
    interval = 1.0 / half
    lat = []
    acc = []
    c = smtplib.SMTP("127.0.0.1", port, timeout=60)
    c.ehlo("bench.test")
    start = time.monotonic() + 0.2
    ok_at = {}
    for k in range(m):
        i = n + k
        slot = start + k * interval
        d = slot - time.monotonic()
        if d > 0:
            time.sleep(d)
        body = mail(i)
        t_send = time.monotonic()
        c.mail("sender@bench.test")
        c.rcpt(addr)
        code, _ = c.data(body)
        ok_at[i] = time.monotonic()  # the 250 to DATA arrived
        if code != 250:
            sys.exit("message %d: DATA answered %d" % (i, code))
        acc.append((ok_at[i] - t_send) * 1000)
    c.quit()
    wait_decided(range(n, n + m))
    lat = sorted((decided[i] - ok_at[i]) * 1000 for i in ok_at)
    acc.sort()

    def pct(v, p):
        return v[min(len(v) - 1, int(len(v) * p))]

    print("load average: %s" % " ".join(
        open("/proc/loadavg").read().split()[:3]))
    print("latency 250 -> stored decision at %.1f msg/s (%d messages): "
          "p50 %.1f ms, p99 %.1f ms, max %.1f ms (target p99 < 50 ms)"
          % (half, len(lat), statistics.median(lat), pct(lat, 0.99),
             lat[-1]))
    print("  (MAIL FROM -> 250 to DATA, the durable spool: p50 %.1f ms, "
          "p99 %.1f ms)" % (statistics.median(acc), pct(acc, 0.99)))
    for line in other_lines[:5]:
        print("serve: " + line)
finally:
    try:
        os.killpg(serve.pid, 15)
    except ProcessLookupError:
        pass
    try:
        serve.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(serve.pid, 9)
        serve.wait()
    shutil.rmtree(work, ignore_errors=True)
