"""The fake eBay's own negative tests (channels.md section 3 error table)."""
import unittest

from fake_ebay import FakeEbay, CLIENT, SECRET, REFRESH
from testlib import http

OID = "12-34567-89012"
GOOD = {"lineItems": [{"lineItemId": "10022882297012", "quantity": 1}],
        "shippedDate": "2026-03-04T19:09:02.768Z",
        "shippingCarrierCode": "USPS",
        "trackingNumber": "9400111899223197428490"}


class FakeEbayTest(unittest.TestCase):
    def setUp(self):
        self.f = FakeEbay()
        self.f.add_order(OID)
        self.f.start()
        self.tok = self.f.issue_token()
        self.u = self.f.url + "/sell/fulfillment/v1/order/" + OID

    def tearDown(self):
        self.f.stop()

    def h(self):
        return {"Authorization": "Bearer " + self.tok}

    def post(self, body):
        return http("POST", self.u + "/shipping_fulfillment", body,
                    headers=self.h())

    def eid(self, b):
        return b["errors"][0]["errorId"]

    def test_bad_token_1001(self):
        self.f.expire_tokens()
        s, b, _ = http("GET", self.u, headers=self.h())
        self.assertEqual((s, self.eid(b), b["errors"][0]["domain"]),
                         (401, 1001, "OAuth"))

    def test_token_endpoint(self):
        url = self.f.url + "/identity/v1/oauth2/token"
        form = {"grant_type": "refresh_token", "refresh_token": REFRESH}
        s, b, _ = http("POST", url, form=form, basic=(CLIENT, "wrong"))
        self.assertEqual(s, 401)
        s, b, _ = http("POST", url, form=dict(form, refresh_token="x"),
                       basic=(CLIENT, SECRET))
        self.assertEqual((s, b["error"]), (400, "invalid_grant"))
        s, b, _ = http("POST", url, form=form, basic=(CLIENT, SECRET))
        self.assertEqual((s, b["expires_in"]), (200, 7200))

    def test_unknown_order_404(self):
        s, _, _ = http("GET", self.u + "x", headers=self.h())
        self.assertEqual(s, 404)

    def test_validation_errors(self):
        cases = [
            (dict(GOOD, lineItems=[{"lineItemId": "1", "quantity": 1}]), 32200),
            (dict(GOOD, shippingCarrierCode="usps"), 32300),
            (dict(GOOD, shippingCarrierCode="YunExpress"), 32300),
            ({k: v for k, v in GOOD.items() if k != "shippingCarrierCode"}, 32300),
            (dict(GOOD, shippedDate="2026-03-04"), 32500),
            (dict(GOOD, lineItems=[{"lineItemId": "10022882297012",
                                    "quantity": 5}]), 32600),
        ]
        for body, eid in cases:
            s, b, _ = self.post(body)
            self.assertEqual((s, self.eid(b)), (400, eid), body)
        self.assertEqual(self.f.state["orders"][OID]["fulfillments"], [])

    def test_success_201_location_and_duplicates_allowed(self):
        s, b, h = self.post(GOOD)
        self.assertEqual((s, b), (201, None))
        self.assertTrue(h["location"].endswith("/" + GOOD["trackingNumber"]))
        s, b, _ = http("GET", self.u, headers=self.h())
        self.assertEqual(b["orderFulfillmentStatus"], "FULFILLED")
        self.post(GOOD)
        s, b, _ = http("GET", self.u + "/shipping_fulfillment", headers=self.h())
        self.assertEqual(b["total"], 2)

    def test_daily_quota_2001(self):
        self.f.state["quota"] = 1
        http("GET", self.u, headers=self.h())
        s, b, h = http("GET", self.u, headers=self.h())
        self.assertEqual((s, self.eid(b)), (429, 2001))
        self.assertNotIn("retry-after", h)

    def test_cancelled(self):
        self.f.state["orders"][OID]["cancelState"] = "CANCELED"
        s, b, _ = self.post(GOOD)
        self.assertEqual(s, 400)


if __name__ == "__main__":
    unittest.main()
