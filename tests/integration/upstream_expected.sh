#!/usr/bin/env bash
# Real upstream mail asserted to the digit: for every mail of
# ../shared/fixtures-upstream that carries a number there is an expected
# file tests/data/upstream-expected/<source>/<name>.json, written by
# reading the mail (not from the program's output). Each asserts the
# supplier, the order, the outcome and quarantine reason, every number
# with its carrier (shipments, or notices for carrier mail) and that the
# numbers the mail shows but that fail validation are never accepted (a
# quarantine names one of them). Skips (77) when the fixtures are absent.
. "$(dirname "$0")/lib.sh"

E="$UPSTREAM/emails"
X="$SRC/tests/data/upstream-expected"
if [ ! -d "$E" ]; then
	echo "# SKIP: $E not present: the real mails were NOT asserted"
	exit 77
fi
"$TRACKMAIL" parse --json "$E" > "$WORK/out.jsonl" 2> /dev/null
python3 - "$E" "$X" "$WORK/out.jsonl" <<'PY'
import glob, json, os, sys
emails, expdir, out = sys.argv[1:4]
got = {}
for line in open(out):
    d = json.loads(line)
    got[os.path.relpath(d["file"], emails)] = d
n = bad = 0
def result(ok, name):
    global n, bad
    n += 1
    bad += not ok
    print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
asserted = set()
for f in sorted(glob.glob(os.path.join(expdir, "*", "*.json"))):
    x = json.load(open(f))
    asserted.add(x["mail"])
    d = got.get(x["mail"])
    if d is None:
        result(False, "%s: no decision" % x["mail"])
        continue
    want = sorted((e["tracking"], e["carrier"]) for e in x["numbers"])
    have = sorted((s["tracking"], s["carrier"])
                  for s in (d["shipments"] or []) + (d.get("notices") or []))
    problems = []
    for key in ("supplier", "order", "outcome", "reason"):
        if d.get(key) != x[key]:
            problems.append("%s %r, want %r" % (key, d.get(key), x[key]))
    if have != want:
        problems.append("numbers %r, want %r" % (have, want))
    for r in x["refused"]:
        if any(t == r["tracking"] for t, _ in have):
            problems.append("accepted refused %s" % r["tracking"])
    if x["reason"] == "invalid-tracking" and not any(
            r["tracking"] in (d.get("detail") or "") for r in x["refused"]):
        problems.append("detail %r names no refused number" % d.get("detail"))
    result(not problems, "%s: %s%s" % (x["mail"], d["outcome"],
           "" if not problems else " -- " + "; ".join(problems)))
# Every mail the program finds a number in has an expectation.
missing = [m for m, d in sorted(got.items())
           if (d["shipments"] or d.get("notices") or
               d["reason"] in ("invalid-tracking", "carrier-unconfirmed",
                               "carrier-ambiguous", "carrier-conflict"))
           and m not in asserted]
result(not missing, "every upstream mail with a number is asserted "
       "(%d asserted; missing: %s)" % (len(asserted), ", ".join(missing) or "none"))
print("1..%d" % n)
sys.exit(1 if bad else 0)
PY
