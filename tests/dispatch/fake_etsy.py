"""fake_etsy.py - Etsy Open API v3 receipts, as channels.md section 5
describes them.

- Every call: x-api-key "keystring:shared_secret" (without the colon: 403
  "Shared secret is required in x-api-key header."), Authorization
  Bearer with a live access token (else 401 invalid_token).
- POST /v3/public/oauth/token grant_type=refresh_token (form): a new
  access token; expire_tokens() makes every issued one invalid.
- GET/POST /v3/application/shops/{shop}/receipts/{rid}[/tracking]:
  createReceiptShipment appends a shipment and EMAILS THE BUYER on every
  successful call (state emails counts them); 400 "A tracking number is
  required" for US domestic receipts over $10 without tracking_code and
  carrier_name; 409 for cancelled receipts; 403 for another shop.
  An unknown carrier_name is accepted, as by Etsy, but the number is not
  shown to the buyer (recorded as hidden).
- Rate-limit headers on every answer; 429 with retry-after via force().
"""
import secrets
import time

from fakehttp import FakeChannel, Reply, main

KEYSTRING = "etsykeystring1"
SHARED = "etsysharedsecret"
REFRESH = "12345678.refresh-token"
SHOP = "5551234"
CARRIERS = {"usps", "ups", "fedex", "dhl", "dhl-global-mail",
            "dhl-global-mail-asia", "china-post", "china-ems", "4px",
            "yanwen", "sf-express", "hong-kong-post", "royal-mail",
            "canada-post", "australia-post", "other"}
R = r"/v3/application/shops/([^/]+)/receipts/([^/]+)"


def err(status, text, headers=None):
    return Reply(status, {"error": text}, headers=headers)


class FakeEtsy(FakeChannel):
    name = "etsy"

    def __init__(self):
        super().__init__()
        self.state = {"receipts": {}, "emails": 0, "tokens": [],
                      "remaining_today": 10000, "next_ship_id": 1000}
        self.routes = [
            ("POST", r"/v3/public/oauth/token", self.token),
            ("GET", r"/v3/application/openapi-ping", self.ping),
            ("GET", R, self.get_receipt),
            ("POST", R + "/tracking", self.tracking),
        ]

    def add_receipt(self, rid, status="Paid", total=25.0, domestic_us=True):
        self.state["receipts"][str(rid)] = {
            "receipt_id": int(rid), "status": status, "is_paid": True,
            "is_shipped": False, "shipments": [], "total": total,
            "domestic_us": domestic_us,
            "transactions": [{"transaction_id": int(rid) * 10,
                              "quantity": 1}]}

    def issue_token(self):
        t = "%s.%s" % (KEYSTRING[:4], secrets.token_hex(8))
        self.state["tokens"].append(t)
        return t

    def expire_tokens(self):
        self.state["tokens"] = []

    def headers(self):
        self.state["remaining_today"] -= 1
        return {"x-limit-per-second": "10", "x-remaining-this-second": "9",
                "x-limit-per-day": "10000",
                "x-remaining-today": str(self.state["remaining_today"])}

    def auth(self, req):
        key = req.headers.get("x-api-key", "")
        if ":" not in key:
            return err(403, "Shared secret is required in x-api-key header.")
        if key != "%s:%s" % (KEYSTRING, SHARED):
            return err(403, "Invalid API key")
        h = req.headers.get("authorization", "")
        if not h.startswith("Bearer ") or h[7:] not in self.state["tokens"]:
            return err(401, "invalid_token")
        return None

    def ping(self, req):
        if req.headers.get("x-api-key", "") != "%s:%s" % (KEYSTRING, SHARED):
            return err(403, "Invalid API key")
        return Reply(200, {"application_id": 1})

    def token(self, req):
        f = getattr(req, "form", {}) or {}
        if f.get("grant_type") != "refresh_token" or \
                f.get("client_id") != KEYSTRING:
            return err(400, "invalid_request")
        if f.get("refresh_token") != REFRESH:
            return err(400, "invalid_grant")
        return Reply(200, {"access_token": self.issue_token(),
                           "token_type": "Bearer", "expires_in": 3600,
                           "refresh_token": REFRESH})

    def view(self, r):
        return {k: v for k, v in r.items()
                if k not in ("domestic_us", "total")}

    def receipt(self, req, shop, rid):
        bad = self.auth(req)
        if bad:
            return None, bad
        if shop != SHOP:
            return None, err(403, "The application does not have access to "
                             "this shop")
        r = self.state["receipts"].get(rid)
        if not r:
            return None, err(404, "Receipt not found")
        return r, None

    def get_receipt(self, req, shop, rid):
        r, bad = self.receipt(req, shop, rid)
        if bad:
            return bad
        return Reply(200, self.view(r), headers=self.headers())

    def tracking(self, req, shop, rid):
        r, bad = self.receipt(req, shop, rid)
        if bad:
            return bad
        b = req.json if isinstance(req.json, dict) else \
            (getattr(req, "form", None) or {})
        code, carrier = b.get("tracking_code"), b.get("carrier_name")
        if bool(code) != bool(carrier):
            return err(400, "tracking_code and carrier_name must be sent "
                       "together")
        if not code and r["domestic_us"] and r["total"] > 10:
            return err(400, "A tracking number is required")
        if r["status"].lower() in ("canceled", "cancelled", "fully refunded"):
            return err(409, "The receipt cannot be shipped in its state")
        self.state["next_ship_id"] += 1
        r["shipments"].append({
            "receipt_shipping_id": self.state["next_ship_id"],
            "shipment_notification_timestamp": int(time.time()),
            "carrier_name": carrier or "", "tracking_code": code or "",
            "hidden": bool(carrier) and carrier not in CARRIERS})
        r["is_shipped"] = True
        r["status"] = "Completed"
        self.state["emails"] += 1
        return Reply(200, self.view(r), headers=self.headers())


if __name__ == "__main__":
    main(FakeEtsy())
