#!/bin/sh
# scanner_controls.sh - spamtest and virustest read as Dovecot's settings
# read (mfl(7) CONTROLS): a header with a regular expression whose first
# group is the verdict, the maximum from a header, verdicts given as text
. "$top_srcdir/t/tap.sh"
mflc=$top_builddir/mfl/mflc
tmp=$(mktemp -d /tmp/mfl-scanner.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/msg" <<'M'
From: a@example.org
To: b@example.org
Subject: offer
X-Spam-Status: Yes, score=7.5 required=5.0 tests=A,B
X-Spam-Verdict: Probably Spam
X-Virus-Verdict: Clean

x
M
# value SCRIPT-TEST CONTROL...: the mailbox the script files into
value() {
	t=$1
	shift
	printf 'require ["spamtestplus", "virustest", "fileinto", "variables", "relational", "comparator-i;ascii-numeric"];\nif %s :matches "*" { fileinto "${1}"; }\n' "$t" >"$tmp/s.sieve"
	"$mflc" "$@" -m "$tmp/msg" "$tmp/s.sieve" 2>&1 | sed -n 's/.*"mailbox":"\([^"]*\)".*/\1/p'
}
is "$(value "spamtest :percent" -s 'mfl_spamtest_header=X-Spam-Status: score=(-?[0-9.]+)')" 75 \
	"the header's regex group is the score: 7.5 of 10 is 75%"
is "$(value "spamtest :percent" -s 'mfl_spamtest_header=X-Spam-Status: score=(-?[0-9.]+)' \
	-s 'mfl_spamtest_max_header=X-Spam-Status: required=([0-9.]+)')" 100 \
	"the maximum read from the header (required=5.0): 7.5 is past it, 100%"
is "$(value "spamtest" -s 'mfl_spamtest_header=X-Spam-Status: nomatch=([0-9]+)')" 0 \
	"an expression that does not match: 0, not tested"
is "$(value "spamtest" -s 'mfl_spamtest_header=X-Spam-Status: score=([0-9.]+')" 0 \
	"an expression that does not compile: 0, not tested"
is "$(value "spamtest" -s 'mfl_spamtest_header=X-Spam-Verdict' -s mfl_spamtest_type=text \
	-s 'mfl_spamtest_text=0=Clean|8=Probably Spam|10=Spam')" 8 \
	"type text: the verdict's N among mfl_spamtest_text (8 of 10: spamtest 8)"
is "$(value "spamtest" -s 'mfl_spamtest_header=X-Spam-Verdict' -s mfl_spamtest_type=text \
	-s 'mfl_spamtest_text=0=Clean|10=Spam')" 0 \
	"a verdict the list does not name: 0"
is "$(value "virustest" -s 'mfl_virustest_header=X-Virus-Verdict' -s mfl_virustest_type=text \
	-s 'mfl_virustest_text=1=Clean|5=Infected')" 1 "virustest too: Clean is 1"
is "$(value "spamtest" -s 'mfl_spamtest_header=X-Spam-Status')" 0 \
	"the plain name still reads the first number (none at the start of 'Yes, ...': 0)"
done_testing
