#!/bin/sh
# postfix.sh - mvmda under a real MTA: a private Postfix on loopback
# (t/lib/postfix.sh) with mailbox_command = mvmda, two test users made
# for the run. Mail sent over SMTP lands in the Maildir folders each
# user's script chose, as that user; a .forward "|mvmda ..." pipe works;
# a delivery that cannot be written is deferred by Postfix (mvmda's exit
# 75) and delivered once the fault is gone, so no message is lost.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/postfix.sh"
pf_check
command -v useradd >/dev/null 2>&1 || skip_all "useradd is not installed"
mvmda=$(cd "$top_builddir/mda" && pwd)/mvmda
tmp=$(mktemp -d /tmp/mvmda-pf.XXXXXX)
chmod 755 "$tmp"
PF="$tmp/pf"
PF_PORT=$((20000 + $$ % 20000))
u1=mvmdat1$$ u2=mvmdat2$$
u1=$(echo "$u1" | cut -c1-30) u2=$(echo "$u2" | cut -c1-30)
cleanup() {
	pf_stop
	userdel "$u1" >/dev/null 2>&1
	userdel "$u2" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
useradd -M -d "$tmp/$u1" -s /bin/sh "$u1" || skip_all "cannot add a test user"
useradd -M -d "$tmp/$u2" -s /bin/sh "$u2" || skip_all "cannot add a test user"
for u in "$u1" "$u2"; do
	mkdir -p "$tmp/$u"
	chown "$u" "$tmp/$u"
done

# u1: an MFL script that reads the subject and Postfix's EXTENSION
cat >"$tmp/$u1/.mvmda.mfl" <<'S'
if (header :contains "subject" "[list]")
	fileinto "Lists";
else if ($getenv("EXTENSION") == "tag")
	fileinto "Tagged";
S
# u2: a .forward pipe to mvmda with a Sieve script and -m
cat >"$tmp/$u2/filter.sieve" <<'S'
require "fileinto";
if header :is "subject" "sorted" { fileinto "Sorted"; }
S
echo "\"|$mvmda -m Fwd $tmp/$u2/filter.sieve\"" >"$tmp/$u2/.forward"
chown "$u1" "$tmp/$u1/.mvmda.mfl"
chown "$u2" "$tmp/$u2/filter.sieve" "$tmp/$u2/.forward"

pf_init
pf_conf "mailbox_command = $mvmda" \
	"export_environment = TZ MAIL_CONFIG LANG MVMDA_RC=$top_srcdir/mda/mvmda-rc.mfl" \
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
[ "$tap_failed" = 0 ] || sed 's/^/# /' "$PF/maillog"
done_testing
