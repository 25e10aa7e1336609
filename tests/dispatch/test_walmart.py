"""The Walmart adapter against the fake (channels.md section 7)."""
import json
import subprocess
import unittest

from fake_walmart import FakeWalmart, CLIENT, SECRET
from fakehttp import Reply
from testlib import AdapterCase, DRIVE

PO = "1796277083022"
CRED = json.dumps({"client_id": CLIENT, "client_secret": SECRET})
N = "1Z999AA10123456784"


class WalmartAdapterTest(AdapterCase):
    channel = "walmart"
    credentials = CRED

    def make_fake(self):
        f = FakeWalmart()
        f.add_order(PO, lines=(("1", 1), ("2", 2)))
        return f

    def secrets(self):
        return [SECRET] + self.fake.state["tokens"]

    def lines(self):
        return self.fake.state["orders"][PO]["lines"]

    def test_first_push_all_lines(self):
        r = self.run_push(PO, N, "ups")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual([(l["status"], l["tracking"]["trackingNumber"],
                           l["tracking"]["carrierName"]["carrier"])
                          for l in self.lines()],
                         [("Shipped", N, "UPS")] * 2)
        # Token first, every call with its own correlation id.
        self.assertEqual(self.fake.log[0]["path"], "/v3/token")
        cids = [q["headers"]["wm_qos.correlation_id"] for q in self.fake.log]
        self.assertEqual(len(cids), len(set(cids)))

    def test_created_lines_acknowledged_first(self):
        for l in self.lines():
            l["status"] = "Created"
        r = self.run_push(PO, N, "ups")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(len(self.fake.requests("POST", "acknowledge")), 1)

    def test_repeat_push_no_second_ship(self):
        self.run_push(PO, N, "ups")
        r = self.run_push(PO, N, "ups")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(len(self.fake.requests("POST", "/shipping")), 1)

    def test_already_shipped_500_reread(self):
        self.fake.state["shipped_as_500"] = True
        fake = self.fake
        orig = fake.ship

        def race(req, po):
            for l in fake.state["orders"][po]["lines"]:
                l["status"] = "Shipped"
                l["tracking"] = {"trackingNumber": "OTHER"}
            return orig(req, po)
        fake.routes[-1] = ("POST", fake.routes[-1][1], race)
        r = self.run_push(PO, N, "ups")
        self.assertEqual(r["verdict"], "manual", r)
        self.assertIn("SHIPPED status", r["reason"])

    def test_unknown_carrier_other_with_url(self):
        r = self.run_push(PO, "LP00123456789012", "cainiao",
                          url="https://global.cainiao.com/detail.htm?mailNoList=LP00123456789012")
        self.assertEqual(r["verdict"], "done", r)
        ti = self.lines()[0]["tracking"]
        self.assertEqual(ti["carrierName"], {"otherCarrier": "Cainiao"})
        self.assertIn("cainiao.com", ti["trackingURL"])

    def test_wfs_manual(self):
        self.lines()[1]["node"] = "WFSFulfilled"
        r = self.run_push(PO, N, "ups")
        self.assertEqual(r["verdict"], "manual", r)
        self.assertIn("WFS", r["reason"])
        self.assertEqual(self.fake.requests("POST", "/shipping"), [])

    def test_intent_to_cancel_manual(self):
        self.lines()[0]["intentToCancel"] = True
        r = self.run_push(PO, N, "ups")
        self.assertEqual(r["verdict"], "manual", r)

    def test_expired_token_gets_a_new_one(self):
        fake = self.fake
        orig = fake.get_order
        calls = []

        def expire_once(req, po):
            if not calls:
                calls.append(1)
                fake.expire_tokens()
            return orig(req, po)
        fake.routes[1] = ("GET", fake.routes[1][1], expire_once)
        r = self.run_push(PO, N, "ups")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(len(self.fake.requests("POST", "/v3/token")), 2)

    def test_bad_keys_dead(self):
        r = self.run_push(PO, N, "ups", credentials=json.dumps(
            {"client_id": CLIENT, "client_secret": "wrong"}))
        self.assertEqual(r["verdict"], "dead", r)

    def test_throttled(self):
        self.fake.force("POST", "/shipping", Reply(429, {"errors": {"error": [
            {"code": "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API"}]}},
            headers={"x-current-token-count": "0", "Retry-After": "5",
                     "x-next-replenishment-time": "1772651400000"}))
        r = self.run_push(PO, N, "ups")
        self.assertEqual((r["verdict"], r["retry_after"]), ("retry", "5"))

    def test_504_then_no_duplicate(self):
        self.fake.force("POST", "/shipping", Reply(504, {"errors": {"error": [
            {"code": "DOWNSTREAM_SYSTEM_TIME_OUT"}]}}))
        self.assertEqual(self.run_push(PO, N, "ups")["verdict"], "retry")
        self.assertEqual(self.run_push(PO, N, "ups")["verdict"], "done")
        self.assertEqual(len(self.fake.requests("POST", "/shipping")), 2)

    def test_timeout_after_apply_no_duplicate(self):
        self.fake.delay_after_apply("POST", "/shipping", 2.5)
        r = self.run_push(PO, N, "ups", timeout_ms=800)
        self.assertEqual(r["verdict"], "retry", r)
        r = self.run_push(PO, N, "ups")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(len(self.fake.requests("POST", "/shipping")), 1)

    def test_corrected_number_partial_update(self):
        self.run_push(PO, N, "ups")
        r = self.run_push(PO, "1Z999AA10123456791", "ups", previous=N)
        self.assertEqual(r["verdict"], "done", r)
        body = json.loads(self.fake.requests("POST", "/shipping")[-1]["body"])
        self.assertEqual(body["orderShipment"]["processMode"], "PARTIAL_UPDATE")
        self.assertEqual({l["tracking"]["trackingNumber"] for l in self.lines()},
                         {"1Z999AA10123456791"})

    def test_check(self):
        for _ in range(2):
            p = subprocess.run([DRIVE, "walmart", "--api-url", self.fake.url,
                                "--credentials-file", self.cred_file, "--check"],
                               capture_output=True, text=True)
            self.assertEqual(p.stdout.strip(), "check=200")


if __name__ == "__main__":
    unittest.main()
