"""The fake Wix's own negative tests (channels.md section 9)."""
import unittest

from fake_wix import FakeWix, TOKEN
from testlib import http

L1 = "00000000-0000-0000-0000-000000000001"
GOOD = {"fulfillment": {"lineItems": [{"id": L1, "quantity": 1}],
                        "trackingInfo": {"trackingNumber": "12345",
                                         "shippingProvider": "fedex"}}}


class FakeWixTest(unittest.TestCase):
    def setUp(self):
        self.f = FakeWix()
        self.f.add_order("o1", lines=((L1, 2),))
        self.f.start()
        self.h = {"Authorization": TOKEN}
        self.u = self.f.url + "/ecom/v1/fulfillments/orders/o1"

    def tearDown(self):
        self.f.stop()

    def post(self, body, h=None):
        return http("POST", self.u + "/create-fulfillment", body,
                    headers=h or self.h)

    def test_auth(self):
        s, b, _ = self.post(GOOD, {"Authorization": "Bearer " + TOKEN})
        self.assertEqual((s, b["details"]["applicationError"]["code"]),
                         (401, "UNAUTHENTICATED"))
        self.f.state["site_id"] = "site-1"
        s, _, _ = self.post(GOOD)
        self.assertEqual(s, 403)

    def test_validation(self):
        for body in [{"fulfillment": {"lineItems": []}},
                     {"fulfillment": {"lineItems": [{"id": "x", "quantity": 1}]}},
                     {"fulfillment": {"lineItems": [{"id": L1, "quantity": 3}]}},
                     {"fulfillment": {"lineItems": [{"id": L1}],
                                      "trackingInfo": {"shippingProvider": "ups"}}}]:
            s, b, _ = self.post(body)
            self.assertEqual(s, 400, body)
            self.assertIn("validationError", b["details"])
        self.assertEqual(self.f.state["orders"]["o1"]["fulfillments"], [])

    def test_not_approved(self):
        self.f.state["orders"]["o1"]["status"] = "INITIALIZED"
        s, b, _ = self.post(GOOD)
        self.assertEqual((s, b["details"]["applicationError"]["code"]),
                         (400, "ORDER_NOT_APPROVED"))

    def test_quantity_rest_and_status(self):
        s, b, _ = self.post(GOOD)
        self.assertEqual(s, 200)
        self.assertIn("fedex.com", b["orderWithFulfillments"]["fulfillments"][0]
                      ["trackingInfo"]["trackingLink"])
        s, o, _ = http("GET", self.f.url + "/ecom/v1/orders/o1", headers=self.h)
        self.assertEqual(o["order"]["fulfillmentStatus"], "PARTIALLY_FULFILLED")
        s, _, _ = self.post({"fulfillment": {"lineItems": [{"id": L1,
                                                            "quantity": 2}]}})
        self.assertEqual(s, 400)
        s, _, _ = self.post({"fulfillment": {"lineItems": [{"id": L1}]}})
        self.assertEqual(s, 200)
        s, _, _ = self.post({"fulfillment": {"lineItems": [{"id": L1}]}})
        self.assertEqual(s, 400)

    def test_update_and_404(self):
        s, b, _ = self.post(GOOD)
        fid = b["fulfillmentId"]
        s, b, _ = http("PATCH", self.f.url + "/ecom/v1/fulfillments/%s/orders/o1"
                       % fid, {"fulfillment": {"trackingInfo": {
                           "trackingNumber": "999", "shippingProvider": "ups"}}},
                       headers=self.h)
        self.assertEqual(s, 200)
        self.assertEqual(self.f.state["orders"]["o1"]["fulfillments"][0]
                         ["trackingInfo"]["trackingNumber"], "999")
        s, _, _ = http("GET", self.f.url + "/ecom/v1/orders/o9", headers=self.h)
        self.assertEqual(s, 404)


if __name__ == "__main__":
    unittest.main()
