#!/usr/bin/env python3
"""fake_shopify_selftest.py - the fake Shopify's own tests, written before
the adapter: a fake that accepts a wrong request fails here. Each case
is one of channels.md section 2's errors or rules. TAP output."""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "shpat_selftest_0123456789"
n = failed = 0


def check(name, cond):
    global n, failed
    n += 1
    if not cond:
        failed += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, name))


def call(port, body, token=TOKEN, path="/admin/api/2026-10/graphql.json",
         ctype="application/json", method="POST"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path),
                                 data=data if method == "POST" else None,
                                 method=method)
    if token is not None:
        req.add_header("X-Shopify-Access-Token", token)
    req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read()), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null"), dict(e.headers)


def control(port, knobs):
    call(port, knobs, path="/_control")


CREATE = ("mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment:"
          " $f) { fulfillment { id } userErrors { field message } } }")
READ = "query($id: ID!) { order(id: $id) { id } }"


def create(port, f):
    return call(port, {"query": CREATE, "variables": {"f": f}})


def fo_input(n, qty=1, line=None):
    return [{"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/%d" % (
        n * 10), "fulfillmentOrderLineItems": [{
            "id": line or "gid://shopify/FulfillmentOrderLineItem/%d" % (
                n * 10 + 1), "quantity": qty}]}]


def main():
    tmp = tempfile.mkdtemp()
    pf = os.path.join(tmp, "port")
    p = subprocess.Popen([sys.executable, os.path.join(HERE,
                          "fake_shopify.py"), "--port-file", pf,
                          "--token", TOKEN, "--orders", "5"])
    try:
        for _ in range(100):
            if os.path.exists(pf):
                break
            time.sleep(0.05)
        port = int(open(pf).read())
        tr = {"company": "UPS", "number": "1Z999AA10123456784"}

        st, body, _ = call(port, {"query": READ, "variables": {
            "id": "gid://shopify/Order/1"}}, token=None)
        check("no access token: HTTP 401", st == 401)
        st, body, _ = call(port, {"query": READ, "variables": {
            "id": "gid://shopify/Order/1"}}, token="shpat_wrong")
        check("wrong token: HTTP 401 with Shopify's message",
              st == 401 and "Invalid API key" in body["errors"])
        st, _, _ = call(port, {"query": READ}, path="/admin/api/graphql.json")
        check("no API version in the path: 404", st == 404)
        st, _, _ = call(port, {"query": READ},
                        path="/admin/api/2026-10/orders.json")
        check("a REST path is not the GraphQL endpoint: 404", st == 404)
        st, _, _ = call(port, b"query=x", ctype="text/plain")
        check("a body that is not JSON: 400", st == 400)
        st, body, _ = call(port, {"query": READ, "variables": {
            "id": "gid://shopify/Order/999"}})
        check("an unknown order reads as null",
              st == 200 and body["data"]["order"] is None)
        check("every answer carries extensions.cost",
              "cost" in body.get("extensions", {}))

        st, body, _ = create(port, {"trackingInfo": tr})
        check("fulfillmentCreate without lineItemsByFulfillmentOrder: "
              "top-level error", st == 200 and "errors" in body)
        st, body, _ = create(port, {"trackingInfo": tr,
                                    "lineItemsByFulfillmentOrder":
                                    fo_input(1, qty=2)})
        check("quantity above remaining: userErrors, nothing fulfilled",
              body["data"]["fulfillmentCreate"]["fulfillment"] is None and
              body["data"]["fulfillmentCreate"]["userErrors"])
        st, body, _ = create(port, {"trackingInfo": tr,
                                    "lineItemsByFulfillmentOrder":
                                    fo_input(1, line="gid://shopify/"
                                             "FulfillmentOrderLineItem/1")})
        check("a line item id of another order (or LineItem id): userErrors",
              body["data"]["fulfillmentCreate"]["userErrors"])
        st, body, _ = create(port, {"trackingInfo": {
            "company": "UPS", "number": "1Z1", "numbers": ["1Z2"]},
            "lineItemsByFulfillmentOrder": fo_input(1)})
        check("number and numbers together: userErrors",
              body["data"]["fulfillmentCreate"]["userErrors"])
        st, body, _ = create(port, {"trackingInfo": {
            "company": "Foo", "url": "https://t.example/1"},
            "lineItemsByFulfillmentOrder": fo_input(1)})
        check("a url without a number: userErrors",
              body["data"]["fulfillmentCreate"]["userErrors"])
        st, body, _ = create(port, {"trackingInfo": tr,
                                    "lineItemsByFulfillmentOrder": [{
                                        "fulfillmentOrderId":
                                        "gid://shopify/FulfillmentOrder/1"}]})
        check("an unknown fulfillment order: userErrors",
              body["data"]["fulfillmentCreate"]["userErrors"])
        state = call(port, None, path="/_state", method="GET")[1]
        check("no refused call created a fulfillment",
              state["fulfillments"] == [])

        st, body, _ = create(port, {"trackingInfo": tr, "notifyCustomer": True,
                                    "lineItemsByFulfillmentOrder":
                                    fo_input(1)})
        ful = body["data"]["fulfillmentCreate"]["fulfillment"]
        check("a right request creates the fulfillment",
              ful and ful["id"].startswith("gid://shopify/Fulfillment/"))
        st, body, _ = create(port, {"trackingInfo": tr,
                                    "lineItemsByFulfillmentOrder":
                                    fo_input(1)})
        check("the same call again: userErrors (remaining is 0)",
              body["data"]["fulfillmentCreate"]["userErrors"])
        st, body, _ = call(port, {"query": READ, "variables": {
            "id": "gid://shopify/Order/1"}})
        o = body["data"]["order"]
        check("the pre-read shows the number on the order",
              o["fulfillments"][0]["trackingInfo"][0]["number"] == tr["number"])
        check("and remainingQuantity 0",
              o["fulfillmentOrders"]["nodes"][0]["lineItems"]["nodes"][0]
              ["remainingQuantity"] == 0)

        upd = ("mutation($id: ID!, $t: FulfillmentTrackingInput!) { "
               "fulfillmentTrackingInfoUpdate(fulfillmentId: $id, "
               "trackingInfoInput: $t) { fulfillment { id } userErrors { "
               "message } } }")
        st, body, _ = call(port, {"query": upd, "variables": {
            "id": "gid://shopify/Fulfillment/1", "t": tr}})
        check("updating an unknown fulfillment: userErrors",
              body["data"]["fulfillmentTrackingInfoUpdate"]["userErrors"])
        st, body, _ = call(port, {"query": "mutation { fulfillmentEventCreate"
                                  "(fulfillmentEvent: {status: DELIVERED}) "
                                  "{ userErrors { message } } }"})
        check("a Delivered event is refused", "errors" in body)

        control(port, {"throttle": 1})
        st, body, _ = call(port, {"query": READ, "variables": {
            "id": "gid://shopify/Order/2"}})
        check("throttle knob: HTTP 200 with THROTTLED and throttleStatus",
              st == 200 and body["errors"][0]["extensions"]["code"] ==
              "THROTTLED" and body["extensions"]["cost"]["throttleStatus"])
        control(port, {"throttle429": 1})
        st, body, hdr = call(port, {"query": READ, "variables": {
            "id": "gid://shopify/Order/2"}})
        check("throttle429 knob: HTTP 429 with Retry-After",
              st == 429 and hdr.get("Retry-After") == "1.0")
        control(port, {"fail5xx": 1})
        st, _, _ = call(port, {"query": READ, "variables": {
            "id": "gid://shopify/Order/2"}})
        check("fail5xx knob: HTTP 503", st == 503)
        control(port, {"order": {"id": "50", "fos": [{
            "id": "gid://shopify/FulfillmentOrder/500", "actions": [],
            "lines": [{"id": "gid://shopify/FulfillmentOrderLineItem/501",
                       "line": "gid://shopify/LineItem/501", "qty": 1}]}]}})
        st, body, _ = create(port, {"trackingInfo": tr,
                                    "lineItemsByFulfillmentOrder": [{
                                        "fulfillmentOrderId":
                                        "gid://shopify/FulfillmentOrder/500"
                                    }]})
        check("a fulfillment order owned by another app: userErrors",
              body["data"]["fulfillmentCreate"]["userErrors"])
    finally:
        p.terminate()
        p.wait()
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
