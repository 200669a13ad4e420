#!/bin/sh
# paths.sh - the manual pages name the paths this build's programs use
# (configure's sysconfdir, localstatedir, runstatedir, datadir): the
# installed pages printed $(datadir) literally, and /etc/mvmf where a
# plain ./configure made mvmtr read /usr/local/etc/mvmf.
. "$top_srcdir/t/tap.sh"
man=$top_builddir/man
script=$("$top_builddir/milter/mvmtr" --help | sed -n 's/^script defaults to //p')
socket=$("$top_builddir/milter/mvmtr" --help | sed -n 's/^ *(default \(unix:.*\))$/\1/p')
store=$("$top_builddir/milter/mvmcas" --help | sed -n 's/^store defaults to //p')
rc=$("$top_builddir/mda/mvmda" -V | sed -n 's/^# rc: //p')
ok "$([ -n "$script" ] && [ -n "$socket" ] && [ -n "$store" ] && [ -n "$rc" ]; echo $?)" \
	"the programs say their default paths ($script, $socket, $store, $rc)"
ok "$(grep -q -F "$script" "$man/mvmtr.8"; echo $?)" "mvmtr(8) names mvmtr's default script"
ok "$(grep -q -F "$socket" "$man/mvmtr.8"; echo $?)" "mvmtr(8) names its default socket"
ok "$(grep -q -F "$store" "$man/mvmcas.8"; echo $?)" "mvmcas(8) names the default store"
ok "$(sed 's/\\//g' "$man/mvmda-sysrc.5" | grep -q -F "$rc"; echo $?)" \
	"mvmda-sysrc(5) names the rc script mvmda runs"
left=$(grep -l '@[a-z]*dir@\|\$(datadir)' "$man"/*.[1-8] 2>/dev/null)
is "$left" "" "no page is left with a placeholder or a make variable"
done_testing
