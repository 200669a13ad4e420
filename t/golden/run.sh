#!/bin/sh
# run.sh - golden disassembly: the bytecode of a few scripts, as mflc -d
# prints it, must stay what t/golden/*.dis says (regenerate with
# "mflc -d FILE > FILE.dis" when a change to code generation is meant)
. "$top_srcdir/t/tap.sh"
cd "$top_srcdir/t/golden" || exit 1
for src in rules.sieve loop.mfl strings.mfl shared.sieve; do
	got=$("$top_builddir/mfl/mflc" -d "$src" 2>&1)
	want=$(cat "${src%.*}.dis")
	if [ "$got" = "$want" ]; then
		ok 0 "$src"
	else
		ok 1 "$src"
		printf '%s\n' "$got" >"${TMPDIR:-/tmp}/golden.$$"
		printf '%s\n' "$want" | diff -u - "${TMPDIR:-/tmp}/golden.$$" | sed 's/^/# /'
		rm -f "${TMPDIR:-/tmp}/golden.$$"
	fi
done
done_testing
