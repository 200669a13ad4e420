#!/bin/sh
# qmail.sh - mvmda under a real qmail (notqmail, t/lib/qmail.sh): mail
# over SMTP to qmail-smtpd under tcpserver, qmail-queue, qmail-send,
# qmail-lspawn, qmail-local, a user's .qmail files:
#   ~/.qmail          |preline mvmda -m Mailbox $HOME/filter.mfl
#                     (preline's Delivered-To is not a loop; one
#                     Return-Path; no From_ line in a Maildir copy;
#                     qmail-smtpd's Received: read by $received_ips())
#   ~/.qmail-pass     |mvmda -p ... then ./Maildir/ (99 stops, 0 goes on)
#   ~/.qmail-temp     a delivery that fails for now: 111, kept in the
#                     queue, delivered when qmail-send retries
#   ~/.qmail-default  the environment qmail-local sets, as scripts see it
# plus the real preline run by hand on a message that already carries
# this Delivered-To further down: that one is a loop (100).
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/ns.sh"
. "$top_srcdir/t/lib/qmail.sh"
qmail_check
command -v swaks >/dev/null 2>&1 || skip_all "swaks is not installed"
qmail_build || { echo "Bail out! notqmail does not build: $(tail -n 5 "$top_builddir/t/notqmail/build.log")"; exit 99; }
ns_enter -m -n
mvmda=$(cd "$top_builddir/mda" && pwd)/mvmda
tmp=$(mktemp -d /tmp/mvmda-qmail.XXXXXX)
chmod 755 "$tmp"
cleanup() {
	qmail_stop
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

home=$tmp/home/joe
ns_user_etc "$tmp" "$home"
qmail_install mx.test.example || { echo "Bail out! notqmail does not install"; exit 99; }
ip addr add 192.0.2.25/32 dev lo

qmail_mvmda_rc "$tmp/rc.mfl"	# with a log of each user's own

cat >"$home/filter.mfl" <<'S'
$log("ips=" + $join($received_ips(), ","));
if (header :contains "Subject" "[dev]") {
	fileinto "Lists/dev";
	stop;
}
S
printf '|preline %s -m Mailbox $HOME/filter.mfl\n' "$mvmda" >"$home/.qmail"
cat >"$home/pass.mfl" <<'S'
if (header :contains "Subject" "file me")
	fileinto "Kept";
S
printf '|%s -p $HOME/pass.mfl\n./Maildir/\n' "$mvmda" >"$home/.qmail-pass"
printf '|%s -m Temp\n' "$mvmda" >"$home/.qmail-temp"
cat >"$home/env.mfl" <<'S'
# qmail-local's variables, as a user's script sees them (DTLINE, RPLINE
# and UFLINE end in a newline: it is taken off to log them on one line)
$log("env LOCAL=" + $LOCAL);
$log("env HOST=" + $HOST);
$log("env EXT=" + $EXT);
$log("env EXT2=" + $EXT2);
$log("env DTLINE=" + $join($split($DTLINE, "\n"), ""));
$log("env RPLINE=" + $join($split($RPLINE, "\n"), ""));
$log("env UFLINE=" + $join($split($UFLINE, "\n"), ""));
$log("env NEWSENDER=" + $NEWSENDER);
$log("script SENDER=" + $SENDER + " RECIPIENT=" + $RECIPIENT + " MTA=" + $MTA);
S
printf '|env >$HOME/env.txt\n|%s $HOME/env.mfl\n' "$mvmda" >"$home/.qmail-default"
mkdir -p "$home/Maildir/new" "$home/Maildir/cur" "$home/Maildir/tmp"
chown -R 4711:4711 "$home"
chmod 644 "$home"/.qmail*

MVMDA_RC=$tmp/rc.mfl
export MVMDA_RC
qmail_start "$tmp/qmail.log"
qmail_smtpd 25 || { echo "Bail out! tcpserver with qmail-smtpd does not listen"; exit 99; }
ok 0 "a private notqmail: qmail-send, and qmail-smtpd under tcpserver on port 25"

# send TO SUBJECT [FROM]: over SMTP from 192.0.2.25, no wait
send() {
	swaks --silent 2 --server 127.0.0.1 --port 25 --local-interface 192.0.2.25 \
		--helo client.test --from "${3:-alice@sender.test}" --to "$1" \
		--header "Subject: $2" >"$tmp/swaks.out" 2>&1
}
# deliver TO SUBJECT [FROM]: send, then wait until the queue is empty
# again (at most 30 s)
deliver() {
	send "$@"
	st=$?
	wait_for qmail_queue_empty
	return $st
}
log() { cat "$home/.mvmda.log" 2>/dev/null; }
n_in() { ls "$1" 2>/dev/null | wc -l; }

# -- preline
deliver joe@mx.test.example "hello"
is "$?" 0 "qmail-smtpd accepts mail for joe"
ok "$(grep -q 'success:' "$tmp/qmail.log" && ! grep -q 'failure:' "$tmp/qmail.log"; echo $?)" \
	"|preline mvmda: qmail-local reports success, no bounce ($(grep -o 'delivery [0-9]*: [a-z]*: .*' "$tmp/qmail.log" | tail -n 1))"
f=$(ls "$home/Maildir/.Mailbox/new/"* 2>/dev/null | head -n 1)
ok "$([ -n "$f" ]; echo $?)" "into the default mailbox -m Mailbox (.Mailbox in joe's Maildir++)"
is "$(grep -c '^From ' "$f" 2>/dev/null)" 0 "without preline's From_ line (a Maildir file has none)"
is "$(grep -c '^Return-Path:' "$f" 2>/dev/null)" 1 "one Return-Path (preline's and the rc script's are not both there)"
is "$(grep -c '^Delivered-To:' "$f" 2>/dev/null)" 1 "one Delivered-To"
is "$(head -n 2 "$f" 2>/dev/null | tr '\n' '|')" \
	"Return-Path: <alice@sender.test>|Delivered-To: joe@mx.test.example|" \
	"Return-Path, then Delivered-To, on top, as qmail-local writes them"
ok "$(log | grep -q 'script: ips=192.0.2.25$'; echo $?)" \
	"\$received_ips() reads qmail-smtpd's Received: form (192.0.2.25): $(log | grep 'ips=' | tail -n 1)"
deliver joe@mx.test.example "[dev] release"
is "$(n_in "$home/Maildir/.Lists.dev/new")" 1 "the filter's fileinto \"Lists/dev\" went to Maildir/.Lists.dev"
is "$(n_in "$home/Maildir/.Mailbox/new")" 1 "and not to the default mailbox"

# -- -p: 99 stops at mvmda's line, 0 goes on to ./Maildir/
deliver joe-pass@mx.test.example "file me"
is "$(n_in "$home/Maildir/.Kept/new")" 1 "-p: a message the script files is in its folder"
is "$(n_in "$home/Maildir/new")" 0 "and qmail-local stopped there (99): not in ./Maildir/"
deliver joe-pass@mx.test.example "leave me"
is "$(n_in "$home/Maildir/new")" 1 "a message the script leaves goes on to the next line (0): ./Maildir/"
f=$(ls "$home/Maildir/new/"* 2>/dev/null | head -n 1)
is "$(grep -c '^Delivered-To: joe-pass@mx.test.example$' "$f" 2>/dev/null)" 1 \
	"delivered there by qmail-local itself, with its own Delivered-To once"

# -- a temporary failure is retried by qmail-send
mkdir -p "$home/Maildir/.Temp"
chown 4711:4711 "$home/Maildir/.Temp"
: >"$home/Maildir/.Temp/new"	# a file where the folder needs a directory
send joe-temp@mx.test.example "later"
wait_for grep -q 'deferral:' "$tmp/qmail.log"
ok "$?" "a delivery that fails for now is deferred (111): $(grep -o 'deferral: .*' "$tmp/qmail.log" | head -n 1 | cut -c1-120)"
ok "$(qmail_queue_empty; [ $? != 0 ]; echo $?)" "and kept in the queue"
rm -f "$home/Maildir/.Temp/new"
qmail_flush
wait_for qmail_queue_empty
is "$(n_in "$home/Maildir/.Temp/new")" 1 "fixed, qmail-send's retry delivers it"

# -- qmail-local's environment, as the scripts see it
deliver joe-foo-bar@mx.test.example "env" bob@sender.test
ok "$([ -s "$home/env.txt" ]; echo $?)" ".qmail-default ran for joe-foo-bar (its first line wrote qmail-local's environment)"
for v in LOCAL HOST EXT EXT2 DTLINE RPLINE UFLINE NEWSENDER; do
	want=$(sed -n "s/^$v=//p" "$home/env.txt" 2>/dev/null | head -n 1)
	got=$(log | sed -n "s/^.* script: env $v=//p" | tail -n 1)
	is "$got" "$want" "\$$v is what qmail-local set ($want)"
done
is "$(log | sed -n 's/^.* script: script SENDER=//p' | tail -n 1)" \
	"bob@sender.test RECIPIENT=joe-foo-bar@mx.test.example MTA=qmail" \
	"\$SENDER, \$RECIPIENT and \$MTA under qmail-local"

# -- the real preline by hand: a Delivered-To for this address below
# preline's is a loop, exit 100 for qmail-local
printf 'Delivered-To: joe@mx.test.example\nFrom: a@sender.test\nSubject: loop\n\nbody\n' >"$tmp/loop.eml"
chmod 644 "$tmp/loop.eml"
setpriv --reuid=4711 --regid=4711 --clear-groups env -i HOME="$home" USER=joe PATH="$PATH" \
	MVMDA_RC="$MVMDA_RC" SENDER=a@sender.test RECIPIENT=joe@mx.test.example \
	DTLINE='Delivered-To: joe@mx.test.example
' RPLINE='Return-Path: <a@sender.test>
' UFLINE='From a@sender.test Thu Jan  1 00:00:00 2026
' "$QH/bin/preline" "$mvmda" -m Mailbox <"$tmp/loop.eml" >"$tmp/loop.out" 2>&1
is "$?" 100 "preline + mvmda: an older Delivered-To for this address is a loop (100): $(head -n 1 "$tmp/loop.out")"
done_testing
