#!/usr/bin/env bash
# Lint: no banned unsafe C function in src/ or tests/ (STYLE.md: use the
# bounded buffer, strtol, explicit parsing), no source line over 100
# columns (the style is 80; comments with wide characters may need a few
# more bytes), every .c in src/ opens with a purpose comment.
set -u
cd "${SRC:?}"
bad=0
hits=$(git grep -n -E '\b(sprintf|vsprintf|strcpy|strcat|strncpy|gets|atoi|atol|sscanf|strtok)\s*\(' -- 'src/*.c' 'src/*.h' 'tests/*.c' 2>/dev/null)
if [ -n "$hits" ]; then
	echo "not ok 1 - banned functions:"; echo "$hits" | sed 's/^/# /'; bad=1
else
	echo "ok 1 - no banned functions"
fi
long=$(git grep -n -E '^.{101,}$' -- 'src/*.c' 'src/*.h' 2>/dev/null | head -5)
if [ -n "$long" ]; then
	echo "not ok 2 - lines over 100 columns:"; echo "$long" | sed 's/^/# /'; bad=1
else
	echo "ok 2 - no line over 100 columns"
fi
missing=$(for f in $(git ls-files 'src/*.c'); do head -1 "$f" | grep -q '^/\*' || echo "$f"; done)
if [ -n "$missing" ]; then
	echo "not ok 3 - files without a purpose comment:"; echo "$missing" | sed 's/^/# /'; bad=1
else
	echo "ok 3 - every src/*.c opens with its purpose"
fi
echo "1..3"
exit $bad
