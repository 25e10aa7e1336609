"""The eBay adapter against the fake (channels.md section 3)."""
import json
import subprocess
import unittest

from fake_ebay import FakeEbay, CLIENT, SECRET, REFRESH
from fakehttp import Reply
from testlib import AdapterCase, DRIVE

OID = "12-34567-89012"
CRED = {"client_id": CLIENT, "client_secret": SECRET, "refresh_token": REFRESH}
N = "9400111899223197428490"


class EbayAdapterTest(AdapterCase):
    channel = "ebay"
    credentials = json.dumps(CRED)

    def make_fake(self):
        f = FakeEbay()
        f.add_order(OID, lines=(("L1", 1), ("L2", 2)))
        return f

    def secrets(self):
        return [SECRET, REFRESH] + self.fake.state["tokens"]

    def fs(self):
        return self.fake.state["orders"][OID]["fulfillments"]

    def test_first_push_all_lines(self):
        r = self.run_push(OID, N, "usps")
        self.assertEqual((r["verdict"], r["remote_ref"]), ("done", N), r)
        f = self.fs()
        self.assertEqual(len(f), 1)
        self.assertEqual((f[0]["shipmentTrackingNumber"],
                          f[0]["shippingCarrierCode"]), (N, "USPS"))
        self.assertEqual(f[0]["lineItems"], [
            {"lineItemId": "L1", "quantity": 1},
            {"lineItemId": "L2", "quantity": 2}])

    def test_given_lines_only(self):
        r = self.run_push(OID, N, "fedex", lines=["L2:1"])
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(self.fs()[0]["lineItems"],
                         [{"lineItemId": "L2", "quantity": 1}])
        self.assertEqual(self.fs()[0]["shippingCarrierCode"], "FedEx")

    def test_repeat_push_no_duplicate(self):
        self.run_push(OID, N, "usps")
        r = self.run_push(OID, N, "usps")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(len(self.fs()), 1)

    def test_already_fulfilled_by_someone_else_with_our_number(self):
        self.fs().append({"fulfillmentId": "F9", "shipmentTrackingNumber": N,
                          "shippingCarrierCode": "USPS", "lineItems": []})
        r = self.run_push(OID, N, "usps")
        self.assertEqual((r["verdict"], r["remote_ref"]), ("done", "F9"))
        self.assertEqual(self.fake.requests("POST", "shipping_fulfillment"), [])

    def test_400_reread_without_our_number_is_manual(self):
        self.fake.force("POST", "shipping_fulfillment", Reply(400, {
            "errors": [{"errorId": 32600, "message": "Invalid input data"}]}))
        r = self.run_push(OID, N, "usps")
        self.assertEqual(r["verdict"], "manual", r)
        self.assertIn("32600", r["reason"])

    def test_unknown_carrier_is_other(self):
        r = self.run_push(OID, "YT2412345678901234", "yunexpress")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(self.fs()[0]["shippingCarrierCode"], "Other")
        self.assertIn("Other", r["reason"])

    def test_expired_token_refreshes_once(self):
        stale = self.fake.issue_token()
        self.fake.expire_tokens()
        r = self.run_push(OID, N, "usps",
                          credentials=json.dumps(dict(CRED, access_token=stale)))
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(len(self.fake.requests("POST", "oauth2/token")), 1)

    def test_refresh_refused_is_dead(self):
        r = self.run_push(OID, N, "usps", credentials=json.dumps(
            dict(CRED, refresh_token="gone")))
        self.assertEqual(r["verdict"], "dead", r)
        self.assertEqual(self.fs(), [])

    def test_daily_quota_waits_for_midnight(self):
        self.fake.state["quota"] = 2
        r = self.run_push(OID, N, "usps")
        self.assertEqual(r["verdict"], "retry", r)
        self.assertIn("quota", r["reason"])
        self.assertTrue(60 < int(r["retry_after"]) <= 86460)
        self.assertEqual(self.fs(), [])

    def test_500_retries_then_no_duplicate(self):
        self.fake.force("POST", "shipping_fulfillment", Reply(500, {
            "errors": [{"errorId": 30500, "message": "System error"}]}))
        self.assertEqual(self.run_push(OID, N, "usps")["verdict"], "retry")
        self.assertEqual(self.run_push(OID, N, "usps")["verdict"], "done")
        self.assertEqual(len(self.fs()), 1)

    def test_timeout_after_apply_no_duplicate(self):
        self.fake.delay_after_apply("POST", "shipping_fulfillment", 2.5)
        r = self.run_push(OID, N, "usps", timeout_ms=800)
        self.assertEqual(r["verdict"], "retry", r)
        r = self.run_push(OID, N, "usps")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(len(self.fs()), 1)

    def test_corrected_number_is_manual(self):
        self.run_push(OID, N, "usps")
        r = self.run_push(OID, "9400111899223197428506", "usps", previous=N)
        self.assertEqual(r["verdict"], "manual", r)
        self.assertEqual(len(self.fs()), 1)

    def test_cancelled_is_manual(self):
        self.fake.state["orders"][OID]["cancelState"] = "CANCELED"
        r = self.run_push(OID, N, "usps")
        self.assertEqual(r["verdict"], "manual", r)

    def test_check(self):
        p = subprocess.run([DRIVE, "ebay", "--api-url", self.fake.url,
                            "--credentials-file", self.cred_file, "--check"],
                           capture_output=True, text=True)
        self.assertEqual(p.stdout.strip(), "check=200")


if __name__ == "__main__":
    unittest.main()
