#!/usr/bin/env bash
# Proves tests/lint.sh can fail: it runs the lint over temporary trees
# (no git checkout, files never added anywhere) with a planted banned call,
# an over-long line, a file without its purpose comment, and no source at
# all; each must fail, and a clean tree must pass.
set -u
LINT="${LINT:-${SRC:?}/tests/lint.sh}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/trackmail-lint.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
n=0
failed=0
check() {
	local name=$1
	shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $name"; else failed=$((failed + 1)); echo "not ok $n - $name"; fi
}
tree() { # tree NAME: a clean tree with one good file
	mkdir -p "$WORK/$1/src/core" "$WORK/$1/tests/unit"
	printf '/* good.c - a purpose. */\nint good(void);\nint good(void)\n{\n\treturn 0;\n}\n' > "$WORK/$1/src/core/good.c"
	printf '/* t.c - a test. */\nint t(void);\n' > "$WORK/$1/tests/unit/t.c"
}
lint() { SRC="$WORK/$1" bash "$LINT" > "$WORK/$1.out" 2>&1; }

tree clean
lint clean
check "a clean tree passes" test $? -eq 0

tree sprintf
printf '/* main.c - x. */\n#include <stdio.h>\nvoid f(char *b);\nvoid f(char *b)\n{\n\tsprintf(b, "%%d", 1);\n}\n' > "$WORK/sprintf/src/main.c"
lint sprintf
check "a planted sprintf in an untracked file outside git fails" test $? -ne 0
check "and is named with its file and line" grep -q '^# src/main.c:6:' "$WORK/sprintf.out"

tree testsdir
printf '/* x.c */\nint g(char *d, const char *s);\nint g(char *d, const char *s) { strcpy(d, s); return 0; }\n' > "$WORK/testsdir/tests/unit/x.c"
lint testsdir
check "a banned call in tests/ fails too" test $? -ne 0

tree long
printf '/* long.c - x. */\nint l(void); /* %0120d */\n' 0 > "$WORK/long/src/long.c"
lint long
check "a line over 100 columns fails" test $? -ne 0

tree nopurpose
printf '#include <stdio.h>\n' > "$WORK/nopurpose/src/np.c"
lint nopurpose
check "a .c without its purpose comment fails" test $? -ne 0

mkdir -p "$WORK/empty"
lint empty
check "a tree with no C source fails (nothing checked is not a pass)" test $? -ne 0

echo "1..$n"
[ "$failed" -eq 0 ]
