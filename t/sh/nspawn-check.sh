#!/bin/sh
# nspawn-check.sh - t/sh/debian.sh's check inside systemd-nspawn: run by
# systemd (PID 1) as the container's only job, it drives the packaged
# mvmtr.service (and mvmda-decide.service) and writes KEY=VALUE lines, the unit's journal, and
# "checked" at the end into /mnt/mvmf-test; then powers the container off.
d=/mnt/mvmf-test
exec >"$d/out" 2>&1
sock=/var/spool/postfix/mvmtr/mvmtr.sock
systemctl start mvmtr.service
echo "start=$?"
i=0
while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
echo "active=$(systemctl is-active mvmtr.service)"
pid=$(systemctl show -p MainPID --value mvmtr.service)
echo "user=$(stat -c %U "/proc/$pid")"
echo "socket=$(stat -c '%U:%G %a' "$sock")"
echo "rundir=$(stat -c '%U:%G %a' /run/mvmf)"
echo "store=$(stat -c '%U:%G %a' /var/lib/mvmf/mvmtr)"
systemctl reload mvmtr.service
echo "reload=$?"
i=0
until journalctl -u mvmtr.service -o cat --no-pager | grep -q 'reload:' || [ $i -ge 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
echo "timer=$(systemctl is-enabled mvmcas-expire.timer)"
echo "enabled=$(systemctl is-enabled mvmtr.service)"
systemctl start mvmcas-expire.service
echo "expire=$?"
systemctl stop mvmtr.service
echo "stop=$?"
echo "stopped=$(systemctl is-active mvmtr.service)"
# the store on Redis: Debian's redis-server (127.0.0.1:6379), the
# packaged unit's sandbox and user reaching it, mvmcas beside it
systemctl start redis-server.service
echo "redis_start=$?"
sed -i '1i $mvmtr_store = "redis://127.0.0.1:6379/0";' /etc/mvmf/mvmtr.mfl
systemctl start mvmtr.service
echo "redis_mvmtr=$?"
i=0
while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
# mvmtr keeps the connection it opened at start: a client besides redis-cli
echo "redis_clients=$(redis-cli info clients | sed -n 's/^connected_clients:\([0-9]*\).*/\1/p')"
mvmcas -s redis://127.0.0.1:6379/0 block 192.0.2.66/32 -r "in the container" >/dev/null
echo "redis_block=$?"
echo "redis_show=$(mvmcas -s redis://127.0.0.1:6379/0 show 192.0.2.66)"
echo "redis_keys=$(redis-cli --scan --pattern 'mvmf:b*')"
systemctl stop mvmtr.service
sed -i '1d' /etc/mvmf/mvmtr.mfl
systemctl stop redis-server.service
# mvmda-decide.service: off until the admin enables it; started, it
# answers the milter's group, each question as the user asked about
echo "decide_enabled=$(systemctl is-enabled mvmda-decide.service)"
systemctl start mvmda-decide.service
echo "decide_start=$?"
dsock=/run/mvmda/mvmda.sock
i=0
while [ ! -S "$dsock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
echo "decide_socket=$(stat -c '%U:%G %a' "$dsock")"
useradd -m -d /home/mvmftest -s /bin/sh mvmftest
printf 'require ["envelope", "ereject"];\nif envelope :domain :is "from" "spam.example" { ereject "no thanks"; }\n' \
	>/home/mvmftest/.dovecot.sieve
chown mvmftest /home/mvmftest/.dovecot.sieve
ask() {	# USER RCPT: the answer, asked as USER
	runuser -u "$1" -- python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(("MVMDA/1 DECIDE\nphase: rcpt\nrecipient: %s\nsender: x@spam.example\n\n" % sys.argv[2]).encode())
print(s.makefile().readline().strip())' "$dsock" "$2" 2>&1 | tail -n 1
}
echo "decide_user=$(ask mvmtr mvmftest@localhost)"
echo "decide_other=$(ask mvmftest mvmftest@localhost)"
echo "decide_nobody=$(ask mvmtr nosuchuser@localhost)"
systemctl stop mvmda-decide.service
echo "decide_stopped=$(systemctl is-active mvmda-decide.service)"
# mvmda-lmtp.service: Debian's Postfix hands its mailbox deliveries over
# LMTP, as mvmda(1) LMTP SERVICE and contrib/postfix/main.cf.lmtp say
echo "lmtp_enabled=$(systemctl is-enabled mvmda-lmtp.service)"
cp /usr/share/postfix/master.cf.dist /etc/postfix/master.cf
cat >/etc/postfix/main.cf <<CF
compatibility_level = 3.6
myhostname = mx.example.test
mydestination = mx.example.test, localhost
inet_interfaces = loopback-only
inet_protocols = ipv4
alias_maps =
alias_database =
default_transport = error:no mail leaves this test
mailbox_transport = lmtp:unix:private/mvmda-lmtp
CF
systemctl start postfix.service
echo "lmtp_postfix=$?"
systemctl start mvmda-lmtp.service
echo "lmtp_start=$?"
lsock=/var/spool/postfix/private/mvmda-lmtp
i=0
while [ ! -S "$lsock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
echo "lmtp_socket=$(stat -c '%U:%G %a' "$lsock")"
printf 'Subject: over lmtp\n\nhello\n' | /usr/sbin/sendmail -f root@mx.example.test mvmftest
i=0
while [ -z "$(ls /home/mvmftest/Maildir/new 2>/dev/null)" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
f=$(ls /home/mvmftest/Maildir/new/* 2>/dev/null | head -n 1)
echo "lmtp_delivered=$(ls /home/mvmftest/Maildir/new 2>/dev/null | wc -l)"
echo "lmtp_owner=$(stat -c %U "$f" 2>&1)"
echo "lmtp_subject=$(sed -n 's/^Subject: //p' "$f" 2>&1)"
[ -n "$f" ] || { postqueue -p; journalctl -u postfix@-.service -o cat --no-pager | tail -n 20; }
systemctl stop postfix.service mvmda-lmtp.service
echo "lmtp_stopped=$(systemctl is-active mvmda-lmtp.service)"
journalctl -u mvmtr.service -u mvmcas-expire.service -u mvmda-decide.service -u mvmda-lmtp.service \
	-u postfix@-.service -o cat --no-pager \
	>"$d/journal" 2>&1
echo checked
systemctl poweroff --no-block
