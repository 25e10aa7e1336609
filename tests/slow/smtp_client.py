"""smtp_client.py - sends N distinct messages over SMTP to one address,
retrying each (the same bytes) until it gets a 250 after DATA; appends
the number of every message that got its 250 to ACKS, flushed at once.
Used by the crash and strace tests (tests/slow/).

usage: smtp_client.py PORT RCPT N ACKS [FIRST]
"""
import smtplib
import socket
import sys
import time

port, rcpt, n, acks = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
first = int(sys.argv[5]) if len(sys.argv) > 5 else 0


def message(i):
    return ("From: Tiny Shop <orders@tinyshop.example>\r\n"
            f"To: {rcpt}\r\n"
            f"Subject: Your order SO-{10000 + i} is on its way\r\n"
            f"Message-ID: <crash-{i}@tinyshop.example>\r\n"
            "\r\n"
            f"Your order SO-{10000 + i} is on its way.\r\n").encode()


out = open(acks, "a", buffering=1)
conn = None
deadline = time.time() + 900
for i in range(first, first + n):
    while True:
        if time.time() > deadline:
            sys.exit("gave up: the server never came back")
        try:
            if conn is None:
                conn = smtplib.SMTP("127.0.0.1", port, timeout=10)
                conn.ehlo("client.test")
            conn.sendmail("orders@tinyshop.example", [rcpt], message(i))
            out.write(f"{i}\n")
            break
        except (OSError, smtplib.SMTPException):
            # killed server, refused connection, or a 4xx: the same
            # bytes again on a new connection
            try:
                if conn is not None:
                    conn.close()
            except OSError:
                pass
            conn = None
            time.sleep(0.05)
try:
    conn.quit()
except (OSError, smtplib.SMTPException, AttributeError):
    pass
