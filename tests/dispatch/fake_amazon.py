"""fake_amazon.py - Amazon SP-API seller-fulfilled shipment confirmation
and the LWA token endpoint, as channels.md section 6 describes them.

- POST /auth/o2/token (LWA, form grant_type=refresh_token + client id and
  secret): an access token; expire_tokens() makes issued ones expire,
  which Amazon answers with 403 Unauthorized "...has expired." (not 401);
  a missing token is 401.
- GET /orders/2026-01-01/orders/{id}?includedData=FULFILLMENT,PACKAGES:
  {"order":{orderId, fulfillment{fulfillmentStatus, fulfilledBy},
  orderItems[], packages[]}}.
- POST /orders/v0/orders/{id}/shipmentConfirmation: 204 on success.
  Requires marketplaceId and packageDetail{packageReferenceId (positive
  integer string), carrierCode (the list; carrierName required for
  Other), trackingNumber, shipDate (ISO-8601), orderItems (known ids,
  quantity not above the rest)}. The same packageReferenceId updates
  that package in place [U]; a new one on a fully shipped order is 400
  PackageToUpdateNotFound. FBA orders are refused.
- 429 QuotaExceeded via force().
"""
import re
import secrets

from fakehttp import FakeChannel, Reply, main

CLIENT = "amzn1.application-oa2-client.test"
SECRET = "amzn-client-secret"
REFRESH = "Atzr|refresh-token"
MARKET = "ATVPDKIKX0DER"
CODES = {"USPS", "UPS", "UPSMI", "FedEx", "DHL", "Fastway", "GLS",
         "Royal Mail", "Parcelforce", "DHL Global Mail", "OnTrac",
         "Canada Post", "Deutsche Post", "DPD", "La Poste", "Poste Italiane",
         "India Post", "Lasership", "Yodel", "Other"}
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def err(status, code, msg, details=""):
    return Reply(status, {"errors": [{"code": code, "message": msg,
                                      "details": details}]})


class FakeAmazon(FakeChannel):
    name = "amazon"

    def __init__(self):
        super().__init__()
        self.state = {"orders": {}, "tokens": {}}
        self.routes = [
            ("POST", r"/auth/o2/token", self.token),
            ("GET", r"/orders/2026-01-01/orders/([^/]+)", self.get_order),
            ("POST", r"/orders/v0/orders/([^/]+)/shipmentConfirmation",
             self.confirm),
        ]

    def add_order(self, oid, items=(("79039765272157", 1),), by="MERCHANT"):
        self.state["orders"][oid] = {
            "orderId": oid, "status": "UNSHIPPED", "fulfilledBy": by,
            "orderItems": [{"orderItemId": i, "quantityOrdered": q}
                           for i, q in items],
            "packages": []}

    def issue_token(self):
        t = "Atza|" + secrets.token_hex(8)
        self.state["tokens"][t] = True
        return t

    def expire_tokens(self):
        for t in self.state["tokens"]:
            self.state["tokens"][t] = False

    def token(self, req):
        f = getattr(req, "form", {}) or {}
        if f.get("client_id") != CLIENT or f.get("client_secret") != SECRET:
            return Reply(401, {"error": "invalid_client",
                               "error_description": "Client authentication failed"})
        if f.get("grant_type") != "refresh_token" or \
                f.get("refresh_token") != REFRESH:
            return Reply(400, {"error": "invalid_grant",
                               "error_description": "The request has an invalid grant parameter"})
        return Reply(200, {"access_token": self.issue_token(),
                           "token_type": "bearer", "expires_in": 3600,
                           "refresh_token": REFRESH})

    def gate(self, req, oid):
        t = req.headers.get("x-amz-access-token")
        if not t or t not in self.state["tokens"]:
            return None, err(401, "Unauthorized", "Access to requested "
                             "resource is denied.", "")
        if not self.state["tokens"][t]:
            return None, err(403, "Unauthorized", "Access to requested "
                             "resource is denied.",
                             "The access token you provided has expired.")
        o = self.state["orders"].get(oid)
        if not o:
            return None, err(404, "NotFound", "Order not found")
        return o, None

    def shipped(self, o):
        n = {}
        for p in o["packages"]:
            for it in p["packageItems"]:
                n[it["orderItemId"]] = n.get(it["orderItemId"], 0) + \
                    it["quantity"]
        return n

    def get_order(self, req, oid):
        o, bad = self.gate(req, oid)
        if bad:
            return bad
        return Reply(200, {"order": {
            "orderId": oid,
            "fulfillment": {"fulfillmentStatus": o["status"],
                            "fulfilledBy": o["fulfilledBy"]},
            "orderItems": o["orderItems"], "packages": o["packages"]}},
            headers={"x-amzn-RateLimit-Limit": "0.5"})

    def confirm(self, req, oid):
        o, bad = self.gate(req, oid)
        if bad:
            return bad
        b = req.json if isinstance(req.json, dict) else {}
        if b.get("marketplaceId") != MARKET:
            return err(400, "InvalidInput", "marketplaceId: is invalid.")
        pd = b.get("packageDetail") or {}
        ref = pd.get("packageReferenceId")
        if not isinstance(ref, str) or not ref.isdigit() or int(ref) < 1:
            return err(400, "InvalidInput", "PackageReferenceId: is invalid, "
                       "must be a positive numeric value.")
        code = pd.get("carrierCode")
        if code not in CODES:
            return err(400, "InvalidInput", "CarrierCode: is invalid.")
        if code == "Other" and not pd.get("carrierName"):
            return err(400, "InvalidInput", "CarrierName: is required when "
                       "CarrierCode is Other.")
        if not pd.get("trackingNumber"):
            return err(400, "InvalidInput", "TrackingNumber: is required.")
        if not ISO.fullmatch(pd.get("shipDate") or ""):
            return err(400, "InvalidInput", "ShipDate: is invalid.")
        if o["fulfilledBy"] != "MERCHANT":
            return err(400, "InvalidInput", "Order is fulfilled by Amazon.")
        if o["status"] == "CANCELLED":
            return err(400, "InvalidInput", "Order is cancelled.")
        same = [p for p in o["packages"] if p["packageReferenceId"] == ref]
        shipped = self.shipped(o)
        if same:
            for it in same[0]["packageItems"]:
                shipped[it["orderItemId"]] -= it["quantity"]
        items = pd.get("orderItems") or []
        byid = {i["orderItemId"]: i for i in o["orderItems"]}
        rest_total = sum(i["quantityOrdered"] - shipped.get(i["orderItemId"], 0)
                         for i in o["orderItems"])
        if not same and rest_total <= 0:
            return err(400, "InvalidInput", "Failed to create package due to "
                       "not finding a matching package or order already "
                       "fulfilled errorMetric=PackageToUpdateNotFound")
        if not items:
            return err(400, "InvalidInput", "OrderItems: is required.")
        for it in items:
            i = byid.get(it.get("orderItemId"))
            if not i or it.get("quantity", 0) < 1 or it["quantity"] > \
                    i["quantityOrdered"] - shipped.get(i["orderItemId"], 0):
                return err(400, "InvalidInput", "OrderItems: item or quantity "
                           "mismatch.")
        pkg = {"packageReferenceId": ref, "carrier": code if code != "Other"
               else pd["carrierName"], "carrierCode": code,
               "trackingNumber": pd["trackingNumber"],
               "shipTime": pd["shipDate"],
               "packageStatus": {"status": "SHIPPED"},
               "packageItems": [{"orderItemId": it["orderItemId"],
                                 "quantity": it["quantity"]} for it in items]}
        if same:
            o["packages"][o["packages"].index(same[0])] = pkg
        else:
            o["packages"].append(pkg)
        left = sum(i["quantityOrdered"] - self.shipped(o).get(i["orderItemId"], 0)
                   for i in o["orderItems"])
        o["status"] = "SHIPPED" if left <= 0 else "PARTIALLY_SHIPPED"
        return Reply(204, None, headers={"x-amzn-RateLimit-Limit": "2.0",
                                         "x-amzn-RequestId": "req-1"})


if __name__ == "__main__":
    main(FakeAmazon())
