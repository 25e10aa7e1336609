"""fake_tiktok.py - TikTok Shop Partner API v202309 fulfillment, as
channels.md section 10 describes it.

- Every call: x-tts-access-token, query app_key, timestamp (Unix seconds,
  accepted -5 min..+30 s), shop_cipher and sign = lower-case hex
  HMAC-SHA256(app_secret, app_secret + path + sorted key+value pairs
  (without sign and access_token) + raw body + app_secret). Errors are
  HTTP 200 with code != 0 (106001 bad sign/timestamp, 36009004 bad
  app_key, 105002 expired token); 429 code 36009002 when throttled.
- GET /api/v2/token/refresh (the auth host, same server here):
  app_key, app_secret, refresh_token, grant_type=refresh_token.
- GET /order/202309/orders?ids=...: line items with package_id,
  tracking_number, shipping_provider_id; delivery_option_id;
  fulfillment_type (FULFILLMENT_BY_TIKTOK = FBT).
- GET /logistics/202309/delivery_options/{id}/shipping_providers.
- POST /fulfillment/202309/orders/{id}/packages (Mark Package As
  Shipped): 21011006 already shipped, 21004016 unknown provider id,
  21004012 special characters, 21008025 FBT, 21011025 tracking number
  already used on another order.
- POST /fulfillment/202309/packages/{pid}/shipping_info/update.
"""
import hashlib
import hmac
import json
import secrets
import time

from fakehttp import FakeChannel, Reply, main

APP_KEY = "6abcdefghijk"
APP_SECRET = "tts-app-secret"
REFRESH = "tts-refresh"
CIPHER = "ROW_shopcipher"
PROVIDERS = [{"id": "7117858858072016686", "name": "USPS"},
             {"id": "7117859084333745966", "name": "UPS"},
             {"id": "7129736340043237163", "name": "FedEx"},
             {"id": "7248600717110282027", "name": "YunExpress"}]


def sign(path, query, body):
    s = APP_SECRET + path
    for k in sorted(query):
        if k not in ("sign", "access_token"):
            s += k + query[k]
    s += body + APP_SECRET
    return hmac.new(APP_SECRET.encode(), s.encode(), hashlib.sha256).hexdigest()


def fail(code, msg):
    return Reply(200, {"code": code, "message": msg, "request_id": "r1",
                       "data": None})


def ok(data):
    return Reply(200, {"code": 0, "message": "Success", "request_id": "r1",
                       "data": data})


class FakeTikTok(FakeChannel):
    name = "tiktok"

    def __init__(self):
        super().__init__()
        self.state = {"orders": {}, "tokens": [], "used_numbers": {},
                      "next_pkg": 1150000000000000000, "warning": None}
        self.routes = [
            ("GET", r"/api/v2/token/refresh", self.refresh),
            ("GET", r"/order/202309/orders", self.get_orders),
            ("GET", r"/logistics/202309/delivery_options/([^/]+)/"
             r"shipping_providers", self.providers),
            ("POST", r"/fulfillment/202309/orders/([^/]+)/packages",
             self.mark_shipped),
            ("POST", r"/fulfillment/202309/packages/([^/]+)/shipping_info/"
             r"update", self.update),
        ]

    def add_order(self, oid, lines=("2321312321311",), fbt=False):
        self.state["orders"][oid] = {
            "id": oid, "status": "AWAITING_SHIPMENT",
            "fulfillment_type": "FULFILLMENT_BY_TIKTOK" if fbt
            else "FULFILLMENT_BY_SELLER",
            "delivery_option_id": "7091146663229654785",
            "line_items": [{"id": l, "package_id": None,
                            "tracking_number": None,
                            "shipping_provider_id": None} for l in lines]}

    def issue_token(self):
        t = "ROW_" + secrets.token_hex(8)
        self.state["tokens"].append(t)
        return t

    def expire_tokens(self):
        self.state["tokens"] = []

    def refresh(self, req):
        q = req.query
        if q.get("app_key") != APP_KEY or q.get("app_secret") != APP_SECRET \
                or q.get("refresh_token") != REFRESH or \
                q.get("grant_type") != "refresh_token":
            return fail(36004004, "invalid refresh token")
        return ok({"access_token": self.issue_token(),
                   "access_token_expire_in": int(time.time()) + 3600,
                   "refresh_token": REFRESH})

    def gate(self, req):
        q = req.query
        if q.get("app_key") != APP_KEY:
            return fail(36009004, "Invalid app_key")
        try:
            ts = int(q.get("timestamp", ""))
        except ValueError:
            return fail(106001, "Invalid timestamp")
        now = int(time.time())
        if ts < now - 300 or ts > now + 30:
            return fail(106001, "Timestamp is out of window")
        if q.get("sign") != sign(req.path, q, req.raw.decode()):
            return fail(106001, "Invalid sign")
        if q.get("shop_cipher") != CIPHER:
            return fail(106001, "Invalid shop_cipher")
        if req.headers.get("x-tts-access-token") not in self.state["tokens"]:
            return fail(105002, "Expired credentials")
        return None

    def get_orders(self, req):
        bad = self.gate(req)
        if bad:
            return bad
        ids = (req.query.get("ids") or "").split(",")
        return ok({"orders": [self.state["orders"][i] for i in ids
                              if i in self.state["orders"]]})

    def providers(self, req, dopt):
        bad = self.gate(req)
        return bad or ok({"shipping_providers": PROVIDERS})

    def mark_shipped(self, req, oid):
        bad = self.gate(req)
        if bad:
            return bad
        o = self.state["orders"].get(oid)
        if not o:
            return fail(21011001, "Order not found")
        b = req.json if isinstance(req.json, dict) else {}
        num, pid = b.get("tracking_number"), b.get("shipping_provider_id")
        if not num or not pid:
            return fail(21001001, "tracking_number and shipping_provider_id "
                        "are required")
        if o["fulfillment_type"] == "FULFILLMENT_BY_TIKTOK":
            return fail(21008025, "Order is fulfilled by the platform")
        if pid not in [p["id"] for p in PROVIDERS]:
            return fail(21004016, "Shipping provider is not supported")
        if not num.isalnum():
            return fail(21004012, "Tracking number has special characters")
        used = self.state["used_numbers"].get(num)
        if used and used != oid:
            return fail(21011025, "Tracking number is already used")
        ids = b.get("order_line_item_ids") or [l["id"] for l in o["line_items"]]
        lines = {l["id"]: l for l in o["line_items"]}
        for i in ids:
            if i not in lines:
                return fail(21011002, "Invalid order line item id")
            if lines[i]["tracking_number"]:
                return fail(21011006, "These orders are already shipped.")
        self.state["next_pkg"] += 1
        pkg = str(self.state["next_pkg"])
        for i in ids:
            lines[i].update(package_id=pkg, tracking_number=num,
                            shipping_provider_id=pid)
        self.state["used_numbers"][num] = oid
        if all(l["tracking_number"] for l in o["line_items"]):
            o["status"] = "AWAITING_COLLECTION"
        data = {"order_id": oid, "order_line_item_ids": ids, "package_id": pkg}
        if self.state["warning"]:
            data["warning"] = {"message": self.state["warning"]}
        return ok(data)

    def update(self, req, pkg):
        bad = self.gate(req)
        if bad:
            return bad
        b = req.json if isinstance(req.json, dict) else {}
        if b.get("shipping_provider_id") not in [p["id"] for p in PROVIDERS]:
            return fail(21004016, "Shipping provider is not supported")
        hit = False
        for o in self.state["orders"].values():
            for l in o["line_items"]:
                if l["package_id"] == pkg:
                    l["tracking_number"] = b.get("tracking_number")
                    l["shipping_provider_id"] = b["shipping_provider_id"]
                    hit = True
        return ok({}) if hit else fail(21011003, "Package not found")


if __name__ == "__main__":
    main(FakeTikTok())
