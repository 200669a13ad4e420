#!/bin/sh
# programs.sh - Pigeonhole's extprograms through mvmda: vnd.dovecot.pipe,
# .filter and .execute run only the admin's programs, from the
# directories the rc script names; what they were given, what they
# changed, and that a failure, a timeout or no directory keeps the mail.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/mda.sh"
mvmda="$top_builddir/mda/mvmda"
mda_home
SENDER=alice@example.org
RECIPIENT=bob@example.net
LOCAL=bob
ORIGINAL_RECIPIENT=all@example.net
export SENDER RECIPIENT LOCAL ORIGINAL_RECIPIENT
cat >msg <<'M'
From: Alice <alice@example.org>
To: bob@example.net
Subject: numbers
Message-ID: <p1@example.org>

body text
M
# the admin's programs, readable and runnable by anyone (as root the
# tests' programs run as nobody)
mkdir -p bin out
chmod 755 "$tmp" bin
chmod 777 out
cat >bin/save <<S
#!/bin/sh
n=\$(ls $tmp/out | wc -l)
{ printf '[%s]' "\$@"; echo; echo "SENDER=\$SENDER RECIPIENT=\$RECIPIENT ORIG=\$ORIG_RECIPIENT USER=\$USER PATH=\$PATH"; cat; } >$tmp/out/piped.\$n
S
printf '#!/bin/sh\ncat >/dev/null\nexit 3\n' >bin/fail
printf '#!/bin/sh\nsleep 30\n' >bin/sleepy
printf '#!/bin/sh\necho "X-Filtered: by $1"\ncat\n' >bin/addheader
printf '#!/bin/sh\nprintf "%%s" "$1"\n' >bin/echo
printf '#!/bin/sh\nprintf %%s $(id -u)\n' >bin/whoami
printf '#!/bin/sh\ncat >/dev/null\n' >bin/nothing
chmod 755 bin/*
count() { find "$1" -type f 2>/dev/null | wc -l; }
: >log
cat >rc.mfl <<R
\$namespace("", "maildir++", \$HOME + "/Maildir", "maildir", ".");
\$mfl_pipe_dir = "$tmp/bin";
\$mfl_filter_dir = "$tmp/bin";
\$mfl_execute_dir = "$tmp/bin";
\$mfl_pipe_timeout = 2;
\$mvmda_logfile = "$tmp/log";
\$script_run(\$Args[0]);
R
run() {	# run SCRIPT-TEXT [RC]: deliver msg with it
	printf '%s\n' "$1" >p.sieve
	MVMDA_RC="${2:-$tmp/rc.mfl}" "$mvmda" p.sieve <msg 2>err
}

run 'require "vnd.dovecot.pipe"; pipe "save" ["one", "two words"];'
is "$?" 0 "pipe: delivered"
is "$(count out) $(count "$HOME/Maildir")" "1 0" "pipe: the program got the message, nothing kept (the pipe cancels the implicit keep)"
ok "$(head -1 out/piped.0 | grep -qx '\[one\]\[two words\]'; echo $?)" "pipe: its arguments, each one argv item"
ok "$(grep -q '^SENDER=alice@example.org RECIPIENT=bob@example.net ORIG=all@example.net USER=[a-z]' out/piped.0; echo $?)" \
	"pipe: the envelope in its fixed environment"
ok "$(grep -q '^PATH=/usr/local/bin:/usr/bin:/bin$' out/piped.0 || grep -q 'PATH=/usr/local/bin:/usr/bin:/bin$' out/piped.0; echo $?)" \
	"pipe: PATH is mvmf's, not the MTA's"
ok "$(grep -q "^Subject: numbers$(printf '\r')\$" out/piped.0; echo $?)" "pipe: the message with CRLF line ends (\$mfl_pipe_eol)"
ok "$(grep -q 'pipe=save size=[0-9]* result=sent' log; echo $?)" "pipe: logged (here in \$mvmda_logfile)"
rm -rf out/* "$HOME/Maildir"

run 'require ["vnd.dovecot.pipe", "copy"]; pipe :copy "save";'
is "$(count out) $(count "$HOME/Maildir/new")" "1 1" "pipe :copy: piped and kept"
rm -rf out/* "$HOME/Maildir"

run 'require ["vnd.dovecot.pipe", "fileinto"]; pipe "fail"; fileinto "Also";'
is "$?" 0 "pipe: a program that fails: delivered"
is "$(count "$HOME/Maildir/new") $(count "$HOME/Maildir/.Also/new")" "1 1" "pipe: the message is kept in INBOX (and the fileinto done)"
ok "$(grep -q 'pipe=fail result=failed: program fail exited with status 3; keeping the message' err; echo $?)" \
	"pipe: the log says why"
rm -rf "$HOME/Maildir"

start=$(date +%s)
run 'require "vnd.dovecot.pipe"; pipe "sleepy";'
took=$(($(date +%s) - start))
is "$(count "$HOME/Maildir/new")" 1 "pipe: a program past \$mfl_pipe_timeout is killed and the message kept"
ok "$([ "$took" -lt 20 ]; echo $?)" "pipe: killed, not waited for (${took}s)"
ok "$(grep -q 'timed out after 2 s' err; echo $?)" "pipe: the log says it timed out"
rm -rf "$HOME/Maildir"

run 'require "vnd.dovecot.pipe"; pipe :try "fail";'
is "$(count "$HOME/Maildir")" 0 "pipe :try: a failure is no error (as Pigeonhole: nothing kept)"
ok "$(grep -q 'result=failed (:try, going on)' err; echo $?)" "pipe :try: but logged"

run 'require "vnd.dovecot.pipe"; pipe "nonesuch";'
is "$(count "$HOME/Maildir/new")" 1 "pipe: no such program in the directory: kept"
ok "$(grep -q "$tmp/bin/nonesuch: no such program" err; echo $?)" "pipe: the log names the path"
rm -rf "$HOME/Maildir"

run 'require "vnd.dovecot.pipe"; pipe "../bin/save";'
is "$(count "$HOME/Maildir/new") $(count out)" "1 0" "pipe: a name with a / does not compile; the message goes to INBOX"
ok "$(grep -q 'invalid program name' err; echo $?)" "pipe: the log says why"
rm -rf "$HOME/Maildir"

# no directory: the extension is off
printf '%s\n' '$namespace("", "maildir++", $HOME + "/Maildir", "maildir", ".");' \
	'$script_run($Args[0]);' >off-rc.mfl
run 'require "vnd.dovecot.pipe"; pipe "save";' "$tmp/off-rc.mfl"
is "$(count "$HOME/Maildir/new") $(count out)" "1 0" "pipe: off without \$mfl_pipe_dir; the message kept"
ok "$(grep -q 'is off: \$mfl_pipe_dir names no directory' err; echo $?)" "pipe: the log says so"
rm -rf "$HOME/Maildir"

# a user's MFL script cannot point the directory elsewhere
printf '%s\n' '$mfl_execute_dir = "/usr/bin";' 'execute("id");' >own.mfl
MVMDA_RC="$tmp/off-rc.mfl" "$mvmda" own.mfl <msg 2>err
is "$(count "$HOME/Maildir/new")" 1 "execute: a script setting \$mfl_execute_dir runs nothing (the env's directory counts)"
ok "$(grep -q 'is off' err; echo $?)" "execute: and the log says the extension is off"
rm -rf "$HOME/Maildir"

run 'require ["vnd.dovecot.filter", "fileinto"];
filter "addheader" ["mvmf"];
if header "X-Filtered" "by mvmf" { fileinto "Filtered"; }'
f=$(find "$HOME/Maildir/.Filtered/new" -type f)
is "$(count "$HOME/Maildir/.Filtered/new")" 1 "filter: later tests see the program's output"
ok "$(head -1 "$f" | grep -qx 'X-Filtered: by mvmf'; echo $?)" "filter: and it is what is stored"
ok "$(grep -c "$(printf '\r')" "$f" | grep -qx 0; echo $?)" "filter: with LF line ends, as every stored copy"
ok "$(grep -q '^body text$' "$f"; echo $?)" "filter: the body kept"
rm -rf "$HOME/Maildir"

run 'require ["vnd.dovecot.filter", "fileinto"];
if not filter "fail" { fileinto "NotFiltered"; }'
is "$(count "$HOME/Maildir/.NotFiltered/new")" 1 "filter as a test: false when the program fails, the message unchanged"
rm -rf "$HOME/Maildir"

run 'require "vnd.dovecot.filter"; filter "nothing";'
f=$(find "$HOME/Maildir/new" -type f 2>/dev/null)
ok "$([ -n "$f" ] && grep -q '^body text$' "$f"; echo $?)" \
	"filter: a program that writes nothing leaves the message whole, not emptied"
rm -rf "$HOME/Maildir"

run 'require ["vnd.dovecot.execute", "variables", "fileinto"];
execute :output "said" "echo" ["hello"];
fileinto "${said}";'
is "$(count "$HOME/Maildir/.hello/new")" 1 "execute :output: the program's output in a variable"
rm -rf "$HOME/Maildir"

run 'require ["vnd.dovecot.execute", "fileinto"]; execute "fail"; fileinto "Never";'
is "$(count "$HOME/Maildir/new") $(count "$HOME/Maildir/.Never")" "1 0" \
	"execute as a command: a failure is a runtime error, the message kept"
rm -rf "$HOME/Maildir"

if [ "$(id -u)" = 0 ]; then
	run 'require ["vnd.dovecot.execute", "variables", "fileinto"];
execute :output "uid" "whoami"; fileinto "uid${uid}";'
	is "$(ls -d "$HOME"/Maildir/.uid* 2>/dev/null | sed 's|.*/\.uid||')" "$(id -u nobody)" \
		"run by root, a program runs as \$mfl_program_user (nobody), never root"
else
	skip "not root: the programs run as ourselves"
fi
done_testing
