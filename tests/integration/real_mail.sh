#!/usr/bin/env bash
# "real format verified" (issue 8): `parsers table` says yes only for a
# supplier whose parser file names at least one real upstream mail
# (`real_mail:`), and every name given exists in fixtures-upstream when
# that folder is there. A parser without real_mail says no, whatever its
# fixtures' modelled_on text claims.
. "$(dirname "$0")/lib.sh"

cat > "$WORK/check.py" <<'PY'
import glob, os, re, sys
parsers, table, upstream = sys.argv[1:4]
rows = {}
for line in open(table):
    m = re.match(r'\| `([a-z0-9_]+)` \|.*\| (yes|no) \|$', line.strip())
    if m:
        rows[m.group(1)] = m.group(2)
have = set()
if os.path.isdir(upstream):
    for d in os.listdir(upstream):
        if os.path.isdir(os.path.join(upstream, d)):
            have.update(os.listdir(os.path.join(upstream, d)))
bad = []
for f in sorted(glob.glob(os.path.join(parsers, '*.yaml'))):
    text = open(f).read()
    pid = re.search(r'^id: *(\S+)', text, re.M).group(1)
    m = re.search(r'^real_mail:\n((?:  - .*\n)+)', text, re.M)
    names = re.findall(r'  - (\S+)', m.group(1)) if m else []
    if have:
        for n in names:
            if n not in have:
                bad.append('%s: real_mail %s is not in fixtures-upstream' % (pid, n))
    if pid in rows and rows[pid] != ('yes' if names else 'no'):
        bad.append('%s: table says %s with %d real mails' % (pid, rows[pid], len(names)))
print('rows %d' % len(rows))
for b in bad:
    print(b)
PY
"$TRACKMAIL" parsers table --parsers "$PARSERS" > "$WORK/table.md"
python3 "$WORK/check.py" "$PARSERS" "$WORK/table.md" "$UPSTREAM/emails" > "$WORK/check.txt"
cat "$WORK/check.txt" | sed 's/^/# /'
check "the table has a row per supplier" grep -q '^rows [1-9]' "$WORK/check.txt"
check "yes exactly for suppliers naming real mail; every name exists" \
	test "$(grep -vc '^rows' "$WORK/check.txt")" = 0
check "chewy (no real mail) is not verified" grep -q '^| `chewy` .*| no |$' "$WORK/table.md"
check "amazon (real mail) is verified" grep -q '^| `amazon` .*| yes |$' "$WORK/table.md"

# A parser naming a real mail that does not exist is caught.
if [ -d "$UPSTREAM/emails" ]; then
	mkdir "$WORK/p"
	cp "$PARSERS"/relays.yaml "$PARSERS"/chewy.yaml "$WORK/p/"
	sed -i 's/^match:/real_mail:\n  - no_such_mail.eml\n\nmatch:/' "$WORK/p/chewy.yaml"
	"$TRACKMAIL" parsers table --parsers "$WORK/p" > "$WORK/table2.md"
	python3 "$WORK/check.py" "$WORK/p" "$WORK/table2.md" "$UPSTREAM/emails" > "$WORK/check2.txt"
	check "a real_mail name missing from fixtures-upstream is reported" \
		grep -q 'chewy: real_mail no_such_mail.eml is not in' "$WORK/check2.txt"
fi
finish
