#!/bin/sh
# fuzz_replay.sh - replay the fuzz targets' seed corpora (make check):
# the message model, MFL mode, Sieve mode, the lexer, the milter
# protocol engine, the compiled-script cache's reader, mvmda -D's
# questions and, when
# configure built mvmtr-smtpd, its SMTP server
. "$top_srcdir/t/tap.sh"
seeds="$top_srcdir/t/fuzz/seeds"
status=0
targets="msg mfl sieve lex milter cache service"
[ -x "$top_builddir/t/fuzz/smtpd_replay" ] && targets="$targets smtpd"
for target in $targets; do
	out=$("$top_builddir/t/fuzz/${target}_replay" "$seeds/$target" 2>&1)
	rc=$?
	n=$(printf '%s\n' "$out" | grep -c '^ok')
	if [ "$rc" -eq 0 ] && [ "$n" -gt 0 ]; then
		ok 0 "$target: $n seeds replayed"
	else
		ok 1 "$target: replay failed (exit $rc)"
		printf '%s\n' "$out" | grep -v '^ok' | sed 's/^/# /' | head -20
	fi
done
done_testing
