"""The fake Etsy's own negative tests (channels.md section 5)."""
import unittest

from fake_etsy import FakeEtsy, KEYSTRING, SHARED, REFRESH, SHOP
from testlib import http

GOOD = {"tracking_code": "9400111899223197428490", "carrier_name": "usps",
        "send_bcc": False}


class FakeEtsyTest(unittest.TestCase):
    def setUp(self):
        self.f = FakeEtsy()
        self.f.add_receipt(77)
        self.f.start()
        self.tok = self.f.issue_token()
        self.u = self.f.url + "/v3/application/shops/%s/receipts/" % SHOP

    def tearDown(self):
        self.f.stop()

    def h(self, key=None, tok=None):
        return {"x-api-key": key or "%s:%s" % (KEYSTRING, SHARED),
                "Authorization": "Bearer " + (tok or self.tok)}

    def test_key_without_secret_is_403_with_the_message(self):
        s, b, _ = http("GET", self.u + "77", headers=self.h(key=KEYSTRING))
        self.assertEqual((s, b["error"]), (403, "Shared secret is required "
                                           "in x-api-key header."))

    def test_expired_token_is_401(self):
        self.f.expire_tokens()
        s, b, _ = http("GET", self.u + "77", headers=self.h())
        self.assertEqual(s, 401)

    def test_refresh(self):
        s, b, _ = http("POST", self.f.url + "/v3/public/oauth/token",
                       form={"grant_type": "refresh_token",
                             "client_id": KEYSTRING, "refresh_token": "x"})
        self.assertEqual((s, b["error"]), (400, "invalid_grant"))
        s, b, _ = http("POST", self.f.url + "/v3/public/oauth/token",
                       form={"grant_type": "refresh_token",
                             "client_id": KEYSTRING, "refresh_token": REFRESH})
        self.assertEqual(s, 200)
        s, _, _ = http("GET", self.u + "77", headers=self.h(tok=b["access_token"]))
        self.assertEqual(s, 200)

    def test_other_shop_and_unknown_receipt(self):
        s, _, _ = http("GET", self.u.replace(SHOP, "999") + "77",
                       headers=self.h())
        self.assertEqual(s, 403)
        s, _, _ = http("GET", self.u + "78", headers=self.h())
        self.assertEqual(s, 404)

    def test_tracking_required_and_paired(self):
        s, b, _ = http("POST", self.u + "77/tracking", {"send_bcc": False},
                       headers=self.h())
        self.assertEqual((s, b["error"]), (400, "A tracking number is required"))
        s, b, _ = http("POST", self.u + "77/tracking", {"tracking_code": "1"},
                       headers=self.h())
        self.assertEqual(s, 400)
        self.assertEqual(self.f.state["emails"], 0)

    def test_cancelled_is_409(self):
        self.f.state["receipts"]["77"]["status"] = "Canceled"
        s, b, _ = http("POST", self.u + "77/tracking", GOOD, headers=self.h())
        self.assertEqual(s, 409)

    def test_every_call_emails_and_appends(self):
        for i in range(2):
            s, b, hd = http("POST", self.u + "77/tracking", GOOD,
                            headers=self.h())
            self.assertEqual(s, 200)
        self.assertEqual(len(b["shipments"]), 2)
        self.assertEqual(self.f.state["emails"], 2)
        self.assertIn("x-remaining-today", hd)

    def test_unknown_carrier_hidden(self):
        http("POST", self.u + "77/tracking",
             dict(GOOD, carrier_name="yunexpress"), headers=self.h())
        self.assertTrue(self.f.state["receipts"]["77"]["shipments"][0]["hidden"])


if __name__ == "__main__":
    unittest.main()
