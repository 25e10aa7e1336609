"""The fake Amazon's own negative tests (channels.md section 6)."""
import unittest

from fake_amazon import FakeAmazon, CLIENT, SECRET, REFRESH, MARKET
from testlib import http

OID = "902-3159896-1390916"
PD = {"packageReferenceId": "1", "carrierCode": "USPS", "carrierName": "USPS",
      "shippingMethod": "First Class", "trackingNumber": "9400111899223197428490",
      "shipDate": "2026-03-04T19:09:02Z",
      "orderItems": [{"orderItemId": "79039765272157", "quantity": 1}]}


class FakeAmazonTest(unittest.TestCase):
    def setUp(self):
        self.f = FakeAmazon()
        self.f.add_order(OID)
        self.f.start()
        self.h = {"x-amz-access-token": self.f.issue_token()}
        self.u = self.f.url + "/orders/v0/orders/%s/shipmentConfirmation" % OID

    def tearDown(self):
        self.f.stop()

    def post(self, pd, market=MARKET):
        return http("POST", self.u, {"marketplaceId": market,
                                     "packageDetail": pd}, headers=self.h)

    def test_expired_is_403_missing_is_401(self):
        self.f.expire_tokens()
        s, b, _ = self.post(PD)
        self.assertEqual((s, b["errors"][0]["details"]),
                         (403, "The access token you provided has expired."))
        s, _, _ = http("POST", self.u, {}, headers={})
        self.assertEqual(s, 401)

    def test_lwa(self):
        url = self.f.url + "/auth/o2/token"
        s, _, _ = http("POST", url, form={"grant_type": "refresh_token",
                                          "refresh_token": REFRESH,
                                          "client_id": CLIENT,
                                          "client_secret": "x"})
        self.assertEqual(s, 401)
        s, b, _ = http("POST", url, form={"grant_type": "refresh_token",
                                          "refresh_token": REFRESH,
                                          "client_id": CLIENT,
                                          "client_secret": SECRET})
        self.assertEqual((s, b["expires_in"]), (200, 3600))

    def test_validation(self):
        for pd, market in [(PD, "XX"), (dict(PD, packageReferenceId="0"), MARKET),
                           (dict(PD, packageReferenceId="a"), MARKET),
                           (dict(PD, carrierCode="usps"), MARKET),
                           (dict(PD, carrierCode="Other", carrierName=""), MARKET),
                           (dict(PD, shipDate="2026-03-04"), MARKET),
                           (dict(PD, orderItems=[{"orderItemId": "1",
                                                  "quantity": 1}]), MARKET),
                           (dict(PD, orderItems=[{"orderItemId": "79039765272157",
                                                  "quantity": 2}]), MARKET)]:
            s, b, _ = self.post(pd, market)
            self.assertEqual((s, b["errors"][0]["code"]), (400, "InvalidInput"),
                             pd)
        self.assertEqual(self.f.state["orders"][OID]["packages"], [])

    def test_204_then_new_ref_refused_same_ref_updates(self):
        s, b, _ = self.post(PD)
        self.assertEqual((s, b), (204, None))
        s, b, _ = self.post(dict(PD, packageReferenceId="2"))
        self.assertEqual(s, 400)
        self.assertIn("PackageToUpdateNotFound", b["errors"][0]["message"])
        s, _, _ = self.post(dict(PD, trackingNumber="NEW"))
        self.assertEqual(s, 204)
        p = self.f.state["orders"][OID]["packages"]
        self.assertEqual([x["trackingNumber"] for x in p], ["NEW"])

    def test_fba_refused(self):
        self.f.state["orders"][OID]["fulfilledBy"] = "AMAZON"
        s, _, _ = self.post(PD)
        self.assertEqual(s, 400)


if __name__ == "__main__":
    unittest.main()
