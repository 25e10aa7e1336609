#!/usr/bin/env bash
# What issue 5 asks of every supplier's fixtures: at least three events,
# among them shipped, ordered, and cancelled or delivered; at least two
# mail clients' forwards; every expected file says what it is modelled on.
# Carrier parsers: at least two fixtures each. Platform parsers (shipping
# templates): two fixtures, shipped among them, one forwarded.
. "$(dirname "$0")/lib.sh"

F="$SRC/fixtures/emails"
"$TRACKMAIL" parse --json $(find "$F" -name '*.eml' | sort) > "$WORK/all.jsonl"
"$TRACKMAIL" parsers list --json > "$WORK/parsers.jsonl"
python3 - "$WORK/all.jsonl" "$WORK/parsers.jsonl" "$F" > "$WORK/report" <<'PY'
import collections, json, os, sys
events = collections.defaultdict(set)
clients = collections.defaultdict(set)
count = collections.Counter()
for line in open(sys.argv[1]):
    d = json.loads(line)
    pid = os.path.basename(os.path.dirname(d["file"]))
    expect = json.load(open(d["file"][:-4] + ".json"))
    events[pid].add(expect.get("event"))
    clients[pid].add((d.get("original") or {}).get("forwarded_by", "none"))
    count[pid] += 1
bad = 0
for line in open(sys.argv[2]):
    p = json.loads(line)
    pid = p["id"]
    if p["kind"] == "carrier":
        ok = count[pid] >= 2
        why = "%d fixtures" % count[pid]
    elif p["kind"] == "platform":
        # A platform parser reads a store platform's default shipping
        # template: two fixtures, shipped among them, one forwarded.
        ok = (count[pid] >= 2 and "shipped" in events[pid] and
              len(clients[pid] - {"none"}) >= 1)
        why = "%d fixtures, events %s, clients %s" % (
            count[pid], sorted(e for e in events[pid] if e),
            sorted(clients[pid]))
    else:
        ev = events[pid]
        ok = (len(ev) >= 3 and "shipped" in ev and "ordered" in ev and
              ("cancelled" in ev or "delivered" in ev) and
              len(clients[pid]) >= 2)
        why = "events %s, clients %s" % (sorted(e for e in ev if e),
                                          sorted(clients[pid]))
    print("# %-16s %s %s" % (pid, "ok " if ok else "BAD", why))
    bad += not ok
print("# parsers short of fixtures: %d" % bad)
PY
cat "$WORK/report"
check "parsers list names parsers ($(wc -l < "$WORK/parsers.jsonl"))" test -s "$WORK/parsers.jsonl"
check "every supplier has shipped, ordered and cancelled/delivered fixtures from two mail clients" \
	grep -q "^# parsers short of fixtures: 0$" "$WORK/report"
finish
