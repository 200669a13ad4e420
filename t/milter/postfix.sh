#!/bin/sh
# postfix.sh - mvmtr behind a real Postfix on loopback (t/lib/postfix.sh:
# its own config, queue and SMTP port; smtpd_milters = inet:...), with
# mvmda as the mailbox_command: greylisting (the 4xx says how long, a
# retry after the delay is accepted, a network allow-listed after its
# passes), a block from mvmcas with a multi-line 554, a custom
# multi-line 550, and a header added at end of message found in the
# message mvmda stored - the whole path SMTP -> Postfix -> mvmtr ->
# Postfix local -> mvmda -> Maildir; then, after a reload, a script with
# nothing to do past RCPT, whose messages mvmtr accepts at DATA.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/postfix.sh"
pf_check
command -v swaks >/dev/null 2>&1 || skip_all "swaks is not installed"
command -v useradd >/dev/null 2>&1 || skip_all "useradd is not installed"
mvmtr=$(cd "$top_builddir/milter" && pwd)/mvmtr
mvmcas=$(cd "$top_builddir/milter" && pwd)/mvmcas
mvmda=$(cd "$top_builddir/mda" && pwd)/mvmda
tmp=$(mktemp -d /tmp/mvmtr-pf.XXXXXX)
chmod 755 "$tmp"
PF="$tmp/pf"
PF_PORT=$((20000 + $$ % 20000))
MT_PORT=$((PF_PORT + 1))
user=$(echo "mvmtrt$$" | cut -c1-30)
mt_pid=
cleanup() {
	pf_stop
	[ -n "$mt_pid" ] && kill "$mt_pid" 2>/dev/null
	userdel "$user" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
useradd -M -d "$tmp/$user" -s /bin/sh "$user" || skip_all "cannot add a test user"
mkdir -p "$tmp/$user"
chown "$user" "$tmp/$user"

cat >"$tmp/policy.mfl" <<S
\$mvmtr_store = "$tmp/store";
\$mvmtr_store_size = 64 << 20;
\$mvmtr_greylist_delay = 3;
\$mvmtr_greylist_autoallow = 2;

void \$hook_envrcpt(string \$rcpt, string[] \$args) {
	string \$why = \$client_blocked();
	if (\$why != "")
		reject :code "554" :xcode "5.7.1" "Blocked here\nReason: " + \$why;
	if (\$regmatch(\$rcpt, "^nobody@"))
		reject :code "550" :xcode "5.1.1" "No such mailbox\nSee https://test.example/help";
	if (\$regmatch(\$rcpt, "[+]grey")) {
		int \$wait = \$greylist();
		if (\$wait > 0)
			tempfail :code "450" :xcode "4.7.1"
			    \$sprintf("Greylisted, try again in %d seconds", \$wait);
	}
}

void \$hook_eom() {
	\$header_add("X-Mvmtr", "checked " + \$queue_id);
}
S
"$mvmtr" -f -l debug -p "inet:$MT_PORT@127.0.0.1" "$tmp/policy.mfl" >"$tmp/mvmtr.log" 2>&1 &
mt_pid=$!
pf_init
pf_conf "mailbox_command = $mvmda" \
	"export_environment = TZ MAIL_CONFIG LANG MVMDA_RC=$top_srcdir/mda/mvmda-rc.mfl" \
	"smtpd_milters = inet:127.0.0.1:$MT_PORT" \
	"milter_default_action = tempfail"
pf_start || { cat "$PF/maillog" >&2; ok 1 "private Postfix starts"; done_testing; }
ok 0 "private Postfix with smtpd_milters = inet:127.0.0.1:$MT_PORT"

# send TO [swaks options]: the SMTP dialogue in $tmp/swaks.out
send() {
	to=$1
	shift
	swaks --server 127.0.0.1 --port "$PF_PORT" --from sender@example.org \
		--to "$to" "$@" >"$tmp/swaks.out" 2>&1
}
said() { grep -q -- "$1" "$tmp/swaks.out"; }
n_in() { find "$1" -type f 2>/dev/null | wc -l; }
has() { [ "$(n_in "$1")" -ge "$2" ]; }
md="$tmp/$user/Maildir"

send "nobody@test.example"
said '<\*\* *550-5.1.1 No such mailbox'
ok $? "a custom reject: the first line of the multi-line 550"
said '<\*\* *550 5.1.1 See https://test.example/help'
ok $? "and its last line"

send "$user+grey1@test.example" --header "Subject: grey one"
said '<\*\* *450 4.7.1 Greylisted, try again in [23] seconds'
ok $? "first attempt: 450 with the seconds left"
send "$user+grey1@test.example" --header "Subject: grey one"
said '<\*\* *450 4.7.1 Greylisted'
ok $? "a retry before the delay: 450 again"
sleep 3.2
send "$user+grey1@test.example" --header "Subject: grey one"
said '<- *250 2.0.0 Ok: queued'
ok $? "a retry after the delay is accepted"
wait_for has "$md/new" 1
is "$(n_in "$md/new")" 1 "Postfix -> mvmtr -> local -> mvmda: delivered into the Maildir"
f=$(find "$md/new" -type f | head -1)
qid=$(sed -n 's/^X-Mvmtr: checked \(.*\)$/\1/p' "$f")
ok $([ -n "$qid" ]; echo $?) "the header mvmtr added at end of message is in the stored message"
grep -q "postfix/cleanup\[[0-9]*\]: $qid: message-id" "$PF/maillog"
ok $? "with Postfix's queue id ($qid)"
grep -q "$qid: add header: X-Mvmtr" "$tmp/mvmtr.log"
ok $? "mvmtr's log line carries the same queue id"

send "$user+grey2@test.example"
said '<\*\* *450 4.7.1'
ok $? "another recipient is greylisted"
sleep 3.2
send "$user+grey2@test.example"
said '<- *250 2.0.0 Ok: queued'
ok $? "its retry passes: the network's second pass"
send "$user+grey3@test.example"
said '<- *250 2.0.0 Ok: queued'
ok $? "after 2 passes the network is allow-listed: a new triplet passes at once"

"$mvmcas" -s "$tmp/store" block 127.0.0.1 -r "test block" >/dev/null
send "$user@test.example"
said '<\*\* *554-5.7.1 Blocked here'
ok $? "mvmcas block: 554 at once, multi-line"
said '<\*\* *554 5.7.1 Reason: test block'
ok $? "with the reason from the block list"
"$mvmcas" -s "$tmp/store" unblock 127.0.0.1
send "$user@test.example"
said '<- *250 2.0.0 Ok: queued'
ok $? "mvmcas unblock: accepted again"
wait_for has "$md/new" 4
is "$(n_in "$md/new")" 4 "every accepted message delivered once"

# a script with nothing to do past RCPT: mvmtr accepts the message at
# DATA, so Postfix does not keep it for the content; every recipient is
# still asked about
cat >"$tmp/policy.mfl" <<'S'
void $hook_envrcpt(string $rcpt, string[] $args) {
	if ($regmatch($rcpt, "^nobody@"))
		reject :code "550" :xcode "5.1.1" "No such mailbox";
}
S
kill -HUP "$mt_pid"
wait_for grep -q "reload: .*policy.mfl compiled and in use" "$tmp/mvmtr.log"
send "$user@test.example,nobody@test.example" --header "Subject: at data"
said '<\*\* *550 5.1.1 No such mailbox'
ok $? "envelope-only script: the second recipient is refused"
said '<- *250 2.0.0 Ok: queued'
ok $? "and the message is queued for the first"
qid=$(sed -n 's/.*<- *250 2.0.0 Ok: queued as \([0-9A-Za-z]*\).*/\1/p' "$tmp/swaks.out")
wait_for grep -q "$qid: nothing to do past DATA: the message is accepted" "$tmp/mvmtr.log"
ok $? "mvmtr accepted it at DATA ($qid)"
wait_for has "$md/new" 5
is "$(n_in "$md/new")" 5 "and it is delivered once"
f=$(grep -l "^Subject: at data" "$md"/new/* 2>/dev/null | head -1)
ok $([ -n "$f" ] && ! grep -q "^X-Mvmtr:" "$f"; echo $?) "whole, with no end-of-message change"

kill "$mt_pid"
wait "$mt_pid" 2>/dev/null
mt_pid=
send "$user@test.example"
said '<\*\* *4[0-9][0-9]'
ok $? "mvmtr down: Postfix answers 4xx (milter_default_action = tempfail), nothing let in unfiltered"
done_testing
