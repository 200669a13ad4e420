#!/bin/sh
# delivery.sh - a recipient's own script refuses mail during the SMTP
# session: a private Postfix with mvmtr (smtpd_milters) and mvmda as
# mailbox_command, mvmda -D answering mvmtr's questions, users made by
# the test. User A refuses a sender's domain (Sieve ereject on the
# envelope: 550 at RCPT, B in the same transaction gets the mail) and a
# subject (a header rule: 550 after DATA when A is the only recipient;
# with B too the message is accepted and A's delivery rejects it as
# without mvmtr). Then: the service's answers on its own socket (the
# protocol of mvmda(1)), its privileges (another user's files are not
# readable, a decision writes nothing), its limits (a script that never
# ends, a request that never finishes), and the service stopped (mail
# accepted and filtered at delivery, one log line).
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/postfix.sh"
. "$top_srcdir/t/lib/mda.sh"
pf_check
command -v useradd >/dev/null 2>&1 || skip_all "useradd is not installed"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
mvmtr=$(cd "$top_builddir/milter" && pwd)/mvmtr
mvmda=$(cd "$top_builddir/mda" && pwd)/mvmda
tmp=$(mktemp -d /tmp/mvmf-dlv.XXXXXX)
chmod 755 "$tmp"
PF="$tmp/pf"
PF_PORT=$((20000 + $$ % 20000))
MT_PORT=$((PF_PORT + 1))
sock="$tmp/run/mvmda.sock"
a=$(echo "dlva$$" | cut -c1-30)
b=$(echo "dlvb$$" | cut -c1-30)
c=$(echo "dlvc$$" | cut -c1-30)
mt_pid= svc_pid=
cleanup() {
	pf_stop
	[ -n "$mt_pid" ] && kill "$mt_pid" 2>/dev/null
	[ -n "$svc_pid" ] && kill "$svc_pid" 2>/dev/null
	for u in "$a" "$b" "$c"; do userdel "$u" >/dev/null 2>&1; done
	mda_forget_caches "$tmp"
	rm -rf "$tmp"
}
trap cleanup EXIT
[ -n "$KEEP" ] && trap - EXIT
for u in "$a" "$b" "$c"; do
	useradd -M -d "$tmp/$u" -s /bin/sh "$u" || skip_all "cannot add a test user"
	mkdir -p "$tmp/$u"
	chown "$u" "$tmp/$u"
	chmod 700 "$tmp/$u"
done
mkdir -p "$tmp/run"

cat >"$tmp/$a/.dovecot.sieve" <<'S'
require ["envelope", "ereject"];
if envelope :domain :is "from" "spam.example" {
	ereject "no thanks";
}
if header :contains "subject" "buy now" {
	ereject "no ads";
}
S
# B keeps everything; B's secret is not A's to read
cat >"$tmp/$b/secret.sieve" <<'S'
require "ereject";
ereject "B's secret rule";
S
chown -R "$a" "$tmp/$a"
chown -R "$b" "$tmp/$b"

# the rc script as installed, sending (reject notices) through this
# Postfix over SMTP (t/mda/postfix.sh says why not postdrop)
mkdir -p "$tmp/rc"
cp -r "$top_srcdir/mda/include" "$tmp/rc/"
sed "/^include \"include\/qmail.mfl\";/a \\\$mvmda_sendmail = \"$tmp/sendmail\";" \
	"$top_srcdir/mda/mvmda-rc.mfl" >"$tmp/rc/mvmda-rc.mfl"
cat >"$tmp/sendmail" <<SM
#!/bin/sh
from=\$3 to=\$5
exec swaks --silent 2 --server 127.0.0.1 --port $PF_PORT --from "\$from" --to "\$to" --data -
SM
chmod 755 "$tmp/sendmail" "$tmp/rc" "$tmp/rc/include"
chmod 644 "$tmp/rc/mvmda-rc.mfl" "$tmp/rc/include"/*
rc="$tmp/rc/mvmda-rc.mfl"
grep -q "mvmda_sendmail" "$rc" || skip_all "could not make the test's rc script"

# start_service - mvmda -D as root, answering on $sock for group root
start_service() {
	MVMDA_RC="$rc" "$mvmda" -D "unix:$sock" -g root -t 2 2>>"$tmp/mvmda-service.log" &
	svc_pid=$!
	wait_for test -S "$sock"
}
start_service
ok $? "mvmda -D listens on unix:$sock"
is "$(stat -c '%a %U %G' "$sock")" "660 root root" "the socket: mode 0660, root and the group of -g"

cat >"$tmp/policy.mfl" <<S
\$mvmtr_delivery_socket = "unix:$sock";
\$mvmtr_delivery_domains = "test.example";
\$mvmtr_delivery_timeout = 4000;
S
"$mvmtr" -f -l debug -p "inet:$MT_PORT@127.0.0.1" "$tmp/policy.mfl" >"$tmp/mvmtr.log" 2>&1 &
mt_pid=$!
pf_init
pf_conf "mailbox_command = $mvmda" \
	"export_environment = TZ MAIL_CONFIG LANG MVMDA_RC=$rc" \
	"smtpd_milters = inet:127.0.0.1:$MT_PORT" \
	"milter_default_action = tempfail" \
	"recipient_delimiter = +"
pf_start || { cat "$PF/maillog" >&2; ok 1 "private Postfix starts"; done_testing; }
ok 0 "private Postfix with smtpd_milters and mailbox_command = mvmda"

send() {
	swaks --server 127.0.0.1 --port "$PF_PORT" "$@" >"$tmp/swaks.out" 2>&1
}
said() { grep -q -- "$1" "$tmp/swaks.out"; }
n_in() { find "$1" -type f 2>/dev/null | wc -l; }
has() { [ "$(n_in "$1")" -ge "$2" ]; }
mdns() { grep -l "^Subject: Rejected: your message was refused" "$tmp/$b"/Maildir/new/* 2>/dev/null | wc -l; }

# 1. an envelope rule: A refuses at RCPT, B in the same transaction gets it
send --from someone@spam.example --to "$a@test.example,$b@test.example" --header "Subject: hello"
said "<\*\* *550 5.7.1 no thanks"
ok $? "A's Sieve ereject on the envelope: 550 5.7.1 at RCPT, with A's reason"
said '<- *250 2.0.0 Ok: queued'
ok $? "B in the same transaction: the message is queued"
wait_for has "$tmp/$b/Maildir/new" 1
is "$(n_in "$tmp/$b/Maildir/new")" 1 "B got the message"
is "$(n_in "$tmp/$a/Maildir")" 0 "A got nothing"
grep -q "to=<$a@test.example> refused by the recipient's script: 550 5.7.1 no thanks" "$tmp/mvmtr.log"
ok $? "mvmtr logs the refusal with the recipient"
qid=$(sed -n 's/.*<- *250 2.0.0 Ok: queued as \([0-9A-Za-z]*\).*/\1/p' "$tmp/swaks.out")
grep -q "$qid: nothing to do past DATA: no recipient's script needs the message" "$tmp/mvmtr.log"
ok $? "B's answer was final at RCPT: mvmtr accepted the message at DATA ($qid), Postfix kept it no longer"

# 2. a header rule, A alone: refused after DATA, nothing queued
send --from someone@ok.example --to "$a@test.example" --header "Subject: buy now"
said "<\*\* *550 5.7.1 no ads"
ok $? "a header rule, one recipient: 550 5.7.1 after DATA"
grep -q "<- *354" "$tmp/swaks.out" && ! said '<- *250 2.0.0 Ok: queued'
ok $? "the refusal came at the end of DATA, and nothing was queued"
grep -q "refused by every recipient's script: 550 5.7.1 no ads" "$tmp/mvmtr.log"
ok $? "mvmtr logs why the message was refused"

# 3. the same with B too (B sends): accepted; A's delivery rejects as
# it does without mvmtr, with a notice (RFC 5429 MDN) back to B
send --from "$b@test.example" --to "$a@test.example,$b@test.example" --header "Subject: buy now"
said '<- *250 2.0.0 Ok: queued'
ok $? "a header rule, A and B: accepted (RFC 5429's fallback)"
wait_for test "$(mdns)" -ge 1
is "$(mdns)" 1 "A's delivery rejected it: B has the reject notice"
is "$(grep -L "^Subject: Rejected" $(grep -l "^Subject: buy now" "$tmp/$b"/Maildir/new/*) | wc -l)" 1 \
	"and B has the message"
is "$(n_in "$tmp/$a/Maildir")" 0 "A's Maildir stays empty"

# 4. the service itself, on its socket (mvmda(1)'s protocol)
ask() {	# ask PHASE RCPT SENDER [MESSAGE]: the answer line
	python3 - "$sock" "$@" <<'PY'
import socket, sys
path, phase, rcpt, sender = sys.argv[1:5]
msg = sys.argv[5].encode() if len(sys.argv) > 5 else None
s = socket.socket(socket.AF_UNIX)
s.connect(path)
req = "MVMDA/1 DECIDE\nphase: %s\nrecipient: %s\nsender: %s\nclient: 192.0.2.7\n" % (phase, rcpt, sender)
if msg is not None:
    req += "size: %d\n" % len(msg)
s.sendall(req.encode() + b"\n" + (msg or b""))
out = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    out += d
print(out.decode().split("\n")[0])
PY
}
is "$(ask rcpt "$a@test.example" x@spam.example)" "reject 550 5.7.1 no thanks" "rcpt: an envelope rule answers at once"
is "$(ask rcpt "$a@test.example" x@ok.example)" "data" "rcpt: a script that reads the message answers data"
is "$(ask data "$a@test.example" x@ok.example "$(printf 'Subject: buy now\n\nhi\n')")" \
	"reject 550 5.7.1 no ads" "data: with the message, the header rule refuses"
is "$(ask data "$a@test.example" x@ok.example "$(printf 'Subject: hi\n\nhi\n')")" "accept" \
	"data: a message the script takes is accepted"
is "$(ask rcpt "$b@test.example" x@spam.example)" "accept" "B has no script: accept"
is "$(ask rcpt "nosuchuser$$@test.example" x@ok.example)" "unknown" "no such account: unknown"
is "$(ask rcpt "root@test.example" x@ok.example)" "unknown" "root's scripts are never run: unknown"
is "$(ask rcpt "$a+ext@test.example" x@spam.example)" "reject 550 5.7.1 no thanks" \
	"an address extension finds the same account"

# the script knows where it runs: Sieve environment and $DECISION
cat >"$tmp/$c/.dovecot.sieve" <<'S'
require ["environment", "ereject", "variables"];
if environment :is "location" "MTA" {
	if environment :matches "phase" "*" { set "p" "${1}"; }
	ereject "asked at SMTP time (${p})";
}
S
chown "$c" "$tmp/$c/.dovecot.sieve"
is "$(ask rcpt "$c@test.example" x@ok.example)" "reject 550 5.7.1 asked at SMTP time (during)" \
	"Sieve environment: location MTA, phase during (RFC 5183)"
out=$(cd "$tmp" && echo "Subject: x" | su "$c" -s /bin/sh -c \
	"MVMDA_RC=$rc SENDER=x@ok.example RECIPIENT=$c@test.example $mvmda -n")
case $out in *ereject*) r=1 ;; *) r=0 ;; esac
ok $r "at delivery the same script sees location MDA and keeps"
cat >"$tmp/$c/.mvmda.mfl" <<'S'
if ($DECISION != "")
	reject "decided at " + $DECISION;
S
chown "$c" "$tmp/$c/.mvmda.mfl"
is "$(ask rcpt "$c@test.example" x@ok.example)" "reject 550 5.7.1 decided at rcpt" '$DECISION in MFL'

# privileges: A's request runs as A, who cannot read B's files
cat >"$tmp/$a/.mvmda.mfl" <<S
include "$tmp/$b/secret.sieve";
S
chown "$a" "$tmp/$a/.mvmda.mfl"
out=$(ask rcpt "$a@test.example" x@ok.example)
case $out in "error compile error:"*"Permission denied"*) r=0 ;; *) r=1 ;; esac
ok $r "A's script including B's file: $out"

# a decision writes nothing: folders, vacation state, redirect, editheader
rm -f "$tmp/$c/.dovecot.sieve"
cat >"$tmp/$c/.mvmda.mfl" <<'S'
require ["fileinto", "mailbox", "vacation", "editheader", "duplicate"];
addheader "X-Seen" "yes";
fileinto :create "Made.By.Decision";
redirect "elsewhere@test.example";
vacation :days 1 "away";
if (duplicate :uniqueid "x") { discard; }
S
chown "$c" "$tmp/$c/.mvmda.mfl"
rm -f "$tmp/$a/.mvmda.mfl"
touch "$tmp/marker"
sleep 1
is "$(ask rcpt "$c@test.example" x@ok.example)" "data" "a script with every kind of action, before DATA: data"
is "$(ask data "$c@test.example" x@ok.example "$(printf 'Subject: hi\n\nhi\n')")" "accept" \
	"with the message: accept (a duplicate test leaves it to delivery)"
is "$(find "$tmp/$c" -newer "$tmp/marker" | wc -l)" 0 "nothing in the user's home was written or made (no cache either)"
is "$(find "$tmp/run" "$tmp/rc" -newer "$tmp/marker" | wc -l)" 0 "nor beside the socket or the rc script"

# limits: a script that never ends; a request that never finishes
cat >"$tmp/$c/.mvmda.mfl" <<'S'
$mfl_limit_instructions = 9000000000000000;
while (1) { }
S
t0=$(date +%s)
out=$(ask rcpt "$c@test.example" x@ok.example)
t1=$(date +%s)
case $out in error*) r=0 ;; *) r=1 ;; esac
ok $r "a script that loops forever: error ($out)"
ok $([ $((t1 - t0)) -le 4 ]; echo $?) "answered within the service's limit ($((t1 - t0)) s)"
out=$(python3 - "$sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"MVMDA/1 DECIDE\nphase: rcpt\n")	# and then nothing
s.settimeout(10)
print(s.recv(4096).decode().strip())
PY
)
case $out in "error timeout"*) r=0 ;; *) r=1 ;; esac
ok $r "a request that never finishes is answered when -t runs out ($out)"
out=$(python3 - "$sock" "$c@test.example" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
# the message is said to be 1000 bytes; 10 come: the user's worker waits
s.sendall(("MVMDA/1 DECIDE\nphase: data\nrecipient: %s\nsender: x@ok.example\nsize: 1000\n\n"
           % sys.argv[2]).encode() + b"Subject: x")
s.settimeout(10)
print(s.recv(4096).decode().strip())
PY
)
is "$out" "error timeout: no answer in time" "a question its worker does not answer in time: killed, answered"
grep -q "decision for $c took longer than 2 s: its worker .* killed" "$tmp/mvmda-service.log"
ok $? "and logged"
is "$(ask rcpt "$c@test.example" x@ok.example)" "error runtime error: $tmp/$c/.mvmda.mfl:2: runtime error: instruction limit (10000000) reached" \
	"the next question for that user gets a new worker"
send --from someone@ok.example --to "$c@test.example" --header "Subject: loop"
said '<- *250 2.0.0 Ok: queued'
ok $? "through Postfix the looping script's recipient is accepted"
rm -f "$tmp/$c/.mvmda.mfl" "$tmp/$c/.dovecot.sieve"

# one worker at most (-j 1): a question for another user ends the idle
# worker and gets a new one, rather than "busy"
MVMDA_RC="$rc" "$mvmda" -D "unix:$tmp/run/one.sock" -g root -j 1 2>>"$tmp/mvmda-one.log" &
one_pid=$!
wait_for test -S "$tmp/run/one.sock"
answers= main_sock=$sock sock=$tmp/run/one.sock
for u in "$a" "$b" "$a"; do
	answers="$answers $(ask rcpt "$u@test.example" x@spam.example)"
done
sock=$main_sock
kill "$one_pid"
is "$answers" " reject 550 5.7.1 no thanks accept reject 550 5.7.1 no thanks" \
	"-j 1: A, B and A again are each answered (the idle worker makes room)"

# 5. the service stopped: mail is accepted and filtered at delivery
kill "$svc_pid"
wait "$svc_pid" 2>/dev/null
svc_pid=
send --from "$b@test.example" --to "$a@test.example" --header "Subject: buy now"
said '<- *250 2.0.0 Ok: queued'
ok $? "service down: A's header rule does not refuse at SMTP time"
send --from someone@spam.example --to "$a@test.example" --header "Subject: while down"
said '<- *250 2.0.0 Ok: queued'
ok $? "nor A's envelope rule"
is "$(grep -c "delivery check for <$a@test.example>:.*No such file.*carrying on without it" "$tmp/mvmtr.log")" 1 \
	"one log line for the two failures, with the reason"
wait_for test "$(mdns)" -ge 2
is "$(mdns)" 2 "A's script still refused B's message, at delivery"
wait_for grep -q "to=<someone@spam.example>" "$PF/maillog"
ok $? "and the other one: its reject notice goes to spam.example"
is "$(n_in "$tmp/$a/Maildir")" 0 "A's Maildir stays empty"
# (with --enable-sanitizers: nothing reported by mvmda -D, its workers or mvmtr)
if grep -Eq 'Sanitizer|\.c:[0-9]+:[0-9]+: runtime error' "$tmp/mvmda-service.log" "$tmp/mvmtr.log"; then
	ok 1 "no sanitizer report from mvmda -D or mvmtr"
	grep -E 'Sanitizer|\.c:[0-9]+:[0-9]+: runtime error' "$tmp/mvmda-service.log" "$tmp/mvmtr.log" |
		head | sed 's/^/# /'
else
	ok 0 "no sanitizer report from mvmda -D or mvmtr"
fi
done_testing
