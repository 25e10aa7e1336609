#!/usr/bin/env bash
# Settings: built-in defaults, a config file, the environment and options,
# in that order; a bad config line names the file and the line and stops
# the command before it touches anything.
. "$(dirname "$0")/lib.sh"

env -u TRACKMAIL_PARSERS_DIR "$TRACKMAIL" config show --json > "$WORK/defaults.jsonl"
check "with no file every key has its default ($(grep -c . "$WORK/defaults.jsonl") keys)" \
	test "$(grep -c '"origin":"default"' "$WORK/defaults.jsonl")" -eq "$(grep -c . "$WORK/defaults.jsonl")" \
	-a "$(grep -c . "$WORK/defaults.jsonl")" -gt 0
"$TRACKMAIL" config check "$SRC/deploy/trackmail.example.yaml" > /dev/null
check "the example config is valid" test $? -eq 0

printf 'data_dir: %s/fromfile\ndomain: file.example\nworker_cpu_ms: 5000\n' "$WORK" > "$WORK/ok.yaml"
TRACKMAIL_DOMAIN=env.example "$TRACKMAIL" config show --json --config "$WORK/ok.yaml" > "$WORK/show.jsonl"
check "a file value carries its file and line" \
	grep -q '"key":"worker_cpu_ms","value":"5000","origin":"'"$WORK"'/ok.yaml:3"' "$WORK/show.jsonl"
check "the environment overrides the file" \
	grep -q '"key":"domain","value":"env.example","origin":"env TRACKMAIL_DOMAIN"' "$WORK/show.jsonl"
"$TRACKMAIL" ingest --config "$WORK/ok.yaml" "$SRC/fixtures/emails/amazon/delivered_gmail.eml" > /dev/null
check "ingest uses the file's data_dir" test -f "$WORK/fromfile/trackmail.db"
"$TRACKMAIL" ingest --config "$WORK/ok.yaml" --data-dir "$WORK/fromoption" \
	"$SRC/fixtures/emails/amazon/delivered_gmail.eml" > /dev/null
check "an option overrides the file" test -f "$WORK/fromoption/trackmail.db"

printf 'data_dir: %s/never\nworker_cpu_ms: lots\nlog_level: loud\nsmtp_prot: 25\n' "$WORK" > "$WORK/bad.yaml"
"$TRACKMAIL" config check "$WORK/bad.yaml" 2> "$WORK/err" > /dev/null
check "config check fails on a bad file (exit 2)" test $? -eq 2
check "a bad number names file and line" grep -q "bad.yaml:2: worker_cpu_ms must be a whole number" "$WORK/err"
check "a bad choice names file and line" grep -q "bad.yaml:3: log_level must be one of" "$WORK/err"
check "an unknown key names file and line" grep -q "bad.yaml:4: unknown setting 'smtp_prot'" "$WORK/err"
TRACKMAIL_CONFIG="$WORK/bad.yaml" "$TRACKMAIL" ingest "$SRC/fixtures/emails/amazon/delivered_gmail.eml" > /dev/null 2>&1
check "a command with a bad config stops with a usage error" test $? -eq 2
check "and creates nothing" test ! -e "$WORK/never"
printf 'data_dir: [a, b\n' > "$WORK/syntax.yaml"
"$TRACKMAIL" config check "$WORK/syntax.yaml" 2> "$WORK/err2" > /dev/null
check "a YAML syntax error names file and line" grep -q "syntax.yaml:[0-9]*: YAML error" "$WORK/err2"
finish
