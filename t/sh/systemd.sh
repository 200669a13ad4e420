#!/bin/sh
# systemd.sh - the unit as configure made it: systemd-analyze verify
# finds nothing in it (it complained that /usr/sbin/mvmtr did not exist
# under a /usr/local build); and mvmtr in the foreground logs each line
# once: to stderr only under systemd (JOURNAL_STREAM), to syslog and
# stderr otherwise (the journal held every line twice). Syslog is a
# socket of the test's own, bound over /dev/log in a private mount
# namespace (this machine may have no /dev/log at all).
. "$top_srcdir/t/tap.sh"
command -v systemd-analyze >/dev/null 2>&1 || skip_all "systemd-analyze is not installed (systemd)"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
unit=$top_builddir/contrib/systemd/mvmtr.service
tmp=$(mktemp -d /tmp/mvmf-systemd.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# the unit, with the programs where this build has them, and its pages
sbindir=$(sed -n 's|^ExecStart=\(.*\)/mvmtr -f .*|\1|p' "$unit")
sysconfdir=$(sed -n 's|^ExecStartPre=.* -c \(.*\)/mvmf/mvmtr.mfl$|\1|p' "$unit")
ok "$([ -n "$sbindir" ] && [ -n "$sysconfdir" ]; echo $?)" "the unit names configure's sbindir and sysconfdir"
mkdir -p "$tmp/sbin" "$tmp/etc/mvmf" "$tmp/man/man7" "$tmp/man/man8"
cp "$top_builddir/milter/mvmtr" "$tmp/sbin/mvmtr"
cp "$top_srcdir/contrib/mvmtr.mfl" "$tmp/etc/mvmf/mvmtr.mfl"
cp "$top_builddir/man/mvmtr.8" "$top_builddir/man/mvmcas.8" "$tmp/man/man8/"
cp "$top_builddir/man/mfl.7" "$tmp/man/man7/"
sed -e "s|$sbindir/mvmtr|$tmp/sbin/mvmtr|g" -e "s|$sysconfdir/mvmf|$tmp/etc/mvmf|g" \
	"$unit" >"$tmp/mvmtr.service"
out=$(cd "$tmp" && MANPATH="$tmp/man" SYSTEMD_LOG_LEVEL=notice systemd-analyze verify \
	"$tmp/mvmtr.service" 2>&1)
rc=$?
is "$rc" 0 "systemd-analyze verify accepts the unit"
is "$out" "" "and says nothing about it"
[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'

# mvmda-decide.service (mvmda -D), the same way
dunit=$top_builddir/contrib/systemd/mvmda-decide.service
bindir=$(sed -n 's|^ExecStart=\(.*\)/mvmda -D .*|\1|p' "$dunit")
ok "$([ -n "$bindir" ]; echo $?)" "mvmda-decide.service names configure's bindir"
mkdir -p "$tmp/bin" "$tmp/man/man1" "$tmp/man/man5"
cp "$top_builddir/mda/mvmda" "$tmp/bin/mvmda"
cp "$top_builddir/man/mvmda.1" "$tmp/man/man1/"
cp "$top_builddir/man/mvmda-sysrc.5" "$tmp/man/man5/"
sed -e "s|$bindir/mvmda|$tmp/bin/mvmda|g" "$dunit" >"$tmp/mvmda-decide.service"
out=$(cd "$tmp" && MANPATH="$tmp/man" SYSTEMD_LOG_LEVEL=notice systemd-analyze verify \
	"$tmp/mvmda-decide.service" 2>&1)
rc=$?
is "$rc" 0 "systemd-analyze verify accepts mvmda-decide.service"
is "$out" "" "and says nothing about it"
[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'

# mvmda-lmtp.service (mvmda -L), the same way
lunit=$top_builddir/contrib/systemd/mvmda-lmtp.service
lbindir=$(sed -n 's|^ExecStart=\(.*\)/mvmda -L .*|\1|p' "$lunit")
is "$lbindir" "$bindir" "mvmda-lmtp.service names configure's bindir"
sed -e "s|$bindir/mvmda|$tmp/bin/mvmda|g" "$lunit" >"$tmp/mvmda-lmtp.service"
out=$(cd "$tmp" && MANPATH="$tmp/man" SYSTEMD_LOG_LEVEL=notice systemd-analyze verify \
	"$tmp/mvmda-lmtp.service" 2>&1)
rc=$?
is "$rc" 0 "systemd-analyze verify accepts mvmda-lmtp.service"
is "$out" "" "and says nothing about it"
[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'

# log once
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	ok 0 "# SKIP not root: no private mount namespace for /dev/log"
	ok 0 "# SKIP the same"
	ok 0 "# SKIP the same"
	ok 0 "# SKIP the same"
	done_testing
fi
cat >"$tmp/logs.sh" <<'SH'
tmp=$1 mvmtr=$2 mvmda=$3
python3 - "$tmp/log.sock" "$tmp/syslog" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "a", buffering=1)
open(sys.argv[2] + ".ready", "w").close()
while True:
	out.write(s.recv(4096).decode("utf-8", "replace") + "\n")
PY
listener=$!
while [ ! -e "$tmp/syslog.ready" ]; do sleep 0.05; done
# a /dev of the namespace's own, with what mvmtr opens and our /dev/log
mkdir -p "$tmp/hostdev"
mount --rbind /dev "$tmp/hostdev"
mount -t tmpfs tmpfs /dev
for n in null zero urandom random; do
	touch "/dev/$n"
	mount --bind "$tmp/hostdev/$n" "/dev/$n"
done
ln -s "$tmp/log.sock" /dev/log
printf 'void $hook_connect(string $h, string $a, int $p) { }\n' >"$tmp/p.mfl"
for journal in no yes; do
	: >"$tmp/syslog"
	if [ $journal = yes ]; then export JOURNAL_STREAM=8:12345; fi
	"$mvmtr" -f -p "unix:$tmp/$journal.sock" "$tmp/p.mfl" 2>"$tmp/stderr.$journal" &
	pid=$!
	i=0
	while ! grep -q started "$tmp/stderr.$journal" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	kill $pid
	wait $pid
	sleep 0.2
	cp "$tmp/syslog" "$tmp/syslog.$journal"
	# mvmda -D likewise
	: >"$tmp/syslog"
	"$mvmda" -D "unix:$tmp/mvmda-$journal.sock" -g root 2>"$tmp/dstderr.$journal" &
	pid=$!
	i=0
	while ! grep -q answering "$tmp/dstderr.$journal" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	kill $pid
	wait $pid
	sleep 0.2
	cp "$tmp/syslog" "$tmp/dsyslog.$journal"
done
kill $listener
SH
unshare -m sh "$tmp/logs.sh" "$tmp" "$top_builddir/milter/mvmtr" "$top_builddir/mda/mvmda"
ok "$(grep -q 'started' "$tmp/stderr.no" && grep -q 'started' "$tmp/syslog.no"; echo $?)" \
	"in the foreground, not under systemd: each line to stderr and to syslog"
ok "$(grep -q 'started' "$tmp/stderr.yes" && ! grep -q 'started' "$tmp/syslog.yes"; echo $?)" \
	"under systemd (JOURNAL_STREAM): to stderr only, so the journal has it once"
ok "$(grep -q 'answering' "$tmp/dstderr.no" && grep -q 'answering' "$tmp/dsyslog.no"; echo $?)" \
	"mvmda -D, not under systemd: each line to stderr and to syslog"
ok "$(grep -q 'answering' "$tmp/dstderr.yes" && ! grep -q 'answering' "$tmp/dsyslog.yes"; echo $?)" \
	"mvmda -D under systemd: to stderr only"
done_testing
