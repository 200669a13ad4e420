#!/bin/sh
# testsuite.sh - mflc -T as a user runs it (mflc(1), mfl(7) TESTING
# SCRIPTS): a test file beside the user's filter, its blocks passing,
# failing and not applicable, the exit status, the errors test_error
# reads, a test_fail outside a block and a test file that does not compile
. "$top_srcdir/t/tap.sh"
mflc=$top_builddir/mfl/mflc
tmp=$(mktemp -d /tmp/mflc-T.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/filter.sieve" <<'S'
require ["fileinto", "reject"];
if header :contains "subject" "[dev]" {
	fileinto "Lists.dev";
} elsif address :is "from" "spammer@bad.test" {
	reject "go away";
}
S
cat >"$tmp/broken.sieve" <<'S'
require "fileinto";
frobnicate "x";
S
cat >"$tmp/filter.svtest" <<'S'
require "vnd.dovecot.testsuite";
require "relational";
require "comparator-i;ascii-numeric";

test_set "message" text:
From: alice@example.com
To: dev@lists.example.com
Subject: [dev] the build is green

All good.
.
;

test "the dev list goes to Lists.dev" {
	if not test_script_compile "filter.sieve" {
		test_fail "filter.sieve does not compile";
	}
	if not test_script_run {
		test_fail "the run failed";
	}
	if not test_result_action :index 1 "store" {
		test_fail "not filed";
	}
	if not test_result_execute {
		test_fail "not executed";
	}
	if not test_message :folder "Lists.dev" 0 {
		test_fail "nothing in Lists.dev";
	}
	if not header :contains "subject" "[dev]" {
		test_fail "the wrong message in Lists.dev";
	}
}

test "the spammer is rejected" {
	test_set "message" text:
From: spammer@bad.test
To: joe@example.com
Subject: money

.
;
	if not test_script_run {
		test_fail "the run failed";
	}
	if not test_result_action :count "eq" :comparator "i;ascii-numeric" "1" {
		test_fail "not one action";
	}
	if not test_result_action :index 1 "reject" {
		test_fail "not rejected";
	}
}

test "a broken script is refused, with its error" {
	if test_script_compile "broken.sieve" {
		test_fail "broken.sieve compiled";
	}
	if not test_error :index 1 :contains "frobnicate" {
		test_fail "the error does not name the command";
	}
}

test "this one fails" {
	if header :contains "subject" "money" {
		test_fail "on purpose: the subject is money";
	}
	test_fail "not reached: test_fail ends the block";
}

test "binary save belongs to Dovecot" {
	test_binary_save "x";
	test_fail "not reached";
}

test "a block after a failure runs" {
	if not exists "subject" {
		test_fail "no subject";
	}
}
S
"$mflc" -T "$tmp/filter.svtest" >"$tmp/out" 2>"$tmp/err"
is "$?" 1 "mflc -T exits 1 when a test fails"
line() { sed -n "s/^ *$1: Test '[^']*' //p" "$tmp/out"; }
is "$(line 1)" SUCCEEDED "a block that passes: compile, run, result, execute, the folder's message"
is "$(line 2)" SUCCEEDED "test_set in a block, the script rerun: reject is the one action"
is "$(line 3)" SUCCEEDED "test_error reads the compile error of a broken script"
is "$(line 4)" "FAILED: on purpose: the subject is money" "a failing block says why, once: test_fail ends it"
is "$(line 5)" "NOT APPLICABLE: test_binary_save is Dovecot's (its binaries, IMAP or storage)" \
	"what only Dovecot has is not applicable, with the reason"
is "$(line 6)" SUCCEEDED "the next block runs after a failure"
is "$(tail -n 1 "$tmp/out")" "FAIL: 4 passed, 1 failed, 1 not applicable" "the summary counts them"

# the filter's test alone passes: exit 0
sed '/^test "this one fails"/,/^}/d' "$tmp/filter.svtest" >"$tmp/good.svtest"
"$mflc" -T "$tmp/good.svtest" >"$tmp/out" 2>&1
is "$?" 0 "every test passes (or does not apply): exit 0"
is "$(tail -n 1 "$tmp/out")" "PASS: 4 passed, 0 failed, 1 not applicable" "and PASS"

# a filter that breaks is caught by its test
sed 's/Lists.dev/Lists.devel/' "$tmp/filter.sieve" >"$tmp/f2" && mv "$tmp/f2" "$tmp/filter.sieve"
"$mflc" -T "$tmp/good.svtest" >"$tmp/out" 2>&1
is "$?" 1 "after the filter changed, its test fails"
is "$(line 1)" "FAILED: nothing in Lists.dev" "and says where"

printf 'require "vnd.dovecot.testsuite";\ntest_fail "outside";\n' >"$tmp/outside.svtest"
"$mflc" -T "$tmp/outside.svtest" >"$tmp/out" 2>&1
is "$?" 3 "test_fail outside a test block is a runtime error: exit 3"
ok "$(grep -q '^XX: .*test_fail outside a test block: outside' "$tmp/out"; echo $?)" "reported as such"

printf 'require "vnd.dovecot.testsuite";\ntest "x" { frob; }\n' >"$tmp/bad.svtest"
"$mflc" -T "$tmp/bad.svtest" >"$tmp/out" 2>"$tmp/err"
is "$?" 1 "a test file that does not compile: exit 1"
ok "$(grep -q "bad.svtest:2:12: error: unknown command 'frob'" "$tmp/err"; echo $?)" "its error on stderr with file:line:col"

# ${tst.path}: the test file's directory (Pigeonhole's tests find their
# programs and scripts with it)
printf 'require ["vnd.dovecot.testsuite", "variables"];\ntest "path" {\n\tif not string :is "${tst.path}" "%s" { test_fail "${tst.path}"; }\n}\n' "$tmp" >"$tmp/path.svtest"
"$mflc" -T "$tmp/path.svtest" >"$tmp/out" 2>&1
is "$(sed -n 's/^ *1: //p' "$tmp/out")" "Test 'path' SUCCEEDED" '${tst.path} is the test file'"'"'s directory'

# run from elsewhere with a relative path, the test file's include still
# finds included/ beside it, and ${tst.path} is absolute
mkdir -p "$tmp/rel/included"
printf 'require "fileinto";\nfileinto "Inc";\n' >"$tmp/rel/included/inc.sieve"
printf 'require ["vnd.dovecot.testsuite", "include", "variables"];\ntest "rel" {\n\tinclude "inc";\n\tif not test_result_action "store" { test_fail "not included"; }\n\tif not string :matches "${tst.path}" "/*" { test_fail "${tst.path}"; }\n}\n' >"$tmp/rel/rel.svtest"
(cd "$tmp" && "$mflc" -T rel/rel.svtest) >"$tmp/out" 2>&1
is "$(sed -n 's/^ *1: //p' "$tmp/out")" "Test 'rel' SUCCEEDED" \
	"mflc -T with a relative path: include finds included/ beside the test file"

# what the result sends is kept where :fcc says (the same text mvmda sends)
cat >"$tmp/fcc.svtest" <<'S'
require ["vnd.dovecot.testsuite", "vacation", "fcc"];
test_set "message" text:
From: alice@example.com
To: joe@example.com
Subject: lunch?

are you in?
.
;
test "fcc" {
	vacation :fcc "Sent" :subject "Away" "gone fishing";
	if not test_result_execute { test_fail "not executed"; }
	if not test_message :folder "Sent" 0 { test_fail "no copy in Sent"; }
	if not header :is "subject" "Away" { test_fail "the copy is not the reply"; }
	if not test_message :smtp 0 { test_fail "nothing sent"; }
	if not address :is "to" "alice@example.com" { test_fail "sent to the wrong one"; }
}
S
"$mflc" -T "$tmp/fcc.svtest" >"$tmp/out" 2>&1
is "$(sed -n 's/^ *1: //p' "$tmp/out")" "Test 'fcc' SUCCEEDED" "vacation :fcc: the reply sent, and its copy in the folder"

# vnd.dovecot.debug, which Pigeonhole's tests use: a line in the log
printf 'require "vnd.dovecot.debug";\ndebug_log "checked by the filter";\n' >"$tmp/debug.sieve"
printf 'Subject: s\n\nb\n' >"$tmp/m"
"$mflc" -m "$tmp/m" "$tmp/debug.sieve" >/dev/null 2>"$tmp/err"
ok "$(grep -q '^mflc: log: checked by the filter$' "$tmp/err"; echo $?)" "debug_log writes its line to the log"

# RFC 5703 replace and enclose (Pigeonhole 0.5.19 has neither, so its
# suite cannot say): the blocks of t/sieve/replace-enclose.svtest
"$mflc" -T "$top_srcdir/t/sieve/replace-enclose.svtest" >"$tmp/out" 2>&1
is "$?" 0 "replace and enclose: every block of replace-enclose.svtest passes"
is "$(grep -c SUCCEEDED "$tmp/out")" 3 "replace, enclose, replace of a part inside foreverypart: 3 blocks"

printf 'require "fileinto";\ntest "x" { stop; }\n' >"$tmp/plain.sieve"
"$mflc" "$tmp/plain.sieve" >/dev/null 2>"$tmp/err"
is "$?" 1 "without require \"vnd.dovecot.testsuite\", test is no command"
done_testing
