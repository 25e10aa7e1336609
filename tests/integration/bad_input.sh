#!/usr/bin/env bash
# Bad input gets a clear error or a quarantine reason, and the command goes
# on with the next input: an empty file, a binary file, a 50 MB file, a
# message with a 1 MB header line, a missing file, a broken parser file.
. "$(dirname "$0")/lib.sh"

good="$SRC/fixtures/emails/amazon/shipped_ups_gmail.eml"
: > "$WORK/empty.eml"
head -c 65536 /dev/urandom > "$WORK/binary.eml"
python3 -c '
import sys
with open(sys.argv[1], "w") as f:
    f.write("From: a@b.example\r\nSubject: big\r\n\r\n")
    line = "x" * 998 + "\r\n"
    for _ in range(50 * 1024 * 1024 // 1000 + 10):
        f.write(line)
' "$WORK/huge.eml"
python3 -c '
import sys
with open(sys.argv[1], "w") as f:
    f.write("From: a@b.example\r\nX-Long: " + "y" * (1024 * 1024) + "\r\nSubject: long\r\n\r\nbody\r\n")
' "$WORK/longheader.eml"

"$TRACKMAIL" parse --json "$WORK/empty.eml" "$WORK/binary.eml" "$WORK/huge.eml" \
	"$WORK/longheader.eml" "$WORK/missing.eml" "$good" > "$WORK/out.jsonl" 2> "$WORK/err"
rc=$?
check "exit 1: some input could not be read (rc=$rc)" test "$rc" -eq 1
check "the good message after the bad ones is still parsed" \
	grep -q '"outcome":"shipped"' "$WORK/out.jsonl"
check "the empty file is quarantined with a reason" \
	grep -q '"file":"'"$WORK"'/empty.eml","outcome":"quarantined".*"reason":"[a-z]' "$WORK/out.jsonl"
check "the binary file is quarantined with a reason" \
	grep -q '"file":"'"$WORK"'/binary.eml","outcome":"quarantined".*"reason":"[a-z]' "$WORK/out.jsonl"
check "the 1 MB header line is quarantined with a limit reason" \
	grep -q '"file":"'"$WORK"'/longheader.eml","outcome":"quarantined".*"reason":"limit:' "$WORK/out.jsonl"
check "the 50 MB file gets a clear error naming the limit" \
	grep -q "huge.eml: larger than the message size limit" "$WORK/err"
check "a missing file is named with its error" grep -q "missing.eml: No such file" "$WORK/err"
check "no crash: no decoder-crash reason" bash -c "! grep -q decoder-crash '$WORK/out.jsonl'"

# A directory of mail with symlink loops: walked once, never followed.
mkdir "$WORK/tree"
cp "$good" "$WORK/tree/"
ln -s . "$WORK/tree/loop1"
ln -s . "$WORK/tree/loop2"
timeout 20 "$TRACKMAIL" parse --json "$WORK/tree" > "$WORK/tree.jsonl"
check "symlinked directories are not followed (one message, not 2^32)" \
	test "$(wc -l < "$WORK/tree.jsonl")" -eq 1

# Empty directories: nothing to parse, no parser files. Not an error, and
# not undefined behaviour (qsort of an empty list: caught by UBSan once).
mkdir "$WORK/emptymail" "$WORK/emptyparsers"
"$TRACKMAIL" parse --json --parsers "$WORK/emptyparsers" "$WORK/emptymail" > "$WORK/empty.out" 2>&1
check "an empty mail dir with an empty parser dir exits 0" test $? -eq 0
"$TRACKMAIL" parse --json --parsers "$WORK/emptyparsers" "$good" > "$WORK/noparsers.json"
check "with no parser files a supplier mail falls back, it is not lost" \
	grep -q '"outcome":"\(shipped\|quarantined\)"' "$WORK/noparsers.json"

# A broken parser file is reported with file and line and skipped.
mkdir "$WORK/parsers"
cp "$PARSERS"/*.yaml "$WORK/parsers/"
cat > "$WORK/parsers/broken.yaml" <<'YAML'
id: broken
name: Broken
match:
  domains: [broken.example]
  # (the sender's domain attributes)
  subject: ['x']
extract:
  tracking:
    - '(?<tracking>[A-Z0-9'
YAML
"$TRACKMAIL" parse --json --parsers "$WORK/parsers" "$good" > "$WORK/out2.jsonl" 2> "$WORK/err2"
check "the invalid regex is reported with file and line" \
	grep -q "broken.yaml:9: extract.tracking\[0\]: invalid regular expression" "$WORK/err2"
check "the other parsers still load and decide" grep -q '"supplier":"amazon"' "$WORK/out2.jsonl"
printf 'id: [unclosed\n' > "$WORK/parsers/broken.yaml"
"$TRACKMAIL" parsers check "$WORK/parsers/broken.yaml" > /dev/null 2> "$WORK/err3"
check "a YAML syntax error names the file and line" grep -q "broken.yaml:[0-9]*: YAML error" "$WORK/err3"
printf 'id: typo\nname: T\ntrakcing_automation: true\nmatch: {domains: [t.example], subject: [t]}\n' > "$WORK/parsers/broken.yaml"
"$TRACKMAIL" parsers check "$WORK/parsers/broken.yaml" > /dev/null 2> "$WORK/err4"
check "an unknown key is an error, not ignored" grep -q "broken.yaml:3: unknown key 'trakcing_automation'" "$WORK/err4"
finish
