#!/bin/sh
# options.sh - mvmda run as an MTA runs it, in a temporary home: every
# option (-b -c -d -e -E -i -m -n -p -S -v -V and the obsolete ones),
# the rc script's variables and hooks, loop refusal, qmail exit codes,
# script errors falling back to the default mailbox, redirect and reject
# handed to a sendmail program with the right arguments.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/mda.sh"
mvmda="$top_builddir/mda/mvmda"
mda_home

cat >msg <<'M'
From: Alice <alice@example.org>
To: bob@example.net
Subject: hello
Message-ID: <m1@example.org>

From the start
body
M
count() { find "$1" -type f 2>/dev/null | wc -l; }

# -v, -V
is "$("$mvmda" -v | grep -c '^[0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*$')" 1 "-v prints major.minor.fix"
"$mvmda" -V >v1
is "$(sed -n 1p v1)" "# mvmda $("$mvmda" -v)" "-V starts with the version"
is "$(sed -n 2p v1)" "# rc: $MVMDA_RC" "then the rc path"
ok "$(grep -q '^\$mvmda_default_mailbox = "INBOX";$' v1; echo $?)" "-V prints the controls"
ok "$(grep -q '^\$mfl_limit_actions = 32;$' v1; echo $?)" "the language's too"
"$mvmda" -S -m Junk.Spam -V >v2
ok "$(grep -q '^\$mvmda_default_mailbox = "Junk.Spam";$' v2 && grep -q '^\$mfl_mode_sieve = 1;$' v2; echo $?)" \
	"-m and -S show in -V"
# read back: the controls -V printed, run as MFL, give the same controls
{ sed 1,2d v2; echo '$log($controls());'; } | "$mvmda" -i >v3 2>err
sed 1,2d v2 >v2.controls
sed '/^{/d' v3 >v3.controls
ok "$(cmp -s v2.controls v3.controls; echo $?)" "-V output read back gives the same -V output"
"$mvmda" -V -V | grep -q 'built-in rc script' && builtin=1 || builtin=0
if [ "$builtin" = 0 ]; then
	"$mvmda" -V -V >v4
	ok "$(cmp -s v1 v4; echo $?)" "-V -V without a built-in script: the same"
	"$mvmda" -b <msg 2>err; is "$?" 75 "-b without --enable-builtin-rc: temporary failure"
	ok "$(grep -q 'built without --enable-builtin-rc' err; echo $?)" "and says why"
else
	"$mvmda" -V -V >v4
	ok "$(grep -q '^#| \$namespace(' v4; echo $?)" "-V -V prints the built-in script"
	MVMDA_RC=/nonexistent "$mvmda" -b <msg; is "$?" 0 "-b delivers without any rc file"
	is "$(count "$HOME/Maildir/new")" 1 "into INBOX"
	rm -rf "$HOME/Maildir"
fi

# -n: nothing delivered, actions with paths; an rc script with a second
# namespace (only the rc script may map folders)
cat >mbrc.mfl <<'R'
$namespace("", "maildir++", $HOME + "/Maildir", "maildir", ".");
$namespace("mb/", "fs", $HOME + "/mail", "mbox", "/");
$header_prepend("Delivered-To", $RECIPIENT);
for (int $i = 0; $i < $length($Args); $i++)
	$script_run($Args[$i]);
R
cat >s.mfl <<'S'
if (header :contains "subject" "hello")
	fileinto "Lists.dev";
fileinto "mb/archive";
S
MVMDA_RC="$tmp/mbrc.mfl" "$mvmda" -n s.mfl <msg >out
is "$(sed -n 1p out)" "{\"action\":\"fileinto\",\"mailbox\":\"Lists.dev\",\"copy\":false,\"flags\":[],\"path\":\"$HOME/Maildir/.Lists.dev\",\"storage\":\"maildir\"}" \
	"-n: fileinto with path and storage"
is "$(sed -n 2p out)" "{\"action\":\"fileinto\",\"mailbox\":\"mb/archive\",\"copy\":false,\"flags\":[],\"path\":\"$HOME/mail/archive\",\"storage\":\"mbox\"}" \
	"-n: an mbox namespace"
is "$(sed -n 3p out)" '{"status":"ok"}' "-n: status line"
ok "$([ ! -e "$HOME/Maildir" ] && [ ! -e "$HOME/mail" ]; echo $?)" "-n delivers nothing"

# delivery as -n said
MVMDA_RC="$tmp/mbrc.mfl" "$mvmda" s.mfl <msg; is "$?" 0 "delivered"
is "$(count "$HOME/Maildir/.Lists.dev/new")" 1 "into .Lists.dev/new"
ok "$([ -f "$HOME/Maildir/.Lists.dev/maildirfolder" ]; echo $?)" "Maildir++ subfolder has maildirfolder"
is "$(grep -c '^From ' "$HOME/mail/archive")" 1 "and the mbox has one message"
is "$(grep -c '^>From the start' "$HOME/mail/archive")" 1 "quoted mboxrd-style"
f=$(find "$HOME/Maildir/.Lists.dev/new" -type f)
is "$(sed -n 1p "$f")" "Delivered-To: $(id -un)" "the copy carries Delivered-To"
is "$(sed -n 7p "$f")" "From the start" "Maildir copies are not quoted"
rm -rf "$HOME/Maildir" "$HOME/mail"

# the user's default script, else plain implicit keep
"$mvmda" <msg; is "$?" 0 "no script: implicit keep"
is "$(count "$HOME/Maildir/new")" 1 "into INBOX"
printf 'require "fileinto"; fileinto "Default";\n' >"$HOME/.mvmda.sieve"
"$mvmda" <msg; is "$(count "$HOME/Maildir/.Default/new")" 1 "~/.mvmda.sieve runs when no script is named"
rm -rf "$HOME/Maildir" "$HOME/.mvmda.sieve"
"$mvmda" -m Other <msg; is "$(count "$HOME/Maildir/.Other/new")" 1 "-m: implicit keep goes there"
rm -rf "$HOME/Maildir"

# -S: any file in Sieve mode
printf 'require "fileinto";\nif header :is "subject" "hello" { fileinto "S"; }\n' >sieve.txt
"$mvmda" -S -n sieve.txt <msg >out
ok "$(grep -q '"mailbox":"S"' out; echo $?)" "-S reads scripts in Sieve mode"
"$mvmda" -n sieve.txt <msg >out 2>err
ok "$(grep -q '"implicit":true' out && grep -q 'sieve.txt:[0-9]*:[0-9]*: error:' err; echo $?)" \
	"without -S the same file is MFL, fails to compile, and is logged with file:line"

# script errors never lose the message
printf 'fileinto "A" \n' >bad.mfl
"$mvmda" bad.mfl <msg 2>err; is "$?" 0 "compile error: still delivered"
is "$(count "$HOME/Maildir/new")" 1 "into the default mailbox"
ok "$(grep -q 'bad.mfl:2:1: error:' err; echo $?)" "the error is logged with file:line:col"
printf 'int $z = 0; fileinto "A"; int $x = 1 / $z;\n' >rt.mfl
"$mvmda" rt.mfl <msg 2>err; is "$?" 0 "runtime error: still delivered"
is "$(count "$HOME/Maildir/new")" 2 "by implicit keep, the fileinto dropped"
ok "$([ ! -d "$HOME/Maildir/.A" ]; echo $?)" "nothing in A"
printf 'fileinto "../../etc";\n' >esc.mfl
"$mvmda" esc.mfl <msg 2>err; is "$?" 0 "a folder outside the root: delivered instead"
is "$(count "$HOME/Maildir/new")" 3 "to the default mailbox"
ok "$(grep -q 'folder name has' err; echo $?)" "and logged"
rm -rf "$HOME/Maildir"

# '/' is a level in a Maildir++ namespace, as IMAP clients show it (the
# docs' fileinto "Lists/dev" was refused and kept in INBOX)
printf 'require "fileinto";\nfileinto "Lists/dev";\n' >slash.sieve
"$mvmda" slash.sieve <msg 2>err; is "$?" 0 "fileinto \"Lists/dev\": delivered"
is "$(count "$HOME/Maildir/.Lists.dev/new")" 1 "into .Lists.dev, the folder \"Lists.dev\" names too"
printf 'require "fileinto";\nfileinto "Lists//dev";\n' >slash2.sieve
"$mvmda" slash2.sieve <msg 2>err
is "$(count "$HOME/Maildir/new")" 1 "an empty level (\"Lists//dev\") is refused: the default mailbox"
rm -rf "$HOME/Maildir"

# the user's own log file, when the rc script names one ($mvmda_logfile):
# their script's $log lines, its errors, where the mail went
cat >logrc.mfl <<'R'
$namespace("", "maildir++", $HOME + "/Maildir", "maildir", ".");
$mvmda_logfile = $HOME + "/.mvmda.log";
$script_run($Args[0]);
R
printf '$log("hello from my script");\nfileinto "Mine";\nint $z = 0;\nint $x = 1 / $z;\n' >mine.mfl
MVMDA_RC="$tmp/logrc.mfl" "$mvmda" mine.mfl <msg 2>err; is "$?" 0 "a script that fails: delivered"
ok "$(grep -q 'script: hello from my script' "$HOME/.mvmda.log"; echo $?)" \
	"the user's log file has their \$log line"
ok "$(grep -q 'mine.mfl:4: runtime error: division by zero; keeping the message' "$HOME/.mvmda.log"; echo $?)" \
	"and their script's error"
ok "$(grep -q 'result=delivered' "$HOME/.mvmda.log"; echo $?)" "and where the mail went"
ok "$(grep -q '^[0-9-]* [0-9:]* ' "$HOME/.mvmda.log"; echo $?)" "each line with the time"
ok "$([ "$(stat -c %a "$HOME/.mvmda.log")" = 600 ]; echo $?)" "the file is the user's alone (0600)"
rm -f "$HOME/.mvmda.log"
"$mvmda" mine.mfl <msg 2>err
ok "$([ ! -e "$HOME/.mvmda.log" ]; echo $?)" "off by default: no log file without the control"
ln -s /etc/passwd "$HOME/.mvmda.log"
MVMDA_RC="$tmp/logrc.mfl" "$mvmda" mine.mfl <msg 2>err; is "$?" 0 "a log file that is a symlink: delivered"
ok "$(! grep -q 'hello from my script' /etc/passwd; echo $?)" "nothing written where it leads"
rm -f "$HOME/.mvmda.log"
rm -rf "$HOME/Maildir"

# a user's script may not use the rc script's functions: a script that
# runs itself recursed until SIGSEGV; the others map folders, add header
# lines or read the MTA's environment
printf '$script_run("%s/self.mfl");\n' "$tmp" >self.mfl
"$mvmda" self.mfl <msg 2>err; is "$?" 0 "a script that runs itself: delivered, no crash"
is "$(count "$HOME/Maildir/new")" 1 "by implicit keep"
ok "$(grep -q 'self.mfl:1: runtime error: \$script_run is for the rc script only' err; echo $?)" \
	"and the error names the function"
printf 'if (1) fileinto "A";\n$script_run("%s/self.mfl");\n' "$tmp" >other.mfl
printf '$script_run("%s/other.mfl");\n' "$tmp" >self.mfl
"$mvmda" self.mfl <msg 2>err; is "$?" 0 "two scripts that run each other: delivered"
for call in '$namespace("x/", "fs", "/tmp", "mbox", "/")' '$header_prepend("X-A", "b")' \
	'string $p = $getenv("PATH")'; do
	printf '%s;\nfileinto "B";\n' "$call" >user.mfl
	"$mvmda" user.mfl <msg 2>err
	ok "$(grep -q 'user.mfl:1: runtime error: \$[a-z_]* is for the rc script only' err \
		&& [ ! -d "$HOME/Maildir/.B" ]; echo $?)" "a user script may not call ${call%%(*}"
done
is "$(count "$HOME/Maildir/new")" 5 "each of them kept in INBOX"
# calls alike share one site (mfl/compile_share.c): what a call does
# is still reported at its own line, not at the first alike call's
printf 'if (0) $script_run("%s/self.mfl");\n\n$script_run("%s/self.mfl");\n' "$tmp" "$tmp" >twice.mfl
"$mvmda" twice.mfl <msg 2>err; is "$?" 0 "a shared call's runtime error: delivered"
ok "$(grep -q 'twice.mfl:3: runtime error: \$script_run is for the rc script only' err; echo $?)" \
	"the error names the line of the call that ran"
printf 'if header :is "subject" "no" {\n  discard;\n}\nif header :is "subject" "hello" {\n  discard;\n}\n' \
	>twice.sieve
MVMDA_RC="$tmp/logrc.mfl" "$mvmda" twice.sieve <msg 2>err; is "$?" 0 "a shared discard"
ok "$(grep -q 'result=discarded (.*twice.sieve:5)' "$HOME/.mvmda.log"; echo $?)" \
	"is logged at the line of the discard that ran"
rm -f "$HOME/.mvmda.log"
ok "$(! grep -rq '^X-A:' "$HOME/Maildir"; echo $?)" "with no header line added"
rm -rf "$HOME/Maildir"

# -c: check mode
"$mvmda" -c s.mfl >out 2>err; is "$?" 0 "-c: a good script"
ok "$(grep -q ': ok$' out; echo $?)" "-c says ok"
"$mvmda" -c s.mfl bad.mfl >out 2>err; is "$?" 1 "-c: a bad script fails"
ok "$(grep -q '^bad.mfl:2:1: error: ' err; echo $?)" "-c reports file:line:col: error:"
ok "$([ ! -e "$HOME/Maildir" ]; echo $?)" "-c delivers nothing"
cat >rc.mfl <<'R'
$namespace("", "maildir++", $HOME + "/Maildir", "maildir", ".");
if ($Opts_c) $log("check mode is on");
R
MVMDA_RC="$tmp/rc.mfl" "$mvmda" -c >out 2>err
ok "$(grep -q 'check mode is on' err; echo $?)" "the rc script sees check mode"
printf 'if (1 {\n' >badrc.mfl
MVMDA_RC="$tmp/badrc.mfl" "$mvmda" -c >out 2>err; is "$?" 1 "-c: a broken rc script fails"
ok "$(grep -q 'badrc.mfl:1:7: error:' err; echo $?)" "with its position"
MVMDA_RC="$tmp/badrc.mfl" "$mvmda" <msg 2>err; is "$?" 75 "a broken rc script: temporary failure"
# hooks with the wrong signature are found by -c, not at every delivery
printf 'int $hook_exitcode(string $code) { return 0; }\n' >hookrc.mfl
MVMDA_RC="$tmp/hookrc.mfl" "$mvmda" -c >out 2>err; is "$?" 1 "-c: a hook with the wrong parameters fails"
ok "$(grep -q "hookrc.mfl:1:5: error: '\$hook_exitcode' takes (int)" err; echo $?)" \
	"and says what the hook takes"
printf 'void $hook_msg_read_afterwards() { }\n' >hookrc.mfl
MVMDA_RC="$tmp/hookrc.mfl" "$mvmda" -c >out 2>err; is "$?" 1 "-c: a misspelt hook fails"
ok "$(grep -q "unknown hook '\$hook_msg_read_afterwards' (this host calls \$hook_exitcode, \$hook_msg_read_after)" err; echo $?)" \
	"and names the hooks mvmda calls"

# -e, -E and the other variables
cat >rc.mfl <<'R'
$namespace("", "maildir++", $HOME + "/Maildir", "maildir", ".");
$log($sprintf("e=%d/%d E=%d/%d e0=[%s] user=%s n=%d p=%d m=%s",
	$Opts_eL, $Opts_eC, $Opts_EL, $Opts_EC, $Opts_e[0], $USER, $Opts_n, $Opts_p, $Opts_m));
fileinto $join($Opts_e, "-") + $join($Opts_E, "");
R
MVMDA_RC="$tmp/rc.mfl" "$mvmda" -n <msg >out 2>err
ok "$(grep -q "e=1/0 E=1/0 e0=\[\] user=$(id -un) n=1 p=0 m=" err; echo $?)" \
	"no -e: \$Opts_eL 1, \$Opts_eC 0, \$Opts_e[0] empty"
MVMDA_RC="$tmp/rc.mfl" "$mvmda" -n -p -e a -e b -E c -m X <msg >out 2>err
ok "$(grep -q 'e=2/2 E=1/1 e0=\[a\] .* n=1 p=1 m=X' err; echo $?)" "-e twice, -E once, -p, -m"
ok "$(grep -q '"mailbox":"a-bc"' out; echo $?)" "the arrays hold the strings"

# obsolete options; a bad one
"$mvmda" -l fs -q -r /x -s mbox -n <msg >out 2>err; is "$?" 0 "-l -q -r -s are accepted"
is "$(grep -c 'obsolete and ignored' err)" 4 "each with a note"
"$mvmda" -Z <msg 2>err; is "$?" 75 "an unknown option: temporary failure, mail kept by the MTA"
ok "$(grep -q '^usage: mvmda' err; echo $?)" "with the usage"

# -i
printf '%s\n' 'int $n = 2;' 'if ($n > 1) {' '  $log("big");' '}' 'fileinto "X" ' 'fileinto "W";' 'fileinto "Y";' \
	'$log($sprintf("n=%d", $n));' 'int $z = 0; $log("x"); $n = 1 / $z;' '$log("after");' |
	"$mvmda" -i >out 2>err
is "$(sed -n 1p out)" "big" "-i: a statement over three lines runs when complete"
is "$(sed -n 2p out)" "n=2" "-i: globals persist"
is "$(sed -n 3p out)" "x" "-i: a failing statement's output"
is "$(sed -n 4p out)" "after" "-i: statements after a runtime error still run"
ok "$(grep -q '<stdin>:6:1: error:' err && grep -q 'runtime error: division by zero' err; echo $?)" \
	"-i reports compile and runtime errors"
ok "$(grep -q '"mailbox":"Y"' out && ! grep -q '"mailbox":"[XW]"' out; echo $?)" \
	"-i prints the actions at the end; the bad statement was dropped"
printf '%s\n' 'int $x = ;' '$log("fine");' | "$mvmda" -i >out 2>err
is "$?" 1 "-i: a statement that did not compile is in the exit status, even when later ones ran"
printf '%s\n' '$log("one");' 'if (1) {' '  fileinto "Z";' | "$mvmda" -i >out 2>err
is "$?" 1 "-i: input ending inside a statement is an error"
ok "$(grep -q "<stdin>:4:1: error: expected '}', found end of file" err; echo $?)" \
	"and it is reported, not dropped without a word"
printf 'fileinto "Lists.dev";\n' | "$mvmda" -i >out 2>err
ok "$(grep -q "\"path\":\"$HOME/Maildir/.Lists.dev\"" out; echo $?)" \
	"-i: the rc script's namespaces are there (the folder's path is shown)"

# -n: the status line says what failed (mfl(7) JSON), and the exit status
printf 'fileinto "A" \n' >bad.mfl
"$mvmda" -n bad.mfl <msg >out 2>err; is "$?" 1 "-n: a script that does not compile: exit 1"
is "$(tail -1 out)" '{"status":"error","phase":"compile","message":"bad.mfl:2:1: error: expected '"';'"', found end of file"}' \
	"-n: and the status line is a compile error"
printf 'int $z = 0; fileinto "A"; int $x = 1 / $z;\n' >rt.mfl
"$mvmda" -n rt.mfl <msg >out 2>err; is "$?" 1 "-n: a runtime error: exit 1"
is "$(tail -1 out)" '{"status":"error","phase":"runtime","message":"rt.mfl:1: runtime error: division by zero"}' \
	"-n: and the status line is the runtime error"
ok "$(grep -q '"implicit":true' out && ! grep -q '"mailbox":"A"' out; echo $?)" \
	"-n: the implicit keep stands in for the failed script"

# loops: Delivered-To for this recipient
{ echo "Delivered-To: bob@example.net"; cat msg; } >dt1
{ echo "Delivered-To: bob@example.net"; echo "Delivered-To: BOB@example.net"; cat msg; } >dt2
# Postfix's local(8) sets RECIPIENT, LOCAL and ORIGINAL_RECIPIENT
postfix_env="RECIPIENT=bob@example.net SENDER=a@b LOCAL=bob ORIGINAL_RECIPIENT=bob@example.net"
env $postfix_env "$mvmda" <dt1; is "$?" 0 "Postfix's own Delivered-To on top is not a loop"
env $postfix_env "$mvmda" <dt2 >out; is "$?" 69 "a second one is (EX_UNAVAILABLE)"
ok "$(grep -q 'mail forwarding loop for <bob@example.net>' out; echo $?)" "with a clear text"
is "$(count "$HOME/Maildir/new")" 1 "and nothing delivered"
{ echo "Delivered-To: $(id -un)"; cat msg; } >dt3
"$mvmda" <dt3 >/dev/null; is "$?" 69 "outside Postfix even one is a loop (recipient from USER)"
rm -rf "$HOME/Maildir"

# which MTA, by what each really sets: Exim's pipe transport sets
# RECIPIENT too, but is not Postfix (which adds Delivered-To itself)
printf '$log("mta=" + $MTA);\n' >mta.mfl
env RECIPIENT=bob@example.net SENDER=a@b LOCAL_PART=bob QUALIFY_DOMAIN=example.net \
	MESSAGE_ID=1abc-0001 "$mvmda" -n mta.mfl <msg >out 2>err
ok "$(grep -q 'mta=exim' err; echo $?)" "an Exim environment is Exim's"
env RECIPIENT=bob@example.net SENDER=a@b LOCAL_PART=bob QUALIFY_DOMAIN=example.net \
	MESSAGE_ID=1abc-0001 "$mvmda" mta.mfl <msg 2>err
is "$(sed -n 1p "$(find "$HOME/Maildir/new" -type f)")" "Delivered-To: bob@example.net" \
	"and the copy carries Delivered-To, so a loop is seen"
env RECIPIENT=bob@example.net SENDER=a@b LOCAL_PART=bob QUALIFY_DOMAIN=example.net \
	"$mvmda" <dt1 >/dev/null
is "$?" 69 "under Exim a Delivered-To for the recipient is a loop"
env $postfix_env "$mvmda" -n mta.mfl <msg >out 2>err
ok "$(grep -q 'mta=postfix' err; echo $?)" "Postfix's environment is Postfix's"
env RECIPIENT=bob@example.net SENDER=a@b "$mvmda" -n mta.mfl <msg >out 2>err
ok "$(grep -q 'mta=$' err; echo $?)" "RECIPIENT alone names no MTA"
rm -rf "$HOME/Maildir"

# Sendmail's local mailer passes the envelope as arguments: -f sender
# and -a recipient, as procmail and dovecot-lda take them (-f was an
# invalid option: 75 forever, and scripts never saw the sender)
cat >env.sieve <<'S'
require ["envelope", "fileinto"];
if envelope :is "from" "bounces@example.org" { fileinto "FromArg"; }
if envelope :is "to" "joe+lists@example.net" { fileinto "ToArg"; }
S
"$mvmda" -f bounces@example.org -a joe+lists@example.net -n env.sieve <msg >out 2>err
is "$?" 0 "-f and -a are taken"
ok "$(grep -q '"mailbox":"FromArg"' out && grep -q '"mailbox":"ToArg"' out; echo $?)" \
	"the envelope the script sees is theirs"
"$mvmda" -f '<bounces@example.org>' -a joe+lists@example.net env.sieve <msg 2>err
is "$?" 0 "a sender in angle brackets"
is "$(count "$HOME/Maildir/.FromArg/new")" 1 "is the address inside them"
is "$(sed -n 1p "$(find "$HOME/Maildir/.ToArg/new" -type f)")" "Delivered-To: joe+lists@example.net" \
	"and the copy carries Delivered-To for the -a recipient (loop protection)"
printf '$log("sender=[" + $SENDER + "]");\n' >nullsender.mfl
"$mvmda" -f '<>' -n nullsender.mfl <msg >out 2>err
ok "$(grep -q 'sender=\[\]' err; echo $?)" "-f <> is the null sender"
rm -rf "$HOME/Maildir"

# USER and HOME are the real uid's: the environment cannot make mvmda
# deliver as another user or into another home
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	nhome=$(getent passwd nobody | cut -d: -f6)
	printf '$log("user=" + $USER + " home=" + $HOME);\n' >who.mfl
	chmod 644 who.mfl msg
	chmod 755 "$tmp"
	(cd / && env USER=root HOME=/root setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$mvmda" -n "$tmp/who.mfl" <"$tmp/msg" >"$tmp/out" 2>"$tmp/err")
	ok "$(grep -q "user=nobody home=$nhome" err; echo $?)" \
		"USER=root HOME=/root in the environment of uid nobody: nobody's account and home"
	ok "$(grep -q "\"path\":\"$nhome/Maildir\"" out; echo $?)" "and nobody's Maildir"
	# as an MTA starts it: USER and HOME (a directory the uid owns) as
	# they are, no account lookup (no NSS: not /etc/passwd, not nscd)
	mkdir "$tmp/nhome" && chown nobody "$tmp/nhome"
	(cd / && strace -f -e trace=execve,openat,connect -o "$tmp/trace" env USER=nobody \
		HOME="$tmp/nhome" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$mvmda" -n "$tmp/who.mfl" <"$tmp/msg" >"$tmp/out" 2>"$tmp/err")
	if [ -s "$tmp/trace" ]; then
		# what mvmda did, not setpriv before it
		awk -v m="execve(\"$mvmda\"" 'index($0, m) { p = 1 } p' "$tmp/trace" >"$tmp/mtrace"
		grep -q "user=nobody home=$tmp/nhome" "$tmp/err" && grep -q "who.mfl\"" "$tmp/mtrace" &&
			! grep -qE 'passwd|nsswitch|nscd' "$tmp/mtrace"
		ok $? "USER and an own HOME from the MTA: taken without an account lookup"
	else
		ok 0 "# SKIP strace is not installed"
	fi
	# USER is then the name the invoker gave (only a name: the uid and
	# the home are what deliver), and not one that cannot be an account's
	(cd / && env USER=alias-7 HOME="$tmp/nhome" setpriv --reuid=nobody --regid=nogroup \
		--clear-groups "$mvmda" -n "$tmp/who.mfl" <"$tmp/msg" >/dev/null 2>"$tmp/err")
	ok "$(grep -q "user=alias-7 home=$tmp/nhome" "$tmp/err"; echo $?)" "  USER=alias-7 is the name scripts see"
	(cd / && env USER="a/b" HOME="$tmp/nhome" setpriv --reuid=nobody --regid=nogroup \
		--clear-groups "$mvmda" -n "$tmp/who.mfl" <"$tmp/msg" >/dev/null 2>"$tmp/err")
	ok "$(grep -q "user=nobody home=$tmp/nhome" "$tmp/err"; echo $?)" \
		"  USER=a/b (no account's name): the uid's own from the password file"
else
	ok 0 "# SKIP not root, or no user nobody: the other-uid case needs both"
	ok 0 "# SKIP the same"
	ok 0 "# SKIP the same"
	ok 0 "# SKIP the same"
	ok 0 "# SKIP the same"
fi

# qmail: exit codes through $hook_exitcode, RPLINE/DTLINE on top
q() { DTLINE="Delivered-To: bob@example.net" RPLINE="Return-Path: <a@b>" \
	RECIPIENT=bob@example.net SENDER=a@b "$mvmda" "$@"; }
q <msg; is "$?" 99 "qmail: delivered is 99"
f=$(find "$HOME/Maildir/new" -type f)
is "$(sed -n 1,2p "$f" | tr '\n' '|')" "Return-Path: <a@b>|Delivered-To: bob@example.net|" \
	"qmail: Return-Path and Delivered-To on top"
q -p <msg; is "$?" 0 "qmail -p: implicit keep is 'go on' (0)"
is "$(count "$HOME/Maildir/new")" 1 "and delivers nothing itself"
q -p s.mfl <msg; is "$?" 99 "qmail -p with a script that files: 99"
q <dt1 >/dev/null; is "$?" 100 "qmail: a loop is permanent (100)"
chmod 000 "$HOME/Maildir/new"
if [ "$(id -u)" != 0 ]; then
	q <msg; is "$?" 111 "qmail: an unwritable Maildir is temporary (111)"
fi
chmod 700 "$HOME/Maildir/new"
rm -rf "$HOME/Maildir"

# $hook_msg_read_after and $received_ips
cat >rc.mfl <<'R'
string[] $ips;
$namespace("", "maildir++", $HOME + "/Maildir", "maildir", ".");
void $hook_msg_read_after() { $ips = $received_ips(); }
fileinto "ip-" + $join($ips, "_");
R
{ echo "Received: from a (a [192.0.2.9]) by b"; echo "Received: from c (c [10.0.0.1]) by d";
  echo "Received: from e (e [198.51.100.3]) by f"; cat msg; } >rcv
MVMDA_RC="$tmp/rc.mfl" "$mvmda" -n <rcv >out
ok "$(grep -q '"mailbox":"ip-192_0_2_9_198_51_100_3"\|"mailbox":"ip-192.0.2.9_198.51.100.3"' out; echo $?)" \
	"\$hook_msg_read_after ran first, with the public Received: IPs"

# redirect and reject go to the sendmail program, argv exactly
recording_mta "$tmp"
printf 'redirect "-oQ/tmp/x@example.com";\n' >r0.mfl
MVMDA_RC="$tmp/rc.mfl" "$mvmda" r0.mfl <msg 2>err; is "$?" 0 "redirect to an address that looks like an option"
is "$(sed -n 1p sent.0)" "[-oi][-f][<>][--][-oQ/tmp/x@example.com]" "stays an address after --"
rm -f sent.0
printf 'redirect "carol@example.com";\n' >r1.mfl
SENDER=a@b RECIPIENT=bob@example.net MVMDA_RC="$tmp/rc.mfl" "$mvmda" r1.mfl <msg; is "$?" 0 "redirect"
is "$(sed -n 1p sent.0)" "[-oi][-f][a@b][--][carol@example.com]" "sendmail -oi -f SENDER -- ADDRESS"
is "$(sed -n 2p sent.0)" "X-Sieve-Redirected-From: bob@example.net" \
	"X-Sieve-Redirected-From names the user on top (Pigeonhole's field, against loops)"
ok "$(sed 1,2d sent.0 | cmp -s - msg; echo $?)" "then the message, as it came (Postfix added Delivered-To)"
ok "$([ ! -e "$HOME/Maildir/new" ] || [ "$(count "$HOME/Maildir/new")" = 0 ]; echo $?)" "and no copy kept"
rm -f sent.0
{ echo "X-Sieve-Redirected-From: <Bob@Example.net>"; cat msg; } >looped
SENDER=a@b RECIPIENT=bob@example.net MVMDA_RC="$tmp/rc.mfl" "$mvmda" r1.mfl <looped 2>err
ok "$([ ! -e sent.0 ] && [ "$(count "$HOME/Maildir/new")" = 1 ]; echo $?)" \
	"a message this user already redirected is not sent round again, but kept"
ok "$(grep -q 'result=skipped: mail loop' err; echo $?)" "and the log says it was a loop"
rm -rf "$HOME/Maildir"
sed 's|^\$script_run|$mfl_redirect_envelope_from = "orig_recipient";\n$script_run|' rc.mfl >rc-orig.mfl
SENDER=a@b RECIPIENT=bob@example.net ORIGINAL_RECIPIENT=all@example.net MVMDA_RC="$tmp/rc-orig.mfl" \
	"$mvmda" r1.mfl <msg 2>err
is "$(sed -n 1p sent.0)" "[-oi][-f][all@example.net][--][carol@example.com]" \
	"\$mfl_redirect_envelope_from = \"orig_recipient\" in the rc script: sent from the original recipient"
printf '$mfl_redirect_envelope_from = "<x@evil.example>";\nredirect "carol@example.com";\n' >r2.mfl
SENDER=a@b RECIPIENT=bob@example.net MVMDA_RC="$tmp/rc.mfl" "$mvmda" r2.mfl <msg 2>err
is "$(sed -n 1p sent.1)" "[-oi][-f][a@b][--][carol@example.com]" "a user's script setting it changes nothing"
rm -f sent.1
printf 'require "reject"; reject "not wanted";\n' >j.sieve
SENDER=a@b RECIPIENT=bob@example.net MVMDA_RC="$tmp/rc.mfl" "$mvmda" j.sieve <msg; is "$?" 0 "reject"
is "$(sed -n 1p sent.1)" "[-oi][-f][<>][--][a@b]" "the notice goes to the sender from <>"
ok "$(grep -q '^not wanted$' sent.1 && grep -q 'Content-Type: message/disposition-notification' sent.1 \
	&& grep -q '^Subject: hello$' sent.1; echo $?)" "an MDN with the reason and the original"
ok "$(grep -q '^From: Postmaster <postmaster@' sent.1; echo $?)" "signed by the postmaster, as Pigeonhole's"
SENDER= RECIPIENT=bob@example.net MVMDA_RC="$tmp/rc.mfl" "$mvmda" j.sieve <msg 2>err; is "$?" 0 "reject with <> sender"
ok "$([ ! -e sent.2 ] && [ "$(count "$HOME/Maildir/new")" = 1 ]; echo $?)" "is refused: nothing sent, the message kept"
printf '#!/bin/sh\nexit 75\n' >sendmail
SENDER=a@b RECIPIENT=bob@example.net MVMDA_RC="$tmp/rc.mfl" "$mvmda" r1.mfl <msg 2>err
is "$?" 75 "sendmail failing: temporary failure"

# -d
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	chmod 755 "$tmp"
	cat >rc.mfl <<'R'
$log("user=" + $USER + " home=" + $HOME + " d=" + $Opts_d);
R
	MVMDA_RC="$tmp/rc.mfl" "$mvmda" -d nobody -n <msg >out 2>err
	ok "$(grep -q "user=nobody home=$(getent passwd nobody | cut -d: -f6) d=nobody" err; echo $?)" \
		"-d as root: becomes the user, USER and HOME published"
	setpriv --reuid=nobody --regid=nogroup --clear-groups env MVMDA_RC="$tmp/rc.mfl" \
		"$mvmda" -d root -n <msg >out 2>err
	is "$?" 75 "-d another user when not root: refused"
	ok "$(grep -q 'only root may deliver as another user' err; echo $?)" "with the reason"
	"$mvmda" -d no-such-user-here <msg 2>err; is "$?" 67 "-d unknown user: EX_NOUSER"
	# -c by someone who may not write the system's cache directory (a
	# root-owned rc script's cache goes there): ok, with a warning
	# naming it
	cp rc.mfl rootrc.mfl
	cachedir=$(strings "$mvmda" | grep -m 1 '/cache/mvmf$')	# as configured
	out=$(cd / && setpriv --reuid=nobody --regid=nogroup --clear-groups env MVMDA_RC="$tmp/rootrc.mfl" \
		"$mvmda" -c 2>"$tmp/err")
	r=$?
	is "$r:$out" "0:$tmp/rootrc.mfl: ok" "-c, not allowed to write the rc cache: still ok"
	ok "$(grep -q "^mvmda: warning: $cachedir: .*: the compiled rc script cannot be cached there, so every delivery compiles it" err; echo $?)" \
		"  with a warning naming $cachedir"
fi
done_testing
