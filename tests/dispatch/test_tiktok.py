"""The TikTok Shop adapter against the fake (channels.md section 10):
every request must carry a valid signature or the fake refuses it."""
import json
import subprocess
import unittest

from fake_tiktok import FakeTikTok, APP_KEY, APP_SECRET, CIPHER, REFRESH
from fakehttp import Reply
from testlib import AdapterCase, DRIVE

OID = "576461413038785752"
N = "9400111899223197428490"


class TikTokAdapterTest(AdapterCase):
    channel = "tiktok"

    def setUp(self):
        super().setUp()
        self.tok = self.fake.issue_token()
        self.cred = {"app_key": APP_KEY, "app_secret": APP_SECRET,
                     "shop_cipher": CIPHER, "access_token": self.tok,
                     "refresh_token": REFRESH}
        with open(self.cred_file, "w") as f:
            f.write(json.dumps(self.cred))
        self.settings = {"auth_url": self.fake.url}

    def make_fake(self):
        f = FakeTikTok()
        f.add_order(OID, lines=("L1", "L2"))
        return f

    def secrets(self):
        return [APP_SECRET, REFRESH] + self.fake.state["tokens"]

    def lines(self):
        return self.fake.state["orders"][OID]["line_items"]

    def test_first_push_signed(self):
        r = self.run_push(OID, N, "usps")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual({(l["tracking_number"], l["shipping_provider_id"])
                          for l in self.lines()},
                         {(N, "7117858858072016686")})
        self.assertEqual(r["remote_ref"], self.lines()[0]["package_id"])

    def test_given_lines(self):
        r = self.run_push(OID, N, "ups", lines=["L2:1"])
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual([l["tracking_number"] for l in self.lines()], [None, N])

    def test_repeat_push_no_duplicate(self):
        self.run_push(OID, N, "usps")
        r = self.run_push(OID, N, "usps")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(len(self.fake.requests("POST", "/packages")), 1)

    def test_already_shipped_code_reread(self):
        fake = self.fake
        orig = fake.mark_shipped

        def race(req, oid):
            for l in fake.state["orders"][oid]["line_items"]:
                l.update(tracking_number=N, package_id="99")
            return orig(req, oid)
        fake.routes[3] = ("POST", fake.routes[3][1], race)
        r = self.run_push(OID, N, "usps")
        self.assertEqual((r["verdict"], r["remote_ref"]), ("done", "99"), r)

    def test_already_shipped_other_number_manual(self):
        for l in self.lines():
            l.update(tracking_number="OTHER1", package_id="98")
        r = self.run_push(OID, N, "usps")
        self.assertEqual(r["verdict"], "manual", r)

    def test_unknown_carrier_manual(self):
        r = self.run_push(OID, "LP00123456789012", "cainiao")
        self.assertEqual(r["verdict"], "manual", r)
        self.assertIn("no shipping provider", r["reason"])
        self.assertEqual(self.fake.requests("POST"), [])

    def test_provider_id_setting(self):
        r = self.run_push(OID, "LP00123456789012", "cainiao", settings={
            "auth_url": self.fake.url,
            "providers": {"cainiao": "7248600717110282027"}})
        self.assertEqual(r["verdict"], "done", r)

    def test_warning_surfaces(self):
        self.fake.state["warning"] = "tracking number does not match provider"
        r = self.run_push(OID, N, "usps")
        self.assertEqual(r["verdict"], "done", r)
        self.assertIn("does not match", r["reason"])

    def test_expired_token_refreshes(self):
        self.fake.expire_tokens()
        r = self.run_push(OID, N, "usps")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(len(self.fake.requests("GET", "token/refresh")), 1)

    def test_bad_secret_dead(self):
        r = self.run_push(OID, N, "usps", credentials=json.dumps(
            dict(self.cred, app_secret="wrong-secret")))
        self.assertEqual(r["verdict"], "dead", r)
        self.assertIn("106001", r["reason"])

    def test_fbt_manual(self):
        self.fake.state["orders"][OID]["fulfillment_type"] = "FULFILLMENT_BY_TIKTOK"
        r = self.run_push(OID, N, "usps")
        self.assertEqual(r["verdict"], "manual", r)
        self.assertIn("FBT", r["reason"])

    def test_throttled_429(self):
        self.fake.force("POST", "/packages", Reply(429, {
            "code": 36009002, "message": "Too many requests"},
            headers={"Retry-After": "1"}))
        r = self.run_push(OID, N, "usps")
        self.assertEqual((r["verdict"], r["retry_after"]), ("retry", "1"))

    def test_internal_code_and_503_retry(self):
        self.fake.force("GET", "/order/", Reply(200, {
            "code": 36009003, "message": "internal error"}))
        self.assertEqual(self.run_push(OID, N, "usps")["verdict"], "retry")
        self.fake.force("GET", "/order/", Reply(503, raw="overload"))
        self.assertEqual(self.run_push(OID, N, "usps")["verdict"], "retry")
        self.assertEqual(self.run_push(OID, N, "usps")["verdict"], "done")

    def test_timeout_after_apply_no_duplicate(self):
        self.fake.delay_after_apply("POST", "/packages", 2.5)
        r = self.run_push(OID, N, "usps", timeout_ms=800)
        self.assertEqual(r["verdict"], "retry", r)
        r = self.run_push(OID, N, "usps")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(len(self.fake.requests("POST", "/packages")), 1)

    def test_corrected_number_updates_package(self):
        self.run_push(OID, N, "usps")
        pkg = self.lines()[0]["package_id"]
        r = self.run_push(OID, "9400111899223197428506", "usps", previous=N)
        self.assertEqual((r["verdict"], r["remote_ref"]), ("done", pkg), r)
        self.assertEqual({l["tracking_number"] for l in self.lines()},
                         {"9400111899223197428506"})
        self.assertEqual(len(self.fake.requests("POST", "shipping_info/update")), 1)

    def test_check(self):
        p = subprocess.run([DRIVE, "tiktok", "--api-url", self.fake.url,
                            "--credentials-file", self.cred_file,
                            "--settings", json.dumps(self.settings), "--check"],
                           capture_output=True, text=True)
        self.assertEqual(p.stdout.strip(), "check=200")
        self.assertNotIn(APP_SECRET, p.stderr)


if __name__ == "__main__":
    unittest.main()
