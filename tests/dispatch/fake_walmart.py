"""fake_walmart.py - Walmart Marketplace (US) orders, as channels.md
section 7 describes them.

- POST /v3/token: Basic clientId:clientSecret, form
  grant_type=client_credentials, WM_QOS.CORRELATION_ID and WM_SVC.NAME
  required: a 900 s token. expire_tokens() ends every issued one.
- Every API call: WM_SEC.ACCESS_TOKEN, WM_QOS.CORRELATION_ID (new per
  call: a reused one is refused), WM_SVC.NAME, Accept: application/json.
- GET /v3/orders/{po}; POST /v3/orders/{po}/acknowledge;
  POST /v3/orders/{po}/shipping with the nested orderShipment body. The
  line must exist, be Acknowledged (or Shipped with
  processMode PARTIAL_UPDATE to correct tracking), not WFS, not with an
  intent to cancel unless intentToCancelOverride; amount not above the
  line; carrier from the list exactly, or otherCarrier with a mandatory
  trackingURL; shipDateTime epoch milliseconds; methodCode from the enum.
  "is in SHIPPED status" answers 400, or 500 with shipped_as_500.
- Legacy nested error shape {"errors":{"error":[{code,field,description,
  info,severity,category}]}}.
"""
import base64
import secrets

from fakehttp import FakeChannel, Reply, main

CLIENT = "wm-client-id"
SECRET = "wm-client-secret"
CARRIERS = {"UPS", "USPS", "FedEx", "DHL", "DHL Ecommerce - US",
            "China Post", "YunExpress", "4PX", "Yanwen", "SF Express", "SFC",
            "Royal Mail", "Canada Post", "OnTrac", "LaserShip"}
METHODS = {"Standard", "Express", "OneDay", "Freight", "WhiteGlove", "Value"}


def err(status, code, desc):
    return Reply(status, {"errors": {"error": [{
        "code": code, "field": "data", "description": desc,
        "info": "Request content is invalid.", "severity": "ERROR",
        "category": "DATA", "causes": [], "errorIdentifiers": {"entry": []}}]}})


class FakeWalmart(FakeChannel):
    name = "walmart"

    def __init__(self):
        super().__init__()
        self.state = {"orders": {}, "tokens": [], "correlation_ids": [],
                      "shipped_as_500": False}
        self.routes = [
            ("POST", r"/v3/token", self.token),
            ("GET", r"/v3/orders/([^/]+)", self.get_order),
            ("POST", r"/v3/orders/([^/]+)/acknowledge", self.ack),
            ("POST", r"/v3/orders/([^/]+)/shipping", self.ship),
        ]

    def add_order(self, po, lines=(("1", 1),), status="Acknowledged",
                  node="SellerFulfilled"):
        self.state["orders"][po] = {"po": po, "lines": [
            {"lineNumber": n, "qty": q, "status": status, "node": node,
             "intentToCancel": False, "tracking": None} for n, q in lines]}

    def expire_tokens(self):
        self.state["tokens"] = []

    def common(self, req):
        cid = req.headers.get("wm_qos.correlation_id")
        if not cid or not req.headers.get("wm_svc.name"):
            return err(400, "MISSING_REQUEST_HEADER.GMP_GATEWAY_API",
                       "WM_QOS.CORRELATION_ID and WM_SVC.NAME are required")
        if cid in self.state["correlation_ids"]:
            return err(400, "INVALID_REQUEST_HEADER.GMP_GATEWAY_API",
                       "WM_QOS.CORRELATION_ID must be unique per call")
        self.state["correlation_ids"].append(cid)
        return None

    def token(self, req):
        bad = self.common(req)
        if bad:
            return bad
        h = req.headers.get("authorization", "")
        try:
            pair = base64.b64decode(h[6:]).decode()
        except ValueError:
            pair = ""
        if not h.startswith("Basic ") or pair != CLIENT + ":" + SECRET:
            return err(401, "UNAUTHORIZED.GMP_GATEWAY_API",
                       "Unauthorized client")
        if (getattr(req, "form", {}) or {}).get("grant_type") != \
                "client_credentials":
            return err(400, "INVALID_REQUEST_CONTENT.GMP_GATEWAY_API",
                       "grant_type must be client_credentials")
        t = "eyJ" + secrets.token_hex(10)
        self.state["tokens"].append(t)
        return Reply(200, {"access_token": t, "token_type": "Bearer",
                           "expires_in": 900})

    def gate(self, req, po):
        bad = self.common(req)
        if bad:
            return None, bad
        if req.headers.get("wm_sec.access_token") not in self.state["tokens"]:
            return None, err(401, "UNAUTHORIZED.GMP_GATEWAY_API",
                             "Unauthorized token")
        if "application/json" not in req.headers.get("accept", ""):
            return None, Reply(400, raw="<errors><error>Accept</error></errors>",
                               headers={"Content-Type": "application/xml"})
        o = self.state["orders"].get(po)
        if not o:
            return None, err(404, "CONTENT_NOT_FOUND.GMP_ORDER_API",
                             "Order not found")
        return o, None

    def view(self, o):
        return {"order": {"purchaseOrderId": o["po"], "orderLines": {
            "orderLine": [{
                "lineNumber": l["lineNumber"],
                "orderLineQuantity": {"unitOfMeasurement": "EACH",
                                      "amount": str(l["qty"])},
                "fulfillment": {"shipMethod": "STANDARD"},
                "shipNode": {"type": l["node"]},
                "intentToCancel": l["intentToCancel"],
                "orderLineStatuses": {"orderLineStatus": [{
                    "status": l["status"],
                    "statusQuantity": {"unitOfMeasurement": "EACH",
                                       "amount": str(l["qty"])},
                    "trackingInfo": l["tracking"]}]}}
                for l in o["lines"]]}}}

    def get_order(self, req, po):
        o, bad = self.gate(req, po)
        return bad or Reply(200, self.view(o))

    def ack(self, req, po):
        o, bad = self.gate(req, po)
        if bad:
            return bad
        for l in o["lines"]:
            if l["status"] == "Created":
                l["status"] = "Acknowledged"
        return Reply(200, self.view(o))

    def ship(self, req, po):
        o, bad = self.gate(req, po)
        if bad:
            return bad
        b = req.json if isinstance(req.json, dict) else {}
        sh = b.get("orderShipment") or {}
        partial = sh.get("processMode") == "PARTIAL_UPDATE"
        lines = ((sh.get("orderLines") or {}).get("orderLine")) or []
        if not lines:
            return err(400, "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
                       "orderLines is required")
        byn = {l["lineNumber"]: l for l in o["lines"]}
        todo = []
        for ln in lines:
            l = byn.get(ln.get("lineNumber"))
            if not l:
                return err(400, "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
                           "Unable to process this request. The Line: %s of "
                           "PO: %s does not exist" % (ln.get("lineNumber"), po))
            if l["node"] != "SellerFulfilled":
                return err(400, "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
                           "WFS order lines cannot be shipped by the seller")
            if l["intentToCancel"] and not ln.get("intentToCancelOverride"):
                return err(400, "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
                           "Customer requested cancellation")
            st = (ln.get("orderLineStatuses") or {}).get("orderLineStatus") \
                or [{}]
            st = st[0]
            if st.get("status") != "Shipped":
                return err(400, "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
                           "status must be Shipped")
            if l["status"] == "Shipped" and not partial:
                return err(500 if self.state["shipped_as_500"] else 400,
                           "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
                           "Unable to process this request. The Line: %s of "
                           "PO: %s is in SHIPPED status" % (l["lineNumber"], po))
            if l["status"] not in ("Acknowledged", "Shipped"):
                return err(400, "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
                           "Line must be acknowledged first")
            amt = int((st.get("statusQuantity") or {}).get("amount") or 0)
            if amt < 1 or amt > l["qty"]:
                return err(400, "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
                           "Qty OverShipped : Some or All Line(s)/Qty cannot "
                           "be Shipped")
            ti = st.get("trackingInfo") or {}
            cn = ti.get("carrierName") or {}
            if "carrier" in cn:
                if cn["carrier"] not in CARRIERS:
                    return err(400, "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
                               "carrier is invalid")
            elif cn.get("otherCarrier"):
                if not ti.get("trackingURL"):
                    return err(400, "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
                               "trackingURL is required for otherCarrier")
            else:
                return err(400, "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
                           "carrierName is required")
            if not isinstance(ti.get("shipDateTime"), int) or \
                    ti["shipDateTime"] < 10 ** 12:
                return err(400, "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
                           "shipDateTime must be epoch milliseconds")
            if ti.get("methodCode") not in METHODS:
                return err(400, "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
                           "methodCode is invalid")
            if not ti.get("trackingNumber"):
                return err(400, "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
                           "trackingNumber is required")
            todo.append((l, ti))
        for l, ti in todo:
            l["status"] = "Shipped"
            l["tracking"] = ti
        return Reply(200, self.view(o))


if __name__ == "__main__":
    main(FakeWalmart())
