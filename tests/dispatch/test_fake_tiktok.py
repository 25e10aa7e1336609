"""The fake TikTok Shop's own negative tests (channels.md section 10)."""
import json
import time
import unittest
import urllib.parse

from fake_tiktok import FakeTikTok, APP_KEY, APP_SECRET, CIPHER, REFRESH, sign
from testlib import http

OID = "576461413038785752"


class FakeTikTokTest(unittest.TestCase):
    def setUp(self):
        self.f = FakeTikTok()
        self.f.add_order(OID, lines=("L1", "L2"))
        self.f.start()
        self.tok = self.f.issue_token()

    def tearDown(self):
        self.f.stop()

    def call(self, method, path, body=None, extra=None, ts=None, tok=None,
             bad_sign=False):
        q = {"app_key": APP_KEY, "timestamp": str(ts or int(time.time())),
             "shop_cipher": CIPHER}
        q.update(extra or {})
        raw = json.dumps(body) if body is not None else ""
        q["sign"] = "0" * 64 if bad_sign else sign(path, q, raw)
        return http(method, self.f.url + path + "?" + urllib.parse.urlencode(q),
                    raw.encode() if body is not None else None,
                    headers={"x-tts-access-token": tok or self.tok,
                             "content-type": "application/json"})

    def ship(self, body, **kw):
        return self.call("POST", "/fulfillment/202309/orders/%s/packages" % OID,
                         body, **kw)

    GOOD = {"tracking_number": "9400111899223197428490",
            "shipping_provider_id": "7117858858072016686"}

    def test_sign_timestamp_token(self):
        self.assertEqual(self.ship(self.GOOD, bad_sign=True)[1]["code"], 106001)
        self.assertEqual(self.ship(self.GOOD, ts=int(time.time()) - 400)[1]
                         ["code"], 106001)
        self.assertEqual(self.ship(self.GOOD, tok="ROW_x")[1]["code"], 105002)
        self.assertIsNone(self.f.state["orders"][OID]["line_items"][0]
                          ["tracking_number"])

    def test_refresh(self):
        s, b, _ = http("GET", self.f.url + "/api/v2/token/refresh?" +
                       urllib.parse.urlencode({"app_key": APP_KEY,
                                               "app_secret": APP_SECRET,
                                               "refresh_token": "x",
                                               "grant_type": "refresh_token"}))
        self.assertNotEqual(b["code"], 0)

    def test_provider_and_characters_and_fbt(self):
        self.assertEqual(self.ship(dict(self.GOOD, shipping_provider_id="1"))[1]
                         ["code"], 21004016)
        self.assertEqual(self.ship(dict(self.GOOD, tracking_number="94 00"))[1]
                         ["code"], 21004012)
        self.f.state["orders"][OID]["fulfillment_type"] = "FULFILLMENT_BY_TIKTOK"
        self.assertEqual(self.ship(self.GOOD)[1]["code"], 21008025)

    def test_ship_then_already_shipped(self):
        s, b, _ = self.ship(self.GOOD)
        self.assertEqual((s, b["code"]), (200, 0))
        self.assertTrue(b["data"]["package_id"])
        self.assertEqual(self.ship(self.GOOD)[1]["code"], 21011006)
        s, b, _ = self.call("GET", "/order/202309/orders", extra={"ids": OID})
        self.assertEqual(b["data"]["orders"][0]["line_items"][0]
                         ["tracking_number"], self.GOOD["tracking_number"])

    def test_number_used_elsewhere(self):
        self.f.add_order("2", lines=("M1",))
        self.call("POST", "/fulfillment/202309/orders/2/packages", self.GOOD)
        self.assertEqual(self.ship(self.GOOD)[1]["code"], 21011025)


if __name__ == "__main__":
    unittest.main()
