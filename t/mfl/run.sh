#!/bin/sh
# run.sh - the self-checking MFL scripts in t/mfl: each must end with a
# fileinto "DONE" and file nothing into a "FAIL ..." folder; then hooks
# called by the host, and include's errors.
. "$top_srcdir/t/tap.sh"
mflc="$top_builddir/mfl/mflc"
msg="$top_srcdir/t/sieve/messages/default.eml"
env="-e sender@example.org -t user@example.net"

for script in "$top_srcdir"/t/mfl/*.mfl; do
	name=$(basename "$script")
	# shellcheck disable=SC2086
	out=$("$mflc" -M $env -m "$msg" "$script" 2>/dev/null)
	status=$?
	fails=$(printf '%s\n' "$out" | grep '"mailbox":"FAIL' || true)
	if [ "$status" -eq 0 ] && [ -z "$fails" ] &&
	    printf '%s\n' "$out" | grep -q '"mailbox":"DONE"' &&
	    printf '%s\n' "$out" | grep -q '^{"status":"ok"}$'; then
		ok 0 "$name"
	else
		ok 1 "$name"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
done

out=$("$mflc" -M $env -m "$msg" -H exitcode:75 -H exitcode:0 -H exitcode:1 \
	-H greet:bob -H nohook "$top_srcdir/t/mfl/hooks.mfl" 2>&1)
has() {
	case "$out" in
	*"$1"*) ok 0 "$2" ;;
	*) ok 1 "$2"; printf '%s\n' "$out" | sed 's/^/# /' ;;
	esac
}
has '{"hook":"exitcode","called":true,"return":111}' "hook called with an int, result back"
has '{"hook":"exitcode","called":true,"return":0}' "hook called again"
has '{"hook":"exitcode","called":true,"return":100}' "hook third call"
has '{"hook":"greet","called":true,"return":"hello bob 3"}' "string hook sees globals changed by earlier calls"
has '{"hook":"nohook","called":false}' "an undefined hook is not called"

out=$("$mflc" -M $env -m "$msg" -H exitcode "$top_srcdir/t/mfl/hooks.mfl" 2>&1)
has 'runtime error' "a hook called with the wrong number of arguments fails"

# include: cycles, missing files and depth are compile errors
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'include "b.mfl";\n' >"$tmp/a.mfl"
printf 'include "a.mfl";\n' >"$tmp/b.mfl"
out=$("$mflc" -M "$tmp/a.mfl" 2>&1)
has "include cycle" "an include cycle is a compile error"
printf 'include "missing.mfl";\n' >"$tmp/c.mfl"
out=$("$mflc" -M "$tmp/c.mfl" 2>&1)
has "c.mfl:1:1: error: cannot include $tmp/missing.mfl: No such file or directory" \
	"a missing include names the file"
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	printf 'include "d%d.mfl";\n' $((i + 1)) >"$tmp/d$i.mfl"
done
printf 'keep;\n' >"$tmp/d13.mfl"
out=$("$mflc" -M "$tmp/d1.mfl" 2>&1)
has "includes nested deeper than 10" "include depth is limited"
out=$("$mflc" -M -s mfl_limit_include_depth=20 "$tmp/d1.mfl" 2>&1)
is "$out" "" "the include depth limit is a control"
printf '# mfl: sieve\nrequire "fileinto";\nfileinto "S";\n' >"$tmp/mode.mfl"
out=$("$mflc" -m "$msg" "$tmp/mode.mfl" 2>&1)
has '"mailbox":"S"' "the mode comment selects Sieve mode"
printf 'require "fileinto";\nfileinto "S";\n' >"$tmp/plain.txt"
out=$("$mflc" -s mfl_mode_sieve=1 -m "$msg" "$tmp/plain.txt" 2>&1)
has '"mailbox":"S"' "the mfl_mode_sieve control selects Sieve mode"
done_testing
