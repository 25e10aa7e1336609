"""fakehttp.py - the HTTP plumbing the fake selling channels share.

A fake is a FakeChannel subclass with a route table (method, path regex,
handler) and a state dict; this module runs it on 127.0.0.1 (port 0, so
tests never collide), logs every request, and offers the knobs every fake
needs: forced answers for the next matching requests (5xx, 429, HTML from
a WAF) and a delay after a handler has applied its change (the client
times out while the channel already holds the shipment).

Tests run the fake in-process (start()/stop()) or as a process
(`python3 fake_x.py --port-file F`), and read its state through
GET /_fake/state or fake.state.
"""
import json
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Reply:
    def __init__(self, status, body=None, headers=None, raw=None):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.raw = raw


class Request:
    def __init__(self, method, path, query, headers, body):
        self.method = method
        self.path = path
        self.query = query          # dict name -> first value
        self.headers = headers      # dict lower-case name -> value
        self.raw = body
        self.json = None
        self.json_error = None
        if body:
            ctype = headers.get("content-type", "")
            if "json" in ctype:
                try:
                    self.json = json.loads(body)
                except ValueError as e:
                    self.json_error = str(e)
            elif "x-www-form-urlencoded" in ctype:
                self.form = dict(urllib.parse.parse_qsl(body.decode()))


class FakeChannel:
    """Subclass: set self.routes = [(method, regex, handler)]."""
    name = "fake"

    def __init__(self):
        self.lock = threading.RLock()
        self.state = {}
        self.log = []
        self.forced = []      # [(method or None, path regex, Reply, count)]
        self.delays = []      # [(method, path regex, seconds)]
        self.routes = []
        self.server = None
        self.thread = None

    # --- knobs -----------------------------------------------------------
    def force(self, method, path_re, reply, count=1):
        with self.lock:
            self.forced.append([method, re.compile(path_re), reply, count])

    def delay_after_apply(self, method, path_re, seconds):
        with self.lock:
            self.delays.append([method, re.compile(path_re), seconds])

    def requests(self, method=None, path_re=None):
        with self.lock:
            return [r for r in self.log
                    if (method is None or r["method"] == method) and
                    (path_re is None or re.search(path_re, r["path"]))]

    # --- serving ---------------------------------------------------------
    def handle(self, req):
        with self.lock:
            self.log.append({"method": req.method, "path": req.path,
                             "query": req.query, "headers": req.headers,
                             "body": req.raw.decode("utf-8", "replace")})
            for f in self.forced:
                if f[3] > 0 and (f[0] is None or f[0] == req.method) and \
                        f[1].search(req.path):
                    f[3] -= 1
                    return f[2], 0
            delay = 0
            for d in self.delays:
                if d[0] == req.method and d[1].search(req.path):
                    delay = d[2]
                    self.delays.remove(d)
                    break
            for method, rx, fn in self.routes:
                if method != req.method:
                    continue
                m = re.fullmatch(rx, req.path)
                if m:
                    return fn(req, *m.groups()), delay
            return self.no_route(req), 0

    def no_route(self, req):
        return Reply(404, {"error": "no route %s %s" % (req.method, req.path)})

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _serve(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                u = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(u.query,
                                                    keep_blank_values=True))
                headers = {k.lower(): v for k, v in self.headers.items()}
                path = urllib.parse.unquote(u.path)
                if path == "/_fake/state":
                    with fake.lock:
                        reply = Reply(200, {"state": fake.state,
                                            "log": fake.log})
                    delay = 0
                else:
                    reply, delay = fake.handle(
                        Request(self.command, path, query, headers, body))
                if delay:
                    time.sleep(delay)
                if reply.raw is not None:
                    data = reply.raw.encode() if isinstance(reply.raw, str) \
                        else reply.raw
                    ctype = reply.headers.get("Content-Type", "text/html")
                elif reply.body is None:
                    data = b""
                    ctype = None
                else:
                    data = json.dumps(reply.body).encode()
                    ctype = "application/json"
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        if k != "Content-Type":
                            self.send_header(k, str(v))
                    if ctype:
                        self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()
        return self

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def main(fake):
    """`fake_x.py --port-file F [--state FILE.json]`: serve until killed."""
    args = sys.argv[1:]
    port_file = None
    while args:
        a = args.pop(0)
        if a == "--port-file":
            port_file = args.pop(0)
        elif a == "--state":
            with open(args.pop(0)) as f:
                fake.load(json.load(f))
        else:
            sys.exit("usage: %s --port-file F [--state FILE]" % sys.argv[0])
    fake.start()
    if port_file:
        with open(port_file + ".tmp", "w") as f:
            f.write(str(fake.server.server_address[1]))
        import os
        os.rename(port_file + ".tmp", port_file)
    try:
        fake.thread.join()
    except KeyboardInterrupt:
        pass
