#!/bin/sh
# help.sh - every program answers --help (the usage on stdout) and
# --version with exit 0 (mvmda answered both with 75, as bad options)
. "$top_srcdir/t/tap.sh"
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' "$top_builddir/config.h")
progs="mda/mvmda milter/mvmtr milter/mvmcas mfl/mflc mfl/mflmsg"
# the qmail-smtpd compatible receiver, when configure built it
[ -x "$top_builddir/milter/mvmtr-smtpd" ] && progs="$progs milter/mvmtr-smtpd"
for p in $progs; do
	name=${p#*/}
	out=$("$top_builddir/$p" --help 2>/dev/null)
	is "$?" 0 "$name --help: exit 0"
	ok "$(printf '%s\n' "$out" | grep -q "^usage: $name"; echo $?)" "$name --help: the usage on stdout"
	is "$("$top_builddir/$p" --version 2>/dev/null)" "$name $version" "$name --version"
done
done_testing
