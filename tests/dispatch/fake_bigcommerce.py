"""fake_bigcommerce.py - BigCommerce REST v2 orders and shipments, as
channels.md section 8 describes them (api-url = .../stores/{hash}).

- X-Auth-Token on every call (401 otherwise); v2 error bodies are arrays
  [{"status":N,"message":"..."}].
- GET /v2/orders/{id}, .../products (quantity, quantity_shipped),
  .../shipping_addresses, .../shipments; POST .../shipments requires
  order_address_id (an address of the order) and items whose quantity is
  not above what remains; tracking_carrier must be a known slug or "";
  shipping_provider from the enum. Success 201; the order moves to 2
  Shipped or 3 Partially Shipped; a customer email is counted. A second
  POST for remaining items creates another shipment (no guard).
- PUT .../shipments/{sid} changes the tracking of a shipment.
- Rate-limit headers on every answer; 429 with X-Retry-After via force().
"""
from fakehttp import FakeChannel, Reply, main

TOKEN = "bc-access-token-123"
SLUGS = {"usps", "ups", "fedex", "dhl", "dhl-global-mail",
         "dhl-global-mail-asia", "china-post", "yunexpress", "4px",
         "yanwen", "cainiao", "sf-express", "canada-post", "australia-post",
         "royal-mail", ""}
PROVIDERS = {"", "auspost", "canadapost", "endicia", "usps", "fedex",
             "royalmail", "ups", "upsready", "shipperhq"}
O = r"/v2/orders/(\d+)"


def err(status, msg):
    return Reply(status, [{"status": status, "message": msg}])


class FakeBigCommerce(FakeChannel):
    name = "bigcommerce"

    def __init__(self):
        super().__init__()
        self.state = {"orders": {}, "emails": 0, "next_id": 10}
        self.routes = [
            ("GET", O, self.get_order),
            ("GET", O + "/products", self.products),
            ("GET", O + "/shipping_addresses", self.addresses),
            ("GET", O + "/shipments", self.shipments),
            ("POST", O + "/shipments", self.add_shipment),
            ("PUT", O + r"/shipments/(\d+)", self.put_shipment),
            ("GET", r"/v2/store", self.store),
        ]

    def add_order(self, oid, products=((194, 1),), address=128):
        self.state["orders"][str(oid)] = {
            "id": int(oid), "status_id": 11,
            "products": [{"id": p, "quantity": q, "quantity_shipped": 0}
                         for p, q in products],
            "addresses": [{"id": address}], "shipments": []}

    def rl(self):
        return {"X-Rate-Limit-Time-Window-Ms": "30000",
                "X-Rate-Limit-Time-Reset-Ms": "15000",
                "X-Rate-Limit-Requests-Quota": "150",
                "X-Rate-Limit-Requests-Left": "149"}

    def gate(self, req, oid=None):
        if req.headers.get("x-auth-token") != TOKEN:
            return None, err(401, "You are not authorized to access this "
                             "resource.")
        if oid is None:
            return None, None
        o = self.state["orders"].get(oid)
        if not o:
            return None, err(404, "The requested resource was not found.")
        return o, None

    def store(self, req):
        _, bad = self.gate(req)
        return bad or Reply(200, {"id": "abc", "name": "Fake store"})

    def get_order(self, req, oid):
        o, bad = self.gate(req, oid)
        if bad:
            return bad
        return Reply(200, {"id": o["id"], "status_id": o["status_id"]},
                     headers=self.rl())

    def products(self, req, oid):
        o, bad = self.gate(req, oid)
        return bad or Reply(200, o["products"], headers=self.rl())

    def addresses(self, req, oid):
        o, bad = self.gate(req, oid)
        return bad or Reply(200, o["addresses"], headers=self.rl())

    def shipments(self, req, oid):
        o, bad = self.gate(req, oid)
        if bad:
            return bad
        if not o["shipments"]:
            return Reply(204, None)
        return Reply(200, o["shipments"], headers=self.rl())

    def check_tracking(self, b):
        if b.get("tracking_carrier", "") not in SLUGS:
            return err(400, "The field 'tracking_carrier' is invalid.")
        if b.get("shipping_provider", "") not in PROVIDERS:
            return err(400, "The field 'shipping_provider' is invalid.")
        return None

    def add_shipment(self, req, oid):
        o, bad = self.gate(req, oid)
        if bad:
            return bad
        b = req.json if isinstance(req.json, dict) else None
        if b is None:
            return err(400, "The request body is invalid.")
        if o["status_id"] in (4, 5, 6):
            return err(400, "The order cannot be shipped in its status.")
        if b.get("order_address_id") not in [a["id"] for a in o["addresses"]]:
            return err(400, "The field 'order_address_id' is invalid.")
        items = b.get("items")
        if not items:
            return err(400, "The field 'items' is invalid.")
        byid = {p["id"]: p for p in o["products"]}
        for it in items:
            p = byid.get(it.get("order_product_id"))
            if not p:
                return err(400, "The field 'order_product_id' is invalid.")
            if it.get("quantity", 0) > p["quantity"] - p["quantity_shipped"]:
                return err(400, "The quantity specified is greater than the "
                           "quantity of the product that is available to "
                           "ship.")
        bad = self.check_tracking(b)
        if bad:
            return bad
        for it in items:
            byid[it["order_product_id"]]["quantity_shipped"] += it["quantity"]
        self.state["next_id"] += 1
        s = {"id": self.state["next_id"], "order_id": o["id"],
             "order_address_id": b["order_address_id"],
             "tracking_number": b.get("tracking_number", ""),
             "tracking_carrier": b.get("tracking_carrier", ""),
             "shipping_provider": b.get("shipping_provider", ""),
             "tracking_link": b.get("tracking_link", ""),
             "comments": b.get("comments", ""),
             "items": [{"order_product_id": i["order_product_id"],
                        "product_id": 0, "quantity": i["quantity"]}
                       for i in items]}
        o["shipments"].append(s)
        done = all(p["quantity_shipped"] >= p["quantity"]
                   for p in o["products"])
        o["status_id"] = 2 if done else 3
        self.state["emails"] += 1
        return Reply(201, s, headers=self.rl())

    def put_shipment(self, req, oid, sid):
        o, bad = self.gate(req, oid)
        if bad:
            return bad
        b = req.json if isinstance(req.json, dict) else {}
        bad = self.check_tracking(b)
        if bad:
            return bad
        for s in o["shipments"]:
            if s["id"] == int(sid):
                for k in ("tracking_number", "tracking_carrier",
                          "tracking_link", "shipping_provider", "comments"):
                    if k in b:
                        s[k] = b[k]
                return Reply(200, s, headers=self.rl())
        return err(404, "The requested resource was not found.")


if __name__ == "__main__":
    main(FakeBigCommerce())
