# qmail.sh - a real qmail for tests: notqmail (the maintained qmail
# 1.03 line) from ../shared/notqmail, or the tarball $MVMF_NOTQMAIL
# names, built once per build tree in t/notqmail with its home
# t/notqmail/home compiled in, and installed by each test into a tmpfs
# over that home, in the test's own mount namespace, with qmail's users
# and groups (INSTALL.ids.md) in the test's private /etc (ns_user_etc):
# no two tests share a queue, and the machine gets no qmail.
#
# qmail_check: skip_all unless root, the tarball, cc and tcpserver.
# qmail_build: build it (once, under a lock); sets QH, the qmail home.
# qmail_install ME: (in the test's mount namespace, after ns_user_etc)
#   the users, the files (instpackage, instchown), control/me, locals
#   and rcpthosts for ME.
# qmail_start LOG: qmail-send through qmail-start, default delivery
#   ./Maildir/, its log in LOG; sets qmail_pid (qmail-start becomes
#   qmail-send). The environment it is started with reaches the
#   programs qmail-local runs.
# qmail_smtpd PORT: tcpserver running qmail-smtpd on 127.0.0.1:PORT as
#   qmaild; sets qmail_smtpd_pid.
# qmail_flush: qmail-send retries deferred deliveries now (ALRM).
# qmail_queue_empty: nothing left in the queue.
# qmail_stop: stop both.
# qmail_mvmda_rc FILE: an rc script for mvmda that is the source tree's,
#   with a log of each user's own (~/.mvmda.log), for qmail-local's
#   programs (which get MVMDA_RC from qmail-start's environment).
# wait_for CMD...: until CMD succeeds, at most 30 s.

qmail_check() {
	[ "$(id -u)" = 0 ] || skip_all "a private qmail needs root (its users, setuid qmail-queue)"
	QMAIL_TGZ=${MVMF_NOTQMAIL:-}
	if [ -z "$QMAIL_TGZ" ]; then
		for _d in "$top_srcdir/../shared/notqmail" "$top_srcdir/../../shared/notqmail"; do
			for _f in "$_d"/notqmail-*.tar.gz; do
				[ -f "$_f" ] && QMAIL_TGZ=$_f
			done
		done
	fi
	[ -n "$QMAIL_TGZ" ] && [ -f "$QMAIL_TGZ" ] ||
		skip_all "no notqmail tarball (../shared/notqmail/notqmail-*.tar.gz, or set MVMF_NOTQMAIL)"
	command -v tcpserver >/dev/null 2>&1 || skip_all "tcpserver is not installed (ucspi-tcp)"
	command -v cc >/dev/null 2>&1 || skip_all "no C compiler to build notqmail"
	command -v flock >/dev/null 2>&1 || skip_all "flock is not installed (util-linux)"
}

qmail_build() {
	_top=$(cd "$top_builddir" && pwd)
	QMAIL_DIR=$_top/t/notqmail
	QH=$QMAIL_DIR/home
	mkdir -p "$QMAIL_DIR" "$QH"
	(
		flock 9
		[ "$(cat "$QMAIL_DIR/built" 2>/dev/null)" = "$QMAIL_TGZ it man" ] && exit 0
		rm -rf "$QMAIL_DIR/src"
		mkdir "$QMAIL_DIR/src"
		tar -xzf "$QMAIL_TGZ" -C "$QMAIL_DIR/src" --strip-components=1 || exit 1
		echo "$QH" >"$QMAIL_DIR/src/conf-qmail"
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$QMAIL_DIR/src" it man \
			>"$QMAIL_DIR/build.log" 2>&1 || exit 1
		echo "$QMAIL_TGZ it man" >"$QMAIL_DIR/built"
	) 9>"$QMAIL_DIR/lock"
}

qmail_install() {
	echo "nofiles:x:7790:" >>/etc/group
	echo "qmail:x:7791:" >>/etc/group
	_uid=7790
	for _u in alias qmaild qmaill qmailp; do
		echo "$_u:x:$_uid:7790::$QH:/bin/false" >>/etc/passwd
		_uid=$((_uid + 1))
	done
	for _u in qmailq qmailr qmails; do
		echo "$_u:x:$_uid:7791::$QH:/bin/false" >>/etc/passwd
		_uid=$((_uid + 1))
	done
	sed -i 's|^\(alias:[^:]*:[^:]*:[^:]*:[^:]*:\)[^:]*|\1'"$QH"'/alias|' /etc/passwd
	mount -t tmpfs -o mode=0755 qmail-test "$QH" || return 1
	_out=$(cd "$QMAIL_DIR/src" && ./instpackage 2>&1 && ./instchown 2>&1) ||
		{ echo "$_out" >&2; return 1; }
	echo "$1" >"$QH/control/me"
	echo "$1" >"$QH/control/locals"
	echo "$1" >"$QH/control/rcpthosts"
}

qmail_start() {
	: >>"$1"
	chown 7792 "$1"		# the logger runs as qmaill
	env PATH="$QH/bin:$PATH" "$QH/bin/qmail-start" ./Maildir/ \
		sh -c 'exec cat >>"$0"' "$1" </dev/null &
	qmail_pid=$!
}

qmail_smtpd() {
	tcpserver -q -u 7791 -g 7790 127.0.0.1 "$1" "$QH/bin/qmail-smtpd" &
	qmail_smtpd_pid=$!
	for _i in $(seq 50); do
		bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

qmail_flush() {
	kill -ALRM "$qmail_pid" 2>/dev/null
}

qmail_queue_empty() {
	[ "$("$QH/bin/qmail-qstat" 2>/dev/null | sed -n 's/^messages in queue: //p')" = 0 ]
}

qmail_stop() {
	[ -n "${qmail_smtpd_pid:-}" ] && kill "$qmail_smtpd_pid" 2>/dev/null
	[ -n "${qmail_pid:-}" ] && kill "$qmail_pid" 2>/dev/null
}

qmail_mvmda_rc() {
	{
		echo '$mvmda_logfile = $HOME + "/.mvmda.log";'
		echo "include \"$(cd "$top_srcdir/mda" && pwd)/mvmda-rc.mfl\";"
	} >"$1"
	chmod 644 "$1"
}

wait_for() {
	_i=0
	until "$@"; do
		[ $_i -ge 150 ] && return 1
		sleep 0.2
		_i=$((_i + 1))
	done
}
