#!/usr/bin/env bash
# `trackmail parse --json` over every fixture prints one valid JSON line per
# message with the fields the issue names, with exactly the allowed values.
. "$(dirname "$0")/lib.sh"

files=$(find "$SRC/fixtures/emails" -name '*.eml' | sort)
count=$(echo "$files" | wc -l)
# A directory means every file below it: give parse the .eml files.
"$TRACKMAIL" parse --json $files > "$WORK/out.jsonl" 2> "$WORK/err"
rc=$?
check "parse exits 0 over the fixture tree (rc=$rc)" test "$rc" -eq 0
lines=$(wc -l < "$WORK/out.jsonl")
check "one line per message ($lines lines, $count files)" test "$lines" -eq "$count"
python3 - "$WORK/out.jsonl" > "$WORK/verdict" <<'PY'
import json, sys
outcomes = {"shipped", "info", "quarantined"}
events = {"shipped", "ordered", "cancelled", "refunded", "delivered",
          "out_for_delivery", "other"}
bad = 0
for line in open(sys.argv[1]):
    d = json.loads(line)
    for k in ("file", "outcome", "event", "supplier", "shipments", "reason"):
        if k not in d:
            print("missing", k, d.get("file")); bad += 1
    if d["outcome"] not in outcomes: print("outcome", d); bad += 1
    if d["event"] not in events: print("event", d); bad += 1
    if not (d["supplier"] is None or isinstance(d["supplier"], str)):
        print("supplier", d); bad += 1
    for s in d["shipments"]:
        if set(s) != {"order", "tracking", "carrier"}: print("ship", s); bad += 1
    if d["outcome"] == "quarantined" and not d["reason"]:
        print("quarantined without reason", d["file"]); bad += 1
    if d["outcome"] == "shipped" and not d["shipments"]:
        print("shipped without shipments", d["file"]); bad += 1
print("bad", bad)
PY
check "every line has the fields and values of the contract" grep -qx "bad 0" "$WORK/verdict"
grep -v "^bad" "$WORK/verdict" | head -5

# stdin and --explain
"$TRACKMAIL" parse --json --explain - < "$SRC/fixtures/emails/amazon/shipped_ups_gmail.eml" > "$WORK/stdin.json"
check "stdin works and names the file -" grep -q '"file":"-"' "$WORK/stdin.json"
check "--explain names the parser and the rule that matched" \
	grep -q 'extract.tracking\[0\] (line [0-9]*) matched tracking' "$WORK/stdin.json"
"$TRACKMAIL" parse --explain "$SRC/fixtures/emails/walmart/shipped_without_number_apple.eml" > "$WORK/explain.txt"
check "--explain says why a field is missing" grep -q "no tracking number" "$WORK/explain.txt"
"$TRACKMAIL" parse --help > "$WORK/help.txt"
check "parse --help exits 0 and shows the usage" grep -q "^usage: trackmail parse" "$WORK/help.txt"
"$TRACKMAIL" parse --bogus > /dev/null 2>&1
check "an unknown option is a usage error (2)" test $? -eq 2
finish
