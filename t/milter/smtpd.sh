#!/bin/sh
# smtpd.sh - mvmtr-smtpd, the qmail-smtpd compatible receiver, in the
# original qmail path with real notqmail programs (t/lib/qmail.sh):
# swaks -> tcpserver -> mvmtr-smtpd (asking mvmtr) -> qmail-queue -> qmail-send ->
# qmail-lspawn -> qmail-local -> ~/.qmail |preline mvmda -> Maildir,
# with mvmtr's policy (greylisting 4xx then accepted, a script reject,
# a header added) and qmail's controls (relaying refused, databytes).
# Then notqmail's own qmail-smtpd is the peer: the same dialogues
# (t/milter/smtp_dialogue.py) against both, a table of where they differ
# in the output, and every difference must be one mvmtr-smtpd(8) lists.
# Then hostile clients: 10,000 RCPTs, a slow client. The policy is
# mvmtr's, asked over the milter protocol (mvmtr-smtpd -m); at the end,
# with mvmtr gone, mail is answered 4xx and none is lost.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/ns.sh"
. "$top_srcdir/t/lib/qmail.sh"
. "$top_srcdir/t/lib/mda.sh"
smtpd=$(cd "$top_builddir/milter" && pwd)/mvmtr-smtpd
[ -x "$smtpd" ] || skip_all "mvmtr-smtpd is not built (./configure --enable-qmail-smtpd)"
qmail_check
for c in swaks python3 tcprules; do
	command -v $c >/dev/null 2>&1 || skip_all "$c is not installed"
done
qmail_build || { echo "Bail out! notqmail does not build"; exit 99; }
ns_enter -m -n
mvmda=$(cd "$top_builddir/mda" && pwd)/mvmda
dialogue=$(cd "$top_srcdir/t/milter" && pwd)/smtp_dialogue.py
tmp=$(mktemp -d /tmp/mvmtr-smtpd.XXXXXX)
chmod 755 "$tmp"
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	qmail_stop
	[ -n "${KEEP:-}" ] || { mda_forget_caches "$tmp"; rm -rf "$tmp"; }
}
trap cleanup EXIT

home=$tmp/home/joe
ns_user_etc "$tmp" "$home"
qmail_install mx.test.example || { echo "Bail out! notqmail does not install"; exit 99; }
for a in 192.0.2.25 192.0.2.66 192.0.2.77; do ip addr add $a/32 dev lo; done
ctl=$QH/control
printf 'mx.test.example\n.relay.test\n' >"$ctl/rcpthosts"
echo more.test >"$ctl/morercpthosts"
(cd "$QH" && ./bin/qmail-newmrh) || { echo "Bail out! qmail-newmrh"; exit 99; }
printf '@bad.test\nspammer@sender.test\n' >"$ctl/badmailfrom"
echo 2000000 >"$ctl/databytes"
echo 3 >"$ctl/timeoutsmtpd"
# tcpserver's rules, as qmail sites write them: a small DATABYTES for
# one client, RELAYCLIENT for another
printf '192.0.2.66:allow,DATABYTES="2000"\n192.0.2.77:allow,RELAYCLIENT=""\n:allow\n' |
	tcprules "$tmp/rules.cdb" "$tmp/rules.tmp"

# mvmtr's policy, the same the milter runs
mkdir "$tmp/store"
chown 7791:7790 "$tmp/store"
cat >"$tmp/policy.mfl" <<S
\$mvmtr_store = "$tmp/store/mvmtr";
\$mvmtr_store_size = 64 << 20;
\$mvmtr_greylist_delay = 2;

void \$hook_envrcpt(string \$rcpt, string[] \$args) {
	if (\$regmatch(\$rcpt, "^nobody@"))
		reject :code "550" :xcode "5.1.1" "No such mailbox\nSee https://mx.test.example/help";
	if (\$regmatch(\$rcpt, "^joe-hold@"))
		quarantine "held for review";
	if (\$regmatch(\$rcpt, "^joe-grey@")) {
		int \$wait = \$greylist();
		if (\$wait > 0)
			tempfail :code "450" :xcode "4.7.1"
			    \$sprintf("Greylisted, try again in %d seconds", \$wait);
	}
}

void \$hook_eom() {
	\$header_add("X-Mvmtr", "checked " + \$queue_id + " for " + \$client_addr);
	if (header :contains "Subject" "edit me") {
		\$header_insert(0, "X-Top", "above everything");
		\$header_delete("X-Remove", 1);
		\$header_change("X-Missing", 1, "added by a change");
		\$header_change("Subject", 1, "edited");
	}
}
S
chmod 644 "$tmp/policy.mfl"
"$top_builddir/milter/mvmtr" -c "$tmp/policy.mfl" >"$tmp/check.log" 2>&1
is "$?" 0 "mvmtr -c compiles the policy"

cat >"$home/filter.mfl" <<'S'
$log("ips=" + $join($received_ips(), ","));
if (header :contains "Subject" "[dev]")
	fileinto "Lists/dev";
S
printf '|preline %s -m Mailbox $HOME/filter.mfl\n' "$mvmda" >"$home/.qmail"
cp "$home/.qmail" "$home/.qmail-grey"
chown -R 4711:4711 "$home"
chmod 644 "$home"/.qmail*
qmail_mvmda_rc "$tmp/rc.mfl"	# with a log of each user's own
MVMDA_RC=$tmp/rc.mfl
export MVMDA_RC
qmail_start "$tmp/qmail.log"

# mvmtr with the policy, as qmaild (the user tcpserver runs the
# receiver as, who may then reach its socket and write the store)
"$top_builddir/milter/mvmtr" -f -u qmaild:nofiles -p "unix:$tmp/run/mvmtr.sock" \
	"$tmp/policy.mfl" 2>"$tmp/mvmtr.log" &
pids="$pids $!"
i=0
until [ -S "$tmp/run/mvmtr.sock" ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
tcpserver -q -x "$tmp/rules.cdb" -u 7791 -g 7790 127.0.0.1 25 \
	"$smtpd" -f -q "$QH" -m "unix:$tmp/run/mvmtr.sock" 2>"$tmp/smtpd.log" &
pids="$pids $!"
tcpserver -q -x "$tmp/rules.cdb" -u 7791 -g 7790 127.0.0.1 26 "$QH/bin/qmail-smtpd" &
pids="$pids $!"
for port in 25 26; do
	tcp_wait 127.0.0.1 $port
done
ok 0 "tcpserver runs mvmtr-smtpd (asking mvmtr) on port 25 and notqmail's qmail-smtpd on 26"

# send TO SUBJECT: swaks to mvmtr-smtpd from 192.0.2.25
send() {
	swaks --server 127.0.0.1 --port 25 --local-interface 192.0.2.25 --helo client.test \
		--from alice@sender.test --to "$1" --header "Subject: $2" >"$tmp/swaks.out" 2>&1
}
said() { grep -q -- "$1" "$tmp/swaks.out"; }
n_in() { ls "$1" 2>/dev/null | wc -l; }

# -- the whole path
send joe-grey@mx.test.example "[dev] first"
ok "$(said '<\*\* *450 4.7.1 Greylisted, try again in [12] seconds'; echo $?)" \
	"the policy's greylisting: the first attempt gets 450 ($(grep '^<\*\*' "$tmp/swaks.out" | head -n 1))"
sleep 3
send joe-grey@mx.test.example "[dev] first"
ok "$(said '<- *250 ok [0-9]* qp [0-9]*'; echo $?)" "the retry is accepted and queued: $(grep 'qp' "$tmp/swaks.out" | head -n 1)"
wait_for qmail_queue_empty
f=$(ls "$home/Maildir/.Lists.dev/new/"* 2>/dev/null | head -n 1)
ok "$([ -n "$f" ]; echo $?)" "qmail-send, qmail-local, preline and mvmda put it where joe's filter says (.Lists.dev)"
ok "$(grep -q '^X-Mvmtr: checked [0-9.]* for 192.0.2.25$' "$f" 2>/dev/null; echo $?)" \
	"with the header the policy added before queueing: $(grep '^X-Mvmtr' "$f" 2>/dev/null)"
ok "$(grep -q '^Received: from unknown (HELO client.test) (192.0.2.25)$' "$f" 2>/dev/null; echo $?)" \
	"and mvmtr-smtpd's Received: field, in qmail-smtpd's form"
ok "$(grep -q 'script: ips=192.0.2.25$' "$home/.mvmda.log"; echo $?)" "which \$received_ips() reads in mvmda"
is "$(grep -c '^Delivered-To:' "$f" 2>/dev/null)" 1 "one Delivered-To (preline's is not a loop)"
swaks --server 127.0.0.1 --port 25 --local-interface 192.0.2.25 --helo client.test \
	--from alice@sender.test --to joe@mx.test.example --header "Subject: edit me" \
	--add-header "X-Remove: this goes" >"$tmp/swaks.out" 2>&1
wait_for qmail_queue_empty
f=$(grep -l '^X-Top:' "$home"/Maildir/.Mailbox/new/* 2>/dev/null | head -n 1)
ok "$([ -n "$f" ] && sed -n '/^Received: from unknown/q; /^X-Top: above everything$/p' "$f" | grep -q .; echo $?)" \
	"header_insert(0) put its field above mvmtr-smtpd's Received:"
ok "$(! grep -q '^X-Remove:' "$f" 2>/dev/null && grep -q '^X-Missing: added by a change$' "$f" 2>/dev/null \
	&& grep -q '^Subject: edited$' "$f" 2>/dev/null; echo $?)" \
	"header_delete, header_change of a field that is there and of one that is not (added)"
send nobody@mx.test.example "x"
ok "$(said '<\*\* *550-5.1.1 No such mailbox' && said '<\*\* *550 5.1.1 See https://mx.test.example/help'; echo $?)" \
	"a script reject: its multi-line 550 with the enhanced code"
ok "$(grep -q 'reject: RCPT from unknown\[192.0.2.25\]: 550 5.1.1 No such mailbox' "$tmp/smtpd.log"; echo $?)" \
	"logged as the milter logs it"
send joe-hold@mx.test.example "x"
ok "$(said '<\*\* *451 4.3.0 Mail filter could not change the message'; echo $?)" \
	"quarantine has no meaning under qmail: the message gets 451, not queued"
ok "$(grep -q 'quarantine has no meaning for mvmtr-smtpd' "$tmp/smtpd.log"; echo $?)" "and the log says why"
send x@elsewhere.example "x"
ok "$(said "<\*\* *553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts"; echo $?)" \
	"relaying is refused (rcpthosts)"
swaks --server 127.0.0.1 --port 25 --local-interface 192.0.2.77 --from a@sender.test \
	--to x@elsewhere.example >"$tmp/swaks.out" 2>&1
ok "$(said '<- *250 ok [0-9]* qp'; echo $?)" "with RELAYCLIENT (tcpserver's rule for 192.0.2.77) it is queued"

# -- the same dialogues against both
: >"$tmp/both"
for d in basic relay badmailfrom databytes size barelf pipelined onemb middata commands; do
	src=127.0.0.1
	[ "$d" = databytes ] && src=192.0.2.66
	python3 "$dialogue" 127.0.0.1 25 "$d" "$src" >"$tmp/m.$d" 2>&1
	python3 "$dialogue" 127.0.0.1 26 "$d" "$src" >"$tmp/q.$d" 2>&1
done
# the table: dialogue, step, mvmtr-smtpd's code, qmail-smtpd's code
echo "# dialogue     step  mvmtr-smtpd  qmail-smtpd"
differ=
for d in basic relay badmailfrom databytes size barelf pipelined onemb middata commands; do
	paste -d'|' "$tmp/m.$d" "$tmp/q.$d" | while IFS='|' read -r m q; do
		set -- $m
		mc=$3
		set -- $q
		qc=$3
		step=$2
		[ "$mc" = "$qc" ] && continue
		printf '# %-12s %4s  %-11s  %s\n' "$d" "$step" "$mc" "$qc"
		echo "$d:$step:$mc:$qc" >>"$tmp/both"
	done
done
# what mvmtr-smtpd(8) lists as its differences, dialogue:step:ours:qmail's
cat >"$tmp/expected" <<'E'
commands:1:501:250
commands:9:503:250
commands:12:555:250
commands:17:500:250
commands:18:500:502
size:2:552:250
E
sort "$tmp/both" >"$tmp/both.sorted"
is "$(tr '\n' ' ' <"$tmp/both.sorted")" "$(sort "$tmp/expected" | tr '\n' ' ')" \
	"they differ only where mvmtr-smtpd(8) says (HELO without a name, a second MAIL, an unknown MAIL parameter, a line over 512 bytes, a NUL, SIZE over databytes)"
is "$(sed -n 's/^relay \([3-8]\) \([0-9]*\) .*/\1:\2/p' "$tmp/m.relay" | tr '\n' ' ')" \
	"3:553 4:250 5:250 6:553 7:553 8:250 " \
	"rcpthosts as qmail reads it: .relay.test takes subdomains, more.test from morercpthosts.cdb, an address without @"
grep -q '^basic 5 250 ok [0-9]* qp [0-9]*$' "$tmp/m.basic"
ok "$?" "both accept a plain message the same way ($(sed -n 's/^basic 5 //p' "$tmp/m.basic"))"
grep -q '^databytes 5 552 ' "$tmp/m.databytes" && grep -q '^databytes 5 552 ' "$tmp/q.databytes"
ok "$?" "databytes exceeded (tcpserver's DATABYTES=2000): both 552"
is "$(sed -n 's/^barelf \([0-9]*\) 451 .*/\1/p; s/^barelf end //p' "$tmp/m.barelf" | tr '\n' ' ')" "5 closed " \
	"a bare LF in the message: 451 and the connection closed, as qmail-smtpd"
grep -q '^onemb 5 250 ok' "$tmp/m.onemb"
ok "$?" "a 1 MB message is accepted"
is "$(sed -n '$p' "$tmp/m.middata")" "middata end closed" "a client gone in the middle of DATA: the server ends"
is "$(grep -c '^middata [5-9] ' "$tmp/m.middata")" 0 "with no reply after its 354"
wait_for qmail_queue_empty
ok "$(! grep -q 'Subject: cut' "$home"/Maildir/.Mailbox/new/* 2>/dev/null; echo $?)" "and nothing of that message was queued"
ok "$(grep -q '^pipelined 6 250 ok' "$tmp/m.pipelined" && grep -q '^pipelined 5 354 ' "$tmp/m.pipelined"; echo $?)" \
	"pipelined commands: every answer in order, the message queued"

# -- hostile clients
python3 - "$tmp/many.out" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", 25), timeout=30)
f = s.makefile("rb")
f.readline()
start = time.time()		# sendall blocks while the server works
s.sendall(b"HELO h\r\nMAIL FROM:<a@sender.test>\r\n" +
          b"".join(b"RCPT TO:<joe-%d@mx.test.example>\r\n" % i for i in range(10000)) + b"QUIT\r\n")
codes = {}
for _ in range(10003):
    line = f.readline()
    if not line:
        break
    codes[line[:3]] = codes.get(line[:3], 0) + 1
open(sys.argv[1], "w").write("%s %.2f\n" % (" ".join("%s=%d" % (k.decode(), v) for k, v in sorted(codes.items())), time.time() - start))
PY
is "$(cut -d' ' -f1-3 "$tmp/many.out")" "221=1 250=1002 452=9000" \
	"10,000 RCPTs in one write: 1,000 taken, the rest 452 too many recipients, in $(cut -d' ' -f4 "$tmp/many.out") s"
python3 - "$tmp/slow.out" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", 25), timeout=30)
f = s.makefile("rb")
f.readline()
s.sendall(b"HELO h\r\n")
f.readline()
start = time.time()
line = f.readline()
rest = f.read()
open(sys.argv[1], "w").write("%s|%s|%d\n" % (line.decode().strip(), rest == b"", round(time.time() - start)))
PY
is "$(cut -d'|' -f1,2 "$tmp/slow.out")" "451 4.4.2 timeout|True" \
	"a client that says nothing more: 451 timeout after timeoutsmtpd (3 s: $(cut -d'|' -f3 "$tmp/slow.out") s), then closed"
kill -0 $(echo $pids | cut -d' ' -f2) 2>/dev/null
ok "$?" "tcpserver is still serving"
# mvmtr on a TCP socket: -m inet:PORT@ADDRESS, a numeric address (the
# receiver is linked statically and resolves no names)
"$top_builddir/milter/mvmtr" -f -u qmaild:nofiles -p inet:10025@127.0.0.1 \
	"$tmp/policy.mfl" 2>"$tmp/mvmtr-inet.log" &
inet_pid=$!
pids="$pids $inet_pid"
tcp_wait 127.0.0.1 10025
inet_dialogue() {
	printf 'HELO client.test\r\nMAIL FROM:<a@sender.test>\r\nRCPT TO:<nobody@mx.test.example>\r\nQUIT\r\n' |
		TCPREMOTEIP=127.0.0.1 TCPLOCALIP=127.0.0.1 "$smtpd" -f -q "$QH" -m "$1" 2>"$tmp/inet.log" | tr -d '\r'
}
inet_dialogue inet:10025@127.0.0.1 >"$tmp/inet.out"
ok "$(grep -q '^550[ -]5.1.1 No such mailbox' "$tmp/inet.out"; echo $?)" \
	"-m inet:10025@127.0.0.1: the policy in mvmtr on TCP answers ($(grep '^550' "$tmp/inet.out" | head -n 1))"
inet_dialogue inet:10025@localhost >"$tmp/inet.out"
ok "$(grep -q '^421 unable to reach the mail filter' "$tmp/inet.out" &&
	grep -q 'inet:10025@localhost: not a numeric address' "$tmp/inet.log"; echo $?)" \
	"-m inet:10025@localhost: 421 and the log says it is not a numeric address"
kill "$inet_pid" 2>/dev/null

# -- the recipient's own script at SMTP time: mvmtr asks mvmda -D
# (mvmtr(8) DELIVERY CHECKS), the same through this receiver
cat >"$home/.mvmda.sieve" <<'S'
require ["envelope", "ereject"];
if envelope :domain :is "from" "spam.test" { ereject "joe says no"; }
S
chown 4711:4711 "$home/.mvmda.sieve"
"$mvmda" -D "unix:$tmp/run/mvmda.sock" -g nofiles 2>"$tmp/mvmda-d.log" &
pids="$pids $!"
i=0
until [ -S "$tmp/run/mvmda.sock" ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
{
	echo "\$mvmtr_delivery_socket = \"unix:$tmp/run/mvmda.sock\";"
	echo '$mvmtr_delivery_domains = "mx.test.example";'
	cat "$tmp/policy.mfl"
} >"$tmp/dpolicy.mfl"
chmod 644 "$tmp/dpolicy.mfl"
"$top_builddir/milter/mvmtr" -f -u qmaild:nofiles -p inet:10026@127.0.0.1 "$tmp/dpolicy.mfl" \
	2>"$tmp/mvmtr-d.log" &
pids="$pids $!"
tcp_wait 127.0.0.1 10026
rcpt_dialogue() {	# SENDER: RCPT's reply for joe
	printf 'HELO client.test\r\nMAIL FROM:<%s>\r\nRCPT TO:<joe@mx.test.example>\r\nQUIT\r\n' "$1" |
		TCPREMOTEIP=127.0.0.1 TCPLOCALIP=127.0.0.1 "$smtpd" -f -q "$QH" -m inet:10026@127.0.0.1 \
		2>>"$tmp/inet.log" | tr -d '\r' | sed -n 4p
}
is "$(rcpt_dialogue a@spam.test)" "550 5.7.1 joe says no" \
	"mvmtr-smtpd: joe's own Sieve ereject refuses at RCPT (mvmda -D asked)"
is "$(rcpt_dialogue a@sender.test)" "250 2.1.5 ok" "another sender is accepted"
rm -f "$home/.mvmda.sieve"

# mvmtr dies in the middle of a connection: the rest of it is 451
python3 - "$(echo $pids | cut -d' ' -f1)" "$tmp/gone.out" <<'PY'
import os, signal, socket, sys, time
s = socket.create_connection(("127.0.0.1", 25), timeout=30)
f = s.makefile("rb")
f.readline()
s.sendall(b"HELO client.test\r\n")
f.readline()
os.kill(int(sys.argv[1]), signal.SIGKILL)
time.sleep(0.5)
s.sendall(b"MAIL FROM:<a@sender.test>\r\n")
mail = f.readline().decode().strip()
s.sendall(b"RCPT TO:<joe@mx.test.example>\r\n")
rcpt = f.readline().decode().strip()
open(sys.argv[2], "w").write("%s|%s\n" % (mail, rcpt))
PY
# (this policy has no MAIL hook: mvmtr asked for no answer there, so the
# receiver finds it gone at RCPT, the first step that waits)
is "$(cut -d'|' -f2 "$tmp/gone.out")" "451 4.3.0 Mail filter unavailable, try again later" \
	"mvmtr killed in the middle of a connection: the recipient gets 451, nothing passes unfiltered ($(cat "$tmp/gone.out"))"
sleep 0.5
send joe@mx.test.example "while mvmtr is gone"
ok "$(said '<\*\* *421 unable to reach the mail filter'; echo $?)" \
	"with mvmtr gone, the client gets 421 and tries again later: $(grep '^<\*\*' "$tmp/swaks.out" | head -n 1)"
ok "$(grep -q 'unable to reach the mail filter' "$tmp/smtpd.log"; echo $?)" "and the log says which socket and why"
if grep -q 'runtime error\|Sanitizer' "$tmp/smtpd.log" "$tmp/mvmtr.log"; then
	ok 1 "no runtime error or sanitizer report from mvmtr-smtpd (or mvmtr)"
	grep 'runtime error\|Sanitizer' "$tmp/smtpd.log" "$tmp/mvmtr.log" | head | sed 's/^/# /'
else
	ok 0 "no runtime error or sanitizer report from mvmtr-smtpd (or mvmtr)"
fi
done_testing
