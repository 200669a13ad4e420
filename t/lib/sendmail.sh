# sendmail.sh - Debian's Sendmail for a test, which cannot be installed
# beside Postfix: its packages (and any others the test names) fetched
# with apt-get download once per build tree, before the test enters its
# namespaces (the archive is the only network), and unpacked with
# dpkg -x under a tmpfs of the namespace's own on /mnt (Sendmail refuses
# paths through a world-writable directory such as /tmp). Source it
# after t/lib/ns.sh.

# sm_check - skip_all unless root with the tools
sm_check() {
	[ "$(id -u)" = 0 ] || skip_all "a private Sendmail needs root"
	for c in apt-get dpkg m4 swaks unshare ip; do
		command -v $c >/dev/null 2>&1 || skip_all "$c is not installed"
	done
}

# sm_fetch DIR PACKAGE... - the packages into DIR unless there already
# (outside the namespace only); skip_all when the archive cannot give them
sm_fetch() {
	dir=$1
	shift
	[ -n "$MVMF_NETNS" ] && return 0
	mkdir -p "$dir"
	for p in "$@"; do
		[ -n "$(ls "$dir/${p}"_*.deb 2>/dev/null)" ] && continue
		(cd "$dir" && apt-get download "$@") >"$dir/apt.log" 2>&1 ||
			skip_all "apt-get download $* failed: $(tail -n 1 "$dir/apt.log")"
		return 0
	done
}

# sm_unpack DIR - in the namespace: the tmpfs on /mnt, tmp=/mnt/t, every
# package of DIR unpacked in $tmp/root; sendmail= and cf= set, skip_all
# when they are not there or need libraries this machine lacks
sm_unpack() {
	mount -t tmpfs -o mode=755 mvmf-sendmail /mnt || skip_all "cannot mount a tmpfs on /mnt"
	tmp=/mnt/t
	mkdir -m 755 "$tmp" "$tmp/root"
	for d in "$1"/*.deb; do dpkg -x "$d" "$tmp/root"; done
	sendmail=$tmp/root/usr/libexec/sendmail/sendmail
	cf=$tmp/root/usr/share/sendmail/cf
	[ -x "$sendmail" ] && [ -f "$cf/m4/cf.m4" ] || skip_all "no sendmail binary or cf.m4 in the packages"
	missing=$(ldd "$sendmail" | sed -n 's/^[[:space:]]*\([^ ]*\) => not found/\1/p' | tr '\n' ' ')
	[ -z "$missing" ] || skip_all "sendmail needs libraries not installed: $missing"
}

# sm_mc_head - the queue, service switch and hosts files under $tmp, and
# on stdout what every test's sendmail.mc starts with: the cf macros,
# mx.example.test with every file in $tmp, no probing, an MTA daemon on
# 127.0.0.1:25, no default MSA, the local domain example.test
sm_mc_head() {
	mkdir -m 700 "$tmp/queue"
	printf 'hosts files\naliases files\n' >"$tmp/service.switch"
	printf '127.0.0.1 localhost mx.example.test\n' >"$tmp/hosts"
	cat <<MC
divert(-1)
divert(0)dnl
include(\`$cf/m4/cf.m4')dnl
VERSIONID(\`mvmf test')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.example.test')dnl
define(\`QUEUE_DIR', \`$tmp/queue')dnl
define(\`confPID_FILE', \`$tmp/sendmail.pid')dnl
define(\`ALIAS_FILE', \`$tmp/aliases')dnl
define(\`STATUS_FILE', \`$tmp/statistics')dnl
define(\`HELP_FILE', \`')dnl
define(\`confSERVICE_SWITCH_FILE', \`$tmp/service.switch')dnl
define(\`confHOSTS_FILE', \`$tmp/hosts')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confDEF_USER_ID', \`65534:65534')dnl
define(\`confLOG_LEVEL', \`14')dnl
define(\`confALIAS_WAIT', \`0')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`accept_unresolvable_domains')dnl
DAEMON_OPTIONS(\`Port=25, Addr=127.0.0.1, Name=MTA')dnl
LOCAL_DOMAIN(\`example.test')dnl
MC
}

# sm_stop - Sendmail's daemon ended, the tmpfs gone (for the EXIT trap)
sm_stop() {
	[ -f "$tmp/sendmail.pid" ] && kill "$(head -n 1 "$tmp/sendmail.pid")" 2>/dev/null
	sleep 0.2
	umount -l /mnt
}
