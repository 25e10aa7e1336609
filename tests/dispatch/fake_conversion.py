#!/usr/bin/env python3
"""fake_conversion.py - a tracking-conversion provider implementing
exactly the contract of docs/dispatch.md "Tracking conversion":
POST <url> with JSON {"carrier", "number", "supplier",
"destination_country"} (all four keys; the first three non-empty
strings) -> 200 {"carrier", "number", "cost", "currency"} when it knows
another number for the parcel, 200 {"reason"} when not, 400 for a
request outside the contract.

usage: fake_conversion.py --port-file FILE --map FILE.json
The map is {"<number>": {"carrier": ..., "number": ..., "cost": ...}}.
GET /_calls: the requests received."""
import argparse
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAP = {}
calls = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.send(200 if self.path == "/_calls" else 404, calls)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            req = json.loads(raw)
            ok = set(req) == {"carrier", "number", "supplier",
                              "destination_country"} and all(
                isinstance(req[k], str) and req[k]
                for k in ("carrier", "number", "supplier"))
        except ValueError:
            ok = False
        if self.path != "/convert" or not ok or not (
                self.headers.get("Content-Type") or "").startswith(
                "application/json"):
            self.send(400, {"reason": "not the contract"})
            return
        calls.append(req)
        hit = MAP.get(req["number"])
        if hit:
            self.send(200, {"carrier": hit["carrier"], "number":
                            hit["number"], "cost": hit.get("cost", 0),
                            "currency": "USD"})
        else:
            self.send(200, {"reason": "no other number known for this "
                            "parcel"})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--map", required=True)
    a = ap.parse_args()
    MAP.update(json.load(open(a.map)))
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
