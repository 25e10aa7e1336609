"""testlib.py - what the fake and adapter tests share: a plain HTTP
client for the fakes' own negative tests, and run() that drives an
adapter (tests/dispatch/adapter_drive) against a fake and parses its
verdict line."""
import base64
import json
import os
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.parse
import urllib.request


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(method, url, body=None, headers=None, basic=None, form=None):
    """Returns (status, parsed JSON or text, headers dict lower-case)."""
    h = dict(headers or {})
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        h.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    if basic:
        h["Authorization"] = "Basic " + base64.b64encode(
            ("%s:%s" % basic).encode()).decode()
    req = urllib.request.Request(url, data=data, headers=h, method=method)
    try:
        with OPENER.open(req, timeout=10) as r:
            status, raw, hd = r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        status, raw, hd = e.code, e.read(), e.headers
    hd = {k.lower(): v for k, v in hd.items()}
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode("utf-8", "replace")
    return status, parsed, hd


DRIVE = os.environ.get("ADAPTER_DRIVE", "adapter_drive")


class AdapterCase(unittest.TestCase):
    """Subclass: set channel, make_fake(), credentials (str)."""
    channel = None
    credentials = ""
    settings = None

    def setUp(self):
        self.fake = self.make_fake().start()
        self.tmp = tempfile.TemporaryDirectory()
        self.cred_file = os.path.join(self.tmp.name, "cred")
        with open(self.cred_file, "w") as f:
            f.write(self.credentials)

    def tearDown(self):
        self.fake.stop()
        self.tmp.cleanup()

    def run_push(self, order, tracking, carrier, settings=None, url=None,
                 previous=None, lines=(), timeout_ms=3000, credentials=None,
                 extra=()):
        if credentials is not None:
            with open(self.cred_file, "w") as f:
                f.write(credentials)
        args = [DRIVE, self.channel, "--api-url", self.fake.url,
                "--credentials-file", self.cred_file, "--order", str(order),
                "--tracking", tracking, "--carrier", carrier,
                "--timeout-ms", str(timeout_ms)]
        s = settings if settings is not None else self.settings
        if s is not None:
            args += ["--settings", json.dumps(s)]
        if url:
            args += ["--url", url]
        if previous:
            args += ["--previous", previous]
        for l in lines:
            args += ["--line", l]
        args += list(extra)
        p = subprocess.run(args, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        line = p.stdout.strip().splitlines()[-1]
        out = {"trace": p.stderr}
        head, _, reason = line.partition(" reason=")
        for kv in head.split():
            k, _, v = kv.partition("=")
            out[k] = v
        out["reason"] = reason
        # Secrets never in what the adapter reports.
        for secret in self.secrets():
            self.assertNotIn(secret, line)
            self.assertNotIn(secret, p.stderr)
        return out

    def secrets(self):
        return []
