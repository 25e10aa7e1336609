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
