"""The Wix adapter against the fake (channels.md section 9)."""
import json
import subprocess
import unittest

from fake_wix import FakeWix, TOKEN
from fakehttp import Reply
from testlib import AdapterCase, DRIVE

L1 = "00000000-0000-0000-0000-000000000001"
L2 = "00000000-0000-0000-0000-000000000002"
N = "123456789012"


class WixAdapterTest(AdapterCase):
    channel = "wix"
    credentials = TOKEN

    def make_fake(self):
        f = FakeWix()
        f.add_order("o1", lines=((L1, 1), (L2, 2)))
        return f

    def secrets(self):
        return [TOKEN]

    def fs(self):
        return self.fake.state["orders"]["o1"]["fulfillments"]

    def test_first_push_all_remaining(self):
        r = self.run_push("o1", N, "fedex")
        self.assertEqual(r["verdict"], "done", r)
        f = self.fs()
        self.assertEqual(len(f), 1)
        self.assertEqual(r["remote_ref"], f[0]["id"])
        self.assertEqual(f[0]["trackingInfo"]["shippingProvider"], "fedex")
        self.assertEqual(sorted((l["id"], l["quantity"]) for l in f[0]["lineItems"]),
                         [(L1, 1), (L2, 2)])

    def test_site_id_header(self):
        self.fake.state["site_id"] = "site-9"
        r = self.run_push("o1", N, "fedex", settings={"site_id": "site-9"})
        self.assertEqual(r["verdict"], "done", r)

    def test_second_parcel_takes_the_rest(self):
        self.run_push("o1", N, "fedex", lines=[L2 + ":1"])
        r = self.run_push("o1", "123456789029", "fedex")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(sorted((l["id"], l["quantity"])
                                for l in self.fs()[1]["lineItems"]),
                         [(L1, 1), (L2, 1)])

    def test_repeat_push_no_duplicate(self):
        self.run_push("o1", N, "fedex")
        r = self.run_push("o1", N, "fedex")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(len(self.fs()), 1)
        self.assertEqual(len(self.fake.requests("POST")), 1)

    def test_already_fulfilled_with_our_number(self):
        self.fs().append({"id": "f0", "lineItems": [],
                          "trackingInfo": {"trackingNumber": N}})
        r = self.run_push("o1", N, "fedex")
        self.assertEqual((r["verdict"], r["remote_ref"]), ("done", "f0"))
        self.assertEqual(self.fake.requests("POST"), [])

    def test_all_fulfilled_other_number_manual(self):
        self.run_push("o1", N, "fedex")
        r = self.run_push("o1", "123456789029", "fedex")
        self.assertEqual(r["verdict"], "manual", r)

    def test_unknown_carrier_custom_with_link(self):
        r = self.run_push("o1", "YT2412345678901234", "yunexpress")
        self.assertEqual(r["verdict"], "done", r)
        ti = self.fs()[0]["trackingInfo"]
        self.assertEqual(ti["shippingProvider"], "YunExpress")
        self.assertIn("YT2412345678901234", ti["trackingLink"])

    def test_expired_token_dead(self):
        r = self.run_push("o1", N, "fedex", credentials="expired")
        self.assertEqual(r["verdict"], "dead", r)

    def test_throttled(self):
        self.fake.force("POST", "create-fulfillment", Reply(
            429, {"message": "RESOURCE_EXHAUSTED"}, headers={"Retry-After": "2"}))
        r = self.run_push("o1", N, "fedex")
        self.assertEqual((r["verdict"], r["retry_after"]), ("retry", "2"))

    def test_5xx_then_no_duplicate(self):
        self.fake.force("GET", "/fulfillments/", Reply(502, raw="bad gateway"))
        self.assertEqual(self.run_push("o1", N, "fedex")["verdict"], "retry")
        self.assertEqual(self.run_push("o1", N, "fedex")["verdict"], "done")
        self.assertEqual(len(self.fs()), 1)

    def test_timeout_after_apply_no_duplicate(self):
        self.fake.delay_after_apply("POST", "create-fulfillment", 2.5)
        r = self.run_push("o1", N, "fedex", timeout_ms=800)
        self.assertEqual(r["verdict"], "retry", r)
        r = self.run_push("o1", N, "fedex")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(len(self.fs()), 1)

    def test_corrected_number_patches(self):
        self.run_push("o1", N, "fedex")
        fid = self.fs()[0]["id"]
        r = self.run_push("o1", "123456789029", "fedex", previous=N)
        self.assertEqual((r["verdict"], r["remote_ref"]), ("done", fid))
        self.assertEqual([f["trackingInfo"]["trackingNumber"] for f in self.fs()],
                         ["123456789029"])

    def test_not_approved_manual(self):
        self.fake.state["orders"]["o1"]["status"] = "CANCELED"
        self.assertEqual(self.run_push("o1", N, "fedex")["verdict"], "manual")

    def test_over_quantity_manual(self):
        r = self.run_push("o1", N, "fedex", lines=[L1 + ":5"])
        self.assertEqual(r["verdict"], "manual", r)

    def test_check(self):
        p = subprocess.run([DRIVE, "wix", "--api-url", self.fake.url,
                            "--credentials-file", self.cred_file, "--check"],
                           capture_output=True, text=True)
        self.assertEqual(p.stdout.strip(), "check=200")


if __name__ == "__main__":
    unittest.main()
