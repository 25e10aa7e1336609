#!/usr/bin/env python3
"""smtp_client.py ADDR - a raw-socket SMTP/LMTP client for the protocol
tests: sends exactly the bytes a script says and checks each reply code.

ADDR is PORT (127.0.0.1) or unix:PATH. The script comes on stdin, one step
a line:
  S text        send text + CRLF
  R literal     send raw bytes, a Python bytes literal: b'..\\r\\n'
  B literal     send raw bytes one at a time (each its own TCP segment)
  E code        read one (multi-line) reply; its code must be `code`
  C             the server must close the connection (EOF within 5 s)
  N count       send count NOOP lines in one stream (from a thread, as a
                pipelining client does) and read count 250 replies
  H             half-close: shut down the sending side (replies still come)
  W seconds     sleep
The greeting is read first and must be 220. Every reply is printed as
"<< line"; a mismatch prints "MISMATCH ..." and exits 1."""
import ast
import socket
import sys
import threading
import time

addr = sys.argv[1]
if addr.startswith("unix:"):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(addr[5:])
else:
    sock = socket.create_connection(("127.0.0.1", int(addr)))
sock.settimeout(10)
pending = b""


def read_line():
    global pending
    while b"\n" not in pending:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            chunk = b""
        if not chunk:
            return None
        pending += chunk
    line, pending = pending.split(b"\n", 1)
    return line.rstrip(b"\r").decode("utf-8", "replace")


def read_reply():
    lines = []
    while True:
        line = read_line()
        if line is None:
            return None, lines
        print("<< " + line)
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return line[:3], lines


def expect(code):
    got, _ = read_reply()
    if got != code:
        print(f"MISMATCH want {code} got {got}")
        sys.exit(1)


expect("220")
for raw in sys.stdin:
    raw = raw.rstrip("\n")
    if not raw:
        continue
    op, _, arg = raw.partition(" ")
    try:
        if op == "S":
            sock.sendall(arg.encode() + b"\r\n")
        elif op == "R":
            sock.sendall(ast.literal_eval(arg))
        elif op == "B":
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for b in ast.literal_eval(arg):
                sock.sendall(bytes([b]))
                time.sleep(0.002)
        elif op == "N":
            count = int(arg)
            sender = threading.Thread(
                target=sock.sendall, args=(b"NOOP\r\n" * count,))
            sender.start()
            got = 0
            for _ in range(count):
                line = read_line()
                if line is None or not line.startswith("250"):
                    break
                got += 1
            sender.join()
            print(f"<< {got} NOOP replies")
            if got != count:
                print(f"MISMATCH want {count} NOOP replies got {got}")
                sys.exit(1)
        elif op == "E":
            expect(arg)
        elif op == "H":
            sock.shutdown(socket.SHUT_WR)
        elif op == "W":
            time.sleep(float(arg))
        elif op == "C":
            sock.settimeout(5)
            line = read_line()
            if line is not None:
                print(f"MISMATCH want close got {line}")
                sys.exit(1)
            print("<< (closed)")
    except (BrokenPipeError, ConnectionResetError) as e:
        if op != "C":
            print(f"MISMATCH connection lost: {e}")
            sys.exit(1)
sys.exit(0)
