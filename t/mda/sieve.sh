#!/bin/sh
# sieve.sh - what Sieve extensions do to delivered mail, through mvmda
# in a temporary home: imap4flags as Maildir info letters, :copy and
# :create stores, mailboxexists against the real folders, variables in
# folder names, environment in mvmda, date and spamtest on the message.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/mda.sh"
mvmda="$top_builddir/mda/mvmda"
mda_home
# as Postfix's local(8) sets them (it adds Delivered-To itself)
SENDER=alice@example.org
RECIPIENT=bob+lists@example.net
LOCAL=bob+lists
ORIGINAL_RECIPIENT=bob+lists@example.net
export SENDER RECIPIENT LOCAL ORIGINAL_RECIPIENT
cat >msg <<'M'
From: Alice <alice@example.org>
To: bob+lists@example.net
Subject: [dev] weekly numbers
Date: Mon, 2 Nov 2026 10:00:00 +0000
X-Spam-Score: 7
Message-ID: <s1@example.org>

body text
M
count() { find "$1" -type f 2>/dev/null | wc -l; }
deliver() {	# deliver SCRIPT-TEXT: run it in Sieve mode on msg
	printf '%s\n' "$1" >s.sieve
	"$mvmda" s.sieve <msg 2>err
}

deliver 'require ["imap4flags", "fileinto"];
setflag "\\Seen";
addflag "\\Flagged $Work";
fileinto "Work";'
is "$?" 0 "imap4flags: delivered"
f=$(find "$HOME/Maildir/.Work/cur" "$HOME/Maildir/.Work/new" -type f)
case $f in */cur/*:2,FS) r=0 ;; *) r=1 ;; esac
ok "$r" "flags become the Maildir info letters in cur/ (${f##*/})"

deliver 'require ["imap4flags"]; addflag "\\Answered \\Draft \\Deleted";'
f=$(find "$HOME/Maildir/cur" -type f)
case $f in *:2,DRT) r=0 ;; *) r=1 ;; esac
ok "$r" "the implicit keep carries the internal variable's flags (${f##*/})"
rm -rf "$HOME/Maildir"

deliver 'require ["copy", "fileinto"]; fileinto :copy "Archive";'
is "$(count "$HOME/Maildir/.Archive/new")" 1 "copy: stored in Archive"
is "$(count "$HOME/Maildir/new")" 1 "copy: and kept in INBOX"
rm -rf "$HOME/Maildir"

deliver 'require ["mailbox", "fileinto"];
if mailboxexists "Archive" { fileinto "Seen"; } else { fileinto :create "Archive"; }'
is "$(count "$HOME/Maildir/.Archive/new")" 1 "mailboxexists false, fileinto :create makes the folder"
deliver 'require ["mailbox", "fileinto"];
if mailboxexists "Archive" { fileinto "Seen"; } else { fileinto :create "Archive"; }'
is "$(count "$HOME/Maildir/.Seen/new")" 1 "mailboxexists sees the folder the last delivery made"
rm -rf "$HOME/Maildir"

deliver 'require ["variables", "subaddress", "envelope", "fileinto"];
if envelope :detail :matches "to" "*" { set :upperfirst "box" "${1}"; }
if header :matches "subject" "[*] *" { fileinto "${box}.${1}"; }'
is "$(count "$HOME/Maildir/.Lists.dev/new")" 1 "variables and subaddress build the folder name"
rm -rf "$HOME/Maildir"

deliver 'require ["environment", "variables", "fileinto"];
if allof (environment "location" "MDA", environment "phase" "during",
	environment :matches "host" "?*") { fileinto "Env"; }'
is "$(count "$HOME/Maildir/.Env/new")" 1 "environment: mvmda is the MDA, during delivery"
rm -rf "$HOME/Maildir"

deliver 'require ["date", "relational", "fileinto"];
if date :value "lt" :zone "+0000" "date" "date" "2026-11-03" { fileinto "Old"; }'
is "$(count "$HOME/Maildir/.Old/new")" 1 "date: the Date field, in a zone"
rm -rf "$HOME/Maildir"

deliver 'require ["spamtest", "relational", "comparator-i;ascii-numeric", "fileinto"];
if spamtest :value "ge" :comparator "i;ascii-numeric" "7" { fileinto "Junk"; }'
is "$(count "$HOME/Maildir/.Junk/new")" 1 "spamtest: X-Spam-Score 7 of 10 is 7"
rm -rf "$HOME/Maildir"

deliver 'require ["ihave", "fileinto"];
if ihave "vnd.example.future" { future "x"; } else { fileinto "Present"; }'
is "$(count "$HOME/Maildir/.Present/new")" 1 "ihave: an unknown extension's block is skipped"
rm -rf "$HOME/Maildir"

deliver 'require ["editheader", "fileinto"];
addheader "X-Filtered" "by mvmda, café";
addheader :last "X-Last" "at the end";
deleteheader "X-Spam-Score";
deleteheader "Received";
fileinto "Edited";'
f=$(find "$HOME/Maildir/.Edited/new" -type f)
ok "$(head -1 "$f" | grep -q '^X-Filtered: =?UTF-8?B?'; echo $?)" "editheader: the added field is the first line, encoded"
is "$(grep -c '^X-Spam-Score:' "$f")" 0 "editheader: the deleted field is not stored"
last_field=$(sed -n '/^$/q;p' "$f" | tail -1)
is "$last_field" "X-Last: at the end" "editheader: :last puts it after the others"
is "$(sed -n '/^$/,$p' "$f" | sed 1d)" "body text" "editheader: the body is untouched"
ok "$(grep -q '^Subject: \[dev\] weekly numbers$' "$f"; echo $?)" "editheader: other fields stay"
rm -rf "$HOME/Maildir"

# duplicate (RFC 7352): the per-user state file
dup='require ["duplicate", "fileinto"]; if duplicate { fileinto "Dups"; }'
deliver "$dup"; deliver "$dup"
is "$(count "$HOME/Maildir/new")" 1 "duplicate: the first delivery is not one"
is "$(count "$HOME/Maildir/.Dups/new")" 1 "duplicate: the second, same Message-ID, is"
ok "$([ -f "$HOME/.mvmda.state" ]; echo $?)" "duplicate: remembered in ~/.mvmda.state"
sed 's/<s1@example.org>/<s2@example.org>/' msg >msg2
printf '%s\n' "$dup" >s.sieve
"$mvmda" s.sieve <msg2 2>err
is "$(count "$HOME/Maildir/new")" 2 "duplicate: another Message-ID is not"
deliver 'require ["duplicate", "fileinto"]; if duplicate :handle "other" { fileinto "Dups"; }'
is "$(count "$HOME/Maildir/new")" 3 "duplicate: another :handle remembers apart"
deliver 'require ["duplicate", "fileinto"]; if duplicate :uniqueid "x" :seconds 0 { fileinto "Dups"; }'
deliver 'require ["duplicate", "fileinto"]; if duplicate :uniqueid "x" :seconds 0 { fileinto "Dups"; }'
is "$(count "$HOME/Maildir/.Dups/new")" 1 "duplicate: :seconds 0 forgets at once"
rm -rf "$HOME/Maildir" "$HOME/.mvmda.state"*
# a delivery that fails does not count: the MTA's retry is no duplicate
mkdir -p "$HOME/Maildir"; chmod 500 "$HOME/Maildir"
if [ "$(id -u)" -ne 0 ]; then
	deliver "$dup"; is "$?" 75 "duplicate: an unwritable Maildir is a temporary failure"
	chmod 700 "$HOME/Maildir"
	deliver "$dup"
	is "$(count "$HOME/Maildir/new")" 1 "duplicate: the retry is delivered, not taken for a duplicate"
else
	chmod 700 "$HOME/Maildir"
	printf '%s\n' "$dup" >s.sieve
	# root writes anywhere: fail the delivery with a Maildir that is a file
	rm -rf "$HOME/Maildir"; : >"$HOME/Maildir"
	"$mvmda" s.sieve <msg 2>err; is "$?" 75 "duplicate: a Maildir that cannot be written is a temporary failure"
	rm -f "$HOME/Maildir"
	deliver "$dup"
	is "$(count "$HOME/Maildir/new")" 1 "duplicate: the retry is delivered, not taken for a duplicate"
fi
rm -rf "$HOME/Maildir" "$HOME/.mvmda.state"*
# ten deliveries of one message at once: one is stored, nine are duplicates
printf '%s\n' "$dup" >s.sieve
i=0; pids=
while [ $i -lt 10 ]; do
	"$mvmda" s.sieve <msg 2>/dev/null & pids="$pids $!"
	i=$((i + 1))
done
fails=0
for p in $pids; do wait "$p" || fails=$((fails + 1)); done
is "$fails" 0 "duplicate: ten at once all succeed"
is "$(count "$HOME/Maildir/new")" 1 "duplicate: ten at once, exactly one in INBOX"
is "$(count "$HOME/Maildir/.Dups/new")" 9 "duplicate: and nine found to be duplicates"
printf 'require "fileinto"; fileinto "Dups";\n' >s.sieve
"$mvmda" -n s.sieve <msg >/dev/null
printf 'require "duplicate"; if duplicate { discard; }\n' >s.sieve
"$mvmda" -n s.sieve <msg >out
ok "$(grep -q '"action":"discard"' out; echo $?)" "duplicate: -n sees the state too"
rm -rf "$HOME/Maildir" "$HOME/.mvmda.state"*

# the controls the rc script sets are the user's script's to start with
# (before, a user's spamtest read the default header whatever the rc said)
printf '%s\n' '$namespace("", "maildir++", $HOME + "/Maildir", "maildir", ".");' \
	'$mfl_spamtest_header = "X-Foo";' '$script_run($Args[0]);' >ctl-rc.mfl
{ printf 'X-Foo: 9\n'; sed '/^X-Spam-Score/d' msg; } >ctlmsg
printf '%s\n' 'require ["spamtest", "relational", "comparator-i;ascii-numeric", "fileinto"];' \
	'if spamtest :value "ge" :comparator "i;ascii-numeric" "9" { fileinto "Junk"; }' >ctl.sieve
MVMDA_RC="$tmp/ctl-rc.mfl" "$mvmda" ctl.sieve <ctlmsg 2>err
is "$(count "$HOME/Maildir/.Junk/new")" 1 "controls: the rc script's \$mfl_spamtest_header is what the user's spamtest reads"
rm -rf "$HOME/Maildir"

# vacation (RFC 5230): the reply goes to a sendmail that records it
# (t/mda/postfix.sh hands one to a real Postfix)
recording_mta "$tmp"
sent() { ls sent.* 2>/dev/null | wc -l; }
vac() {	# vac SCRIPT [MESSAGE]: deliver with the recording sendmail
	printf '%s\n' "$1" >v.sieve
	MVMDA_RC="$tmp/rc.mfl" RECIPIENT=bob@example.net "$mvmda" v.sieve <"${2:-vmsg}" 2>err
}
cat >vmsg <<'M'
From: Alice <alice@example.org>
To: Bob <bob@example.net>
Subject: lunch?
Message-ID: <v1@example.org>
References: <v0@example.org>

are you in?
M
away='require "vacation"; vacation :days 2 :subject "Away" "I am away until Monday.";'
vac "$away"; is "$?" 0 "vacation: delivered"
is "$(count "$HOME/Maildir/new")" 1 "vacation: the message is kept too"
is "$(sent)" 1 "vacation: one reply"
is "$(sed -n 1p sent.0)" "[-oi][-f][<>][--][alice@example.org]" "vacation: from <> to the sender"
ok "$(grep -q '^Auto-Submitted: auto-replied' sent.0; echo $?)" "vacation: Auto-Submitted: auto-replied"
ok "$(grep -q '^In-Reply-To: <v1@example.org>$' sent.0; echo $?)" "vacation: In-Reply-To"
ok "$(grep -q '^References: <v0@example.org> <v1@example.org>$' sent.0; echo $?)" "vacation: References, the original's and its id"
ok "$(grep -q '^Subject: Away$' sent.0 && grep -q '^I am away until Monday.$' sent.0 \
	&& grep -q '^From: bob@example.net$' sent.0; echo $?)" "vacation: subject, reason, from the recipient"
vac "$away"
is "$(sent)" 1 "vacation: not again within :days"
vac 'require "vacation"; vacation :days 2 :subject "Away" :handle "other" "Other text.";'
is "$(sent)" 2 "vacation: another :handle answers again"
vac 'require ["vacation", "vacation-seconds"]; vacation :seconds 0 :handle "s" "x";'
vac 'require ["vacation", "vacation-seconds"]; vacation :seconds 0 :handle "s" "x";'
is "$(sent)" 3 "vacation-seconds: :seconds 0 is raised to the one-day minimum"
rm -f sent.*
SENDER=carol@example.org vac 'require "vacation"; vacation :subject "Re" "x";'
ok "$(grep -q '^Subject: Re$' sent.0 && grep -q '^To: <carol@example.org>$' sent.0; echo $?)" "vacation: another sender gets a reply"
rm -f sent.*
sed 's|^\$script_run|$mfl_vacation_subject_template = "Away: %$";\n$mfl_vacation_max_subject = 10;\n$script_run|' rc.mfl >vac-rc.mfl
printf '%s\n' 'require "vacation"; vacation "x";' >v2.sieve
SENDER=alice@example.org MVMDA_RC="$tmp/vac-rc.mfl" RECIPIENT=bob@example.net "$mvmda" v2.sieve <vmsg 2>err
ok "$(grep -q "^Subject: Away: lun$(printf '\342\200\246')\$\|^Subject: =?UTF-8?B?" sent.0 \
	&& grep -q '^To: "Alice" <alice@example.org>$' sent.0; echo $?)" \
	"vacation: \$mfl_vacation_subject_template and _max_subject shape the subject; To: carries the From's display name"
rm -f sent.*
SENDER= vac "$away"; is "$(sent)" 0 "vacation: never to the null sender"
SENDER=owner-dev@lists.example.org vac "$away"; is "$(sent)" 0 "vacation: never to owner-*"
SENDER=dev-request@lists.example.org vac "$away"; is "$(sent)" 0 "vacation: never to *-request"
SENDER=MAILER-DAEMON@example.org vac "$away"; is "$(sent)" 0 "vacation: never to MAILER-DAEMON"
for h in 'Auto-Submitted: auto-generated' 'Precedence: bulk' 'Precedence: junk' 'Precedence: list' \
	'List-Id: <dev.lists.example.org>' 'List-Unsubscribe: <mailto:x@example.org>' \
	'X-Auto-Response-Suppress: All' 'X-Auto-Response-Suppress: DR, OOF, RN'; do
	{ printf '%s\n' "$h"; cat vmsg; } >vmsg2
	SENDER=dave@example.org vac "$away" vmsg2; is "$(sent)" 0 "vacation: not for mail with $h"
done
{ printf 'Auto-Submitted: no\n'; cat vmsg; } >vmsg2
SENDER=erin@example.org vac "$away" vmsg2; is "$(sent)" 1 "vacation: Auto-Submitted: no is answered"
rm -f sent.*
{ printf 'X-Auto-Response-Suppress: DR, RN\n'; cat vmsg; } >vmsg2
SENDER=erin2@example.org vac "$away" vmsg2; is "$(sent)" 1 "vacation: X-Auto-Response-Suppress without All or OOF is answered"
rm -f sent.*
sed 's/^To: .*/To: someone@example.net/' vmsg >vmsg2
SENDER=frank@example.org vac "$away" vmsg2; is "$(sent)" 0 "vacation: not for mail not addressed to the user"
SENDER=frank@example.org vac 'require "vacation"; vacation :addresses ["someone@example.net"] "x";' vmsg2
is "$(sent)" 1 "vacation: :addresses names the user's other addresses"
ok "$(grep -q '^From: someone@example.net$' sent.0; echo $?)" \
	"vacation: the reply comes from the address the message came to (one of :addresses)"
rm -f sent.*
SENDER=bob@example.net vac "$away"; is "$(sent)" 0 "vacation: never to the user's own address"
# five deliveries from one sender at once: one answer
rm -f sent.* "$HOME/.mvmda.state"*
printf '%s\n' "$away" >v.sieve
i=0; pids=
while [ $i -lt 5 ]; do
	SENDER=grace@example.org MVMDA_RC="$tmp/rc.mfl" RECIPIENT=bob@example.net \
		"$mvmda" v.sieve <vmsg 2>/dev/null & pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
is "$(sent)" 1 "vacation: five deliveries at once, one reply"
rm -f sent.*
vac 'require "vacation"; vacation :from "not an address" "x";'
ok "$(grep -q 'is not one address' err; echo $?)" "vacation: a bad :from is a compile error"
rm -rf "$HOME/Maildir" "$HOME/.mvmda.state"* sent.*

# enotify (RFC 5435) with mailto (RFC 5436): through the recording sendmail
ntf='require ["enotify", "variables"]; if header :matches "subject" "*" { set :encodeurl "s" "${1}"; }
notify :importance "1" :from "bob@example.net" "mailto:carol@example.org%2cdave@example.org?cc=carol@example.org&subject=Mail%20about%20${s}&body=Look";
notify "mailto:dave@example.org,erin@example.org";'
vac "$ntf"; is "$?" 0 "enotify: delivered"
is "$(count "$HOME/Maildir/new")" 1 "enotify: the message is kept too (notify keeps the implicit keep)"
is "$(sent)" 3 "enotify: one message for each recipient, none twice (carol in To and Cc, dave in both URIs)"
is "$(sed -n 1p sent.0; sed -n 1p sent.1; sed -n 1p sent.2)" \
	"$(printf '[-oi][-f][bob@example.net][--][carol@example.org]\n[-oi][-f][bob@example.net][--][dave@example.org]\n[-oi][-f][postmaster@%s][--][erin@example.org]' "$(hostname)")" \
	"enotify: to carol, dave and erin; from :from, else postmaster (RFC 5436 2.3)"
ok "$(grep -q '^Subject: Mail about lunch?$' sent.0 && grep -q '^Look$' sent.0 \
	&& grep -q '^From: bob@example.net$' sent.0 && grep -q '^X-Priority: 1 (Highest)$' sent.0 \
	&& grep -q '^Auto-Submitted: auto-notified; owner-email="bob@example.net"$' sent.0; echo $?)" \
	"enotify: subject and body from the URI (:encodeurl'd), :from, :importance, Auto-Submitted"
ok "$(grep -q '^Subject: Notification: lunch?$' sent.2 && grep -q '^Notification of new message.$' sent.2; echo $?)" \
	"enotify: without them, the default subject and body"
rm -f sent.*
{ printf 'Auto-Submitted: auto-generated\n'; cat vmsg; } >vmsg2
vac "$ntf" vmsg2; is "$(sent)" 0 "enotify: no notification about an automatic message (RFC 5436 2.7)"
vac 'require "enotify"; notify "mailto:?to=Carol%20Jones%20%3Ccarol@example.org%3E";'
ok "$(grep -q '^To: Carol Jones <carol@example.org>$' sent.0; echo $?)" \
	"enotify: a recipient the URI names with a display name keeps it in To:"
rm -f sent.*
SENDER= vac 'require "enotify"; notify :from "bob@example.net" "mailto:carol@example.org";'
is "$(sed -n 1p sent.0)" "[-oi][-f][<>][--][carol@example.org]" \
	"enotify: about a message from <>, from <> whatever :from says (RFC 5436 2.3: no loops)"
rm -f sent.*
vac 'require "enotify"; notify "xmpp:bob@example.net";'
ok "$(grep -q 'invalid method' err; echo $?)" "enotify: a method other than mailto is a compile error"
rm -rf "$HOME/Maildir" "$HOME/.mvmda.state"* sent.*

# the deprecated notify (Pigeonhole's, before RFC 5435): :options are the
# recipients, :message the body with $from$ and $subject$ filled in
vac 'require "notify";
notify :low :id "n1" :options ["carol@example.org", "dave@example.org"] :message "New: $from$ about $subject$";
notify :id "n2" :options "erin@example.org";
denotify :is "n2";'
is "$?" 0 "deprecated notify: delivered"
is "$(count "$HOME/Maildir/new") $(sent)" "1 2" "deprecated notify: kept, and one message to each :options recipient (denotify took n2 back)"
ok "$(grep -q '^New: Alice <alice@example.org> about lunch?$' sent.0 \
	&& grep -q '^Subject: \[SIEVE\] New mail notification$' sent.0 \
	&& grep -q '^Auto-Submitted: auto-generated (notify)$' sent.0 && grep -q '^Importance: Low$' sent.0; echo $?)" \
	"deprecated notify: the message with its substitutions, Pigeonhole's subject, Auto-Submitted, :low"
vac 'require ["notify", "enotify"]; notify :options "carol@example.org";'
ok "$(grep -q 'notify cannot be used together with enotify\|enotify cannot be used together with notify' err; echo $?)" \
	"deprecated notify and enotify in one script: a compile error"
rm -rf "$HOME/Maildir" "$HOME/.mvmda.state"* sent.*

# vnd.dovecot.report: an RFC 5965 abuse report, from <>, the message in it
vac 'require "vnd.dovecot.report"; report "abuse" "This is spam." "abuse@example.net";'
is "$?" 0 "report: delivered"
is "$(count "$HOME/Maildir/new") $(sent)" "1 1" "report: the message kept, one report sent"
is "$(sed -n 1p sent.0)" "[-oi][-f][<>][--][abuse@example.net]" "report: from <> to the address"
ok "$(grep -q '^Content-Type: multipart/report; report-type=feedback-report;' sent.0 \
	&& grep -q '^Feedback-Type: abuse$' sent.0 && grep -q '^This is spam.$' sent.0 \
	&& grep -q '^Subject: Report: lunch?$' sent.0 && grep -q '^are you in?$' sent.0; echo $?)" \
	"report: multipart/report with the feedback type, the user's words and the message"
vac 'require "vnd.dovecot.report"; report "?????" "x" "abuse@example.net";'
ok "$(grep -q 'invalid feedback type' err; echo $?)" "report: a feedback type that is not a token is a compile error"
rm -rf "$HOME/Maildir" "$HOME/.mvmda.state"* sent.*

# replace and enclose (RFC 5703): what is stored is the new message
deliver 'require ["replace", "fileinto"]; replace :subject "Cleaned" "nothing to see";
if header :is "subject" "Cleaned" { fileinto "Replaced"; }'
f=$(find "$HOME/Maildir/.Replaced/new" -type f 2>/dev/null)
ok "$([ -n "$f" ] && grep -q '^Subject: Cleaned$' "$f" && grep -q '^Original-Subject: \[dev\] weekly numbers$' "$f" \
	&& grep -q '^nothing to see$' "$f" && ! grep -q '^body text$' "$f"; echo $?)" \
	"replace: later tests see the new message, and it is what is stored (Original-Subject kept)"
rm -rf "$HOME/Maildir"
deliver 'require "enclose"; enclose :headers ["From", "To"] "forwarded for review";'
f=$(find "$HOME/Maildir/new" -type f 2>/dev/null)
ok "$([ -n "$f" ] && grep -q '^Content-Type: multipart/mixed' "$f" && grep -q '^forwarded for review$' "$f" \
	&& grep -q '^Content-Type: message/rfc822$' "$f" && grep -q '^body text$' "$f"; echo $?)" \
	"enclose: the stored message holds the text and the original as message/rfc822"
rm -rf "$HOME/Maildir"

# special-use (RFC 8579): the rc script gives folders their flags
cat >su-rc.mfl <<'R'
$namespace("", "maildir++", $HOME + "/Maildir", "maildir", ".");
$specialuse("\\Junk", "Spam");
$script_run($Args[0]);
R
su() {	# su SCRIPT: deliver msg with that rc
	printf '%s\n' "$1" >su.sieve
	MVMDA_RC="$tmp/su-rc.mfl" "$mvmda" su.sieve <msg 2>err
}
su 'require ["special-use", "fileinto"]; fileinto :specialuse "\\Junk" "Elsewhere";'
is "$?" 0 "special-use: delivered"
is "$(count "$HOME/Maildir/.Spam/new")" 1 "special-use: into the folder the rc script gave \\Junk"
is "$(count "$HOME/Maildir/.Elsewhere")" 0 "special-use: not into the named one"
su 'require ["special-use", "fileinto"]; fileinto :specialuse "\\Sent" "Elsewhere";'
is "$(count "$HOME/Maildir/.Elsewhere/new")" 1 "special-use: a flag no folder has: the named folder"
su 'require ["special-use", "fileinto"]; if specialuse_exists "\\Junk" { fileinto "J1"; }
if specialuse_exists "Spam" "\\Junk" { fileinto "J2"; }
if specialuse_exists "INBOX" "\\Junk" { fileinto "J3"; }
if specialuse_exists ["\\Junk", "\\Trash"] { fileinto "J4"; }'
is "$(ls -d "$HOME"/Maildir/.J* 2>/dev/null | sed 's|.*/||' | tr '\n' ' ')" ".J1 .J2 " \
	"specialuse_exists: a flag some folder has, that folder's; not INBOX's, not a flag no one has"
printf '%s\n' 'require ["special-use", "fileinto"]; fileinto :specialuse "\\Junk" "x";' >su.sieve
MVMDA_RC="$tmp/su-rc.mfl" "$mvmda" -n su.sieve <msg >out 2>&1
ok "$(grep -q '"specialuse":"\\\\Junk".*"path":"[^"]*/Maildir/.Spam"' out; echo $?)" \
	"special-use: mvmda -n shows the flag and the folder it resolves to"
printf '$specialuse("Junk", "Spam");\n' >bad-rc.mfl
MVMDA_RC="$tmp/bad-rc.mfl" "$mvmda" su.sieve <msg >/dev/null 2>err
is "$?" 75 "special-use: an rc script giving a word that is no flag: tempfail"
ok "$(grep -q 'is not a special-use flag' err; echo $?)" "and says why"
rm -rf "$HOME/Maildir"

# vnd.dovecot.environment: the rc script publishes an item
cat >env-rc.mfl <<'R'
$namespace("", "maildir++", $HOME + "/Maildir", "maildir", ".");
$environment("vnd.dovecot.config.team", "dev");
$script_run($Args[0]);
R
printf '%s\n' 'require ["vnd.dovecot.environment", "variables", "fileinto"];
if environment :is "vnd.dovecot.config.team" "dev" { fileinto "Team-${env.vnd.dovecot.config.team}"; }
if environment :is "vnd.dovecot.username" "${env.vnd.dovecot.username}" { fileinto "User"; }' >env.sieve
MVMDA_RC="$tmp/env-rc.mfl" "$mvmda" env.sieve <msg 2>err
is "$(count "$HOME/Maildir/.Team-dev/new") $(count "$HOME/Maildir/.User/new")" "1 1" \
	"vnd.dovecot.environment: the rc script's \$environment item, by test and as \${env.NAME}"
rm -rf "$HOME/Maildir"

# fcc (RFC 8580): a copy of what was sent, filed
rm -f sent.* "$HOME/.mvmda.state"*
SENDER=henry@example.org vac 'require ["vacation", "fcc"]; vacation :fcc "Sent" :subject "Away" "gone fishing";'
is "$(sent)" 1 "fcc: the vacation reply is sent"
f=$(ls "$HOME/Maildir/.Sent/new/"* 2>/dev/null | head -n 1)
ok "$([ -n "$f" ] && grep -q '^Subject: Away$' "$f" && grep -q '^gone fishing$' "$f"; echo $?)" \
	"fcc: and a copy of it is in .Sent"
SENDER=henry@example.org vac 'require ["vacation", "fcc"]; vacation :fcc "Sent" :subject "Away" "gone fishing";'
is "$(count "$HOME/Maildir/.Sent/new")" 1 "fcc: no reply (answered within :days), no copy"
rm -f sent.*
vac 'require ["enotify", "fcc"]; notify :fcc "Notes" "mailto:carol@example.org,dave@example.org";'
is "$(sent) $(count "$HOME/Maildir/.Notes/new")" "2 1" "fcc: a notification to two, one copy in .Notes"
rm -rf "$HOME/Maildir" "$HOME/.mvmda.state"* sent.*
# :fcc's :create, :flags and :specialuse (RFC 8580 4)
sed 's|^\$script_run|$specialuse("\\\\Sent", "SentItems");\n$script_run|' rc.mfl >fcc-rc.mfl
printf '%s\n' 'require ["vacation", "fcc", "imap4flags", "mailbox", "special-use"];' \
	'vacation :fcc "Sent" :create :flags "\\Seen" :specialuse "\\Sent" :subject "Away" "gone";' >fcc.sieve
SENDER=ivan@example.org MVMDA_RC="$tmp/fcc-rc.mfl" RECIPIENT=bob@example.net "$mvmda" fcc.sieve <vmsg 2>err
f=$(ls "$HOME/Maildir/.SentItems/cur/"* 2>/dev/null | head -n 1)
ok "$([ -n "$f" ] && case $f in *:2,S) true ;; *) false ;; esac && grep -q '^Subject: Away$' "$f"; echo $?)" \
	"fcc :specialuse \\Sent files the copy where the rc script put that flag, :flags \\Seen on it (${f##*/})"
vac 'require ["vacation", "fcc", "imap4flags"]; vacation :flags "\\Seen" "gone";'
ok "$(grep -q 'go with :fcc' err; echo $?)" "fcc: :flags without :fcc is a compile error"
rm -rf "$HOME/Maildir" "$HOME/.mvmda.state"* sent.*

# extlists (RFC 6134): the lists the rc script reads
printf '# friends\n  Alice@Example.org  \n\ncarol@example.org\n' >friends
cat >xl-rc.mfl <<R
\$namespace("", "maildir++", \$HOME + "/Maildir", "maildir", ".");
\$extlist(":addrbook:friends", "$tmp/friends");
\$script_run(\$Args[0]);
R
xl() {	# xl SCRIPT: deliver msg with that rc
	printf '%s\n' "$1" >xl.sieve
	MVMDA_RC="$tmp/xl-rc.mfl" "$mvmda" xl.sieve <msg 2>err
}
xl 'require ["extlists", "fileinto", "envelope"];
if address :all :list "from" ":addrbook:friends" { fileinto "Friends"; }
if envelope :list "from" ":addrbook:friends" { fileinto "EnvFriends"; }
if address :list "to" ":addrbook:friends" { fileinto "ToFriend"; }
if valid_ext_list ":addrbook:friends" { fileinto "Valid"; }
if valid_ext_list [":addrbook:friends", ":addrbook:enemies"] { fileinto "BothValid"; }
if address :list "from" ":addrbook:enemies" { fileinto "Enemies"; }'
is "$?" 0 "extlists: delivered"
is "$(ls -d "$HOME"/Maildir/.* 2>/dev/null | sed 's|.*/\.||' | grep -v '^\.*$' | sort | tr '\n' ' ')" "EnvFriends Friends Valid " \
	"extlists: :list finds alice (any case, trimmed) in the file, by address and envelope; not the To; valid_ext_list knows the list and no other"
printf '%s\n' '$extlist(":addrbook:x", "/nonexistent/list");' >bad-rc.mfl
MVMDA_RC="$tmp/bad-rc.mfl" "$mvmda" xl.sieve <msg >/dev/null 2>err
is "$?" 75 "extlists: a list file that cannot be read: tempfail"
ok "$(grep -q '/nonexistent/list: No such file' err; echo $?)" "and the log names it"
rm -rf "$HOME/Maildir"

deliver 'require ["ihave", "fileinto"]; fileinto "Lost"; error "stop here";'
is "$?" 0 "error: still delivered"
is "$(count "$HOME/Maildir/new")" 1 "error: the message goes to INBOX, the fileinto dropped"
ok "$(grep -q 'error: stop here' err; echo $?)" "error: the script's message is logged"
done_testing
