#!/usr/bin/env bash
# Lint: no banned unsafe C function in src/ or tests/ (STYLE.md: use the
# bounded buffer, strtol, explicit parsing), no source line over 100
# columns (the style is 80; comments with wide characters may need a few
# more bytes), every .c in src/ opens with a purpose comment.
#
# Reads the files on disk with find + grep: tracked or not, in a git
# checkout or an unpacked tarball. A tree with no C file at all is an
# error, not a pass (tests/lint_selftest.sh proves each check can fail).
set -u
cd "${SRC:?}" || exit 2
bad=0
mapfile -d '' all < <(find src tests -type f \( -name '*.c' -o -name '*.h' \) \
	-not -path '*/fuzz/corpus/*' -print0 2>/dev/null | sort -z)
mapfile -d '' srcs < <(find src -type f \( -name '*.c' -o -name '*.h' \) -print0 2>/dev/null | sort -z)
mapfile -d '' srcc < <(find src -type f -name '*.c' -print0 2>/dev/null | sort -z)
if [ ${#all[@]} -eq 0 ] || [ ${#srcc[@]} -eq 0 ]; then
	echo "not ok 1 - no C source found under $SRC/src: nothing was checked"
	echo "1..1"
	exit 1
fi
hits=$(grep -n -E '\b(sprintf|vsprintf|strcpy|strcat|strncpy|gets|atoi|atol|sscanf|strtok)[[:space:]]*\(' -- "${all[@]}")
if [ -n "$hits" ]; then
	echo "not ok 1 - banned functions:"; echo "$hits" | sed 's/^/# /'; bad=1
else
	echo "ok 1 - no banned functions (${#all[@]} files)"
fi
long=$(grep -n -E '^.{101,}$' -- "${srcs[@]}" | head -5)
if [ -n "$long" ]; then
	echo "not ok 2 - lines over 100 columns:"; echo "$long" | sed 's/^/# /'; bad=1
else
	echo "ok 2 - no line over 100 columns"
fi
missing=$(for f in "${srcc[@]}"; do head -1 "$f" | grep -q '^/\*' || echo "$f"; done)
if [ -n "$missing" ]; then
	echo "not ok 3 - files without a purpose comment:"; echo "$missing" | sed 's/^/# /'; bad=1
else
	echo "ok 3 - every src/*.c opens with its purpose"
fi
echo "1..3"
exit $bad
