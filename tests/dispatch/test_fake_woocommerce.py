"""The fake WooCommerce's own negative tests (channels.md section 4):
each one fails if the fake accepts what the real site would refuse."""
import unittest

from fake_woocommerce import FakeWoo, KEY, SECRET
from testlib import http

T = "/wp-json/wc-shipment-tracking/v3/orders/%s/shipment-trackings"
GOOD = {"tracking_provider": "USPS", "tracking_number": "9400111899560000000000",
        "date_shipped": "2026-07-10"}


class FakeWooTest(unittest.TestCase):
    def setUp(self):
        self.f = FakeWoo()
        self.f.add_order(42)
        self.f.start()
        self.u = self.f.url

    def tearDown(self):
        self.f.stop()

    def test_bad_key_is_401(self):
        s, b, _ = http("GET", self.u + "/wp-json/wc/v3/orders/42",
                       basic=("ck_wrong", SECRET))
        self.assertEqual((s, b["code"]),
                         (401, "woocommerce_rest_authentication_error"))
        s, b, _ = http("GET", self.u + "/wp-json/wc/v3/orders/42")
        self.assertEqual(s, 401)

    def test_query_auth_works(self):
        s, b, _ = http("GET", self.u + "/wp-json/wc/v3/orders/42?consumer_key=%s"
                       "&consumer_secret=%s" % (KEY, SECRET))
        self.assertEqual((s, b["status"]), (200, "processing"))

    def test_read_only_key_cannot_write(self):
        self.f.state["read_only"] = True
        s, b, _ = http("POST", self.u + T % 42, GOOD, basic=(KEY, SECRET))
        self.assertEqual((s, b["code"]), (401, "woocommerce_rest_cannot_edit"))

    def test_unknown_order(self):
        s, b, _ = http("GET", self.u + "/wp-json/wc/v3/orders/7",
                       basic=(KEY, SECRET))
        self.assertEqual((s, b["code"]),
                         (404, "woocommerce_rest_shop_order_invalid_id"))
        s, b, _ = http("POST", self.u + T % 7, GOOD, basic=(KEY, SECRET))
        self.assertEqual((s, b["code"]), (404, "woocommerce_rest_order_invalid_id"))

    def test_missing_number_and_unknown_provider_refused(self):
        s, b, _ = http("POST", self.u + T % 42, {"tracking_provider": "USPS"},
                       basic=(KEY, SECRET))
        self.assertEqual((s, b["code"]), (400, "rest_missing_callback_param"))
        s, b, _ = http("POST", self.u + T % 42,
                       dict(GOOD, tracking_provider="YunExpress"),
                       basic=(KEY, SECRET))
        self.assertEqual((s, b["code"]), (400, "rest_invalid_param"))
        self.assertEqual(self.f.state["orders"]["42"]["trackings"], [])

    def test_plugin_missing_is_rest_no_route(self):
        self.f.state["plugin_installed"] = False
        s, b, _ = http("GET", self.u + T % 42, basic=(KEY, SECRET))
        self.assertEqual((s, b["code"]), (404, "rest_no_route"))
        s, b, _ = http("GET", self.u + "/wp-json/")
        self.assertNotIn("wc-shipment-tracking/v3", b["namespaces"])

    def test_post_appends_every_time(self):
        s, b, h = http("POST", self.u + T % 42, GOOD, basic=(KEY, SECRET))
        self.assertEqual(s, 201)
        self.assertIn(b["tracking_id"], h["location"])
        self.assertIn("9400111899560000000000", b["tracking_link"])
        http("POST", self.u + T % 42, GOOD, basic=(KEY, SECRET))
        s, b, _ = http("GET", self.u + T % 42, basic=(KEY, SECRET))
        self.assertEqual(len(b), 2)
        s, _, _ = http("DELETE", self.u + (T % 42) + "/" + b[0]["tracking_id"],
                       basic=(KEY, SECRET))
        self.assertEqual(s, 200)
        self.assertEqual(len(self.f.state["orders"]["42"]["trackings"]), 1)

    def test_custom_provider_and_bad_status(self):
        s, b, _ = http("POST", self.u + T % 42,
                       {"custom_tracking_provider": "YunExpress",
                        "custom_tracking_link": "https://t.example/?n=%1$s",
                        "tracking_number": "YT1"}, basic=(KEY, SECRET))
        self.assertEqual((s, b["tracking_link"]), (201, "https://t.example/?n=YT1"))
        s, b, _ = http("PUT", self.u + "/wp-json/wc/v3/orders/42",
                       {"status": "delivered"}, basic=(KEY, SECRET))
        self.assertEqual((s, b["code"]), (400, "rest_invalid_param"))
        for _ in range(2):
            s, b, _ = http("PUT", self.u + "/wp-json/wc/v3/orders/42",
                           {"status": "completed"}, basic=(KEY, SECRET))
        self.assertEqual((s, self.f.state["emails"]), (200, 1))

    def test_html_503_knob(self):
        from fakehttp import Reply
        self.f.force(None, r"/orders/", Reply(503, raw="<html>busy</html>"))
        s, b, _ = http("GET", self.u + "/wp-json/wc/v3/orders/42",
                       basic=(KEY, SECRET))
        self.assertEqual(s, 503)
        self.assertIn("<html>", b)


if __name__ == "__main__":
    unittest.main()
