#!/usr/bin/env bash
# Regenerates the "Supported suppliers" table of README.md from parsers/
# (the test `readme_suppliers_table` fails while it is out of date).
set -eu
cd "$(dirname "$0")/.."
tm=${TRACKMAIL:-build/src/trackmail}
table=$("$tm" parsers table --parsers parsers)
python3 - "$table" <<'PY'
import sys
begin, end = "<!-- suppliers:begin -->\n", "<!-- suppliers:end -->"
s = open("README.md").read()
i = s.index(begin) + len(begin)
j = s.index(end)
open("README.md", "w").write(s[:i] + sys.argv[1] + "\n" + s[j:])
PY
