#!/bin/sh
# cases.sh - the Sieve-mode cases (t/sieve/*.cases) through mflc and,
# when installed, through Pigeonhole's sieve-test (see run_cases.py)
. "$top_srcdir/t/tap.sh"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
exec python3 "$top_srcdir/t/sieve/run_cases.py" "$top_builddir/mfl/mflc" \
	"$top_srcdir"/t/sieve/*.cases "$top_srcdir"/t/mfl/errors.cases
