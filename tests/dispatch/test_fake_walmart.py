"""The fake Walmart's own negative tests (channels.md section 7)."""
import unittest
import uuid

from fake_walmart import FakeWalmart, CLIENT, SECRET
from testlib import http

PO = "1796277083022"


def line(n="1", amount="1", carrier={"carrier": "UPS"}, ms=1772651342000,
         method="Standard", url=None):
    ti = {"shipDateTime": ms, "carrierName": carrier, "methodCode": method,
          "trackingNumber": "1Z999AA10123456784"}
    if url:
        ti["trackingURL"] = url
    return {"lineNumber": n, "orderLineStatuses": {"orderLineStatus": [{
        "status": "Shipped", "statusQuantity": {"unitOfMeasurement": "EACH",
                                                "amount": amount},
        "trackingInfo": ti}]}}


class FakeWalmartTest(unittest.TestCase):
    def setUp(self):
        self.f = FakeWalmart()
        self.f.add_order(PO, lines=(("1", 1), ("2", 1)))
        self.f.start()
        self.tok = self.token()

    def tearDown(self):
        self.f.stop()

    def hdr(self, tok=None, cid=None):
        return {"WM_SEC.ACCESS_TOKEN": tok or self.tok,
                "WM_QOS.CORRELATION_ID": cid or str(uuid.uuid4()),
                "WM_SVC.NAME": "Walmart Marketplace",
                "Accept": "application/json"}

    def token(self):
        s, b, _ = http("POST", self.f.url + "/v3/token",
                       form={"grant_type": "client_credentials"},
                       basic=(CLIENT, SECRET),
                       headers={"WM_QOS.CORRELATION_ID": str(uuid.uuid4()),
                                "WM_SVC.NAME": "Walmart Marketplace"})
        self.assertEqual((s, b["expires_in"]), (200, 900))
        return b["access_token"]

    def ship(self, lines, **kw):
        return http("POST", self.f.url + "/v3/orders/%s/shipping" % PO,
                    {"orderShipment": {"orderLines": {"orderLine": lines}}},
                    headers=self.hdr(**kw))

    def code(self, b):
        return b["errors"]["error"][0]["code"]

    def test_token_and_headers(self):
        s, b, _ = http("POST", self.f.url + "/v3/token",
                       form={"grant_type": "client_credentials"},
                       basic=(CLIENT, "x"),
                       headers={"WM_QOS.CORRELATION_ID": "a", "WM_SVC.NAME": "x"})
        self.assertEqual(s, 401)
        self.f.expire_tokens()
        s, b, _ = self.ship([line()])
        self.assertEqual((s, self.code(b)), (401, "UNAUTHORIZED.GMP_GATEWAY_API"))

    def test_correlation_id_must_be_new(self):
        s, _, _ = http("GET", self.f.url + "/v3/orders/" + PO,
                       headers=self.hdr(cid="same"))
        self.assertEqual(s, 200)
        s, _, _ = http("GET", self.f.url + "/v3/orders/" + PO,
                       headers=self.hdr(cid="same"))
        self.assertEqual(s, 400)

    def test_validation(self):
        for l in [line(n="9"), line(amount="2"), line(carrier={"carrier": "ups"}),
                  line(carrier={"otherCarrier": "Cainiao"}),
                  line(ms=1772651342), line(method="Fast")]:
            s, b, _ = self.ship([l])
            self.assertEqual(s, 400, l)
        self.assertEqual(self.f.state["orders"][PO]["lines"][0]["status"],
                         "Acknowledged")

    def test_shipped_twice_400_or_500(self):
        s, _, _ = self.ship([line()])
        self.assertEqual(s, 200)
        s, b, _ = self.ship([line()])
        self.assertEqual(s, 400)
        self.assertIn("is in SHIPPED status", b["errors"]["error"][0]["description"])
        self.f.state["shipped_as_500"] = True
        s, _, _ = self.ship([line()])
        self.assertEqual(s, 500)

    def test_wfs_created_and_cancel_intent(self):
        o = self.f.state["orders"][PO]["lines"]
        o[0]["node"] = "WFSFulfilled"
        self.assertEqual(self.ship([line()])[0], 400)
        o[0]["node"] = "SellerFulfilled"
        o[0]["status"] = "Created"
        self.assertEqual(self.ship([line()])[0], 400)
        o[0]["status"] = "Acknowledged"
        o[0]["intentToCancel"] = True
        self.assertEqual(self.ship([line()])[0], 400)

    def test_other_carrier_with_url(self):
        s, _, _ = self.ship([line(carrier={"otherCarrier": "Cainiao"},
                                  url="https://t.example/1")])
        self.assertEqual(s, 200)


if __name__ == "__main__":
    unittest.main()
