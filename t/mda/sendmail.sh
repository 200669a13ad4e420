#!/bin/sh
# sendmail.sh - a real Sendmail (Debian's packages, fetched with apt-get
# download and unpacked with dpkg -x: Sendmail cannot be installed
# beside Postfix) with a sendmail.cf built by m4 from contrib/sendmail/
# mvmtr.mc and mvmda.mc, in a network and mount namespace of its own
# (loopback only; a private copy of /etc with the test user): mvmtr greylists
# (4xx, then accepted), rejects with a multi-line 550 and adds a
# header; mvmda, Sendmail's local mailer, delivers into Maildir with the
# envelope sender (-f) seen by a Sieve envelope test; mvmda's exit 75
# leaves the message queued, and the next queue run delivers it.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/ns.sh"
. "$top_srcdir/t/lib/sendmail.sh"
sm_check
# Sendmail's packages, fetched once per build tree
debs=$top_builddir/t/sendmail-debs
sm_fetch "$debs" sendmail-bin sendmail-cf sendmail-base
ns_enter -m -n
mvmtr=$(cd "$top_builddir/milter" && pwd)/mvmtr
mvmda=$(cd "$top_builddir/mda" && pwd)/mvmda
mt_pid=
cleanup() {
	[ -n "$mt_pid" ] && kill "$mt_pid" 2>/dev/null
	sm_stop
}
trap cleanup EXIT
sm_unpack "$debs"

# the user mail goes to, in a private copy of /etc; sendmail asks the
# resolver for its own name: the answer is in hosts, and a question that
# still goes out is refused at once on loopback
home=$tmp/home/joe
ns_user_etc "$tmp" "$home"
echo "127.0.0.1 $(hostname) mx.example.test" >>/etc/hosts
echo "nameserver 127.0.0.1" >/etc/resolv.conf.mvmf
mv /etc/resolv.conf.mvmf /etc/resolv.conf
printf 'require ["fileinto", "envelope"];\nif envelope :is "from" "alice@sender.test" { fileinto "FromAlice"; }\n' \
	>"$home/.mvmda.sieve"
chown -R 4711:4711 "$home"

# mvmtr, on a socket of its own
cat >"$tmp/policy.mfl" <<S
\$mvmtr_store = "$tmp/store";
\$mvmtr_store_size = 64 << 20;
\$mvmtr_greylist_delay = 1;

void \$hook_envrcpt(string \$rcpt, string[] \$args) {
	if (\$regmatch(\$rcpt, "^<?nobody@"))
		reject :code "550" :xcode "5.1.1" "No such mailbox\nSee https://example.test/help";
	int \$wait = \$greylist();
	if (\$wait > 0)
		tempfail :code "450" :xcode "4.7.1" \$sprintf("Greylisted, try again in %d seconds", \$wait);
}

void \$hook_eom() {
	\$header_add("X-Mvmtr", "checked " + \$queue_id);
}
S
"$mvmtr" -f -p "unix:$tmp/mvmtr.sock" "$tmp/policy.mfl" >"$tmp/mvmtr.log" 2>&1 &
mt_pid=$!

# sendmail.cf from the contrib snippets; mvmda through a wrapper that
# can be made to fail with 75
cat >"$tmp/mvmda-wrap" <<W
#!/bin/sh
[ -e "$tmp/fail75" ] && exit 75
echo "args: \$*" >>"$tmp/mvmda.err"
MVMDA_RC="$top_srcdir/mda/mvmda-rc.mfl" exec "$mvmda" "\$@" 2>>"$tmp/mvmda.err"
W
chmod 755 "$tmp/mvmda-wrap"
{ sm_mc_head; cat <<MC; } >"$tmp/sendmail.mc"
define(\`confTO_QUEUEWARN', \`1h')dnl
define(\`confDELIVERY_MODE', \`background')dnl
define(\`MVMDA_PATH', \`$tmp/mvmda-wrap')dnl
define(\`MVMTR_SOCKET', \`unix:$tmp/mvmtr.sock')dnl
include(\`$top_srcdir/contrib/sendmail/mvmda.mc')dnl
include(\`$top_srcdir/contrib/sendmail/mvmtr.mc')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
MC
m4 "$tmp/sendmail.mc" >"$tmp/sendmail.cf" 2>"$tmp/m4.log"
is "$?" 0 "m4 builds sendmail.cf from contrib/sendmail/*.mc$(head -n 2 "$tmp/m4.log" | tr '\n' ' ')"
ok "$(grep -q "^Xmvmtr, S=unix:$tmp/mvmtr.sock, F=T" "$tmp/sendmail.cf"; echo $?)" "with mvmtr as its filter"
ok "$(grep -q "^Mlocal,.*P=$tmp/mvmda-wrap, F=[^,]*f" "$tmp/sendmail.cf" && grep -q 'A=mvmda -a \$u -d \$u' "$tmp/sendmail.cf"; echo $?)" \
	"and mvmda as its local mailer, with the f flag"
chmod 644 "$tmp/sendmail.cf"
: >"$tmp/aliases"
"$sendmail" -C "$tmp/sendmail.cf" -bi >"$tmp/newaliases.log" 2>&1
is "$?" 0 "newaliases makes its (empty) alias database$(head -n 2 "$tmp/newaliases.log" | tr '\n' ' ')"
timeout 20 "$sendmail" -C "$tmp/sendmail.cf" -bd -q1s -O ErrorMode=p >"$tmp/sm.out" 2>&1 </dev/null
is "$?" 0 "sendmail -bd starts$(head -n 3 "$tmp/sm.out" | tr "\n" " ")"
i=0
until bash -c 'exec 3<>/dev/tcp/127.0.0.1/25' 2>/dev/null || [ $i -ge 50 ]; do sleep 0.2; i=$((i + 1)); done

send() {
	to=$1
	shift
	swaks --silent 2 --server 127.0.0.1 --port 25 --helo client.test \
		--from alice@sender.test --to "$to" "$@" 2>&1
}
out=$(send joe@example.test --header "Subject: first")
ok "$(echo "$out" | grep -q '^<\*\* *450 4.7.1 .*Greylisted'; echo $?)" \
	"Sendmail asks mvmtr: the first attempt is greylisted ($(echo "$out" | grep '^<\*\*' | head -n 1))"
out=$(send nobody@example.test)
ok "$(echo "$out" | grep -q '^<\*\* *550-5.1.1 .*No such mailbox' && echo "$out" | grep -q '^<\*\* *550 5.1.1 See https://example.test/help'; echo $?)" \
	"a multi-line reject reaches the client line by line"
sleep 2
out=$(send joe@example.test --header "Subject: second")
is "$?" 0 "the retry after the delay is accepted$(echo "$out" | grep '^<\*\*' | head -n 1)"
i=0
while [ -z "$(ls "$home/Maildir/.FromAlice/new" 2>/dev/null)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
f=$(ls "$home/Maildir/.FromAlice/new/"* 2>/dev/null | head -n 1)
[ -n "$f" ] || { echo "$out" | sed 's/^/# /'; grep -h '^M' "$tmp"/queue/qf* 2>/dev/null | sed 's/^/# /'; sed 's/^/# mvmda: /' "$tmp/mvmda.err"; }
ok "$([ -n "$f" ]; echo $?)" "mvmda, the local mailer, delivered into the folder a Sieve envelope test chose by the sender Sendmail passed with -f"
ok "$(grep -q '^X-Mvmtr: checked ' "$f" 2>/dev/null; echo $?)" "with mvmtr's header"
is "$(stat -c %U "$f" 2>&1)" joe "as joe (mvmda -d)"

# exit 75: queued, then delivered by the next queue run
touch "$tmp/fail75"
send joe@example.test --header "Subject: deferred" >/dev/null
sleep 2
is "$(ls "$home/Maildir/.FromAlice/new" | wc -l)" 1 "mvmda's 75 delivers nothing"
ok "$(ls "$tmp/queue" | grep -q '^qf'; echo $?)" "and leaves the message in Sendmail's queue"
rm -f "$tmp/fail75"
i=0
while [ "$(ls "$home/Maildir/.FromAlice/new" 2>/dev/null | wc -l)" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
is "$(ls "$home/Maildir/.FromAlice/new" | wc -l)" 2 "the next queue run delivers it"
# Sendmail removes the queue file after the mailer's exit, a moment
# after the copy is in the folder: wait for that, not for a sleep
i=0
while ls "$tmp/queue" | grep -q '^qf' && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
is "$(ls "$tmp/queue" | grep -c '^qf')" 0 "and the queue is empty"
done_testing
