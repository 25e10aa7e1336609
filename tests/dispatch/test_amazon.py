"""The Amazon adapter against the fake SP-API + LWA (channels.md section 6)."""
import json
import subprocess
import unittest

from fake_amazon import FakeAmazon, CLIENT, SECRET, REFRESH, MARKET
from fakehttp import Reply
from testlib import AdapterCase, DRIVE

OID = "902-3159896-1390916"
CRED = {"client_id": CLIENT, "client_secret": SECRET, "refresh_token": REFRESH}
N = "9400111899223197428490"


class AmazonAdapterTest(AdapterCase):
    channel = "amazon"
    credentials = json.dumps(CRED)

    def setUp(self):
        super().setUp()
        self.settings = {"marketplace_id": MARKET, "lwa_url": self.fake.url}

    def make_fake(self):
        f = FakeAmazon()
        f.add_order(OID, items=(("I1", 1), ("I2", 2)))
        return f

    def secrets(self):
        return [SECRET, REFRESH] + list(self.fake.state["tokens"])

    def pk(self):
        return self.fake.state["orders"][OID]["packages"]

    def test_first_push(self):
        r = self.run_push(OID, N, "usps")
        self.assertEqual((r["verdict"], r["remote_ref"]), ("done", "1"), r)
        p = self.pk()
        self.assertEqual((p[0]["trackingNumber"], p[0]["carrierCode"]),
                         (N, "USPS"))
        self.assertEqual(sorted((i["orderItemId"], i["quantity"])
                                for i in p[0]["packageItems"]),
                         [("I1", 1), ("I2", 2)])

    def test_second_parcel_next_ref(self):
        self.run_push(OID, N, "usps", lines=["I2:1"])
        r = self.run_push(OID, "9400111899223197428506", "usps")
        self.assertEqual((r["verdict"], r["remote_ref"]), ("done", "2"), r)

    def test_repeat_push_no_duplicate(self):
        self.run_push(OID, N, "usps")
        r = self.run_push(OID, N, "usps")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(len(self.fake.requests("POST", "shipmentConfirmation")), 1)

    def test_already_fulfilled_400_reread(self):
        self.run_push(OID, N, "usps")
        r = self.run_push(OID, "1Z999AA10123456784", "ups")
        self.assertEqual(r["verdict"], "manual", r)
        self.assertEqual(len(self.pk()), 1)

    def test_400_but_reread_shows_ours_is_done(self):
        fake = self.fake

        def race(req, oid):
            fake.state["orders"][oid]["packages"].append({
                "packageReferenceId": "7", "trackingNumber": N,
                "packageItems": []})
            return Reply(400, {"errors": [{"code": "InvalidInput",
                                           "message": "already fulfilled"}]})
        fake.routes[-1] = ("POST", fake.routes[-1][1], race)
        r = self.run_push(OID, N, "usps")
        self.assertEqual((r["verdict"], r["remote_ref"]), ("done", "7"), r)

    def test_unknown_carrier_other_with_name(self):
        r = self.run_push(OID, "YT2412345678901234", "yunexpress")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual((self.pk()[0]["carrierCode"], self.pk()[0]["carrier"]),
                         ("Other", "YunExpress"))

    def test_fba_is_manual(self):
        self.fake.state["orders"][OID]["fulfilledBy"] = "AMAZON"
        r = self.run_push(OID, N, "usps")
        self.assertEqual(r["verdict"], "manual", r)
        self.assertIn("FBA", r["reason"])
        self.assertEqual(self.fake.requests("POST", "shipmentConfirmation"), [])

    def test_expired_token_403_refreshes(self):
        stale = self.fake.issue_token()
        self.fake.expire_tokens()
        r = self.run_push(OID, N, "usps", credentials=json.dumps(
            dict(CRED, access_token=stale)))
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(len(self.fake.requests("POST", "/auth/o2/token")), 1)

    def test_lwa_refused_dead(self):
        r = self.run_push(OID, N, "usps", credentials=json.dumps(
            dict(CRED, client_secret="wrong")))
        self.assertEqual(r["verdict"], "dead", r)

    def test_quota_exceeded(self):
        self.fake.force("POST", "shipmentConfirmation", Reply(429, {
            "errors": [{"code": "QuotaExceeded", "message": "You exceeded "
                        "your quota for the requested resource."}]}))
        r = self.run_push(OID, N, "usps")
        self.assertEqual((r["verdict"], r["retry_after"]), ("retry", "2"))
        self.assertEqual(self.pk(), [])

    def test_503_then_no_duplicate(self):
        self.fake.force("GET", "/orders/2026", Reply(503, raw=""))
        self.assertEqual(self.run_push(OID, N, "usps")["verdict"], "retry")
        self.assertEqual(self.run_push(OID, N, "usps")["verdict"], "done")
        self.assertEqual(len(self.pk()), 1)

    def test_timeout_after_apply_no_duplicate(self):
        self.fake.delay_after_apply("POST", "shipmentConfirmation", 2.5)
        r = self.run_push(OID, N, "usps", timeout_ms=800)
        self.assertEqual(r["verdict"], "retry", r)
        r = self.run_push(OID, N, "usps")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(len(self.pk()), 1)

    def test_corrected_number_same_package(self):
        self.run_push(OID, N, "usps")
        r = self.run_push(OID, "9400111899223197428506", "usps", previous=N)
        self.assertEqual((r["verdict"], r["remote_ref"]), ("done", "1"), r)
        self.assertEqual([p["trackingNumber"] for p in self.pk()],
                         ["9400111899223197428506"])

    def test_check(self):
        p = subprocess.run([DRIVE, "amazon", "--api-url", self.fake.url,
                            "--credentials-file", self.cred_file,
                            "--settings", json.dumps(self.settings), "--check"],
                           capture_output=True, text=True)
        self.assertEqual(p.stdout.strip(), "check=200")


if __name__ == "__main__":
    unittest.main()
