"""spool_latency.py - end-to-end latency from the durable spool to the
stored decision under `trackmail serve` (a benchmark, not a test).

1. Sustained rate: 400 messages put into the spool at once (`trackmail
   spool add`, durable), timed until the last is decided (archived).
2. At half that rate, messages are spooled one by one; each one's latency
   is from its durable spool time (in its Maildir name, microseconds) to
   its decision (the ctime of its archive file: the archive rename
   follows the commit). Prints p50/p99.

usage: spool_latency.py TRACKMAIL SRC [WORKERS]
"""
import os
import glob
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

tm, src = sys.argv[1], sys.argv[2]
workers = sys.argv[3] if len(sys.argv) > 3 else "2"
work = tempfile.mkdtemp(prefix="trackmail-bench.")
data = os.path.join(work, "data")
conf = os.path.join(work, "c.yaml")
with open(conf, "w") as f:
    f.write('smtp_listen: ""\nlmtp_listen: ""\nworkers: %s\n' % workers)
env = dict(os.environ, TRACKMAIL_CONFIG=conf,
           TRACKMAIL_PARSERS_DIR=os.path.join(src, "parsers"))
sample = open(os.path.join(src, "tests/data/fallback/schema_org_parcel.eml"),
              "rb").read()


def write_mail(i):
    p = os.path.join(work, "m%d.eml" % i)
    with open(p, "wb") as f:
        f.write(sample.replace(b"Message-ID: <",
                               b"Message-ID: <bench-%d-" % i, 1))
    return p


def archived():
    return glob.glob(os.path.join(data, "archive", "*", "*"))


def spool_time(name):
    secs, rest = name.split(".M", 1)
    return int(secs) + int(rest.split("P", 1)[0]) / 1e6


serve = subprocess.Popen([tm, "serve", "--data-dir", data], env=env,
                         stderr=subprocess.DEVNULL)
try:
    time.sleep(1.0)
    n = 400
    files = [write_mail(i) for i in range(n)]
    t0 = time.time()
    subprocess.run([tm, "spool", "add", "--data-dir", data] + files,
                   env=env, check=True, stdout=subprocess.DEVNULL)
    while len(archived()) < n:
        time.sleep(0.01)
    rate = n / (time.time() - t0)
    print("sustained: %d messages spooled and decided in %.2f s: %.0f/s "
          "(%s workers)" % (n, time.time() - t0, rate, workers))
    half = rate / 2
    m = int(min(400, max(50, half * 10)))
    before = set(archived())
    ids = []
    for i in range(n, n + m):
        p = write_mail(i)
        start = time.time()
        out = subprocess.run([tm, "spool", "add", "--data-dir", data, p],
                             env=env, check=True, capture_output=True)
        ids.append(out.stdout.decode().strip())
        time.sleep(max(0.0, 1.0 / half - (time.time() - start)))
    while len(set(archived()) - before) < m:
        time.sleep(0.01)
    lat = []
    for path in set(archived()) - before:
        name = os.path.basename(path)
        lat.append((os.stat(path).st_ctime_ns / 1e9 - spool_time(name)) * 1000)
    lat.sort()
    p50 = statistics.median(lat)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print("latency spool -> stored decision at %.0f/s (%d messages): "
          "p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (half, m, p50, p99,
                                                       lat[-1]))
finally:
    serve.terminate()
    serve.wait()
    shutil.rmtree(work)
