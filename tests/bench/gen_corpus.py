#!/usr/bin/env python3
"""gen_corpus.py - seeded, realistic mail corpus for the parse benchmark.

usage: gen_corpus.py OUT_DIR [COUNT [SEED]]

Writes COUNT (default 2000) .eml files of 5-60 KB (about 22 KB mean) into
OUT_DIR, shaped like the real upstream mails in ../shared/fixtures-upstream:
multipart/alternative with heavy nested-table HTML, hidden preheaders,
tracking pixels, Outlook conditional comments, QP and base64 bodies,
inline ("---------- Forwarded message ---------") and attached
(message/rfc822) forwards, shipping mails of real suppliers with valid
carrier numbers, and noise (newsletters, receipts, social). Same seed, same
bytes. Nothing here is copied from the upstream mails; it is generated at
bench time and never committed as data.
"""
import base64
import os
import quopri
import random
import sys

SUPPLIERS = [
    # (display, address, subject template, order format)
    ("Amazon.com", "shipment-tracking@amazon.com",
     "Your Amazon.com order #{order} has shipped", "amazon"),
    ("Amazon.co.uk", "dispatch-confirm@amazon.co.uk",
     "Your Amazon.co.uk order {order} has been dispatched", "amazon"),
    ("Walmart.com", "help@walmart.com",
     "Your order #{order} has shipped", "digits13"),
    ("eBay", "ebay@ebay.com",
     "Your package is on its way: order {order}", "ebay"),
    ("Best Buy", "BestBuyInfo@emailinfo.bestbuy.com",
     "Your order #BBY01-{order} has shipped", "digits12"),
    ("Target", "orders@oe.target.com",
     "Your Target order #{order} has shipped", "digits12"),
    ("Newegg", "info@newegg.com",
     "Newegg Shipment Notification for order #{order}", "digits9"),
]

NOISE = [
    ("Weekly Deals", "news@mail.shop-example.com",
     "This week only: up to 60% off everything"),
    ("LinkedIn", "messages-noreply@linkedin.com",
     "You appeared in 12 searches this week"),
    ("Bank Example", "alerts@bank-example.com",
     "Your monthly statement is ready"),
    ("Coffee Club", "hello@coffee-club.example",
     "Your receipt from Coffee Club"),
    ("Travel Co", "deals@travel.example",
     "Last-minute fares from your airport"),
]

WORDS = ("order shipping delivery package item quantity price subtotal "
         "total tax account return policy help center privacy notice "
         "unsubscribe preferences update track view details estimated "
         "arrival thank you for shopping with us we hope enjoy your "
         "purchase questions contact customer service available hours "
         "weekend sale new arrivals recommended for you based on your "
         "browsing history limited offer free standard").split()


def words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def ups_number(rng):
    body = "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTVWXYZ")
                   for _ in range(6)) + "03" + \
        "".join(rng.choice("0123456789") for _ in range(7))
    total = 0
    for i, ch in enumerate(body):
        v = int(ch) if ch.isdigit() else (ord(ch) - 63) % 10
        total += v * (2 if i % 2 else 1)
    return "1Z" + body + str((10 - total % 10) % 10)


def usps_number(rng):
    digits = "9400" + "".join(rng.choice("0123456789") for _ in range(17))
    total = 0
    for i, ch in enumerate(reversed(digits)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return digits + str((10 - total % 10) % 10)


def order_number(rng, fmt):
    d = lambda n: "".join(rng.choice("0123456789") for _ in range(n))
    if fmt == "amazon":
        return "%s-%s-%s" % (d(3), d(7), d(7))
    if fmt == "ebay":
        return "%s-%s-%s" % (d(2), d(5), d(5))
    return d(int(fmt[6:]))


def pixel(rng):
    return ('<img src="https://t.example-track.com/o/%x.gif?u=%d" '
            'width="1" height="1" alt="" style="display:block;border:0">'
            % (rng.getrandbits(64), rng.getrandbits(32)))


def table_rows(rng, n):
    rows = []
    for _ in range(n):
        rows.append(
            '<tr><td class="col" style="padding:8px 12px;font-family:'
            'Arial,Helvetica,sans-serif;font-size:14px;color:#333333">'
            '<table role="presentation" width="100%%" cellpadding="0" '
            'cellspacing="0" border="0"><tr><td align="left" valign="top">'
            '<img src="https://img.example-cdn.com/p/%d.jpg" width="80" '
            'alt="item"></td><td style="padding-left:10px">%s<br>'
            '<span style="color:#777">Qty: %d &nbsp;&middot;&nbsp; '
            '$%d.%02d</span></td></tr></table></td></tr>\n'
            % (rng.getrandbits(24), words(rng, rng.randint(4, 12)),
               rng.randint(1, 4), rng.randint(1, 300), rng.randint(0, 99)))
    return "".join(rows)


def html_body(rng, headline, detail, link, target_kb):
    pre = ('<div style="display:none;max-height:0;overflow:hidden;'
           'mso-hide:all">%s&zwnj;&nbsp;&zwnj;&nbsp;</div>'
           % words(rng, 12))
    head = ('<!DOCTYPE html><html><head><meta http-equiv="Content-Type" '
            'content="text/html; charset=UTF-8"><title>%s</title>'
            '<style type="text/css">body{margin:0;padding:0}'
            '@media only screen and (max-width:600px){.col{width:100%%'
            '!important}} .btn a{color:#fff;text-decoration:none}</style>'
            '<!--[if mso]><style>td{font-family:Arial}</style><![endif]-->'
            '</head><body style="margin:0;padding:0;background:#f2f2f2">'
            % headline)
    main = ('<table role="presentation" width="100%%" bgcolor="#f2f2f2">'
            '<tr><td align="center"><table width="600" class="wrap">'
            '<tr><td style="padding:20px"><h1 style="font-size:22px">%s'
            '</h1><p>%s</p><p class="btn"><a href="%s" style="background:'
            '#0a66c2;padding:10px 18px">Track package</a></p></td></tr>\n'
            % (headline, detail, link))
    foot = ('</table></td></tr></table><p style="font-size:11px;color:#999">'
            '%s <a href="https://www.example-mail.com/unsub?u=%d">'
            'Unsubscribe</a> &copy; 2024</p>%s</body></html>'
            % (words(rng, 40), rng.getrandbits(32), pixel(rng)))
    parts = [head, pre, main]
    size = len(head) + len(pre) + len(main) + len(foot)
    while size < target_kb * 1024:
        rows = table_rows(rng, rng.randint(1, 4))
        parts.append(rows)
        size += len(rows)
        if rng.random() < 0.15:
            p = pixel(rng)
            parts.append(p)
            size += len(p)
    parts.append(foot)
    return "".join(parts)


def encode(rng, text):
    """Returns (Content-Transfer-Encoding, body) for UTF-8 text."""
    raw = text.encode("utf-8")
    if rng.random() < 0.6:
        return "quoted-printable", quopri.encodestring(raw).decode("ascii")
    b = base64.b64encode(raw).decode("ascii")
    return "base64", "\n".join(b[i:i + 76] for i in range(0, len(b), 76))


def alternative(rng, plain, html, boundary):
    te, tb = encode(rng, plain)
    he, hb = encode(rng, html)
    return ('Content-Type: multipart/alternative; boundary="%s"\n\n'
            '--%s\nContent-Type: text/plain; charset="UTF-8"\n'
            'Content-Transfer-Encoding: %s\n\n%s\n'
            '--%s\nContent-Type: text/html; charset="UTF-8"\n'
            'Content-Transfer-Encoding: %s\n\n%s\n--%s--\n'
            % (boundary, boundary, te, tb, boundary, he, hb, boundary))


def message(rng, i):
    date = "Mon, %d Mar 2024 %02d:%02d:00 +0000" % (
        rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59))
    target = min(42, max(4, int(rng.lognormvariate(2.85, 0.5))))
    if rng.random() < 0.7:
        name, addr, subj, fmt = rng.choice(SUPPLIERS)
        order = order_number(rng, fmt)
        subject = subj.format(order=order)
        if rng.random() < 0.5:
            num, carrier = ups_number(rng), "UPS"
            link = ("https://www.ups.com/track?loc=en_US&tracknum=%s" % num)
        else:
            num, carrier = usps_number(rng), "USPS"
            link = ("https://tools.usps.com/go/TrackConfirmAction"
                    "?tLabels=%s" % num)
        detail = ("Your order %s has shipped with %s. Tracking number: "
                  "<b>%s</b>. %s" % (order, carrier, num, words(rng, 20)))
        plain = ("Your order %s has shipped with %s.\nTracking number: %s\n"
                 "Track package: %s\n\n%s\n" % (order, carrier, num, link,
                                                words(rng, 80)))
        headline = "Your package is on its way"
    else:
        name, addr, subject = rng.choice(NOISE)
        link = "https://www.example-mail.com/view?id=%d" % rng.getrandbits(40)
        detail = words(rng, 40)
        plain = words(rng, 150) + "\n"
        headline = words(rng, 5).capitalize()
    html = html_body(rng, headline, detail, link, target * 0.8)
    b1 = "----=_Part_%d_%d" % (i, rng.getrandbits(32))
    inner_hdr = ("From: %s <%s>\nTo: buyer@example.net\nSubject: %s\n"
                 "Date: %s\nMessage-ID: <%d.%d@%s>\nMIME-Version: 1.0\n"
                 % (name, addr, subject, date, i, rng.getrandbits(32),
                    addr.split("@")[1]))
    kind = rng.random()
    fwd_from = "Shop Owner <owner@myshop.example>"
    outer_hdr = ("From: %s\nTo: orders@trackmail.example\nDate: %s\n"
                 "Message-ID: <fwd%d.%d@myshop.example>\nMIME-Version: 1.0\n"
                 % (fwd_from, date, i, rng.getrandbits(32)))
    if kind < 0.4:
        return inner_hdr + alternative(rng, plain, html, b1)
    if kind < 0.75:
        # Inline forward: the original headers quoted in the body.
        quote = ("---------- Forwarded message ---------\nFrom: %s <%s>\n"
                 "Date: %s\nSubject: %s\nTo: <buyer@example.net>\n\n"
                 % (name, addr, date, subject))
        hquote = ('<div class="gmail_quote">---------- Forwarded message '
                  '---------<br>From: <b>%s</b> &lt;%s&gt;<br>Date: %s<br>'
                  'Subject: %s<br>To: &lt;buyer@example.net&gt;<br><br>'
                  '</div>' % (name, addr, date, subject))
        fhtml = html.replace("<body", hquote + "<body", 1) \
            if rng.random() < 0.5 else hquote + html
        return (outer_hdr + "Subject: Fwd: %s\n" % subject +
                alternative(rng, quote + plain, fhtml, b1))
    # Attached forward (message/rfc822).
    b0 = "----=_Outer_%d_%d" % (i, rng.getrandbits(32))
    inner = inner_hdr + alternative(rng, plain, html, b1)
    return (outer_hdr + "Subject: FW: %s\n" % subject +
            'Content-Type: multipart/mixed; boundary="%s"\n\n'
            '--%s\nContent-Type: text/plain; charset="UTF-8"\n\n'
            'See the attached mail.\n\n--%s\nContent-Type: message/rfc822\n'
            'Content-Disposition: attachment; filename="original.eml"\n\n'
            '%s\n--%s--\n' % (b0, b0, b0, inner, b0))


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: gen_corpus.py OUT_DIR [COUNT [SEED]]\n")
        return 2
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 11
    rng = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    total = 0
    for i in range(count):
        data = message(rng, i).replace("\n", "\r\n").encode("utf-8")
        total += len(data)
        with open(os.path.join(out, "gen%05d.eml" % i), "wb") as f:
            f.write(data)
    sys.stderr.write("%d mails, %.1f KB mean\n" % (count,
                                                   total / count / 1024))
    return 0


if __name__ == "__main__":
    sys.exit(main())
