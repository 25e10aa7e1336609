#!/usr/bin/env python3
"""fake_shopify.py - a local Shopify GraphQL Admin API for the dispatch
tests, reproducing ../shared/channels.md section 2: the endpoint
/admin/api/<YYYY-MM>/graphql.json, the X-Shopify-Access-Token header,
the order pre-read, fulfillmentCreate and fulfillmentTrackingInfoUpdate
with their userErrors, extensions.cost on every answer, THROTTLED (HTTP
200 and 429), 401 for a bad token, 5xx, and fulfillment orders with
per-line remainingQuantity (a second identical call gets userErrors).

usage: fake_shopify.py --port-file FILE --token TOKEN [--orders N]
Orders 1..N get one OPEN fulfillment order with one line of quantity 1
(line item gid://shopify/LineItem/<N*10+1>).

Control (tests only, no token): POST /_control with a JSON object of
knobs: throttle=K (next K calls THROTTLED, HTTP 200), throttle429=K,
fail5xx=K, slow=K + slow_s=S (next K writes are applied, then answered
after S seconds), hold=true|false (writes are applied, then the answer
waits until hold is false), revoke=true (every token refused),
order={...} (add or replace an order, see add_order). GET /_state: the
fulfillments and counters.
"""
import argparse
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATH_RE = re.compile(r"^/admin/api/\d{4}-\d{2}/graphql\.json$")
COST = {"requestedQueryCost": 10, "actualQueryCost": 10,
        "throttleStatus": {"maximumAvailable": 1000.0,
                           "currentlyAvailable": 990, "restoreRate": 50.0}}

lock = threading.Condition()
orders = {}          # order gid -> order dict
fulfillments = []    # every fulfillment, in creation order
counters = {"requests": 0, "creates": 0, "updates": 0, "refused": 0,
            "reads": 0}
knobs = {"throttle": 0, "throttle429": 0, "fail5xx": 0, "slow": 0,
         "slow_s": 0.0, "hold": False, "revoke": False}
TOKEN = None


def add_order(spec):
    """spec: {"id": "7", "cancelled": false, "fos": [{"id": "...",
    "status": "OPEN", "actions": ["CREATE_FULFILLMENT"], "lines":
    [{"id": FO line gid, "line": LineItem gid, "qty": 2}]}]}"""
    gid = spec["id"] if spec["id"].startswith("gid://") else \
        "gid://shopify/Order/" + spec["id"]
    fos = []
    for fo in spec.get("fos", []):
        fos.append({"id": fo["id"], "status": fo.get("status", "OPEN"),
                    "actions": fo.get("actions", ["CREATE_FULFILLMENT"]),
                    "lines": [{"id": l["id"], "line": l["line"],
                               "total": l["qty"], "remaining": l["qty"]}
                              for l in fo["lines"]]})
    orders[gid] = {"id": gid, "cancelled": spec.get("cancelled", False),
                   "fos": fos, "fulfillments": [],
                   "attributes": spec.get("attributes", {}),
                   "metafields": spec.get("metafields", {})}


def simple_order(n):
    add_order({"id": str(n), "fos": [{
        "id": "gid://shopify/FulfillmentOrder/%d" % (n * 10),
        "lines": [{"id": "gid://shopify/FulfillmentOrderLineItem/%d" %
                   (n * 10 + 1),
                   "line": "gid://shopify/LineItem/%d" % (n * 10 + 1),
                   "qty": 1}]}]})


def order_view(o):
    return {
        "id": o["id"],
        "displayFulfillmentStatus": "FULFILLED" if all(
            l["remaining"] == 0 for fo in o["fos"] for l in fo["lines"])
        else "UNFULFILLED",
        "cancelledAt": "2026-11-30T10:00:00Z" if o["cancelled"] else None,
        "fulfillments": [{"id": f["id"], "status": "SUCCESS",
                          "trackingInfo": f["trackingInfo"]}
                         for f in o["fulfillments"]],
        "fulfillmentOrders": {"nodes": [{
            "id": fo["id"], "status": fo["status"], "requestStatus":
            "UNSUBMITTED",
            "supportedActions": [{"action": a} for a in fo["actions"]],
            "lineItems": {"nodes": [{
                "id": l["id"], "remainingQuantity": l["remaining"],
                "totalQuantity": l["total"],
                "lineItem": {"id": l["line"], "sku": None}}
                for l in fo["lines"]]}} for fo in o["fos"]]},
    }


def orders_page(v):
    """orders(first: 50, after: cursor, query: unfulfilled): open orders
    by id, with customAttributes and the metafield (ns, key) asked for."""
    open_ = [o for o in sorted(orders.values(),
                               key=lambda o: int(o["id"].rsplit("/", 1)[1]))
             if not o["cancelled"] and any(
                 l["remaining"] > 0 for fo in o["fos"] for l in fo["lines"])]
    start = int(v.get("cursor") or 0)
    page = open_[start:start + 50]
    mk = "%s.%s" % (v.get("ns"), v.get("key"))
    return {"pageInfo": {"hasNextPage": start + 50 < len(open_),
                         "endCursor": str(start + 50)},
            "nodes": [{"id": o["id"], "customAttributes": [
                {"key": k, "value": val} for k, val in
                o["attributes"].items()],
                "metafield": {"value": o["metafields"][mk]}
                if mk in o["metafields"] else None} for o in page]}


def user_error(field, message):
    return {"fulfillment": None,
            "userErrors": [{"field": field, "message": message}]}


def tracking_infos(t):
    """The trackingInfo list of a FulfillmentTrackingInput, or an error."""
    if not isinstance(t, dict):
        return None, "trackingInfo must be an object"
    if "number" in t and "numbers" in t:
        return None, "Specify either number or numbers, not both"
    if "url" in t and "urls" in t:
        return None, "Specify either url or urls, not both"
    nums = t.get("numbers") or ([t["number"]] if t.get("number") else [])
    urls = t.get("urls") or ([t["url"]] if t.get("url") else [])
    if urls and not nums:
        return None, "A tracking url requires a tracking number"
    if not all(isinstance(n, str) and n for n in nums):
        return None, "Tracking numbers must be non-empty strings"
    return [{"company": t.get("company"), "number": n,
             "url": urls[i] if i < len(urls) else None}
            for i, n in enumerate(nums)], None


def fulfillment_create(f):
    if not isinstance(f, dict) or "lineItemsByFulfillmentOrder" not in f:
        return None, "Variable $f of type FulfillmentInput! was provided " \
            "invalid value for lineItemsByFulfillmentOrder (Expected " \
            "value to not be null)"
    infos, err = tracking_infos(f.get("trackingInfo", {}))
    if err:
        return user_error(["fulfillment", "trackingInfo"], err), None
    groups = f["lineItemsByFulfillmentOrder"]
    if not isinstance(groups, list) or not groups:
        return user_error(["fulfillment", "lineItemsByFulfillmentOrder"],
                          "Line items by fulfillment order can't be "
                          "blank"), None
    plan, order = [], None
    for g in groups:
        fo = o = None
        for cand in orders.values():
            for x in cand["fos"]:
                if x["id"] == g.get("fulfillmentOrderId"):
                    fo, o = x, cand
        if not fo:
            return user_error(["fulfillment", "lineItemsByFulfillmentOrder"],
                              "Fulfillment order does not exist."), None
        if order and o is not order:
            return user_error(["fulfillment", "lineItemsByFulfillmentOrder"],
                              "All fulfillment orders must belong to the "
                              "same order."), None
        order = o
        if fo["status"] not in ("OPEN", "IN_PROGRESS") or \
                "CREATE_FULFILLMENT" not in fo["actions"]:
            return user_error(["fulfillment", "lineItemsByFulfillmentOrder"],
                              "Fulfillment order %s has an unfulfillable "
                              "status= %s." % (fo["id"],
                                               fo["status"].lower())), None
        items = g.get("fulfillmentOrderLineItems")
        if items is None:
            items = [{"id": l["id"], "quantity": l["remaining"]}
                     for l in fo["lines"] if l["remaining"] > 0]
            if not items:
                return user_error(
                    ["fulfillment", "lineItemsByFulfillmentOrder"],
                    "Fulfillment order %s has an unfulfillable status= "
                    "closed." % fo["id"]), None
        for it in items:
            line = next((l for l in fo["lines"] if l["id"] == it.get("id")),
                        None)
            q = it.get("quantity")
            if not line:
                return user_error(
                    ["fulfillment", "lineItemsByFulfillmentOrder"],
                    "Invalid fulfillment order line item id."), None
            if not isinstance(q, int) or q < 1 or q > line["remaining"]:
                return user_error(
                    ["fulfillment", "lineItemsByFulfillmentOrder"],
                    "Quantity to fulfill cannot exceed the remaining "
                    "quantity."), None
            plan.append((line, q))
    for line, q in plan:
        line["remaining"] -= q
    for fo in order["fos"]:
        if all(l["remaining"] == 0 for l in fo["lines"]):
            fo["status"] = "CLOSED"
    fid = "gid://shopify/Fulfillment/%d" % (255858000 + len(fulfillments))
    ful = {"id": fid, "order": order["id"], "trackingInfo": infos,
           "notify": bool(f.get("notifyCustomer", False))}
    fulfillments.append(ful)
    order["fulfillments"].append(ful)
    counters["creates"] += 1
    return {"fulfillment": {"id": fid, "status": "SUCCESS",
                            "trackingInfo": infos}, "userErrors": []}, None


def tracking_update(v):
    fid = v.get("id")
    ful = next((f for f in fulfillments if f["id"] == fid), None)
    if not ful:
        return user_error(["fulfillmentId"], "Fulfillment does not exist.")
    infos, err = tracking_infos(v.get("t"))
    if err:
        return user_error(["trackingInfoInput"], err)
    ful["trackingInfo"] = infos
    counters["updates"] += 1
    return {"fulfillment": {"id": fid, "trackingInfo": infos},
            "userErrors": []}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        if self.path == "/_state":
            with lock:
                self.send(200, {"fulfillments": fulfillments, **counters})
            return
        self.send(404 if not PATH_RE.match(self.path) else 405,
                  {"errors": "Not Found"})

    def do_POST(self):
        raw = self.read_body()
        if self.path == "/_control":
            with lock:
                c = json.loads(raw)
                if "order" in c:
                    add_order(c.pop("order"))
                knobs.update(c)
                lock.notify_all()
            self.send(200, {"ok": True})
            return
        if not PATH_RE.match(self.path):
            self.send(404, {"errors": "Not Found"})
            return
        with lock:
            counters["requests"] += 1
        if self.headers.get("X-Shopify-Access-Token") != TOKEN or \
                knobs["revoke"]:
            self.send(401, {"errors": "[API] Invalid API key or access "
                            "token (unrecognized login or wrong password)"})
            return
        if not (self.headers.get("Content-Type") or "").startswith(
                "application/json"):
            self.send(400, {"errors": "Content-Type must be "
                            "application/json"})
            return
        try:
            req = json.loads(raw)
            query = req["query"]
            variables = req.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            self.send(400, {"errors": {"query": "Required parameter "
                                       "missing or invalid"}})
            return
        with lock:
            if knobs["fail5xx"] > 0:
                knobs["fail5xx"] -= 1
                self.send(503, {"errors": "Service Unavailable"})
                return
            if knobs["throttle429"] > 0:
                knobs["throttle429"] -= 1
                self.send(429, {"errors": "Exceeded 2 calls per second "
                                "for api client."},
                          [("Retry-After", "1.0")])
                return
            if knobs["throttle"] > 0:
                knobs["throttle"] -= 1
                self.send(200, {"errors": [{
                    "message": "Throttled", "extensions": {
                        "code": "THROTTLED", "documentation":
                        "https://shopify.dev/api/usage/rate-limits"}}],
                    "extensions": {"cost": {
                        "requestedQueryCost": 10, "actualQueryCost": None,
                        "throttleStatus": {"maximumAvailable": 1000.0,
                                           "currentlyAvailable": 3,
                                           "restoreRate": 50.0}}}})
                return
            write = False
            if "fulfillmentEventCreate" in query:
                self.send(200, {"errors": [{"message": "the fake refuses "
                                "fulfillment events: trackmail never sets "
                                "Delivered"}]})
                return
            if re.search(r"\bfulfillmentCreate\s*\(", query):
                data, err = fulfillment_create(variables.get("f"))
                if err:
                    self.send(200, {"errors": [{"message": err}]})
                    return
                if data["userErrors"]:
                    counters["refused"] += 1
                out = {"data": {"fulfillmentCreate": data}}
                write = not data["userErrors"]
            elif re.search(r"\bfulfillmentTrackingInfoUpdate\s*\(", query):
                data = tracking_update(variables)
                out = {"data": {"fulfillmentTrackingInfoUpdate": data}}
                write = not data["userErrors"]
            elif re.search(r"\borders\s*\(", query):
                counters["reads"] += 1
                out = {"data": {"orders": orders_page(variables)}}
            elif re.search(r"\border\s*\(\s*id:", query):
                counters["reads"] += 1
                o = orders.get(variables.get("id"))
                out = {"data": {"order": order_view(o) if o else None}}
            elif re.search(r"\bshop\s*\{", query):
                out = {"data": {"shop": {"name": "fake"}}}
            else:
                self.send(200, {"errors": [{"message": "Field doesn't "
                                "exist on type 'QueryRoot'"}]})
                return
            out["extensions"] = {"cost": COST}
            if write and knobs["hold"]:
                while knobs["hold"]:
                    lock.wait(1)
            slow = 0.0
            if write and knobs["slow"] > 0:
                knobs["slow"] -= 1
                slow = float(knobs["slow_s"])
        if slow:
            time.sleep(slow)
        try:
            self.send(200, out)
        except (BrokenPipeError, ConnectionResetError):
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client killed mid-request (the crash test) is expected


def main():
    global TOKEN
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--orders", type=int, default=0)
    a = ap.parse_args()
    TOKEN = a.token
    for n in range(1, a.orders + 1):
        simple_order(n)
    srv = Server(("127.0.0.1", 0), Handler)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
