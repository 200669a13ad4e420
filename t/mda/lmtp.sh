#!/bin/sh
# lmtp.sh - mvmda -L, the LMTP delivery service, under a real MTA: a
# private Postfix (t/lib/postfix.sh) with mailbox_transport =
# lmtp:unix:... as contrib/postfix/main.cf.lmtp has it (local(8) passes
# each mailbox delivery on by itself), and virtual_transport the same
# (the queue manager hands several recipients to one LMTP transaction),
# three test users made for the run. Two users in one message, each
# delivered as that user with their own script; two users in one LMTP
# transaction, one with an unwritable Maildir: deferred for that
# recipient only (4xx), the other delivered, and delivered later once
# the fault is gone; the service killed: Postfix defers, and delivers
# when it is back, nothing lost. Then the protocol itself with
# Python's LMTP client: replies per recipient, unknown users and root
# refused at RCPT, dot-stuffing and CRLF undone byte for byte, a folder
# writable only through a supplementary group.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/postfix.sh"
. "$top_srcdir/t/lib/mda.sh"
pf_check
command -v useradd >/dev/null 2>&1 || skip_all "useradd is not installed"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
mvmda=$(cd "$top_builddir/mda" && pwd)/mvmda
tmp=$(mktemp -d /tmp/mvmda-lmtp.XXXXXX)
chmod 755 "$tmp"
PF="$tmp/pf"
PF_PORT=$((21000 + $$ % 20000))
u1=$(echo "mvmdal1$$" | cut -c1-30) u2=$(echo "mvmdal2$$" | cut -c1-30)
u3=$(echo "mvmdal3$$" | cut -c1-30)
sock=$tmp/lmtp.sock
lmtp_pid=
cleanup() {
	pf_stop
	[ -n "$lmtp_pid" ] && kill "$lmtp_pid" 2>/dev/null
	for u in "$u1" "$u2" "$u3"; do userdel "$u" >/dev/null 2>&1; done
	[ -n "$grp" ] && groupdel "$grp" >/dev/null 2>&1
	[ -n "$KEEP" ] || { mda_forget_caches "$tmp"; rm -rf "$tmp"; }
}
trap cleanup EXIT
for u in "$u1" "$u2" "$u3"; do
	useradd -M -d "$tmp/$u" -s /bin/sh "$u" || skip_all "cannot add a test user"
	mkdir -p "$tmp/$u"
	chown "$u" "$tmp/$u"
done
cat >"$tmp/$u1/.mvmda.mfl" <<'S'
if (header :contains "subject" "[list]")
	fileinto "Lists";
S
chown "$u1" "$tmp/$u1/.mvmda.mfl"
# a folder u2 may write only as a member of a supplementary group: the
# delivery takes the groups the service looked up for the route
grp=$(echo "mvmdag$$" | cut -c1-30)
groupadd "$grp" && usermod -aG "$grp" "$u2" || skip_all "cannot add a test group"
for d in tmp new cur; do mkdir -p "$tmp/$u2/Maildir/.Shared/$d"; done
chown -R root:"$grp" "$tmp/$u2/Maildir/.Shared"
chmod -R 2770 "$tmp/$u2/Maildir/.Shared"
chown "$u2" "$tmp/$u2/Maildir"
cat >"$tmp/$u2/.mvmda.mfl" <<'S'
if (header :is "subject" "shared")
	fileinto "Shared";
S
chown "$u2" "$tmp/$u2/.mvmda.mfl"

# the rc script as installed (a copy: the test edits it below)
mkdir -p "$tmp/rc"
cp -r "$top_srcdir/mda/include" "$top_srcdir/mda/mvmda-rc.mfl" "$tmp/rc/"
chmod -R go+rX "$tmp/rc"

# lmtp_start - the service as the README says, on a socket Postfix may use
lmtp_start() {
	MVMDA_RC=$tmp/rc/mvmda-rc.mfl "$mvmda" -L "unix:$sock" -g postfix \
		2>>"$tmp/lmtp.log" &
	lmtp_pid=$!
	for i in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
}
lmtp_start
is "$(stat -c %U:%G:%a "$sock" 2>&1)" root:postfix:660 "mvmda -L listens on a unix socket, root:postfix 0660"

# Postfix as contrib/postfix/main.cf.lmtp has it, the socket the test's
pf_init
grep -v '^#' "$top_srcdir/contrib/postfix/main.cf.lmtp" |
	sed "s|lmtp:unix:private/mvmda-lmtp|lmtp:unix:$sock|" >>"$PF/etc/main.cf"
grep -q "^mailbox_transport = lmtp:unix:$sock" "$PF/etc/main.cf"
ok $? "contrib/postfix/main.cf.lmtp, with the test's socket, is in main.cf"
pf_conf "virtual_mailbox_domains = virt.example" \
	"virtual_mailbox_maps = inline:{$u2@virt.example=x, $u3@virt.example=x}" \
	"virtual_transport = lmtp:unix:$sock"
pf_start || { cat "$PF/maillog" >&2; ok 1 "private Postfix starts"; done_testing; }
ok 0 "private Postfix starts on 127.0.0.1:$PF_PORT"

n_in() { find "$1" -type f 2>/dev/null | wc -l; }
has() { [ "$(n_in "$1")" -ge "$2" ]; }
md1=$tmp/$u1/Maildir md2=$tmp/$u2/Maildir md3=$tmp/$u3/Maildir

# two users in one message, one LMTP transaction
pf_send sender@example.org "$u1@test.example,$u2@test.example" \
	--header "Subject: [list] for two" --body "two of us"
wait_for has "$md1/.Lists/new" 1
wait_for has "$md2/new" 1
is "$(n_in "$md1/.Lists/new"):$(n_in "$md2/new")" 1:1 \
	"both delivered: $u1 by their own script into Lists, $u2 into INBOX"
f1=$(find "$md1/.Lists/new" -type f | head -1)
f2=$(find "$md2/new" -type f | head -1)
is "$(stat -c %U:%a "$f1") $(stat -c %U:%a "$f2")" "$u1:600 $u2:600" "each as that user, mode 600"
grep -q "^Return-Path: <sender@example.org>" "$f1" && grep -q "^Delivered-To: $u1@test.example" "$f1" &&
	grep -q "^two of us$" "$f1"
ok $? "with Return-Path, Delivered-To and the body"
grep -q "status=sent (250 2.0.0 <$u1@test.example> delivered (L" "$PF/maillog"
ok $? "Postfix logs mvmda's reply for the recipient"

# one LMTP transaction for two users (virtual_transport: the queue
# manager batches), one Maildir unwritable: that recipient deferred
# (4xx), the other delivered
mkdir -p "$md3/new" "$md3/cur" "$md3/tmp"
chown -R "$u3" "$md3"
chown root "$md3/tmp"
chmod 700 "$md3/tmp"
pf_send sender@example.org "$u2@virt.example,$u3@virt.example" --header "Subject: half" --body "h"
wait_for has "$md2/new" 2
wait_for grep -q "to=<$u3@virt.example>.*status=deferred" "$PF/maillog"
is "$(n_in "$md2/new"):$(n_in "$md3/new")" 2:0 "$u2 delivered, $u3 (Maildir unwritable) not"
t2=$(sed -n "s/.*lmtp \(L[0-9]*\)\.[0-9]*: to=<$u2@virt.example>.*/\1/p" "$tmp/lmtp.log" | head -n 1)
t3=$(sed -n "s/.*lmtp \(L[0-9]*\)\.[0-9]*: to=<$u3@virt.example>.*/\1/p" "$tmp/lmtp.log" | head -n 1)
ok "$([ -n "$t2" ] && [ "$t2" = "$t3" ]; echo $?)" "both went over one LMTP connection, in one delivery request ($t2, $t3)"
grep -q "to=<$u3@virt.example>.*status=deferred (host .* said: 451 4.3.0 <$u3@virt.example>" "$PF/maillog"
ok $? "Postfix defers $u3 on mvmda's 451 4.3.0 for that recipient"
grep -q "to=<$u2@virt.example>.*status=sent (250 2.0.0 <$u2@virt.example> delivered" "$PF/maillog"
ok $? "and logs $u2 sent, from the same transaction's other reply"
is "$(pf_queue_count)" 1 "the message waits in the queue for $u3"
chown "$u3" "$md3/tmp"
postqueue -c "$PF/etc" -f
wait_for has "$md3/new" 1
is "$(n_in "$md3/new"):$(n_in "$md2/new")" 1:2 "once the fault is gone: delivered to $u3, no second copy for $u2"

# the service killed: Postfix defers, and delivers once it is back
kill "$lmtp_pid"
wait "$lmtp_pid" 2>/dev/null
lmtp_pid=
rm -f "$sock"
pf_send sender@example.org "$u2@test.example" --header "Subject: while down" --body "w"
wait_for grep -q "to=<$u2@test.example>.*status=deferred.*lmtp.sock" "$PF/maillog"
ok $? "no service: Postfix defers ($(grep "to=<$u2@test.example>.*status=deferred" "$PF/maillog" | tail -n 1 | sed 's/.*status=deferred //' | cut -c1-80))"
is "$(n_in "$md2/new")" 2 "and nothing is delivered"
lmtp_start
postqueue -c "$PF/etc" -f
wait_for has "$md2/new" 3
is "$(n_in "$md2/new")" 3 "the service back: delivered, nothing lost"
wait_for sh -c "[ \$(postqueue -c '$PF/etc' -j 2>/dev/null | wc -l) = 0 ]"
is "$(pf_queue_count)" 0 "the queue is empty"

# the protocol itself
cat >"$tmp/client.py" <<'PY'
import smtplib, sys
sock, u1, u2 = sys.argv[1], sys.argv[2], sys.argv[3]
body = ("Subject: exact\r\n\r\n.leading dot\r\n..two dots\r\nline\r\n.\r\n"
        "ends without a line end")
s = smtplib.LMTP(sock)
code, _ = s.ehlo("client.test")   # smtplib.LMTP sends LHLO
print("lhlo", code)
code, msg = s.docmd("HELO", "x")
print("helo", code)
s.mail("a@example.org")
for r in (u1 + "@test.example", "nosuchuser99@test.example", "root@test.example"):
    code, msg = s.rcpt(r)
    print("rcpt", r.split("@")[0] == u1 and "user" or r.split("@")[0], code, msg.decode())
code, msg = s.data(body)
print("data", code, msg.decode())
s.quit()
PY
out=$(python3 "$tmp/client.py" "$sock" "$u1" "$u2" 2>&1)
case $out in *"lhlo 250"*"helo 500"*) r=0 ;; *) r=1 ;; esac
ok $r "LHLO answered; HELO refused (this is LMTP)"
case $out in *"rcpt nosuchuser99 550 5.1.1 <nosuchuser99@test.example> No such user here"*) r=0 ;; *) r=1 ;; esac
ok $r "an unknown user: 550 5.1.1 at RCPT"
case $out in *"rcpt root 550 5.7.1 <root@test.example> mvmda does not deliver as root"*) r=0 ;; *) r=1 ;; esac
ok $r "root: 550 5.7.1 at RCPT (mvmda never delivers as root)"
case $out in *"data 250 2.0.0 <$u1@test.example> delivered (L"*) r=0 ;; *) r=1 ;; esac
ok $r "the message delivered to the one recipient accepted"
[ $r = 0 ] || echo "$out" | sed 's/^/# /'
wait_for sh -c "grep -l '^Subject: exact' '$md1'/new/* 2>/dev/null | grep -q ."
f=$(grep -l '^Subject: exact' "$md1"/new/* 2>/dev/null | head -n 1)
printf 'Subject: exact\n\n.leading dot\n..two dots\nline\n.\nends without a line end\n' >"$tmp/want"
sed '1,/^Subject: exact$/{/^Subject: exact$/!d}' "$f" >"$tmp/got" 2>/dev/null
cmp -s "$tmp/want" "$tmp/got"
ok $? "dot-stuffing and CRLF undone byte for byte (a last line without its end gets one)"
[ -s "$tmp/got" ] || echo "# nothing delivered"

# one connection, a long message and then a short one: the spool file
# is reused, cut and rewritten from its start (nothing of the first
# left in the second)
python3 - "$sock" "$u1" <<'PY' >"$tmp/two.out" 2>&1
import smtplib, sys
s = smtplib.LMTP(sys.argv[1])
s.ehlo("x")
s.sendmail("a@example.org", [sys.argv[2] + "@test.example"],
           "Subject: long one\r\n\r\n" + "a long line of the first message\r\n" * 500)
s.sendmail("a@example.org", [sys.argv[2] + "@test.example"], "Subject: short one\r\n\r\nshort\r\n")
s.quit()
PY
f=$(grep -l '^Subject: short one' "$md1"/new/* 2>/dev/null | head -n 1)
printf 'Subject: short one\n\nshort\n' >"$tmp/want"
sed '1,/^Subject: short one$/{/^Subject: short one$/!d}' "$f" >"$tmp/got" 2>/dev/null
cmp -s "$tmp/want" "$tmp/got"
ok $? "two messages over one connection: the second, shorter, exactly itself"

# the user's compiled script held by their keeper across the messages
# of a connection, as long as its file's size, mtime and inode stay:
# rewritten in place to file into Zists, its mtime put back and its
# compiled cache removed, the third message still goes to Lists (a
# delivery that read the file would go to Zists); rewritten with a new
# mtime, the fourth runs the new script
python3 - "$sock" "$u1" "$tmp/$u1/.mvmda.mfl" <<'PY' >"$tmp/keep.out" 2>&1
import glob, os, smtplib, sys, time
sock, user, script = sys.argv[1:4]
s = smtplib.LMTP(sock)
s.ehlo("x")
def send(subject):
    s.sendmail("a@example.org", [user + "@test.example"], "Subject: %s\r\n\r\nk\r\n" % subject)
send("[list] kept 1")
send("[list] kept 2")   # the keeper took the script in after the first
st = os.stat(script)
with open(script, "r+") as f:
    text = f.read()
    f.seek(0)
    f.write(text.replace('"Lists"', '"Zists"'))
os.utime(script, ns=(st.st_atime_ns, st.st_mtime_ns))
for f in glob.glob(script + "*.mflc"):
    os.unlink(f)
send("[list] kept 3")
time.sleep(0.01)
with open(script, "w") as f:
    f.write(text.replace('"Lists"', '"Zists"'))
send("[list] kept 4")
s.quit()
PY
n1=$(grep -l '^Subject: \[list\] kept [123]$' "$md1"/.Lists/new/* 2>/dev/null | wc -l)
n3=$(grep -l '^Subject: \[list\] kept 4$' "$md1"/.Zists/new/* 2>/dev/null | wc -l)
is "$n1:$n3" 3:1 "a connection's keeper holds the user's compiled script while its file is unchanged, and drops it once it changes"
[ "$n1:$n3" = 3:1 ] || sed 's/^/# /' "$tmp/keep.out"
cat >"$tmp/$u1/.mvmda.mfl" <<'S'
if (header :contains "subject" "[list]")
	fileinto "Lists";
S

# a keeper killed while its connection goes on: the next messages for
# that user over the connection get a new keeper (none is lost: one may
# be deferred); before, every later one was deferred
python3 - "$sock" "$u1" <<'PY' >"$tmp/killed.out" 2>&1
import smtplib, subprocess, sys, time
sock, user = sys.argv[1:3]
s = smtplib.LMTP(sock)
s.ehlo("x")
def send(subject):
    try:
        s.sendmail("a@example.org", [user + "@test.example"], "Subject: %s\r\n\r\nk\r\n" % subject)
        return 250
    except smtplib.SMTPResponseException as e:
        return e.smtp_code
codes = [send("keeper one")]
subprocess.run(["pkill", "-KILL", "-u", user])
time.sleep(0.2)
codes += [send("keeper two"), send("keeper three")]
s.quit()
print(" ".join(map(str, codes)))
PY
case $(cat "$tmp/killed.out") in "250 250 250" | "250 451 250") r=0 ;; *) r=1 ;; esac
ok $r "a keeper killed mid-connection: the user's next messages are delivered by a new one ($(cat "$tmp/killed.out"))"

# supplementary groups: u2 writes .Shared (root:GROUP 2770) only as a
# member of GROUP
out=$(python3 - "$sock" "$u2" <<'PY' 2>&1
import smtplib, sys
s = smtplib.LMTP(sys.argv[1])
s.ehlo("x")
s.mail("a@example.org")
s.rcpt(sys.argv[2] + "@test.example")
print("data", s.data("Subject: shared\r\n\r\nfor the group\r\n")[0])
s.quit()
PY
)
f=$(find "$md2/.Shared/new" -type f 2>/dev/null | head -n 1)
is "$out $(stat -c %U:%G "$f" 2>&1)" "data 250 $u2:$grp" \
	"a folder writable only through a supplementary group: delivered, as the user, in that group"

# TCP, and -j: one connection served, the next turned away with 421
tport=$((PF_PORT + 1))
MVMDA_RC=$tmp/rc/mvmda-rc.mfl "$mvmda" -L "inet:127.0.0.1:$tport" -j 1 2>>"$tmp/lmtp-inet.log" &
inet_pid=$!
for i in $(seq 50); do bash -c "exec 3<>/dev/tcp/127.0.0.1/$tport" 2>/dev/null && break; sleep 0.1; done
sleep 0.3	# the probe's connection ended
out=$(python3 - "$tport" "$u1" <<'PY' 2>&1
import smtplib, socket, sys, time
port, user = int(sys.argv[1]), sys.argv[2]
a = smtplib.LMTP("127.0.0.1", port)
print("first", a.ehlo("x")[0])
time.sleep(0.3)
b = socket.create_connection(("127.0.0.1", port))
print("second", b.recv(200).decode().strip())
a.mail("x@example.org")
print("rcpt", a.rcpt(user + "@test.example")[0])
a.quit()
PY
)
kill "$inet_pid" 2>/dev/null
case $out in *"first 250"*"second 421 4.3.2 Too many connections"*"rcpt 250"*) r=0 ;; *) r=1 ;; esac
ok $r "mvmda -L inet:127.0.0.1:PORT -j 1: LMTP over TCP, a second connection answered 421 at once"
[ $r = 0 ] || echo "$out" | sed 's/^/# /'

# the rc script is compiled once, in the service; changed on disk, it is
# compiled again before the next message
sleep 1	# a later mtime
echo '$header_prepend("X-Rc-Edited", "yes");' >>"$tmp/rc/mvmda-rc.mfl"
pf_send sender@example.org "$u2@test.example" --header "Subject: after the edit" --body "e"
wait_for sh -c "grep -l '^Subject: after the edit' '$md2'/new/* 2>/dev/null | grep -q ."
f=$(grep -l '^Subject: after the edit' "$md2"/new/* 2>/dev/null | head -n 1)
grep -q "^X-Rc-Edited: yes" "$f" 2>/dev/null
ok $? "the rc script edited while the service runs: the next message runs the new one"
[ "$(grep -c "rc script $tmp/rc/mvmda-rc.mfl compiled" "$tmp/lmtp.log")" -ge 2 ]
ok $? "and the service logged compiling it again"
# with --enable-sanitizers: nothing reported by the service, its
# keepers or their deliveries
! grep -q -E "Sanitizer|runtime error" "$tmp/lmtp.log" "$tmp/lmtp-inet.log" 2>/dev/null
ok $? "no sanitizer report from mvmda -L"
done_testing
