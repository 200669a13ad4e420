#!/bin/sh
# static.sh - mvmda linked with a static glibc, and mvmda-dynamic beside
# it (mvmda(1) LINKING): the static mvmda holds no NSS code; a delivery
# as an MTA starts it (not root, USER and HOME given) runs in it alone,
# touching neither the user database nor a shared library; a run that
# needs the user database (root, -d, a USER that is not the uid's) is
# mvmda-dynamic's, with the same arguments; text in a single-byte
# charset is converted by libmfl's tables in mvmda, in another legacy
# charset by one mvmda-dynamic --charset-service, and a UTF-8 message
# starts none; a program a script runs gets the account mvmda has.
# Without mvmda-dynamic, a run that needs it is deferred (75) and says
# where it looked, and a charset is taken as it came; a static mvmda
# installed as mvmda-dynamic is refused (75), not run in a loop.
# Built with --disable-mvmda-static-libc (or the sanitizers), mvmda is
# dynamic, there is no mvmda-dynamic, and it delivers as root and
# decodes legacy charsets itself.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/mda.sh"
mvmda=$(cd "$top_builddir/mda" && pwd)/mvmda
twin=$(dirname "$mvmda")/mvmda-dynamic
for c in strace readelf nm setpriv; do
	command -v $c >/dev/null 2>&1 || skip_all "$c is not installed"
done
[ "$(id -u)" = 0 ] || skip_all "not root: the runs as root and as nobody need it"
mda_home
mda_rc_folders
chmod 755 "$tmp"
chown nobody "$HOME"
mkdir out && chown nobody out	# nobody's strace writes out/trace

cat >msg <<'M'
From: alice@example.org
To: bob@example.net
Subject: plain

hello
M
printf 'From: alice@example.org\nTo: bob@example.net\nSubject: =?iso-8859-1?Q?caf=E9?=\nContent-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: 8bit\n\nna\357ve\n' >latin
printf 'require ["fileinto", "body"];\nif header :contains "subject" "caf\303\251" {\n if body :text :contains "na\303\257ve" { fileinto "Cafe"; stop; }\n}\n' >cafe.sieve
# a charset without a table in libmfl (stateful): the charset service's
printf 'From: alice@example.org\nTo: bob@example.net\nSubject: =?iso-2022-jp?B?GyRCRnxLXBsoQg==?=\n\nhi\n' >jp
printf 'require "fileinto";\nif header :contains "subject" "\346\227\245\346\234\254" { fileinto "Nihon"; }\n' >jp.sieve
chmod 644 msg latin cafe.sieve jp jp.sieve
count() { find "$1" -type f 2>/dev/null | wc -l; }
# as_nobody ARGS...: mvmda as Postfix's local runs it, under strace
# (where a sanitizer build's leak check cannot run)
as_nobody() {
	env -i PATH=/usr/bin:/bin HOME="$HOME" USER=${as_user:-nobody} MVMDA_RC="$MVMDA_RC" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
		strace -f -e trace=execve,openat,open -o "$tmp/out/trace" "$@" 2>"$tmp/err"
}

if [ ! -x "$twin" ]; then
	# a dynamic build: glibc shared, NSS in the process itself
	readelf -l "$mvmda" | grep -q 'program interpreter'
	ok $? "no mvmda-dynamic built: mvmda itself is linked with the shared glibc"
	mkdir -p "$tmp/root"
	HOME="$tmp/root" "$mvmda" cafe.sieve <msg 2>err
	is "$?:$(count "$tmp/root/Maildir/new")" 0:1 "as root: delivered"
	as_nobody "$mvmda" cafe.sieve <latin
	is "$?:$(count "$HOME/Maildir/.Cafe/new")" 0:1 "a latin-1 message decoded in the process"
	done_testing
fi

readelf -l "$mvmda" | grep -q 'program interpreter'
ok $((! $?)) "mvmda has no program interpreter (static)"
is "$(readelf -d "$mvmda" | grep -c NEEDED)" 0 "and needs no shared library"
readelf -l "$twin" | grep -q 'program interpreter'
ok $? "mvmda-dynamic is linked with the shared glibc"
is "$(nm "$mvmda" | grep -c -e '_nss_' -e 'nsswitch')" 0 \
	"no NSS code in the static mvmda (nm: no _nss_ symbols)"

# 1. as Postfix's local runs it: the static mvmda alone
as_nobody "$mvmda" cafe.sieve <msg
is "$?:$(count "$HOME/Maildir/new")" 0:1 "as nobody, USER and HOME given: delivered"
is "$(grep -c '^[0-9]* *execve(' out/trace)" 1 "  by mvmda alone (one execve)"
grep -E 'open(at)?\(.*(nsswitch|/etc/passwd|/etc/group|libnss|gconv|ld\.so\.cache|\.so\.[0-9])' out/trace >opened
is "$(wc -l <opened | tr -d ' ')" 0 "  no user database, no shared library, no charset module opened$(head -n 2 opened | tr '\n' ' ')"

# 2. legacy charsets: single-byte ones by libmfl's tables, in mvmda;
# the others by one charset service
as_nobody "$mvmda" cafe.sieve <latin
is "$?:$(count "$HOME/Maildir/.Cafe/new")" 0:1 \
	"a latin-1 subject and a windows-1252 body decoded: filed into Cafe"
is "$(grep -c '^[0-9]* *execve(' out/trace)" 1 "  by mvmda alone (its tables: no charset service)"
as_nobody "$mvmda" jp.sieve <jp
is "$?:$(count "$HOME/Maildir/.Nihon/new")" 0:1 "an ISO-2022-JP subject decoded: filed into Nihon"
is "$(grep -c "execve(\"$twin\", \[\"mvmda-dynamic\", \"--charset-service\"\]" out/trace)" 1 \
	"  by one mvmda-dynamic --charset-service"
is "$(grep -c '+++ exited with 0 +++' out/trace)" 2 "  which ended with mvmda, both exit 0"

# a program a script runs gets the account as mvmda was given it
mkdir bin && chmod 755 bin
printf '#!/bin/sh\ncat >/dev/null\nprintf "%%s %%s\\n" "$HOME" "$USER" >%s/out/who\n' "$tmp" >bin/who
chmod 755 bin/who
cat >prog.mfl <<R
\$namespace("", "maildir++", \$HOME + "/Maildir", "maildir", ".");
\$mfl_pipe_dir = "$tmp/bin";
\$script_run(\$Args[0]);
R
printf 'require "vnd.dovecot.pipe";\npipe "who";\n' >who.sieve
chmod 644 prog.mfl who.sieve
as_user=alias-7 MVMDA_RC="$tmp/prog.mfl" as_nobody "$mvmda" who.sieve <msg
is "$?:$(cat out/who 2>&1)" "0:$HOME alias-7" \
	"a program the script runs has the HOME and USER mvmda was given"
grep -q '/etc/passwd' out/trace
ok $((! $?)) "  not the password file's"

# 3. what needs the user database: mvmda-dynamic, same arguments
as_user=a/b as_nobody "$mvmda" cafe.sieve <msg
is "$?:$(count "$HOME/Maildir/new")" 0:2 "USER=a/b (not a name mvmda takes as it is): delivered"
grep -q "execve(\"$twin\", \[\"$mvmda\", \"cafe.sieve\"\]" out/trace
ok $? "  by mvmda-dynamic, with mvmda's arguments"
grep -q 'nsswitch.conf\|/etc/passwd' out/trace
ok $? "  which looked the uid up"
mkdir -p "$tmp/root"
HOME="$tmp/root" strace -f -e trace=execve -o trace "$mvmda" -f alice@example.org cafe.sieve <latin 2>err
is "$?:$(count "$tmp/root/Maildir/.Cafe/new")" 0:1 "as root: delivered (and decoded)"
grep -q "execve(\"$twin\", \[\"$mvmda\", \"-f\", \"alice@example.org\", \"cafe.sieve\"\]" trace
ok $? "  by mvmda-dynamic"
is "$(grep -c -- '--charset-service' trace)" 0 "  which converts charsets itself"

# 4. without mvmda-dynamic: a copy of mvmda with none beside it, and the
# installed one (if any) hidden by an empty tmpfs
installed=$(strings "$mvmda" | grep -m 1 '/mvmda-dynamic$')
mkdir -p "$tmp/bin"
cp "$mvmda" "$tmp/bin/mvmda"
chmod 755 "$tmp/bin"
hidden() {
	if [ -d "$(dirname "$installed")" ]; then
		unshare -m sh -c 'mount -t tmpfs none "$1" && shift && exec "$@"' sh "$(dirname "$installed")" "$@"
	else
		"$@"
	fi
}
HOME="$tmp/root" hidden "$tmp/bin/mvmda" cafe.sieve <msg 2>err
is "$?:$(count "$tmp/root/Maildir/new")" 75:0 "no mvmda-dynamic, as root: deferred (75), nothing delivered"
grep -q "cannot run $installed .*No such file or directory" err
ok $? "  and says which path and why$(head -n 1 err | sed 's/^/: /')"
rm -rf "$HOME/Maildir/.Nihon"
as_user=nobody hidden env -i PATH=/usr/bin:/bin HOME="$HOME" USER=nobody MVMDA_RC="$MVMDA_RC" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$tmp/bin/mvmda" jp.sieve <jp 2>err
is "$?:$(count "$HOME/Maildir/.Nihon/new"):$(count "$HOME/Maildir/new")" 0:0:3 \
	"no charset service: the ISO-2022-JP message delivered, its text taken as it came (INBOX)"
grep -q "charset iso-2022-jp: the charset service $installed failed: No such file or directory" err
ok $? "  and logged with the path and the reason$(head -n 1 err | sed 's/^/: /')"
is "$(grep -c 'charset service' err)" 1 "  once"

# a static mvmda installed as mvmda-dynamic: refused, not a loop
mkdir loop
cp "$mvmda" loop/mvmda
cp "$mvmda" loop/mvmda-dynamic
HOME="$tmp/root" timeout 10 loop/mvmda cafe.sieve <msg 2>err
is "$?:$(count "$tmp/root/Maildir/new")" 75:0 "a static mvmda-dynamic: deferred (75), not run again"
grep -q "loop/mvmda-dynamic is linked statically" err
ok $? "  and says so$(head -n 1 err | sed 's/^/: /')"

done_testing
