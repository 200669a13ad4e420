#!/bin/sh
# pigeonhole.sh - Pigeonhole 0.5.19's own test suite (its tests/ tree,
# read in place from ../shared/pigeonhole-tests or $MVMF_PIGEONHOLE_TESTS)
# through mflc -T; per directory the blocks passed, failed and not
# applicable, checked against the kept list t/sieve/pigeonhole.kept
# (see pigeonhole_suite.py)
. "$top_srcdir/t/tap.sh"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
tests=${MVMF_PIGEONHOLE_TESTS:-$top_srcdir/../shared/pigeonhole-tests/tests}
[ -d "$tests" ] || skip_all "Pigeonhole's tests are not at $tests (set MVMF_PIGEONHOLE_TESTS)"
tests=$(cd "$tests" && pwd)
exec python3 "$top_srcdir/t/sieve/pigeonhole_suite.py" "$top_builddir/mfl/mflc" \
	"$tests" "$top_srcdir/t/sieve/pigeonhole.kept"
