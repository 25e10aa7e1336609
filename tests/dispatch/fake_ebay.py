"""fake_ebay.py - eBay Sell Fulfillment API v1, as channels.md section 3
describes it.

- OAuth: POST /identity/v1/oauth2/token, Basic client_id:client_secret,
  form grant_type=refresh_token: a user token; expire_tokens() revokes
  every issued token (401 errorId 1001, domain OAuth).
- GET /sell/fulfillment/v1/order/{id}, GET/POST .../shipping_fulfillment.
  POST validates like eBay: known lineItemId (32200), trackingNumber and
  shippingCarrierCode together and the code exact-case from the list
  (32300), shippedDate YYYY-MM-DDThh:mm:ss.sssZ (32500), quantity not above
  the line (32600), cancelled order (32100). Success 201, empty body,
  Location .../shipping_fulfillment/{trackingNumber}. A repeated call
  creates a second fulfillment (nothing stops it).
- Daily quota: after quota calls, 429 errorId 2001 domain ACCESS
  "Too many requests." with no Retry-After.
"""
import base64
import re
import secrets

from fakehttp import FakeChannel, Reply, main

CLIENT = "TestApp-PRD-1234"
SECRET = "PRD-secret-5678"
REFRESH = "v^1.1#i^1#r^1#refresh"
CODES = {"USPS", "UPS", "FedEx", "DHL", "DHLGlobalMail", "ChinaPost",
         "HongKongPost", "FourPX", "FourPXCHINA", "FourPXExpress",
         "FourPXLTD", "YANWEN", "SFC", "SFCExpress", "Winit", "CHUKOU1",
         "FLYTExpress", "UPSMailInnovations", "FedExSmartPost", "RoyalMail",
         "AustraliaPost", "Other"}
O = r"/sell/fulfillment/v1/order/([^/]+)"
DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def err(status, eid, msg, domain="API_FULFILLMENT", category="REQUEST"):
    return Reply(status, {"errors": [{"errorId": eid, "domain": domain,
                                      "category": category, "message": msg,
                                      "longMessage": msg}]})


class FakeEbay(FakeChannel):
    name = "ebay"

    def __init__(self):
        super().__init__()
        self.state = {"orders": {}, "tokens": [], "calls": 0,
                      "quota": 1000000}
        self.routes = [
            ("POST", r"/identity/v1/oauth2/token", self.token),
            ("GET", O, self.get_order),
            ("GET", O + "/shipping_fulfillment", self.list_f),
            ("POST", O + "/shipping_fulfillment", self.add_f),
        ]

    def add_order(self, oid, lines=(("10022882297012", 1),)):
        self.state["orders"][oid] = {
            "orderId": oid, "cancelState": "NONE_REQUESTED",
            "lineItems": [{"lineItemId": l, "quantity": q, "shipped": 0}
                          for l, q in lines],
            "fulfillments": []}

    def issue_token(self):
        t = "v^1.1#i^1#p^3#" + secrets.token_hex(8)
        self.state["tokens"].append(t)
        return t

    def expire_tokens(self):
        self.state["tokens"] = []

    def token(self, req):
        h = req.headers.get("authorization", "")
        try:
            cid, _, sec = base64.b64decode(h[6:]).decode().partition(":")
        except ValueError:
            cid = sec = None
        if not h.startswith("Basic ") or (cid, sec) != (CLIENT, SECRET):
            return Reply(401, {"error": "invalid_client",
                               "error_description": "client authentication failed"})
        f = getattr(req, "form", {}) or {}
        if f.get("grant_type") != "refresh_token" or \
                f.get("refresh_token") != REFRESH:
            return Reply(400, {"error": "invalid_grant",
                               "error_description": "the provided authorization "
                               "refresh token is invalid or was issued to another client"})
        return Reply(200, {"access_token": self.issue_token(),
                           "expires_in": 7200,
                           "token_type": "User Access Token"})

    def gate(self, req, oid):
        h = req.headers.get("authorization", "")
        if not h.startswith("Bearer ") or h[7:] not in self.state["tokens"]:
            return None, err(401, 1001, "Invalid access token", "OAuth",
                             "REQUEST")
        self.state["calls"] += 1
        if self.state["calls"] > self.state["quota"]:
            return None, err(429, 2001, "Too many requests.", "ACCESS",
                             "REQUEST")
        o = self.state["orders"].get(oid)
        if not o:
            return None, err(404, 32100, "Invalid order Id")
        return o, None

    def status_of(self, li):
        return "FULFILLED" if li["shipped"] >= li["quantity"] else \
            "NOT_STARTED"

    def get_order(self, req, oid):
        o, bad = self.gate(req, oid)
        if bad:
            return bad
        lines = [{"lineItemId": l["lineItemId"], "quantity": l["quantity"],
                  "lineItemFulfillmentStatus": self.status_of(l)}
                 for l in o["lineItems"]]
        st = {self.status_of(l) for l in o["lineItems"]}
        return Reply(200, {
            "orderId": oid, "lineItems": lines,
            "orderFulfillmentStatus": "FULFILLED" if st == {"FULFILLED"}
            else ("IN_PROGRESS" if "FULFILLED" in st else "NOT_STARTED"),
            "cancelStatus": {"cancelState": o["cancelState"]},
            "fulfillmentHrefs": [
                "%s/shipping_fulfillment/%s" % (oid, f["fulfillmentId"])
                for f in o["fulfillments"]]})

    def list_f(self, req, oid):
        o, bad = self.gate(req, oid)
        if bad:
            return bad
        return Reply(200, {"fulfillments": o["fulfillments"],
                           "total": len(o["fulfillments"])})

    def add_f(self, req, oid):
        o, bad = self.gate(req, oid)
        if bad:
            return bad
        b = req.json if isinstance(req.json, dict) else None
        if b is None:
            return err(400, 32600, "Invalid input data")
        if o["cancelState"] == "CANCELED":
            return err(400, 32100, "Invalid order Id")
        lines = b.get("lineItems") or []
        if not lines:
            return err(400, 32200, "Invalid line item id")
        byid = {l["lineItemId"]: l for l in o["lineItems"]}
        for l in lines:
            li = byid.get(l.get("lineItemId"))
            if not li:
                return err(400, 32200, "Invalid line item id")
            if l.get("quantity", 1) > li["quantity"]:
                return err(400, 32600, "Invalid input data")
        num, code = b.get("trackingNumber"), b.get("shippingCarrierCode")
        if bool(num) != bool(code) or (code and code not in CODES):
            return err(400, 32300, "Invalid shipment tracking number or "
                       "carrier")
        if "shippedDate" in b and not DATE.fullmatch(b["shippedDate"] or ""):
            return err(400, 32500, "Invalid shipped date")
        fid = num or "999"
        o["fulfillments"].append({
            "fulfillmentId": fid,
            "lineItems": [{"lineItemId": l["lineItemId"],
                           "quantity": l.get("quantity", 1)} for l in lines],
            "shipmentTrackingNumber": num, "shippingCarrierCode": code,
            "shippedDate": b.get("shippedDate")})
        for l in lines:
            byid[l["lineItemId"]]["shipped"] += l.get("quantity", 1)
        return Reply(201, None, headers={
            "Location": "https://api.ebay.com/sell/fulfillment/v1/order/%s/"
            "shipping_fulfillment/%s" % (oid, fid)})


if __name__ == "__main__":
    main(FakeEbay())
