#!/bin/sh
# hostile.sh - mvmda against what a hostile user, a broken MTA or a
# crashed writer leaves where it delivers: FIFOs where it opens a file
# (never a hang), symlinks planted in a maildir or as an mbox or its
# lock (refused, and a permanent condition is not a temporary one), an
# mbox another program appended to after a crashed delivery (its mail
# is never cut away).
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/mda.sh"
mvmda="$top_builddir/mda/mvmda"
mda_home
command -v timeout >/dev/null 2>&1 || skip_all "timeout (coreutils) is not installed"

# the rc script: ~/Maildir (Maildir++), mbox files under ~/mail as mb/
mda_rc_folders
cat >msg <<'M'
From: Alice <alice@example.org>
To: bob@example.net
Subject: hello

body
M
count() { find "$1" -type f 2>/dev/null | wc -l; }
deliver() {	# folder: fileinto it through a script, within 20 s
	printf 'fileinto "%s";\n' "$1" >f.mfl
	timeout 20 "$mvmda" f.mfl <msg 2>err
}
mkdir -p "$HOME/mail"
outside="$tmp/outside"
mkdir -p "$outside"

# FIFOs: mvmda opened them blocking and hung, holding the mbox's lock
mkfifo "$HOME/mail/box.lock"
deliver mb/box; rc=$?
is "$rc" 0 "a FIFO as the mbox's dot-lock: no hang, delivered"
is "$(count "$HOME/Maildir/new")" 1 "to INBOX instead"
ok "$(grep -q 'refused: the dot-lock of box: not a regular file; delivering to INBOX instead' err; echo $?)" \
	"and the log says why"
rm -f "$HOME/mail/box.lock"
mkfifo "$HOME/mail/fifo"
deliver mb/fifo; is "$?" 0 "a FIFO as the mbox: no hang"
ok "$(grep -q 'refused: fifo: not a regular file' err; echo $?)" "refused as not a regular file"
# maildirfolder is made (opened) only with the folder's tmp, new and
# cur: a FIFO there in a folder that has them is never opened
mkdir -p "$HOME/Maildir/.F/tmp" "$HOME/Maildir/.F/new" "$HOME/Maildir/.F/cur"
mkfifo "$HOME/Maildir/.F/maildirfolder"
deliver F; is "$?:$(count "$HOME/Maildir/.F/new")" 0:1 \
	"a FIFO as maildirfolder of a whole folder: not opened, delivered"
mkdir -p "$HOME/Maildir/.G"
mkfifo "$HOME/Maildir/.G/maildirfolder"
deliver G; is "$?" 0 "a FIFO as maildirfolder where tmp, new, cur are made: no hang"
is "$(count "$HOME/Maildir/.G/new")" 0 "nothing into that folder"
printf 'fileinto "Cached";\n' >c.mfl
mkfifo c.mfl.mflc
timeout 20 "$mvmda" c.mfl <msg 2>err; is "$?" 0 "a FIFO as a script's compiled cache: no hang"
is "$(count "$HOME/Maildir/.Cached/new")" 1 "the script ran, compiled afresh"
mkfifo fifo.mfl
timeout 20 "$mvmda" fifo.mfl <msg 2>err; is "$?" 0 "a FIFO as the script: no hang"
ok "$(grep -q 'fifo.mfl: error: not a regular file' err; echo $?)" "the script is refused"
rm -rf "$HOME/Maildir"

# symlinks in a maildir lead out of the namespace root: refused
mkdir -p "$HOME/Maildir/.Out/new" "$HOME/Maildir/.Out/cur"
ln -s "$outside" "$HOME/Maildir/.Out/tmp"
deliver Out; is "$?" 0 "tmp/ a symlink out of the root: delivered elsewhere"
is "$(count "$outside")" 0 "nothing written where it leads"
is "$(count "$HOME/Maildir/new")" 1 "into INBOX instead"
ok "$(grep -q 'refused: tmp is a symbolic link' err; echo $?)" "the log says why"
rm "$HOME/Maildir/.Out/tmp"
mkdir "$HOME/Maildir/.Out/tmp"
rmdir "$HOME/Maildir/.Out/new"
ln -s "$outside" "$HOME/Maildir/.Out/new"
deliver Out; is "$?" 0 "new/ a symlink out of the root"
is "$(count "$outside")" 0 "nothing written there either"
is "$(count "$HOME/Maildir/.Out/tmp")" 0 "nor left in tmp/"
rm -rf "$HOME/Maildir"

# a symlink as the mbox or as its lock: a permanent condition, not 75
ln -s "$outside/target" "$HOME/mail/sym"
deliver mb/sym; is "$?" 0 "a symlink as the mbox: delivered to INBOX, not deferred"
ok "$([ ! -e "$outside/target" ]; echo $?)" "the link's target is not made"
ok "$(grep -q 'refused: sym: a symbolic link; delivering to INBOX instead' err; echo $?)" \
	"the log says why"
ln -s "$outside/lock" "$HOME/mail/box2.lock"
deliver mb/box2; is "$?" 0 "a symlink as the dot-lock: delivered to INBOX"
is "$(count "$HOME/Maildir/new")" 2 "both into INBOX"
cat >inboxrc.mfl <<R
\$namespace("", "fs", \$HOME + "/mail", "mbox", "/", "$HOME/inbox.mbox");
R
ln -s "$outside/inbox" "$HOME/inbox.mbox"
MVMDA_RC="$tmp/inboxrc.mfl" timeout 20 "$mvmda" <msg 2>err
is "$?" 73 "the default mailbox itself a symlink: a permanent failure (EX_CANTCREAT)"
ok "$(grep -q 'result=bounced: refused: inbox.mbox: a symbolic link' err; echo $?)" \
	"logged as bounced"
rm -rf "$HOME/Maildir" "$HOME/inbox.mbox"

# a crashed delivery's journal, then another program's append: the
# repair must not cut that program's message
host=$(hostname)
{ printf 'From a@example.org Sat Nov 22 10:00:00 2026\nSubject: first\n\none\n\n'; } >"$HOME/mail/box"
size=$(wc -c <"$HOME/mail/box")
printf '999999999 %s %s\n' "$host" "$size" >"$HOME/mail/box.lock"	# a dead writer
printf 'From crashed@example.org Sat Nov 22 10:01:00 2026\nSubject: half\n\npar' >>"$HOME/mail/box"
printf '\n\nFrom other@example.org Sat Nov 22 10:02:00 2026\nSubject: other\n\nkept\n\n' \
	>>"$HOME/mail/box"
deliver mb/box; is "$?" 0 "delivered after the crashed one and the other program's"
is "$(grep -c '^Subject: other' "$HOME/mail/box")" 1 "the other program's message is still there"
is "$(grep -c '^Subject: hello' "$HOME/mail/box")" 1 "and ours after it"
ok "$(grep -q 'not cut: another program appended to it since' err; echo $?)" \
	"the half message is left, and the log says why"
# the same journal with nobody after it: the half message is cut
{ printf 'From a@example.org Sat Nov 22 10:00:00 2026\nSubject: first\n\none\n\n'; } >"$HOME/mail/box"
printf '999999999 %s %s\n' "$host" "$size" >"$HOME/mail/box.lock"
printf 'From crashed@example.org Sat Nov 22 10:01:00 2026\nSubject: half\n\npar' >>"$HOME/mail/box"
deliver mb/box; is "$?" 0 "a crashed delivery alone"
is "$(grep -c '^Subject: half' "$HOME/mail/box")" 0 "its half message is cut"
is "$(grep -c '^From ' "$HOME/mail/box")" 2 "two whole messages"
# a journal of this mvmda names the file: a replaced mbox is not cut
ino=$(stat -c %i "$HOME/mail/box")
dev=$(stat -c %d "$HOME/mail/box")
printf '999999999 %s 10 %s %s 100000\n' "$host" "$dev" "$((ino + 1))" >"$HOME/mail/box.lock"
cp "$HOME/mail/box" box.before
deliver mb/box; is "$?" 0 "a journal naming another file"
ok "$(head -c "$(wc -c <box.before)" "$HOME/mail/box" | cmp -s - box.before; echo $?)" \
	"nothing is cut"
is "$(grep -c '^Subject: hello' "$HOME/mail/box")" 2 "ours is appended"
ok "$(grep -q 'not cut: the mbox was replaced since' err; echo $?)" "and the log says why"

# a broken MTA's sender with a newline and spaces: one From line still
rm -f "$HOME/mail/box" "$HOME/mail/box.lock"
SENDER="$(printf 'a b\nFrom evil@example.org Mon Jan  1 00:00:00 2026\n@example.org')" \
	deliver mb/box
is "$?" 0 "a sender with a newline in it: delivered"
is "$(grep -c '^From ' "$HOME/mail/box")" 1 "into one message, not a forged second one"
ok "$(head -1 "$HOME/mail/box" | grep -q '^From "a b?From evil@example.org Mon Jan  1 00:00:00 2026?"@example.org '; echo $?)" \
	"its From line quotes the local part and shows the newlines as ?"

# a message handed over with CRLF line ends is stored with LF alone, not
# with mvmda's own lines in LF and the rest in CRLF
rm -rf "$HOME/Maildir" "$HOME/mail/box"
printf 'From: a@example.org\r\nSubject: crlf\r\n\r\nline one\r\nline two\r\n' >crlf
printf 'keep;\nfileinto "mb/box";\n' >both.mfl
RECIPIENT=bob@example.net timeout 20 "$mvmda" both.mfl <crlf 2>err
is "$?" 0 "a CRLF message: delivered"
f=$(find "$HOME/Maildir/new" -type f)
is "$(tr -cd '\r' <"$f" | wc -c)" 0 "the Maildir copy has no CR left"
is "$(sed -n 2p "$f")" "Subject: crlf" "header lines end in LF"
is "$(sed -n 4p "$f")" "line one" "the body's too"
is "$(tr -cd '\r' <"$HOME/mail/box" | wc -c)" 0 "the mbox copy too"

# nothing on standard input is a broken MTA pipe, not an empty message
rm -rf "$HOME/Maildir"
: | timeout 20 "$mvmda" 2>err
is "$?" 75 "empty standard input: a temporary failure"
ok "$(grep -q 'the MTA handed over an empty message' err; echo $?)" "with a clear log line"
is "$(count "$HOME/Maildir/new")" 0 "and nothing stored"

# error messages name the path and the reason
"$mvmda" -m ../Up <msg 2>err; is "$?" 75 "an invalid -m: kept by the MTA"
ok "$(grep -q "folder=\"../Up\".*result=deferred: folder name has.*(the default mailbox: fix -m or \\\$mvmda_default_mailbox)" err \
	&& ! grep -q 'instead' err; echo $?)" \
	"the log says the default mailbox is the admin's to fix, not its own fallback"
printf 'x' >"$tmp/plainfile"
cat >rootrc.mfl <<R
\$namespace("", "maildir++", "$tmp/plainfile/Maildir", "maildir", ".");
R
MVMDA_RC="$tmp/rootrc.mfl" "$mvmda" <msg 2>err; is "$?" 75 "a namespace root that cannot be made"
ok "$(grep -q "cannot open namespace root $tmp/plainfile/Maildir: Not a directory" err; echo $?)" \
	"the log names the root and the reason"
cat >lockrc.mfl <<'R'
$namespace("", "fs", $HOME + "/mail", "mbox", "/");
$mvmda_lock_timeout = 1;
R
: >"$HOME/mail/INBOX"
python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "r+"); fcntl.lockf(f, fcntl.LOCK_EX); print("locked", flush=True); time.sleep(6)' \
	"$HOME/mail/INBOX" >locker.out &
locker=$!
i=0
while [ ! -s locker.out ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
MVMDA_RC="$tmp/lockrc.mfl" "$mvmda" <msg 2>err; is "$?" 75 "an mbox locked past the timeout: kept by the MTA"
ok "$(grep -q 'cannot lock INBOX: still locked by another writer after 1 s (\$mvmda_lock_timeout)' err \
	&& ! grep -q 'Connection timed out' err; echo $?)" "said so, not as 'Connection timed out'"
kill "$locker" 2>/dev/null
wait "$locker" 2>/dev/null

# a fileinto done, then a redirect that fails for now: the MTA's retry
# must not file a second copy (every retry filed one more)
rm -rf "$HOME/Maildir" "$HOME/.mvmda.state" "$HOME/.mvmda.state-lock"
mkdir -p mta
cat >mta/sendmail <<'SM'
#!/bin/sh
dir=$(dirname "$0")
[ -e "$dir/fail" ] && exit 75
n=$(ls "$dir"/sent.* 2>/dev/null | wc -l)
cat >"$dir/sent.$n"
SM
chmod +x mta/sendmail
cat >fwdrc.mfl <<R
\$namespace("", "maildir++", \$HOME + "/Maildir", "maildir", ".");
\$mvmda_sendmail = "$tmp/mta/sendmail";
\$script_run(\$Args[0]);
R
printf 'fileinto "Copies";\nredirect "elsewhere@example.org";\n' >fwd.mfl
touch mta/fail
MVMDA_RC="$tmp/fwdrc.mfl" "$mvmda" fwd.mfl <msg 2>err
is "$?" 75 "the redirect fails for now: 75, the MTA keeps the message"
is "$(count "$HOME/Maildir/.Copies/new")" 1 "the fileinto before it was done"
rm mta/fail
MVMDA_RC="$tmp/fwdrc.mfl" "$mvmda" fwd.mfl <msg 2>err
is "$?" 0 "the MTA's retry: delivered"
is "$(count "$HOME/Maildir/.Copies/new")" 1 "without a second copy in the folder"
is "$(ls mta/sent.* 2>/dev/null | wc -l)" 1 "and the redirect sent once"
MVMDA_RC="$tmp/fwdrc.mfl" "$mvmda" fwd.mfl <msg 2>err
is "$(count "$HOME/Maildir/.Copies/new")" 2 \
	"a later delivery of the same message is a delivery again (the record went when all was done)"

# the state file (duplicate ids, vacation replies) cut short on disk: the
# delivery keeps the message and says why (every delivery to the user
# died of SIGBUS and was deferred until the queue gave up)
rm -rf "$HOME/Maildir" "$HOME/.mvmda.state" "$HOME/.mvmda.state-lock"
cat >dup.sieve <<'S'
require ["duplicate", "variables", "fileinto"];
if header :matches "subject" "*" { set "s" "${1}"; }
if duplicate :uniqueid "${s}" { fileinto "Dup"; }
S
i=0
while [ $i -lt 60 ]; do
	printf 'From: a@example.org\nSubject: %0400d\n\nbody\n' "$i" | "$mvmda" dup.sieve 2>/dev/null
	i=$((i + 1))
done
is "$(count "$HOME/Maildir/new")" 60 "sixty messages, each id once"
truncate -s 8192 "$HOME/.mvmda.state"
printf 'From: a@example.org\nSubject: %0400d\n\nbody\n' 7 | "$mvmda" dup.sieve 2>err
is "$?" 0 "a state file cut short: delivered, no SIGBUS"
is "$(count "$HOME/Maildir/new")" 61 "kept in INBOX (the duplicate test could not tell)"
ok "$(grep -q 'mvmda.state: damaged: the file is 8192 bytes, its pages reach .*move it aside' err; echo $?)" \
	"the log names the file, what is wrong and what to do"
done_testing
