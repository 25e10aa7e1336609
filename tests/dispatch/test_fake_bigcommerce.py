"""The fake BigCommerce's own negative tests (channels.md section 8)."""
import unittest

from fake_bigcommerce import FakeBigCommerce, TOKEN
from testlib import http

GOOD = {"order_address_id": 128, "tracking_number": "YT2412345678901234",
        "tracking_carrier": "yunexpress", "shipping_provider": "",
        "comments": "", "items": [{"order_product_id": 194, "quantity": 1}]}


class FakeBigCommerceTest(unittest.TestCase):
    def setUp(self):
        self.f = FakeBigCommerce()
        self.f.add_order(228, products=((194, 1), (195, 2)))
        self.f.start()
        self.u = self.f.url + "/v2/orders/228"
        self.h = {"X-Auth-Token": TOKEN}

    def tearDown(self):
        self.f.stop()

    def post(self, body):
        return http("POST", self.u + "/shipments", body, headers=self.h)

    def test_bad_token(self):
        s, b, _ = http("GET", self.u, headers={"X-Auth-Token": "x"})
        self.assertEqual((s, b[0]["status"]), (401, 401))

    def test_unknown_order(self):
        s, _, _ = http("GET", self.u + "9", headers=self.h)
        self.assertEqual(s, 404)

    def test_required_fields_and_over_quantity(self):
        for body in [{k: v for k, v in GOOD.items() if k != "order_address_id"},
                     dict(GOOD, order_address_id=1),
                     dict(GOOD, items=[]),
                     dict(GOOD, items=[{"order_product_id": 9, "quantity": 1}]),
                     dict(GOOD, items=[{"order_product_id": 194, "quantity": 2}]),
                     dict(GOOD, tracking_carrier="nosuchcarrier"),
                     dict(GOOD, shipping_provider="dhl")]:
            s, b, _ = self.post(body)
            self.assertEqual((s, b[0]["status"]), (400, 400), body)
        self.assertEqual(self.f.state["orders"]["228"]["shipments"], [])

    def test_partial_then_shipped_and_no_guard(self):
        s, b, _ = self.post(GOOD)
        self.assertEqual(s, 201)
        s, o, _ = http("GET", self.u, headers=self.h)
        self.assertEqual(o["status_id"], 3)
        s, _, _ = self.post(dict(GOOD, items=[{"order_product_id": 195,
                                               "quantity": 2}]))
        self.assertEqual(s, 201)
        s, o, _ = http("GET", self.u, headers=self.h)
        self.assertEqual(o["status_id"], 2)
        s, l, _ = http("GET", self.u + "/shipments", headers=self.h)
        self.assertEqual(len(l), 2)
        self.assertEqual(self.f.state["emails"], 2)

    def test_put_changes_tracking(self):
        s, b, _ = self.post(GOOD)
        s, b2, _ = http("PUT", self.u + "/shipments/%d" % b["id"],
                        {"tracking_number": "NEW1"}, headers=self.h)
        self.assertEqual((s, b2["tracking_number"]), (200, "NEW1"))

    def test_cancelled_refused(self):
        self.f.state["orders"]["228"]["status_id"] = 5
        s, _, _ = self.post(GOOD)
        self.assertEqual(s, 400)


if __name__ == "__main__":
    unittest.main()
