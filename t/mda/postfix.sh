#!/bin/sh
# postfix.sh - mvmda under a real MTA: a private Postfix on loopback
# (t/lib/postfix.sh) with mailbox_command = mvmda, three test users made
# for the run. Mail sent over SMTP lands in the Maildir folders each
# user's script chose, as that user; a .forward "|mvmda ..." pipe works;
# a delivery that cannot be written is deferred by Postfix (mvmda's exit
# 75) and delivered once the fault is gone, so no message is lost; a
# Sieve redirect and a vacation reply go back into this Postfix (over
# SMTP: postdrop, being setgid, refuses a private instance's MAIL_CONFIG
# unless the system main.cf lists it) and are found in the other user's
# mailbox, the vacation only once.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/postfix.sh"
pf_check
command -v useradd >/dev/null 2>&1 || skip_all "useradd is not installed"
mvmda=$(cd "$top_builddir/mda" && pwd)/mvmda
tmp=$(mktemp -d /tmp/mvmda-pf.XXXXXX)
chmod 755 "$tmp"
PF="$tmp/pf"
PF_PORT=$((20000 + $$ % 20000))
u1=mvmdat1$$ u2=mvmdat2$$ u3=mvmdat3$$
u1=$(echo "$u1" | cut -c1-30) u2=$(echo "$u2" | cut -c1-30) u3=$(echo "$u3" | cut -c1-30)
cleanup() {
	pf_stop
	userdel "$u1" >/dev/null 2>&1
	userdel "$u2" >/dev/null 2>&1
	userdel "$u3" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
useradd -M -d "$tmp/$u1" -s /bin/sh "$u1" || skip_all "cannot add a test user"
useradd -M -d "$tmp/$u2" -s /bin/sh "$u2" || skip_all "cannot add a test user"
useradd -M -d "$tmp/$u3" -s /bin/sh "$u3" || skip_all "cannot add a test user"
for u in "$u1" "$u2" "$u3"; do
	mkdir -p "$tmp/$u"
	chown "$u" "$tmp/$u"
done

# u1: an MFL script that reads the subject and Postfix's EXTENSION
cat >"$tmp/$u1/.mvmda.mfl" <<'S'
if (header :contains "subject" "[list]")
	fileinto "Lists";
else if (envelope :detail "to" "tag")
	fileinto "Tagged";
S
# u2: a .forward pipe to mvmda with a Sieve script and -m
cat >"$tmp/$u2/filter.sieve" <<'S'
require "fileinto";
if header :is "subject" "sorted" { fileinto "Sorted"; }
S
echo "\"|$mvmda -m Fwd $tmp/$u2/filter.sieve\"" >"$tmp/$u2/.forward"
# u3: Sieve that redirects to u2, or answers with a vacation message
cat >"$tmp/$u3/.mvmda.sieve" <<S
require ["vacation"];
if header :is "subject" "redirect me" {
	redirect "$u2@test.example";
	stop;
}
vacation :days 1 :subject "Away" "I am away until Monday.";
S
chown "$u3" "$tmp/$u3/.mvmda.sieve"
chown "$u1" "$tmp/$u1/.mvmda.mfl"
chown "$u2" "$tmp/$u2/filter.sieve" "$tmp/$u2/.forward"

# the rc script as installed, sending through this Postfix
mkdir -p "$tmp/rc"
cp -r "$top_srcdir/mda/include" "$tmp/rc/"
sed "/^include \"include\/qmail.mfl\";/a \\\$mvmda_sendmail = \"$tmp/sendmail\";" \
	"$top_srcdir/mda/mvmda-rc.mfl" >"$tmp/rc/mvmda-rc.mfl"
cat >"$tmp/sendmail" <<SM
#!/bin/sh
# sendmail -oi -f SENDER -- RECIPIENT, as mvmda calls it, over SMTP
from=\$3 to=\$5
exec swaks --silent 2 --server 127.0.0.1 --port $PF_PORT --from "\$from" --to "\$to" --data -
SM
chmod 755 "$tmp/sendmail" "$tmp/rc" "$tmp/rc/include"
chmod 644 "$tmp/rc/mvmda-rc.mfl" "$tmp/rc/include"/*
pf_init
pf_conf "mailbox_command = $mvmda" \
	"export_environment = TZ LANG MAIL_CONFIG MVMDA_RC=$tmp/rc/mvmda-rc.mfl" \
	"allow_mail_to_commands = alias, forward"
pf_start || { cat "$PF/maillog" >&2; ok 1 "private Postfix starts"; done_testing; }
ok 0 "private Postfix starts on 127.0.0.1:$PF_PORT"

n_in() { find "$1" -type f 2>/dev/null | wc -l; }
has() { [ "$(n_in "$1")" -ge "$2" ]; }

pf_send sender@example.org "$u1@test.example" --header "Subject: [list] weekly" --body "list mail"
pf_send sender@example.org "$u1+tag@test.example" --header "Subject: tagged" --body "tag"
pf_send sender@example.org "$u1@test.example" --header "Subject: plain" --body "plain"
md="$tmp/$u1/Maildir"
wait_for has "$md/.Lists/new" 1
is "$(n_in "$md/.Lists/new")" 1 "Postfix -> mvmda: [list] mail in .Lists"
wait_for has "$md/.Tagged/new" 1
is "$(n_in "$md/.Tagged/new")" 1 "user+tag: the script saw EXTENSION"
wait_for has "$md/new" 1
is "$(n_in "$md/new")" 1 "the rest in INBOX"
f=$(find "$md/.Lists/new" -type f | head -1)
is "$(stat -c %U:%a "$f")" "$u1:600" "delivered as the user, mode 600"
is "$(grep -c "^Delivered-To: $u1@test.example" "$f")" 1 \
	"one Delivered-To (Postfix's); not taken for a loop"
ok "$(grep -q '^list mail$' "$f"; echo $?)" "the body is there"
ok "$(grep -q '^From ' "$f"; [ $? = 1 ]; echo $?)" "no mbox From line in a Maildir file"

pf_send sender@example.org "$u2@test.example" --header "Subject: sorted" --body "s"
pf_send sender@example.org "$u2@test.example" --header "Subject: other" --body "o"
md2="$tmp/$u2/Maildir"
wait_for has "$md2/.Sorted/new" 1
is "$(n_in "$md2/.Sorted/new")" 1 ".forward |mvmda with a Sieve script: filed"
wait_for has "$md2/.Fwd/new" 1
is "$(n_in "$md2/.Fwd/new")" 1 ".forward |mvmda -m Fwd: implicit keep went to Fwd"

# u3 redirects to u2, through this Postfix's sendmail
pf_send sender@example.org "$u3@test.example" --header "Subject: redirect me" --body "r"
wait_for sh -c "grep -l '^Subject: redirect me' '$md2'/.Fwd/new/* 2>/dev/null | grep -q ."
is "$(grep -l '^Subject: redirect me' "$md2"/.Fwd/new/* 2>/dev/null | wc -l)" 1 \
	"redirect: handed to Postfix's sendmail, found in the other user's mailbox"
ok "$(grep -q '^Return-Path: <sender@example.org>' "$(grep -l '^Subject: redirect me' "$md2"/.Fwd/new/*)"; echo $?)" \
	"redirect: the envelope sender is kept"
is "$(n_in "$tmp/$u3/Maildir/new")" 0 "redirect: no copy kept"
# u2 writes to u3 twice: one vacation reply comes back to u2
pf_send "$u2@test.example" "$u3@test.example" --header "Subject: lunch?" --body "l"
wait_for sh -c "grep -l '^Subject: Away' '$md2'/.Fwd/new/* 2>/dev/null | grep -q ."
f=$(grep -l '^Subject: Away' "$md2"/.Fwd/new/* 2>/dev/null | head -1)
ok "$([ -n "$f" ]; echo $?)" "vacation: the reply went through Postfix to the sender's mailbox"
ok "$(grep -q '^Return-Path: <>' "$f" && grep -q '^Auto-Submitted: auto-replied' "$f" \
	&& grep -q '^I am away until Monday.$' "$f"; echo $?)" "vacation: from <>, Auto-Submitted, the reason"
wait_for has "$tmp/$u3/Maildir/new" 1
is "$(n_in "$tmp/$u3/Maildir/new")" 1 "vacation: the message itself is kept"
pf_send "$u2@test.example" "$u3@test.example" --header "Subject: lunch again?" --body "l"
wait_for has "$tmp/$u3/Maildir/new" 2
wait_for sh -c "[ \$(postqueue -c '$PF/etc' -j 2>/dev/null | wc -l) = 0 ]"
is "$(grep -l '^Subject: Away' "$md2"/.Fwd/new/* 2>/dev/null | wc -l)" 1 "vacation: not repeated within :days"

# a fault: the user cannot write new/ -> mvmda 75 -> Postfix defers
chmod 000 "$md/new"
pf_send sender@example.org "$u1@test.example" --header "Subject: deferred one" --body "d"
wait_for grep -q 'status=deferred' "$PF/maillog"
ok "$(grep -q 'status=deferred' "$PF/maillog"; echo $?)" "an unwritable Maildir: Postfix defers"
is "$(pf_queue_count)" 1 "the message waits in the queue"
ok "$(find "$md/tmp" -type f | grep -q .; [ $? = 1 ]; echo $?)" "nothing half-written left in tmp/"
chmod 700 "$md/new"
pf_flush
wait_for has "$md/new" 2
is "$(n_in "$md/new")" 2 "fixed and flushed: delivered"
wait_for sh -c "[ \$(postqueue -c '$PF/etc' -j 2>/dev/null | wc -l) = 0 ]"
is "$(pf_queue_count)" 0 "the queue is empty"
is "$(grep -l '^Subject: deferred one' "$md"/new/* | wc -l)" 1 "exactly once"

# a big message (3 MB, spooled by mvmda in the home and, Postfix having
# put Delivered-To on top itself, linked into the Maildir as it is)
python3 - "$PF_PORT" "$u1@test.example" "$tmp/big.body" <<'PY'
import smtplib, sys
port, rcpt, keep = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = "".join("line %07d of a big message through Postfix\n" % i for i in range(70000))
open(keep, "w").write(body)
s = smtplib.SMTP("127.0.0.1", port)
s.sendmail("sender@example.org", [rcpt], "Subject: big one\n\n" + body)
s.quit()
PY
wait_for sh -c "grep -l '^Subject: big one' '$md'/new/* 2>/dev/null | grep -q ."
f=$(grep -l '^Subject: big one' "$md"/new/* 2>/dev/null | head -n 1)
sed '1,/^$/d' "$f" 2>/dev/null | cmp -s - "$tmp/big.body" &&
	[ "$(grep -c "^Delivered-To: $u1@test.example" "$f")" = 1 ] && [ "$(stat -c %U:%a "$f")" = "$u1:600" ]
ok $? "3 MB through Postfix: the body byte for byte, one Delivered-To, the user's, mode 600"
ls -A "$tmp/$u1" | grep -q '^\.mvmda-spool' && r=1 || r=0
ok $r "no spool file left in the home"
[ "$tap_failed" = 0 ] || sed 's/^/# /' "$PF/maillog"
done_testing
