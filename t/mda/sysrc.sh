#!/bin/sh
# sysrc.sh - the installed mvmda runs the admin's rc script from
# $(sysconfdir)/mvmf when there is one, else the packaged default, finds
# the packaged include/ from either, and keeps the root-owned script's
# cache in $(localstatedir)/cache/mvmf, never beside it; dnsbl.conf
# from $(sysconfdir)/mvmf likewise, else the packaged one. Installed with
# make install into a tmpfs over the prefix, in a mount namespace of its
# own, so the host's files are not touched.
. "$top_srcdir/t/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root for a private mount namespace"
command -v unshare >/dev/null || skip_all "no unshare"
dirs=$(printf 'show:\n\t@echo "$(prefix)|$(sysconfdir)|$(localstatedir)|$(datadir)|$(bindir)"\n' |
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory -C "$top_builddir" -f Makefile -f - show 2>/dev/null | grep "|" | tail -n 1)
IFS='|' read -r prefix etc var share bin <<E
$dirs
E
[ -n "$prefix" ] && [ -d "$prefix" ] || skip_all "no prefix directory ($prefix)"
for d in "$etc" "$var" "$share" "$bin"; do
	case $d in "$prefix"/*) ;; *) skip_all "$d is outside the prefix $prefix" ;; esac
done
if [ "$1" != inner ]; then
	exec unshare -m sh "$0" inner
fi
mount -t tmpfs mvmf-test "$prefix" || skip_all "cannot mount a tmpfs on $prefix"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" install >/dev/null 2>&1 || { echo "not ok 1 - make install"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
unset MVMDA_RC SENDER RECIPIENT QUEUE_ID
HOME=$tmp/home
export HOME
mkdir "$HOME"
printf 'require "fileinto";\nfileinto "Work";\n' >"$HOME/.mvmda.sieve"
printf 'From: a@example.org\nTo: b@example.org\nSubject: s\n\nbody\n' >msg
mvmda=$bin/mvmda
packaged=$share/mvmf/mvmda/mvmda-rc.mfl
admin=$etc/mvmf/mvmda-rc.mfl

ok "$([ -f "$packaged" ] && [ ! -e "$admin" ]; echo $?)" "make install puts the rc script under $share only"
is "$("$mvmda" -V | sed -n 's/^# rc: //p')" "$packaged" "with no admin's script, mvmda -V names the packaged one"
"$mvmda" <msg; st=$?
is "$st" 0 "and a delivery runs it"
is "$(ls "$HOME/Maildir/.Work/new" 2>/dev/null | wc -l)" 1 "the user's Sieve filed into Work"

mkdir -p "$etc/mvmf"
{ cat "$packaged"; echo '$header_prepend("X-Site-Rc", "etc");'; } >"$admin"
is "$("$mvmda" -V | sed -n 's/^# rc: //p')" "$admin" "once the admin copied it to $etc/mvmf, -V names the copy"
"$mvmda" -c >out 2>&1; st=$?
is "$st" 0 "mvmda -c checks the copy: its relative includes come from the package ($(head -c 200 out))"
cache=$var/cache/mvmf/$(echo "$admin" | sed 's|/|%2F|g').mflc
ok "$([ -f "$cache" ]; echo $?)" "root's mvmda -c wrote the cache to $var/cache/mvmf"
is "$(find "$etc" "$share" -name '*.mflc' | wc -l)" 0 "and nothing beside the scripts in $etc or $share"
"$mvmda" <msg; st=$?
is "$st" 0 "a delivery runs the admin's script"
is "$(cat "$HOME"/Maildir/.Work/new/* | grep -c '^X-Site-Rc: etc')" 1 "with its edit (the header it adds)"
ok "$(cmp -s "$cache" "$cache" && [ -f "$cache" ]; echo $?)" "the cache is still there after the delivery"

echo 'if (' >>"$admin"
"$mvmda" <msg >/dev/null 2>err; st=$?
is "$st" 75 "a broken admin's script defers the mail (no fall back to the packaged one)"
ok "$(grep -q -F "$admin" err; echo $?)" "and the error names it: $(head -n 1 err)"
rm -f "$admin"
is "$("$mvmda" -V | sed -n 's/^# rc: //p')" "$packaged" "removed, the packaged script runs again"

# dnsbl.conf the same way: the admin's copy in $etc/mvmf when there is
# one, else the packaged one (a bad line is logged with its file's name,
# and no zone is left to ask)
printf 'require "vnd.mvmf.dnsbl";\nif dnsbl { discard; }\n' >"$HOME/.mvmda.sieve"
echo '.not-a-zone' >>"$share/mvmf/mvmda/dnsbl.conf"
"$mvmda" <msg >/dev/null 2>err
ok "$(grep -q -F "$share/mvmf/mvmda/dnsbl.conf:" err; echo $?)" \
	"with no admin's dnsbl.conf, dnsbl reads the packaged one: $(head -n 1 err)"
echo '.admins-bad-line' >"$etc/mvmf/dnsbl.conf"
"$mvmda" <msg >/dev/null 2>err
ok "$(grep -q -F "$etc/mvmf/dnsbl.conf:1: not a zone" err && ! grep -q -F "$share" err; echo $?)" \
	"with one in $etc/mvmf, that one only: $(head -n 1 err)"
done_testing
