"""fake_wix.py - Wix eCommerce orders and Order Fulfillments v1, as
channels.md section 9 describes them.

- Authorization: the access token itself (no "Bearer"); with site_id set
  in state, header wix-site-id must match (API-key style). 401/403 in the
  standard Wix error shape.
- GET /ecom/v1/orders/{id}: status, fulfillmentStatus, lineItems.
- GET /ecom/v1/fulfillments/orders/{id}: the order's fulfillments [U path].
- POST .../fulfillments/orders/{id}/create-fulfillment: lineItems[].id
  required and of the order, quantity not above the not-yet-fulfilled
  rest (validationError), order APPROVED (applicationError), at most 300
  lines; trackingInfo.trackingNumber required when trackingInfo is sent.
  Predefined providers (fedex, ups, usps, dhl, canadaPost) get a link;
  any other name is custom and keeps only the trackingLink sent.
- PATCH /ecom/v1/fulfillments/{fid}/orders/{id} updates trackingInfo [U path].
- 429 RESOURCE_EXHAUSTED via force().
"""
import uuid

from fakehttp import FakeChannel, Reply, main

TOKEN = "OauthNG.JWS.wix-token"
PREDEFINED = {"fedex": "https://www.fedex.com/fedextrack/?trknbr=%s",
              "ups": "https://www.ups.com/track?tracknum=%s",
              "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels=%s",
              "dhl": "https://www.dhl.com/track?AWB=%s",
              "canadaPost": "https://www.canadapost.ca/track?pin=%s"}
F = r"/ecom/v1/fulfillments/orders/([^/]+)"


def app_err(status, msg, code):
    return Reply(status, {"message": msg, "details": {"applicationError": {
        "code": code, "description": msg, "data": {}}}})


def val_err(field, desc):
    return Reply(400, {"message": desc, "details": {"validationError": {
        "fieldViolations": [{"field": field, "description": desc}]}}})


class FakeWix(FakeChannel):
    name = "wix"

    def __init__(self):
        super().__init__()
        self.state = {"orders": {}, "site_id": None}
        self.routes = [
            ("POST", r"/ecom/v1/orders/search", self.search),
            ("GET", r"/ecom/v1/orders/([^/]+)", self.get_order),
            ("GET", F, self.list_f),
            ("POST", F + "/create-fulfillment", self.create),
            ("PATCH", r"/ecom/v1/fulfillments/([^/]+)/orders/([^/]+)",
             self.update),
        ]

    def add_order(self, oid, lines=(("00000000-0000-0000-0000-000000000001", 1),)):
        self.state["orders"][oid] = {
            "id": oid, "status": "APPROVED",
            "lineItems": [{"id": l, "quantity": q} for l, q in lines],
            "fulfillments": []}

    def gate(self, req, oid):
        if req.headers.get("authorization") != TOKEN:
            return None, app_err(401, "Unauthorized", "UNAUTHENTICATED")
        if self.state["site_id"] and \
                req.headers.get("wix-site-id") != self.state["site_id"]:
            return None, app_err(403, "Forbidden", "PERMISSION_DENIED")
        o = self.state["orders"].get(oid)
        if not o:
            return None, app_err(404, "Order not found", "ORDER_NOT_FOUND")
        return o, None

    def fulfilled(self, o):
        done = {}
        for f in o["fulfillments"]:
            for l in f["lineItems"]:
                done[l["id"]] = done.get(l["id"], 0) + l["quantity"]
        return done

    def status(self, o):
        done = self.fulfilled(o)
        rest = sum(l["quantity"] - done.get(l["id"], 0) for l in o["lineItems"])
        if not done:
            return "NOT_FULFILLED"
        return "FULFILLED" if rest == 0 else "PARTIALLY_FULFILLED"

    def view(self, o):
        return {"orderWithFulfillments": {"orderId": o["id"],
                                          "fulfillments": o["fulfillments"]}}

    def search(self, req):
        if req.headers.get("authorization") != TOKEN:
            return app_err(401, "Unauthorized", "UNAUTHENTICATED")
        return Reply(200, {"orders": [], "metadata": {"count": 0}})

    def get_order(self, req, oid):
        o, bad = self.gate(req, oid)
        if bad:
            return bad
        return Reply(200, {"order": {"id": oid, "status": o["status"],
                                     "fulfillmentStatus": self.status(o),
                                     "lineItems": o["lineItems"]}})

    def list_f(self, req, oid):
        o, bad = self.gate(req, oid)
        return bad or Reply(200, self.view(o))

    def tracking(self, ti):
        if not ti.get("trackingNumber"):
            return None, val_err("fulfillment.trackingInfo.trackingNumber",
                                 "must not be empty")
        p = ti.get("shippingProvider") or ""
        link = ti.get("trackingLink") or ""
        if p in PREDEFINED and not link:
            link = PREDEFINED[p] % ti["trackingNumber"]
        return {"trackingNumber": ti["trackingNumber"],
                "shippingProvider": p, "trackingLink": link}, None

    def create(self, req, oid):
        o, bad = self.gate(req, oid)
        if bad:
            return bad
        f = (req.json or {}).get("fulfillment") if isinstance(req.json, dict) \
            else None
        if not isinstance(f, dict) or not f.get("lineItems"):
            return val_err("fulfillment.lineItems", "must not be empty")
        if len(f["lineItems"]) > 300:
            return val_err("fulfillment.lineItems", "at most 300")
        if o["status"] != "APPROVED":
            return app_err(400, "Order is not approved", "ORDER_NOT_APPROVED")
        done = self.fulfilled(o)
        byid = {l["id"]: l for l in o["lineItems"]}
        lines = []
        for l in f["lineItems"]:
            li = byid.get(l.get("id"))
            if not li:
                return val_err("fulfillment.lineItems.id", "unknown line item")
            rest = li["quantity"] - done.get(li["id"], 0)
            q = l.get("quantity", rest)
            if q < 1 or q > rest:
                return val_err("fulfillment.lineItems.quantity",
                               "quantity exceeds the unfulfilled quantity")
            lines.append({"id": li["id"], "quantity": q})
        ti = None
        if "trackingInfo" in f:
            ti, bad = self.tracking(f["trackingInfo"])
            if bad:
                return bad
        fid = str(uuid.uuid4())
        o["fulfillments"].append({"id": fid, "createdDate": "2026-12-02",
                                  "lineItems": lines, "trackingInfo": ti})
        return Reply(200, dict(self.view(o), fulfillmentId=fid))

    def update(self, req, fid, oid):
        o, bad = self.gate(req, oid)
        if bad:
            return bad
        f = (req.json or {}).get("fulfillment") if isinstance(req.json, dict) \
            else None
        if not isinstance(f, dict) or "trackingInfo" not in f:
            return val_err("fulfillment.trackingInfo", "must be set")
        for ful in o["fulfillments"]:
            if ful["id"] == fid:
                ti, bad = self.tracking(f["trackingInfo"])
                if bad:
                    return bad
                ful["trackingInfo"] = ti
                return Reply(200, self.view(o))
        return app_err(404, "Fulfillment not found", "FULFILLMENT_NOT_FOUND")


if __name__ == "__main__":
    main(FakeWix())
