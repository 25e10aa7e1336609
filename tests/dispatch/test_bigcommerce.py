"""The BigCommerce adapter against the fake (channels.md section 8)."""
import subprocess
import unittest

from fake_bigcommerce import FakeBigCommerce, TOKEN
from fakehttp import Reply
from testlib import AdapterCase, DRIVE

N = "1Z999AA10123456784"


class BigCommerceAdapterTest(AdapterCase):
    channel = "bigcommerce"
    credentials = TOKEN + "\n"

    def make_fake(self):
        f = FakeBigCommerce()
        f.add_order(228, products=((194, 1), (195, 2)))
        return f

    def secrets(self):
        return [TOKEN]

    def o(self):
        return self.fake.state["orders"]["228"]

    def test_first_push_every_remaining_item(self):
        r = self.run_push(228, N, "ups")
        self.assertEqual(r["verdict"], "done", r)
        s = self.o()["shipments"]
        self.assertEqual(len(s), 1)
        self.assertEqual((s[0]["tracking_number"], s[0]["tracking_carrier"],
                          s[0]["order_address_id"]), (N, "ups", 128))
        self.assertEqual(sorted((i["order_product_id"], i["quantity"])
                                for i in s[0]["items"]), [(194, 1), (195, 2)])
        self.assertEqual(r["remote_ref"], str(s[0]["id"]))
        self.assertEqual(self.o()["status_id"], 2)

    def test_given_lines_partial(self):
        r = self.run_push(228, N, "ups", lines=["195:1"])
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(self.o()["status_id"], 3)

    def test_repeat_push_no_second_shipment(self):
        self.run_push(228, N, "ups", lines=["194:1"])
        r = self.run_push(228, N, "ups", lines=["194:1"])
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(len(self.o()["shipments"]), 1)
        self.assertEqual(self.fake.state["emails"], 1)

    def test_already_shipped_with_our_number(self):
        self.o()["shipments"].append({"id": 5, "tracking_number": N,
                                      "items": []})
        r = self.run_push(228, N, "ups")
        self.assertEqual((r["verdict"], r["remote_ref"]), ("done", "5"))
        self.assertEqual(self.fake.requests("POST"), [])

    def test_all_shipped_other_number_is_manual(self):
        self.run_push(228, N, "ups")
        r = self.run_push(228, "1Z999AA10123456791", "ups")
        self.assertEqual(r["verdict"], "manual", r)
        self.assertEqual(len(self.o()["shipments"]), 1)

    def test_unknown_carrier_tracking_link(self):
        r = self.run_push(228, "LP00123456789012", "gofo",
                          url="https://track.example/LP00123456789012")
        self.assertEqual(r["verdict"], "done", r)
        s = self.o()["shipments"][0]
        self.assertEqual((s["tracking_carrier"], s["tracking_link"]),
                         ("", "https://track.example/LP00123456789012"))

    def test_bad_token_dead(self):
        r = self.run_push(228, N, "ups", credentials="other-token")
        self.assertEqual(r["verdict"], "dead", r)

    def test_throttled(self):
        self.fake.force("POST", "shipments", Reply(
            429, [{"status": 429, "message": "Too many requests"}],
            headers={"X-Retry-After": "4", "Retry-After": "4"}))
        r = self.run_push(228, N, "ups")
        self.assertEqual((r["verdict"], r["retry_after"]), ("retry", "4"))
        self.assertEqual(self.o()["shipments"], [])

    def test_503_maintenance_retries(self):
        self.fake.force("GET", r"/v2/orders/228$", Reply(503, raw="maintenance"))
        self.assertEqual(self.run_push(228, N, "ups")["verdict"], "retry")
        self.assertEqual(self.run_push(228, N, "ups")["verdict"], "done")
        self.assertEqual(len(self.o()["shipments"]), 1)

    def test_timeout_after_apply_no_duplicate(self):
        self.fake.delay_after_apply("POST", "shipments", 2.5)
        r = self.run_push(228, N, "ups", timeout_ms=800)
        self.assertEqual(r["verdict"], "retry", r)
        r = self.run_push(228, N, "ups")
        self.assertEqual(r["verdict"], "done", r)
        self.assertEqual(len(self.o()["shipments"]), 1)

    def test_corrected_number_updates_the_shipment(self):
        self.run_push(228, N, "ups")
        sid = self.o()["shipments"][0]["id"]
        r = self.run_push(228, "1Z999AA10123456791", "ups", previous=N)
        self.assertEqual((r["verdict"], r["remote_ref"]), ("done", str(sid)))
        self.assertEqual([s["tracking_number"] for s in self.o()["shipments"]],
                         ["1Z999AA10123456791"])
        self.assertEqual(len(self.fake.requests("POST")), 1)

    def test_cancelled_manual(self):
        self.o()["status_id"] = 5
        self.assertEqual(self.run_push(228, N, "ups")["verdict"], "manual")

    def test_over_quantity_manual(self):
        r = self.run_push(228, N, "ups", lines=["194:3"])
        self.assertEqual(r["verdict"], "manual", r)
        self.assertIn("quantity", r["reason"])

    def test_check(self):
        p = subprocess.run([DRIVE, "bigcommerce", "--api-url", self.fake.url,
                            "--credentials-file", self.cred_file, "--check"],
                           capture_output=True, text=True)
        self.assertEqual(p.stdout.strip(), "check=200")


if __name__ == "__main__":
    unittest.main()
