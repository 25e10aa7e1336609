#!/usr/bin/env bash
# Set-up and run on the embedded default: installs what is needed, builds,
# and runs trackmail's main job with no config file: the bundled sample
# emails (fixtures/emails) are ingested into the default data dir
# (./trackmail-data: SQLite database, quarantine Maildir), and the
# decisions are printed. Run it again: every message is then a duplicate.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[ -d build ] || meson setup build --buildtype=debugoptimized > /dev/null
ninja -C build > /dev/null
tm=build/src/trackmail
echo "== trackmail ingest fixtures/emails (data dir ./trackmail-data)"
"$tm" ingest fixtures/emails/*/*.eml
echo
echo "== trackmail accounts list"
"$tm" accounts list
echo
echo "== trackmail quarantine list"
"$tm" quarantine list
echo
echo "== trackmail parsers stats"
"$tm" parsers stats
echo
# The service on the embedded default: SMTP on 127.0.0.1:2525, LMTP on
# ./trackmail-data/lmtp.sock, the `default` account, one worker per CPU.
# Ctrl-C (SIGINT) stops it after the message in hand.
token=$("$tm" accounts list --json | python3 -c '
import json, sys
for line in sys.stdin:
    o = json.loads(line)
    if o["name"] == "default":
        print(o["address"])' 2>/dev/null || true)
[ -n "$token" ] || token="t-<token>@localhost (trackmail accounts list)"
echo "== trackmail serve (Ctrl-C stops it)"
echo "forwarding address: $token"
echo "send a sample mail from another terminal:"
echo "  swaks --server 127.0.0.1:2525 --to $token --from orders@tinyshop.example --header 'Subject: Your order SO-55512 is on its way' --body 'Tracking number 1ZVYD40K1265428707 (UPS)'"
echo "then: $tm messages list   (or: $tm status)"
exec "$tm" serve
