#!/bin/sh
# debian.sh - the Debian packages as an admin gets them: built with
# dpkg-buildpackage from a copy of the tree, checked by lintian,
# installed with dpkg -i, then mail through the installed files only:
# Debian's default master.cf (smtpd chrooted in /var/spool/postfix),
# the packaged socket, the packaged mvmtr started as its unit's
# ExecStart says and as its User=, the installed mailbox_command; the
# unit under real systemd, booted in systemd-nspawn; then purged. Runs in a mount and network namespace of its own (loopback
# only); the Postfix queue, /etc/postfix, /etc/passwd and the policy
# are private copies bound over the real ones, so the host's stay as
# they are. Needs root; does nothing when an mvmf package is installed.
. "$top_srcdir/t/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "installs packages: needs root"
for c in dpkg-buildpackage dh lintian postfix swaks setpriv unshare ip; do
	command -v $c >/dev/null 2>&1 || skip_all "$c is not installed (contrib/install-deps.sh)"
done
[ -d "$top_srcdir/debian" ] || skip_all "no debian/ in $top_srcdir"
if dpkg-query -W -f='${Status}\n' mvmf-milter mvmf-mda mvmf-common 2>/dev/null | grep -q 'ok installed'; then
	skip_all "an mvmf package is installed here already; not touching it"
fi
. "$top_srcdir/t/lib/ns.sh"
ns_enter -m -n

tmp=$(mktemp -d /tmp/mvmf-deb.XXXXXX)
chmod 755 "$tmp"
cleanup() {
	[ -n "$mvmtr_pid" ] && kill "$mvmtr_pid" 2>/dev/null
	postfix stop >/dev/null 2>&1
	umount /etc/postfix /var/spool/postfix 2>/dev/null
	umount /etc 2>/dev/null
	dpkg --purge mvmf-milter mvmf-mda mvmf-common >/dev/null 2>&1
	rm -f /usr/sbin/policy-rc.d.mvmf-test
	[ -n "$policy_rc" ] && rm -f /usr/sbin/policy-rc.d
	[ -n "$planted" ] && rm -f /usr/local/bin/mvmda
	rm -rf "$tmp"
}
trap cleanup EXIT
mvmtr_pid= policy_rc= planted=

# -- build, from a copy: the tree may be read-only (distcheck)
mkdir "$tmp/src"
if [ -d "$top_srcdir/.git" ] && command -v git >/dev/null; then
	(cd "$top_srcdir" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$tmp/src"
else
	# a distribution: without distcheck's build and install inside it
	(cd "$top_srcdir" && tar --exclude=./_build --exclude=./_inst -cf - .) | tar -xf - -C "$tmp/src"
	chmod -R u+w "$tmp/src"
fi
(cd "$tmp/src" && dpkg-buildpackage -b -us -uc -j2) >"$tmp/build.log" 2>&1
st=$?
is "$st" 0 "dpkg-buildpackage -b -us -uc builds ($(tail -n 1 "$tmp/build.log"))"
debs=$(ls "$tmp"/mvmf-common_*.deb "$tmp"/mvmf-milter_*.deb "$tmp"/mvmf-mda_*.deb 2>/dev/null)
is "$(echo "$debs" | grep -c .)" 3 "three packages: mvmf-common, mvmf-milter, mvmf-mda"
[ "$st" = 0 ] || { tail -n 30 "$tmp/build.log" | sed 's/^/# /'; done_testing; exit; }
lintian $debs >"$tmp/lintian.log" 2>&1
is "$(grep -c '^E:' "$tmp/lintian.log")" 0 "lintian reports no errors$(grep '^E:' "$tmp/lintian.log" | head -n 3 | tr '\n' ' ')"
is "$(grep -c '^W:' "$tmp/lintian.log")" 0 "nor warnings$(grep '^W:' "$tmp/lintian.log" | head -n 3 | tr '\n' ' ')"

# -- install; no daemon started by the package scripts (the test starts it)
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	policy_rc=1
fi
# an mvmda installed from source before, in /usr/local/bin, which dpkg
# puts first in PATH: the postinst must still run the package's own
if [ ! -e /usr/local/bin/mvmda ] && [ -d /usr/local/bin ]; then
	printf '#!/bin/sh\nexit 0\n' >/usr/local/bin/mvmda
	chmod 755 /usr/local/bin/mvmda
	planted=1
fi
dpkg -i $debs >"$tmp/dpkg.log" 2>&1
is "$?" 0 "dpkg -i installs them$(tail -n 2 "$tmp/dpkg.log" | tr '\n' ' ')"
[ -n "$planted" ] && rm -f /usr/local/bin/mvmda && planted=
ok "$(id mvmtr >/dev/null 2>&1; echo $?)" "the postinst made the system user mvmtr"
is "$(stat -c '%U:%G %a' /var/lib/mvmf 2>&1)" "mvmtr:mvmtr 750" "/var/lib/mvmf is mvmtr's, 0750"
is "$(stat -c '%U:%G %a' /var/spool/postfix/mvmtr 2>&1)" "mvmtr:mvmtr 750" \
	"the socket's directory in Postfix's chroot is mvmtr's, 0750"
ok "$(id -nG postfix | tr ' ' '\n' | grep -qx mvmtr; echo $?)" "postfix is in the group mvmtr"
conf=$(dpkg-query -W -f='${Conffiles}\n' mvmf-milter mvmf-mda | awk '{print $1}' | sort | tr '\n' ' ')
is "$conf" "/etc/cron.daily/mvmf-milter /etc/mvmf/dnsbl.conf /etc/mvmf/mvmda-rc.mfl /etc/mvmf/mvmtr.mfl " \
	"the policy, the rc script, dnsbl.conf and the cron job are conffiles"
unit=/lib/systemd/system/mvmtr.service
ok "$([ -f "$unit" ] && [ -f /lib/systemd/system/mvmcas-expire.timer ]; echo $?)" \
	"the unit and the daily expiry timer are installed"
ok "$([ -f /lib/systemd/system/mvmda-decide.service ]; echo $?)" \
	"mvmf-mda installs mvmda-decide.service (mvmda -D)"
ok "$([ -f /lib/systemd/system/mvmda-lmtp.service ]; echo $?)" \
	"mvmf-mda installs mvmda-lmtp.service (mvmda -L)"
if command -v systemd-analyze >/dev/null; then
	out=$(systemd-analyze verify "$unit" /lib/systemd/system/mvmcas-expire.service \
		/lib/systemd/system/mvmcas-expire.timer /lib/systemd/system/mvmda-decide.service \
		/lib/systemd/system/mvmda-lmtp.service 2>&1)
	is "$out" "" "systemd-analyze verify says nothing about the installed units"
fi
is "$(/usr/bin/mvmda -V | sed -n 's/^# rc: //p')" /etc/mvmf/mvmda-rc.mfl \
	"the installed mvmda runs the rc script in /etc/mvmf"
ok "$([ -f /var/cache/mvmf/%2Fetc%2Fmvmf%2Fmvmda-rc.mfl.mflc ]; echo $?)" \
	"the postinst compiled it into /var/cache/mvmf (its own mvmda -c, not /usr/local/bin's)"
conf=$(man -l /usr/share/man/man1/mvmda.1.gz 2>/dev/null | sed -n 's|^ *ln -s \(/[^ ]*90-mvmf-sieve.conf\) .*|\1|p')
ok "$([ -n "$conf" ] && grep -q '^  sieve_extensions = ' "$conf"; echo $?)" \
	"the Dovecot snippet is installed where mvmda(1) says (${conf:-not named})"

# -- the mail path, from the installed files
# a user to deliver to, in a private copy of /etc
home=$tmp/home/joe
ns_user_etc "$tmp" "$home"
printf 'require ["fileinto", "envelope"];\nif envelope :is "from" "alice@sender.test" { fileinto "FromAlice"; }\n' \
	>"$home/.mvmda.sieve"
chown 4711:4711 "$home/.mvmda.sieve"

# Debian's Postfix: its default master.cf (smtpd chrooted), a queue of
# our own at the usual place, the packaged socket's directory in it
mkdir "$tmp/etc-postfix" "$tmp/spool" "$tmp/pfdata"
cp -a /etc/postfix/. "$tmp/etc-postfix/"
cp /usr/share/postfix/master.cf.dist "$tmp/etc-postfix/master.cf"
chown postfix "$tmp/pfdata"
cat >"$tmp/etc-postfix/main.cf" <<CF
compatibility_level = 3.6
data_directory = $tmp/pfdata
myhostname = mx.example.test
mydestination = example.test, localhost
inet_interfaces = loopback-only
inet_protocols = ipv4
alias_maps =
alias_database =
default_transport = error:no mail leaves this test
maillog_file = $tmp/maillog
maillog_file_prefixes = $tmp
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
mailbox_command = /usr/bin/mvmda
smtpd_milters = unix:mvmtr/mvmtr.sock
milter_default_action = tempfail
CF
cp -a /var/spool/postfix/mvmtr "$tmp/spool/"
mount --bind "$tmp/etc-postfix" /etc/postfix
mount --bind "$tmp/spool" /var/spool/postfix
chmod 755 "$tmp/spool"
grep -q '^smtp .* y .* smtpd$' /etc/postfix/master.cf
ok "$?" "master.cf is Debian's default: smtpd chrooted"

# the policy as an admin edits it: a 1 s greylist instead of 300 s, so
# the retry does not wait five minutes
sed -i 's/^\$mvmtr_greylist_delay = .*/$mvmtr_greylist_delay = 1;/' /etc/mvmf/mvmtr.mfl

# mvmtr as the unit starts it: ExecStartPre, then ExecStart, as User=
# with UMask= (systemd's other settings need systemd, see below)
user=$(sed -n 's/^User=//p' "$unit")
umask_=$(sed -n 's/^UMask=//p' "$unit")
pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
start=$(sed -n 's/^ExecStart=//p' "$unit")
is "$user" mvmtr "the unit runs mvmtr as mvmtr"
(umask "$umask_"; setpriv --reuid="$user" --regid="$user" --init-groups $pre) >"$tmp/pre.log" 2>&1
is "$?" 0 "ExecStartPre (mvmtr -c) passes: $(cat "$tmp/pre.log")"
(umask "$umask_"; exec setpriv --reuid="$user" --regid="$user" --init-groups $start) \
	>"$tmp/mvmtr.log" 2>&1 &
mvmtr_pid=$!
i=0
while [ ! -S /var/spool/postfix/mvmtr/mvmtr.sock ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
is "$(stat -c '%U:%G %a' /var/spool/postfix/mvmtr/mvmtr.sock 2>&1)" "mvmtr:mvmtr 660" \
	"mvmtr listens on the packaged socket, 0660"

postfix check >"$tmp/pfcheck.log" 2>&1 && postfix start >"$tmp/pfstart.log" 2>&1
is "$?" 0 "Postfix starts with that master.cf$(cat "$tmp/pfcheck.log" "$tmp/pfstart.log" | head -n 3 | tr '\n' ' ')"
i=0
until bash -c 'exec 3<>/dev/tcp/127.0.0.1/25' 2>/dev/null || [ $i -ge 50 ]; do sleep 0.2; i=$((i + 1)); done

send() {
	swaks --silent 2 --server 127.0.0.1 --port 25 --helo client.test \
		--from alice@sender.test --to joe@example.test --header "Subject: $1" 2>&1
}
out=$(send first)
ok "$(echo "$out" | grep -q '^<\*\* *450.*Greylisted'; echo $?)" \
	"the chrooted smtpd reached mvmtr: the first attempt is greylisted ($(echo "$out" | grep '^<\*\*' | head -n 1))"
sleep 2
out=$(send second)
is "$?" 0 "the retry after the delay is accepted$(echo "$out" | grep '^<\*\*' | head -n 1)"
i=0
while [ -z "$(ls "$home/Maildir/.FromAlice/new" 2>/dev/null)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
f=$(ls "$home/Maildir/.FromAlice/new/"* 2>/dev/null | head -n 1)
ok "$([ -n "$f" ]; echo $?)" "the installed mailbox_command (mvmda) delivered into joe's Maildir, in the folder his Sieve chose by the envelope sender"
ok "$(grep -q '^X-Filtered-By: mvmtr' "$f" 2>/dev/null; echo $?)" "with the header mvmtr added"
is "$(stat -c %U "$f" 2>&1)" joe "as joe"
readelf -l /usr/bin/mvmda | grep -q 'program interpreter'
ok $((! $?)) "  by the statically linked /usr/bin/mvmda (mvmda(1) LINKING)"
# root's -d, as Sendmail's mailer runs it: NSS, so the installed
# mvmda-dynamic's (mvmda(1) LINKING), found where the package put it
printf 'From: alice@sender.test\nSubject: by -d\n\nhi\n' |
	/usr/bin/mvmda -d joe -f alice@sender.test >"$tmp/d.log" 2>&1
is "$?:$(grep -l '^Subject: by -d' "$home/Maildir/.FromAlice/new/"* 2>/dev/null | wc -l)" 0:1 \
	"root's /usr/bin/mvmda -d joe: delivered by /usr/libexec/mvmf/mvmda-dynamic as joe's Sieve says$(head -n 2 "$tmp/d.log" | tr '\n' ' ')"
stats=$(setpriv --reuid=mvmtr --regid=mvmtr --init-groups /usr/sbin/mvmcas stats 2>&1)
ok "$(echo "$stats" | grep -q '^greylist[[:space:]]*[1-9].*passed [1-9]'; echo $?)" "mvmcas stats, as documented, reads the same store (the pass is there): $(echo "$stats" | head -n 3 | tr '\n' ' ')"

kill "$mvmtr_pid" 2>/dev/null
wait "$mvmtr_pid" 2>/dev/null
mvmtr_pid=
postfix stop >/dev/null 2>&1

# -- the packaged unit under real systemd: this machine's own tree, with
# the packages installed, booted by systemd-nspawn (root a bind of /
# without the mounts on it, every write to a tmpfs overlay); systemd
# runs nspawn-check.sh as its only job, which starts, reloads and stops
# mvmtr.service and writes what it saw to $tmp/nspawn
if command -v systemd-nspawn >/dev/null 2>&1 && [ -x /lib/systemd/systemd ]; then
	mkdir "$tmp/root" "$tmp/nspawn"
	mount --bind / "$tmp/root"
	cat >"$tmp/mvmf-test.service" <<UNIT
[Unit]
Description=mvmf's test of mvmtr.service
[Service]
Type=oneshot
ExecStart=/bin/sh /mnt/mvmf-test/check.sh
UNIT
	cp "$top_srcdir/t/sh/nspawn-check.sh" "$tmp/nspawn/check.sh"
	timeout 120 systemd-nspawn -q -D "$tmp/root" --volatile=overlay --register=no \
		--keep-unit --private-network --bind="$tmp/nspawn:/mnt/mvmf-test" \
		--bind-ro="$tmp/mvmf-test.service:/etc/systemd/system/mvmf-test.service" \
		-b -- systemd.unit=mvmf-test.service >"$tmp/nspawn.log" 2>&1 </dev/null
	st=$?
	umount "$tmp/root"
	if grep -q '^checked$' "$tmp/nspawn/out" 2>/dev/null; then
		# said KEY: what the check inside wrote for KEY
		said() { sed -n "s/^$1=//p" "$tmp/nspawn/out" | head -n 1; }
		is "$(said start)" 0 "under systemd (nspawn): systemctl start mvmtr"
		is "$(said active)" active "the unit is active"
		is "$(said user)" mvmtr "mvmtr runs as User=mvmtr"
		is "$(said socket)" "mvmtr:mvmtr 660" "the packaged socket is mvmtr's, 0660"
		is "$(said rundir)" "mvmtr:mvmtr 750" "RuntimeDirectory /run/mvmf is mvmtr's, 0750"
		is "$(said store)" "mvmtr:mvmtr 750" "the store in StateDirectory /var/lib/mvmf is mvmtr's, 0750"
		is "$(grep -c 'started: /etc/mvmf/mvmtr.mfl on unix:/var/spool/postfix/mvmtr/mvmtr.sock' "$tmp/nspawn/journal")" 2 \
			"the journal has mvmtr's start line once a start (two starts; not from syslog and stderr both)"
		is "$(said reload)" 0 "systemctl reload mvmtr"
		ok "$(grep -q 'reload: /etc/mvmf/mvmtr.mfl compiled and in use' "$tmp/nspawn/journal"; echo $?)" \
			"the reload reached mvmtr (HUP): its line is in the journal"
		is "$(said timer)" enabled "the package enabled the daily mvmcas-expire.timer"
		is "$(said enabled)" enabled "and mvmtr.service (it starts at boot)"
		is "$(said expire)" 0 "mvmcas-expire.service runs (mvmcas expire on the store, as mvmtr)"
		is "$(said stop)" 0 "systemctl stop mvmtr"
		is "$(said stopped)" inactive "and it is stopped cleanly (not failed)"
		is "$(said redis_start)" 0 "Debian's redis-server starts in the container"
		is "$(said redis_mvmtr)" 0 "mvmtr.service starts with \$mvmtr_store = \"redis://127.0.0.1:6379/0\""
		is "$(said redis_clients)" 2 "the packaged unit's mvmtr (User=mvmtr, sandboxed) holds a connection to Redis"
		is "$(said redis_block)" 0 "mvmcas -s redis://... block"
		is "$(said redis_show)" "blocked	in the container" "mvmcas -s redis://... show: the block, from Redis"
		is "$(said redis_keys)" "mvmf:b192.0.2.66/32" "under the default prefix"
		is "$(said decide_enabled)" disabled "mvmda-decide.service is installed, off until enabled"
		is "$(said decide_start)" 0 "systemctl start mvmda-decide"
		is "$(said decide_socket)" "root:mvmtr 660" "its socket is for the milter's group"
		is "$(said decide_user)" "reject 550 5.7.1 no thanks" \
			"asked as mvmtr, a user's Sieve ereject answers at once (the unit's sandbox lets it work)"
		case $(said decide_other) in *"Permission denied"*) r=0 ;; *) r=1 ;; esac
		ok $r "another user may not ask ($(said decide_other))"
		is "$(said decide_nobody)" unknown "no such account: unknown"
		is "$(said lmtp_enabled)" disabled "mvmda-lmtp.service is installed, off until enabled"
		is "$(said lmtp_postfix)" 0 "Debian's Postfix starts with mailbox_transport = lmtp:unix:private/mvmda-lmtp"
		is "$(said lmtp_start)" 0 "systemctl start mvmda-lmtp"
		is "$(said lmtp_socket)" "root:postfix 660" "its socket in Postfix's private directory is for Postfix"
		is "$(said lmtp_delivered):$(said lmtp_owner):$(said lmtp_subject)" "1:mvmftest:over lmtp" \
			"sendmail -> Postfix (lmtp, chrooted) -> the packaged unit's mvmda: in the user's Maildir, as the user"
		is "$(grep -c 'lmtp L[0-9.]*: to=<mvmftest@mx.example.test> user=mvmftest result=delivered' "$tmp/nspawn/journal")" 1 \
			"the delivery is logged in the unit's journal"
		is "$(said lmtp_stopped)" inactive "systemctl stop mvmda-lmtp"
		is "$(grep -c 'to=<mvmftest@localhost> decision rcpt: reject 550 5.7.1 no thanks' "$tmp/nspawn/journal")" 1 \
			"the journal has the decision's line once"
		is "$(said decide_stopped)" inactive "systemctl stop mvmda-decide: stopped cleanly"
		[ "$tap_failed" = 0 ] || sed 's/^/# /' "$tmp/nspawn/out" "$tmp/nspawn/journal"
	else
		ok 1 "systemd booted in systemd-nspawn and ran the check (exit $st)"
		tail -n 20 "$tmp/nspawn.log" | sed 's/^/# /'
	fi
else
	echo "# systemd-nspawn: not run - systemd-container is not installed (contrib/install-deps.sh installs it)"
fi

umount /etc/postfix /var/spool/postfix 2>/dev/null
umount /etc
dpkg --purge mvmf-milter mvmf-mda mvmf-common >"$tmp/purge.log" 2>&1
is "$?" 0 "dpkg --purge removes them"
ok "$([ ! -e /var/lib/mvmf ] && [ ! -e /var/spool/postfix/mvmtr ] && [ ! -e /etc/mvmf ] && [ ! -e /var/cache/mvmf ]; echo $?)" \
	"and leaves no state, socket directory, configuration or cache behind"
done_testing
