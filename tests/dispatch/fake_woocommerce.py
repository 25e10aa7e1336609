"""fake_woocommerce.py - a WooCommerce site with the Shipment Tracking
extension, as channels.md section 4 describes it.

- Auth: HTTP Basic consumer_key:consumer_secret, or the same pair in the
  query (hosts that strip Authorization). A wrong key: 401
  woocommerce_rest_authentication_error; a read-only key writing: 401
  woocommerce_rest_cannot_edit. (Real Woo wants OAuth 1.0a on plain HTTP;
  the fake takes Basic on loopback so tests need no TLS.)
- GET/PUT /wp-json/wc/v3/orders/{id}; statuses as core; completed fires the
  "Completed order" email once per transition (counted in state emails).
- Shipment Tracking at /wp-json/wc-shipment-tracking/v3/: append-only list
  per order (each POST appends an item, each item shows in emails),
  DELETE by tracking_id, the public providers list. tracking_number is
  required; tracking_provider must be one of the store's providers
  (stricter than the real extension, which stores any text without a
  link) unless custom_tracking_provider is given.
- plugin_installed False: every tracking route answers 404 rest_no_route.
- WordPress error shape {"code","message","data":{"status"}}.
"""
import base64
import datetime
import uuid

from fakehttp import FakeChannel, Reply, main

KEY = "ck_test_key"
SECRET = "cs_test_secret"
STATUSES = ["pending", "processing", "on-hold", "completed", "cancelled",
            "refunded", "failed", "checkout-draft"]
PROVIDERS = {
    "United States": {
        "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels=%1$s",
        "UPS": "https://www.ups.com/track?tracknum=%1$s",
        "Fedex": "https://www.fedex.com/apps/fedextrack/?tracknumbers=%1$s",
        "DHL US": "https://www.dhl.com/us-en/home/tracking.html?tracking-id=%1$s",
    },
    "United Kingdom": {
        "Royal Mail": "https://www.royalmail.com/track-your-item#/tracking-results/%1$s",
    },
    "Canada": {"Canada Post": "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor=%1$s"},
    "Australia": {"Australia Post": "https://auspost.com.au/mypost/track/#/details/%1$s"},
    "Global": {"DHL eCommerce": "https://webtrack.dhlglobalmail.com/?trackingnumber=%1$s"},
}
TRACK = r"/wp-json/wc-shipment-tracking/v3"


def err(status, code, message):
    return Reply(status, {"code": code, "message": message,
                          "data": {"status": status}})


class FakeWoo(FakeChannel):
    name = "woocommerce"

    def __init__(self):
        super().__init__()
        self.state = {"orders": {}, "emails": 0, "plugin_installed": True,
                      "read_only": False}
        self.routes = [
            ("GET", r"/wp-json/?", self.index),
            ("GET", r"/wp-json/wc/v3/orders", self.list_orders),
            ("GET", r"/wp-json/wc/v3/orders/(\d+)", self.get_order),
            ("PUT", r"/wp-json/wc/v3/orders/(\d+)", self.put_order),
            ("GET", TRACK + r"/shipment-trackings/providers", self.providers),
            ("GET", TRACK + r"/orders/(\d+)/shipment-trackings", self.list_t),
            ("POST", TRACK + r"/orders/(\d+)/shipment-trackings", self.add_t),
            ("DELETE", TRACK + r"/orders/(\d+)/shipment-trackings/([^/]+)",
             self.del_t),
        ]

    def add_order(self, oid, status="processing", lines=((101, 1),)):
        self.state["orders"][str(oid)] = {
            "id": int(oid), "status": status,
            "line_items": [{"id": l, "quantity": q} for l, q in lines],
            "trackings": []}

    def load(self, st):
        self.state.update(st)

    def auth(self, req, write):
        key = secret = None
        h = req.headers.get("authorization", "")
        if h.startswith("Basic "):
            try:
                key, _, secret = base64.b64decode(h[6:]).decode().partition(":")
            except ValueError:
                pass
        elif "consumer_key" in req.query:
            key = req.query.get("consumer_key")
            secret = req.query.get("consumer_secret")
        if key != KEY or secret != SECRET:
            return err(401, "woocommerce_rest_authentication_error",
                       "Consumer key is invalid.")
        if write and self.state["read_only"]:
            return err(401, "woocommerce_rest_cannot_edit",
                       "Sorry, you are not allowed to edit this resource.")
        return None

    def no_route(self, req):
        return err(404, "rest_no_route",
                   "No route was found matching the URL and request method.")

    def order_json(self, o):
        return {"id": o["id"], "status": o["status"],
                "line_items": o["line_items"],
                "meta_data": [{"id": 1, "key": "_wc_shipment_tracking_items",
                               "value": o["trackings"]}]}

    def index(self, req):
        ns = ["wp/v2", "wc/v3"]
        if self.state["plugin_installed"]:
            ns.append("wc-shipment-tracking/v3")
        return Reply(200, {"name": "Fake shop", "namespaces": ns})

    def list_orders(self, req):
        bad = self.auth(req, False)
        if bad:
            return bad
        return Reply(200, [self.order_json(o)
                           for o in self.state["orders"].values()][:1])

    def get_order(self, req, oid):
        bad = self.auth(req, False)
        if bad:
            return bad
        o = self.state["orders"].get(oid)
        if not o:
            return err(404, "woocommerce_rest_shop_order_invalid_id",
                       "Invalid ID.")
        return Reply(200, self.order_json(o))

    def put_order(self, req, oid):
        bad = self.auth(req, True)
        if bad:
            return bad
        o = self.state["orders"].get(oid)
        if not o:
            return err(404, "woocommerce_rest_shop_order_invalid_id",
                       "Invalid ID.")
        body = req.json if isinstance(req.json, dict) else {}
        status = body.get("status")
        if status is not None:
            if status not in STATUSES:
                return err(400, "rest_invalid_param",
                           "Invalid parameter(s): status")
            if status == "completed" and o["status"] != "completed":
                self.state["emails"] += 1
            o["status"] = status
        return Reply(200, self.order_json(o))

    def plugin(self, req, write):
        if not self.state["plugin_installed"]:
            return self.no_route(req)
        return self.auth(req, write)

    def providers(self, req):
        if not self.state["plugin_installed"]:
            return self.no_route(req)
        return Reply(200, PROVIDERS)

    def list_t(self, req, oid):
        bad = self.plugin(req, False)
        if bad:
            return bad
        o = self.state["orders"].get(oid)
        if not o:
            return err(404, "woocommerce_rest_order_invalid_id",
                       "Invalid order ID.")
        return Reply(200, o["trackings"])

    def add_t(self, req, oid):
        bad = self.plugin(req, True)
        if bad:
            return bad
        o = self.state["orders"].get(oid)
        if not o:
            return err(404, "woocommerce_rest_order_invalid_id",
                       "Invalid order ID.")
        b = req.json
        if not isinstance(b, dict):
            return err(400, "rest_invalid_json", "Invalid JSON body passed.")
        number = b.get("tracking_number")
        if not number:
            return err(400, "rest_missing_callback_param",
                       "Missing parameter(s): tracking_number")
        provider = b.get("tracking_provider")
        custom = b.get("custom_tracking_provider")
        link = ""
        if custom:
            name = custom
            link = (b.get("custom_tracking_link") or "").replace("%1$s", number)
        elif provider:
            name = None
            for country in PROVIDERS.values():
                for pname, url in country.items():
                    if pname == provider:
                        name, link = pname, url.replace("%1$s", number)
            if name is None:
                return err(400, "rest_invalid_param",
                           "Invalid parameter(s): tracking_provider")
        else:
            return err(400, "rest_missing_callback_param",
                       "Missing parameter(s): tracking_provider")
        date = b.get("date_shipped") or datetime.date.today().isoformat()
        try:
            datetime.date.fromisoformat(date)
        except ValueError:
            return err(400, "rest_invalid_param",
                       "Invalid parameter(s): date_shipped")
        item = {"tracking_id": uuid.uuid4().hex, "tracking_provider": name,
                "tracking_link": link, "tracking_number": number,
                "date_shipped": date}
        o["trackings"].append(item)
        self.state["emails_tracking"] = self.state.get("emails_tracking", 0) + 1
        return Reply(201, dict(item, _links={}), headers={
            "Location": "%s/orders/%s/shipment-trackings/%s" %
            (TRACK, oid, item["tracking_id"])})

    def del_t(self, req, oid, tid):
        bad = self.plugin(req, True)
        if bad:
            return bad
        o = self.state["orders"].get(oid)
        if not o:
            return err(404, "woocommerce_rest_order_invalid_id",
                       "Invalid order ID.")
        for t in o["trackings"]:
            if t["tracking_id"] == tid:
                o["trackings"].remove(t)
                return Reply(200, {"message": "Deleted."})
        return err(404, "woocommerce_rest_shipment_tracking_invalid_id",
                   "Invalid tracking ID.")


if __name__ == "__main__":
    main(FakeWoo())
