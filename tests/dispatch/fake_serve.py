"""fake_serve.py CHANNEL DIR - runs one channel's fake as a process for
the end-to-end tests (channels_e2e.sh) with one seller order in it, and
writes what the store needs into DIR: creds (the credentials file),
settings (KEY VALUE lines for `stores set`), order (the channel order id)
and port (last, when serving)."""
import json
import os
import sys

import fakehttp

ch, d = sys.argv[1], sys.argv[2]
settings = {}
if ch == "woocommerce":
    from fake_woocommerce import FakeWoo, KEY, SECRET
    f, order = FakeWoo(), "42"
    f.add_order(42)
    creds = json.dumps({"consumer_key": KEY, "consumer_secret": SECRET})
elif ch == "etsy":
    from fake_etsy import FakeEtsy, KEYSTRING, SHARED, REFRESH, SHOP
    f, order = FakeEtsy(), "77"
    f.add_receipt(77)
    creds = json.dumps({"keystring": KEYSTRING, "shared_secret": SHARED,
                        "refresh_token": REFRESH})
    settings["shop_id"] = SHOP
elif ch == "ebay":
    from fake_ebay import FakeEbay, CLIENT, SECRET, REFRESH
    f, order = FakeEbay(), "12-34567-89012"
    f.add_order(order, lines=(("L1", 1),))
    creds = json.dumps({"client_id": CLIENT, "client_secret": SECRET,
                        "refresh_token": REFRESH})
elif ch == "bigcommerce":
    from fake_bigcommerce import FakeBigCommerce, TOKEN
    f, order = FakeBigCommerce(), "228"
    f.add_order(228)
    creds = TOKEN
elif ch == "wix":
    from fake_wix import FakeWix, TOKEN
    f, order = FakeWix(), "o1"
    f.add_order(order)
    creds = TOKEN
elif ch == "amazon":
    from fake_amazon import FakeAmazon, CLIENT, SECRET, REFRESH, MARKET
    f, order = FakeAmazon(), "902-3159896-1390916"
    f.add_order(order)
    creds = json.dumps({"client_id": CLIENT, "client_secret": SECRET,
                        "refresh_token": REFRESH})
    settings["marketplace_id"] = MARKET
    settings["lwa_url"] = "@URL@"
elif ch == "walmart":
    from fake_walmart import FakeWalmart, CLIENT, SECRET
    f, order = FakeWalmart(), "1796277083022"
    f.add_order(order)
    creds = json.dumps({"client_id": CLIENT, "client_secret": SECRET})
elif ch == "tiktok":
    from fake_tiktok import FakeTikTok, APP_KEY, APP_SECRET, CIPHER, REFRESH
    f, order = FakeTikTok(), "576461413038785752"
    f.add_order(order)
    creds = json.dumps({"app_key": APP_KEY, "app_secret": APP_SECRET,
                        "shop_cipher": CIPHER, "refresh_token": REFRESH})
    settings["auth_url"] = "@URL@"
else:
    sys.exit("unknown channel " + ch)

f.start()
url = f.url
with open(os.path.join(d, "creds"), "w") as out:
    out.write(creds + "\n")
with open(os.path.join(d, "settings"), "w") as out:
    for k, v in settings.items():
        out.write("%s %s\n" % (k, v.replace("@URL@", url)))
with open(os.path.join(d, "order"), "w") as out:
    out.write(order + "\n")
with open(os.path.join(d, "port.tmp"), "w") as out:
    out.write(str(f.server.server_address[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
f.thread.join()
