"""The WooCommerce adapter against the fake site (channels.md section 4),
through adapter_drive: first push, repeat push, already there, unknown
carrier, revoked key, throttling, 5xx, timeout, corrected number, and the
manual cases (no tracking add-on, cancelled order)."""
import json
import unittest

from fake_woocommerce import FakeWoo, KEY, SECRET
from fakehttp import Reply
from testlib import AdapterCase

CRED = json.dumps({"consumer_key": KEY, "consumer_secret": SECRET})
N = "9400111899560000000000"


class WooAdapterTest(AdapterCase):
    channel = "woocommerce"
    credentials = CRED

    def make_fake(self):
        f = FakeWoo()
        f.add_order(42)
        return f

    def secrets(self):
        return [SECRET]

    def order(self, oid="42"):
        return self.fake.state["orders"][oid]

    def test_first_push_tracking_then_completed(self):
        r = self.run_push(42, N, "usps")
        self.assertEqual(r["verdict"], "done", r)
        t = self.order()["trackings"]
        self.assertEqual([(x["tracking_number"], x["tracking_provider"])
                          for x in t], [(N, "USPS")])
        self.assertEqual(r["remote_ref"], t[0]["tracking_id"])
        self.assertEqual(self.order()["status"], "completed")
        # Tracking first, status after: the email carries the number.
        writes = [(q["method"], q["path"]) for q in self.fake.log
                  if q["method"] != "GET"]
        self.assertEqual([m for m, _ in writes], ["POST", "PUT"])
        self.assertIn("shipment-trackings", writes[0][1])
        self.assertEqual(self.fake.state["emails"], 1)

    def test_repeat_push_adds_nothing(self):
        self.assertEqual(self.run_push(42, N, "usps")["verdict"], "done")
        r = self.run_push(42, N, "usps")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(len(self.order()["trackings"]), 1)
        self.assertEqual(len(self.fake.requests("POST")), 1)
        self.assertEqual(self.fake.state["emails"], 1)

    def test_already_there_sends_nothing(self):
        self.order()["trackings"].append(
            {"tracking_id": "t0", "tracking_provider": "USPS",
             "tracking_link": "", "tracking_number": N,
             "date_shipped": "2026-07-10"})
        self.order()["status"] = "completed"
        r = self.run_push(42, N, "usps")
        self.assertEqual((r["verdict"], r["remote_ref"]), ("done", "t0"))
        self.assertEqual([q for q in self.fake.log if q["method"] != "GET"],
                         [])

    def test_unknown_carrier_custom_provider_with_link(self):
        r = self.run_push(42, "YT2412345678901234", "yunexpress")
        self.assertEqual(r["verdict"], "done", r)
        t = self.order()["trackings"][0]
        self.assertEqual(t["tracking_provider"], "YunExpress")
        self.assertIn("YT2412345678901234", t["tracking_link"])
        self.assertTrue(t["tracking_link"].startswith("https://"))

    def test_store_spelling_of_provider(self):
        r = self.run_push(42, "123456789012", "fedex")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(self.order()["trackings"][0]["tracking_provider"],
                         "Fedex")

    def test_revoked_key_is_dead_not_retried(self):
        bad = json.dumps({"consumer_key": "ck_old", "consumer_secret": "cs_x"})
        r = self.run_push(42, N, "usps", credentials=bad)
        self.assertEqual(r["verdict"], "dead", r)
        self.assertIn("credentials", r["reason"])
        self.assertEqual(self.order()["trackings"], [])

    def test_read_only_key_is_dead(self):
        self.fake.state["read_only"] = True
        r = self.run_push(42, N, "usps")
        self.assertEqual(r["verdict"], "dead", r)
        self.assertEqual(self.order()["trackings"], [])

    def test_query_auth_setting(self):
        r = self.run_push(42, N, "usps", settings={"auth": "query"})
        self.assertEqual(r["verdict"], "done", r)
        self.assertNotIn("authorization", self.fake.log[0]["headers"])
        self.assertEqual(self.fake.log[0]["query"]["consumer_key"], KEY)

    def test_throttled_by_host_retries_with_retry_after(self):
        self.fake.force("POST", "shipment-trackings",
                        Reply(429, raw="<html>slow down</html>",
                              headers={"Retry-After": "7"}))
        r = self.run_push(42, N, "usps")
        self.assertEqual((r["verdict"], r["retry_after"]), ("retry", "7"))
        self.assertEqual(self.order()["trackings"], [])
        self.assertEqual(self.run_push(42, N, "usps")["verdict"], "done")
        self.assertEqual(len(self.order()["trackings"]), 1)

    def test_5xx_retries_then_no_duplicate(self):
        self.fake.force("PUT", "orders", Reply(503, raw="<html>down</html>"))
        r = self.run_push(42, N, "usps")
        self.assertEqual(r["verdict"], "retry", r)
        r = self.run_push(42, N, "usps")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(len(self.order()["trackings"]), 1)
        self.assertEqual(self.order()["status"], "completed")

    def test_timeout_after_apply_then_no_duplicate(self):
        self.fake.delay_after_apply("POST", "shipment-trackings", 2.5)
        r = self.run_push(42, N, "usps", timeout_ms=800)
        self.assertEqual(r["verdict"], "retry", r)
        self.assertEqual(len(self.order()["trackings"]), 1)
        r = self.run_push(42, N, "usps")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(len(self.order()["trackings"]), 1)
        self.assertEqual(len(self.fake.requests("POST")), 1)

    def test_corrected_number_replaces_the_item(self):
        self.assertEqual(self.run_push(42, "1Z999AA10123456784", "ups")
                         ["verdict"], "done")
        r = self.run_push(42, "1Z999AA10123456791", "ups",
                          previous="1Z999AA10123456784")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual([t["tracking_number"]
                          for t in self.order()["trackings"]],
                         ["1Z999AA10123456791"])
        # Again: nothing more happens.
        self.run_push(42, "1Z999AA10123456791", "ups",
                      previous="1Z999AA10123456784")
        self.assertEqual(len(self.fake.requests("POST")), 2)

    def test_no_tracking_addon_is_manual(self):
        self.fake.state["plugin_installed"] = False
        r = self.run_push(42, N, "usps")
        self.assertEqual(r["verdict"], "manual", r)
        self.assertIn("tracking add-on", r["reason"])
        self.assertEqual(self.order()["status"], "processing")

    def test_cancelled_order_is_manual(self):
        self.order()["status"] = "cancelled"
        r = self.run_push(42, N, "usps")
        self.assertEqual(r["verdict"], "manual", r)
        self.assertEqual(self.fake.requests("POST"), [])

    def test_unknown_order_is_dead(self):
        r = self.run_push(77, N, "usps")
        self.assertEqual(r["verdict"], "dead", r)

    def test_check_request(self):
        import subprocess
        from testlib import DRIVE
        p = subprocess.run([DRIVE, "woocommerce", "--api-url", self.fake.url,
                            "--credentials-file", self.cred_file, "--check"],
                           capture_output=True, text=True)
        self.assertEqual(p.stdout.strip(), "check=200")
        self.assertTrue(self.fake.log[0]["headers"]["authorization"]
                        .startswith("Basic "))
        with open(self.cred_file, "w") as f:
            f.write(json.dumps({"consumer_key": KEY, "consumer_secret": "no"}))
        p = subprocess.run([DRIVE, "woocommerce", "--api-url", self.fake.url,
                            "--credentials-file", self.cred_file, "--check"],
                           capture_output=True, text=True)
        self.assertEqual(p.stdout.strip(), "check=401")


if __name__ == "__main__":
    unittest.main()
