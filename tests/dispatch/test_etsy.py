"""The Etsy adapter against the fake (channels.md section 5): Etsy emails
the buyer on every createReceiptShipment call, so every test also counts
the emails."""
import json
import subprocess
import unittest

from fake_etsy import FakeEtsy, KEYSTRING, SHARED, REFRESH, SHOP
from fakehttp import Reply
from testlib import AdapterCase, DRIVE

CRED = {"keystring": KEYSTRING, "shared_secret": SHARED,
        "refresh_token": REFRESH}
N = "9400111899223197428490"


class EtsyAdapterTest(AdapterCase):
    channel = "etsy"
    credentials = json.dumps(CRED)
    settings = {"shop_id": SHOP}

    def make_fake(self):
        f = FakeEtsy()
        f.add_receipt(77)
        return f

    def secrets(self):
        return [SHARED, REFRESH] + self.fake.state["tokens"]

    def r(self):
        return self.fake.state["receipts"]["77"]

    def test_first_push(self):
        res = self.run_push(77, N, "usps")
        self.assertEqual(res["verdict"], "done", res)
        self.assertEqual([(s["tracking_code"], s["carrier_name"])
                          for s in self.r()["shipments"]], [(N, "usps")])
        self.assertEqual(res["remote_ref"],
                         str(self.r()["shipments"][0]["receipt_shipping_id"]))
        self.assertEqual(self.fake.state["emails"], 1)
        post = self.fake.requests("POST", "/tracking")[0]
        self.assertEqual(json.loads(post["body"])["send_bcc"], False)

    def test_repeat_push_never_emails_twice(self):
        self.run_push(77, N, "usps")
        res = self.run_push(77, N, "usps")
        self.assertEqual(res["verdict"], "done", res)
        self.assertEqual(self.fake.state["emails"], 1)
        self.assertEqual(len(self.fake.requests("POST", "/tracking")), 1)

    def test_already_shipped_409_done_only_if_reread_shows_ours(self):
        # Another tool shipped with our number between our read and post.
        fake = self.fake
        orig = fake.tracking

        def racing(req, shop, rid):
            fake.state["receipts"][rid]["shipments"].append(
                {"receipt_shipping_id": 5, "tracking_code": N,
                 "carrier_name": "usps"})
            fake.state["receipts"][rid]["status"] = "Canceled"
            return orig(req, shop, rid)
        fake.routes[-1] = ("POST", fake.routes[-1][1], racing)
        res = self.run_push(77, N, "usps")
        self.assertEqual((res["verdict"], res["remote_ref"]), ("done", "5"))
        self.assertEqual(self.fake.state["emails"], 0)

    def test_409_without_our_number_is_manual(self):
        self.fake.force("POST", "/tracking", Reply(409, {"error": "conflict"}))
        res = self.run_push(77, N, "usps")
        self.assertEqual(res["verdict"], "manual", res)
        self.assertEqual(len(self.fake.requests("GET", "/receipts/")), 2)

    def test_unknown_carrier_is_other(self):
        res = self.run_push(77, "YT2412345678901234", "yunexpress")
        self.assertEqual(res["verdict"], "done", res)
        s = self.r()["shipments"][0]
        self.assertEqual((s["carrier_name"], s["hidden"]), ("other", False))

    def test_expired_token_refreshes_once(self):
        tok = self.fake.issue_token()
        self.fake.expire_tokens()
        res = self.run_push(77, N, "usps", credentials=json.dumps(
            dict(CRED, access_token=tok)))
        self.assertEqual(res["verdict"], "done", res)
        self.assertEqual(len(self.fake.requests("POST", "oauth/token")), 1)
        self.assertEqual(self.fake.state["emails"], 1)

    def test_refresh_refused_is_dead(self):
        res = self.run_push(77, N, "usps", credentials=json.dumps(
            dict(CRED, refresh_token="revoked")))
        self.assertEqual(res["verdict"], "dead", res)
        self.assertEqual(self.fake.state["emails"], 0)

    def test_key_without_secret_is_dead(self):
        self.fake.force("GET", "/receipts/", Reply(403, {
            "error": "Shared secret is required in x-api-key header."}))
        res = self.run_push(77, N, "usps")
        self.assertEqual(res["verdict"], "dead", res)

    def test_throttled(self):
        self.fake.force("POST", "/tracking", Reply(429, {"error": "Rate limit"},
                        headers={"retry-after": "3"}))
        res = self.run_push(77, N, "usps")
        self.assertEqual((res["verdict"], res["retry_after"]), ("retry", "3"))
        self.assertEqual(self.fake.state["emails"], 0)

    def test_5xx_then_no_duplicate(self):
        self.fake.force("GET", "/receipts/", Reply(500, {"error": "oops"}))
        self.assertEqual(self.run_push(77, N, "usps")["verdict"], "retry")
        self.assertEqual(self.run_push(77, N, "usps")["verdict"], "done")
        self.assertEqual(self.fake.state["emails"], 1)

    def test_timeout_after_apply_no_second_email(self):
        self.fake.delay_after_apply("POST", "/tracking", 2.5)
        res = self.run_push(77, N, "usps", timeout_ms=800)
        self.assertEqual(res["verdict"], "retry", res)
        res = self.run_push(77, N, "usps")
        self.assertEqual(res["verdict"], "done", res)
        self.assertEqual(self.fake.state["emails"], 1)
        self.assertEqual(len(self.r()["shipments"]), 1)

    def test_corrected_number_is_manual_not_a_second_email(self):
        self.run_push(77, N, "usps")
        res = self.run_push(77, "9400111899223197428506", "usps", previous=N)
        self.assertEqual(res["verdict"], "manual", res)
        self.assertIn("corrected", res["reason"])
        self.assertEqual(self.fake.state["emails"], 1)

    def test_cancelled_receipt_is_manual(self):
        self.r()["status"] = "Canceled"
        res = self.run_push(77, N, "usps")
        self.assertEqual(res["verdict"], "manual", res)
        self.assertEqual(self.fake.requests("POST", "/tracking"), [])

    def test_check(self):
        p = subprocess.run([DRIVE, "etsy", "--api-url", self.fake.url,
                            "--credentials-file", self.cred_file, "--check"],
                           capture_output=True, text=True)
        self.assertEqual(p.stdout.strip(), "check=200")


if __name__ == "__main__":
    unittest.main()
