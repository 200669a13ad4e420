#!/bin/sh
# demo/mail.sh - the demo's real path: mail from SMTP clients through a
# Postfix on loopback, mvmtr at SMTP time, and mvmda delivering into
# Maildir folders, each step as README "Wiring it in" says.
#
#   sh contrib/demo/mail.sh BUILDDIR     (as root; run.sh calls it)
#
# Everything happens in mount and network namespaces of the demo's own,
# so nothing on the machine changes: mvmf is installed with make install
# into a tmpfs over its prefix (a plain ./configure: /usr/local), the
# users (mvmtr, joe, ann) are added to a private copy of /etc, Postfix
# has its own config and queue, the network is loopback only, with
# client addresses of the documentation ranges on it and unbound
# answering for the demo's domains (SPF records, a DNS block list).
# Exits 77 with the reason when it cannot run here.
set -u
MVMF_NETNS=${MVMF_NETNS:-}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
builddir=${1:-${MVMF_DEMO_BUILDDIR:-$top}}
builddir=$(cd "$builddir" && pwd)
MVMF_DEMO_BUILDDIR=$builddir
export MVMF_DEMO_BUILDDIR

skip_all() {
	echo "  (the real path is not shown: $*)"
	exit 77
}
# the namespaces, unbound, the private /etc; the private Postfix
. "$top/t/lib/ns.sh"
. "$top/t/lib/postfix.sh"
pf_check
command -v ip >/dev/null 2>&1 || skip_all "ip is not installed (iproute2)"

# make's idea of the paths; all of them must be under a prefix that a
# tmpfs can cover (not /usr: use a plain ./configure for the demo)
paths=$(printf 'show:\n\t@echo "$(prefix)|$(sysconfdir)|$(localstatedir)|$(runstatedir)|$(datadir)|$(bindir)|$(sbindir)"\n' |
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory \
		-C "$builddir" -f Makefile -f - show 2>/dev/null | grep '|' | tail -n 1)
IFS='|' read -r prefix etc var run share bin sbin <<E
$paths
E
[ -n "$prefix" ] && [ -d "$prefix" ] || skip_all "no prefix directory (${prefix:-none}) in $builddir"
case $prefix in /usr | / | /etc | /var) skip_all "configured for $prefix; the demo needs a prefix of its own (./configure)" ;; esac
for d in "$etc" "$var" "$run" "$share" "$bin" "$sbin"; do
	case $d in "$prefix"/*) ;; *) skip_all "$d is outside the prefix $prefix" ;; esac
done

ns_enter -m -n
dns=yes
command -v unbound >/dev/null 2>&1 || dns="no (unbound is not installed)"

tmp=$(mktemp -d /tmp/mvmf-demo.XXXXXX)
chmod 755 "$tmp"
PF=$tmp/postfix
PF_PORT=25
cleanup() {
	pf_stop
	[ -n "${mvmtr_pidfile:-}" ] && [ -f "$mvmtr_pidfile" ] && kill "$(cat "$mvmtr_pidfile")" 2>/dev/null
	[ -n "${unbound_pid:-}" ] && kill "$unbound_pid" 2>/dev/null
	umount /etc "$prefix" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

step() { printf '\n%s\n' "$*"; }
say() { printf '  %s\n' "$*"; }
fail() {
	say "demo: $*" >&2
	exit 1
}

step "1. make install, into a tmpfs over $prefix (seen only by the demo)"
mount -t tmpfs -o mode=0755 mvmf-demo "$prefix" || skip_all "cannot mount a tmpfs on $prefix"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$builddir" install >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log" >&2; fail "make install failed"; }
say "$sbin/mvmtr, $bin/mvmda, $share/mvmf"

step "2. the users, in a private copy of /etc"
ns_user_etc "$tmp" "$tmp/home/joe"
echo "ann:x:4712:4712:Ann:$tmp/home/ann:/bin/sh" >>/etc/passwd
echo "ann:x:4712:" >>/etc/group
mkdir -p "$tmp/home/ann"
chown 4712:4712 "$tmp/home/ann"
# the steps of README and contrib/systemd/mvmtr.service's header
adduser --quiet --system --group --no-create-home --home /nonexistent mvmtr ||
	fail "adduser --system --group mvmtr failed"
adduser --quiet postfix mvmtr || fail "adduser postfix mvmtr failed"
say "mvmtr (system user and group; postfix is in the group), joe and ann"
{
	echo "127.0.0.1 localhost mx.test.example"
} >/etc/hosts.demo && mv /etc/hosts.demo /etc/hosts
echo "nameserver 127.0.0.1" >/etc/resolv.conf.demo && mv /etc/resolv.conf.demo /etc/resolv.conf

step "3. the network: loopback with three clients, and DNS"
for a in 192.0.2.25 198.51.100.66 203.0.113.9; do
	ip addr add "$a/32" dev lo || fail "cannot add $a to lo"
done
if [ "$dns" = yes ]; then
	mkdir "$tmp/dns"
	unbound_start "$tmp/dns" <<'ZONES' || dns="no (unbound did not start: $(cat "$tmp/dns/unbound.out"))"
local-zone: "example.org." static
local-data: 'example.org. TXT "v=spf1 ip4:192.0.2.0/24 -all"'
local-data: 'lists.example.org. TXT "v=spf1 ip4:192.0.2.0/24 -all"'
local-data: "mail.example.org. A 192.0.2.25"
local-zone: "example.com." static
local-data: 'example.com. TXT "v=spf1 ip4:192.0.2.0/24 -all"'
local-zone: "example.net." static
local-zone: "test.example." static
local-data: "mx.test.example. A 127.0.0.1"
local-zone: "in-addr.arpa." static
local-data: "25.2.0.192.in-addr.arpa. PTR mail.example.org."
local-zone: "dnsbl.example." static
local-data: "66.100.51.198.dnsbl.example. A 127.0.0.2"
local-data: '66.100.51.198.dnsbl.example. TXT "198.51.100.66 hit our spam traps"'
ZONES
fi
say "mail.example.org 192.0.2.25: SPF-allowed for example.org, example.com"
say "bulk.example.net 198.51.100.66: listed in the block list dnsbl.example"
say "bad.example.net  203.0.113.9: not allowed by example.org's SPF record"
say "DNS: unbound on 127.0.0.1: $dns"

step "4. mvmtr: the example policy contrib/mvmtr.mfl, started as README says"
mkdir -p "$etc/mvmf"
policy=$etc/mvmf/mvmtr.mfl
# two changes for the demo: a greylist delay of 5 s instead of 300, and
# the block list the demo's own DNS server serves
sed -e 's/^\$mvmtr_greylist_delay = 300;/$mvmtr_greylist_delay = 5;/' \
	-e 's/zen\.spamhaus\.org/dnsbl.example/g' "$top/contrib/mvmtr.mfl" >"$policy"
grep -q 'greylist_delay = 5;' "$policy" && grep -q '"dnsbl.example"' "$policy" ||
	fail "contrib/mvmtr.mfl changed: the demo's edits no longer apply"
say "$policy: contrib/mvmtr.mfl with \$mvmtr_greylist_delay = 5 and the zone dnsbl.example"
"$sbin/mvmtr" -c -v "$policy" >"$tmp/check.log" 2>&1 || { cat "$tmp/check.log" >&2; fail "mvmtr -c failed"; }
sock=$run/mvmf/mvmtr.sock
# the pid file (to stop it at the end) as the mvmtr user writes it: in
# the directory mvmtr makes for its socket
mvmtr_pidfile=$run/mvmf/mvmtr.pid
"$sbin/mvmtr" -u mvmtr:mvmtr -P "$mvmtr_pidfile" -p "unix:$sock" "$policy" ||
	fail "mvmtr did not start"
say "$sbin/mvmtr -u mvmtr:mvmtr -p unix:$sock $policy"
say "socket: $(stat -c '%U:%G %a' "$sock")"

step "5. Postfix: smtpd_milters and mailbox_command, as README says"
pf_init
pf_conf "smtpd_milters = unix:$sock" \
	"milter_default_action = tempfail" \
	"mailbox_command = $bin/mvmda"
pf_start || { cat "$PF/maillog" >&2; fail "Postfix did not start"; }
say "smtpd_milters = unix:$sock"
say "milter_default_action = tempfail"
say "mailbox_command = $bin/mvmda"

step "6. mvmda: the admin's rc script and the users' filters"
rc=$etc/mvmf/mvmda-rc.mfl
{
	echo '# the demo: a log of its own for each user (mvmda-sysrc(5))'
	echo '$mvmda_logfile = $HOME + "/.mvmda.log";'
	cat "$share/mvmf/mvmda/mvmda-rc.mfl"
} >"$rc"
"$bin/mvmda" -c >"$tmp/rc.log" 2>&1 || { cat "$tmp/rc.log" >&2; fail "mvmda -c failed"; }
say "$rc: the packaged one, with \$mvmda_logfile = \$HOME + \"/.mvmda.log\""
cp "$here/joe.sieve" "$tmp/home/joe/.dovecot.sieve"
cp "$here/filter.mfl" "$tmp/home/ann/.mvmda.mfl"
chown 4711:4711 "$tmp/home/joe/.dovecot.sieve"
chown 4712:4712 "$tmp/home/ann/.mvmda.mfl"
say "joe: ~/.dovecot.sieve (contrib/demo/joe.sieve, Sieve)"
say "ann: ~/.mvmda.mfl (contrib/demo/filter.mfl, MFL)"

# send CLIENT HELO SENDER FILE: one SMTP transaction to joe and ann;
# prints the server's answer to the recipients (or to the data)
send() {
	swaks --server 127.0.0.1 --port 25 --local-interface "$1" --helo "$2" \
		--from "$3" --to joe@test.example,ann@test.example \
		--data "$4" >"$tmp/swaks.out" 2>&1
	sed -n 's/^<\*\* *//p' "$tmp/swaks.out" | head -n 1 >"$tmp/answer"
	[ -s "$tmp/answer" ] ||
		grep 'queued as' "$tmp/swaks.out" | sed 's/^<- *//' | head -n 1 >"$tmp/answer"
	cat "$tmp/answer"
}
lines() { cat "$tmp/home/$1/.mvmda.log" 2>/dev/null | wc -l; }
# delivered USER SKIP: where mvmda put the message for USER, and why,
# from the log lines after the first SKIP
delivered() {
	tail -n +"$(($2 + 1))" "$tmp/home/$1/.mvmda.log" 2>/dev/null >"$tmp/new"
	where=$(sed -n 's/.* folder="\([^"]*\)".* result=\([a-z]*\).*/\1 (\2)/p' "$tmp/new" | head -n 1)
	why=$(sed -n 's/^[-0-9]* [0-9:]* script: //p' "$tmp/new" | tail -n 1)
	[ -n "$why" ] || why="by ~$1/$3"
	printf '    %-4s -> %s: %s\n' "$1" "${where:-nothing delivered}" "$why"
}
queued() { [ "$(pf_queue_count)" -eq 0 ]; }

step "7. mail from mail.example.org (192.0.2.25), first attempt"
for m in "$here"/messages/*.eml; do
	from=$(sed -n 's/^Return-Path: <\(.*\)>$/\1/p' "$m" | head -n 1)
	say "$(basename "$m") from <$from>: $(send 192.0.2.25 mail.example.org "$from" "$m")"
done
say "(a real MTA tries again later; the demo waits 6 s)"
sleep 6

step "8. the same mail again: accepted, and delivered by mvmda"
for m in "$here"/messages/*.eml; do
	from=$(sed -n 's/^Return-Path: <\(.*\)>$/\1/p' "$m" | head -n 1)
	j=$(lines joe)
	a=$(lines ann)
	say "$(basename "$m") from <$from>: $(send 192.0.2.25 mail.example.org "$from" "$m")"
	wait_for queued || say "(still in Postfix's queue after 30 s)"
	delivered joe "$j" .dovecot.sieve
	delivered ann "$a" .mvmda.mfl
done

step "9. the clients the policy refuses"
say "bulk.example.net (198.51.100.66): $(send 198.51.100.66 bulk.example.net offers@example.net "$here/messages/01-personal.eml")"
say "bad.example.net (203.0.113.9), as <alice@example.org>: $(send 203.0.113.9 bad.example.net alice@example.org "$here/messages/01-personal.eml")"

step "10. what mvmtr added to the header (joe's copy of 01-personal.eml)"
f=$(grep -l '^Message-ID: <lunch.1@example.org>' "$tmp"/home/joe/Maildir/new/* 2>/dev/null | head -n 1)
if [ -n "$f" ]; then
	sed -n '/^$/q; /^\(Received-SPF\|X-Filtered-By\):/p' "$f" | sed 's/^/  /'
else
	say "(no copy of 01-personal.eml in joe's INBOX)"
fi

step "11. the Maildirs"
for u in joe ann; do
	(cd "$tmp/home/$u" && find Maildir -type f -path '*/new/*' | sed 's|/new/.*||' | sort | uniq -c |
		awk -v u="$u" '{printf "  %-4s %-24s %d message%s\n", u, $2, $1, $1 == 1 ? "" : "s"}')
done

step "12. the store, as mvmcas stats shows it"
"$sbin/mvmcas" stats 2>&1 | sed 's/^/  /'
exit 0
