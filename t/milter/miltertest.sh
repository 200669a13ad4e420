#!/bin/sh
# miltertest.sh - mvmtr against OpenDKIM's miltertest, which plays the
# MTA: every hook, decision and message change (hooks.mfl and the Lua
# scenarios in lua/), negotiation of only what a script uses, a Sieve
# script deciding at end of message, -c, SIGHUP reload with a
# connection in flight, a reload that fails, and SIGTERM.
. "$top_srcdir/t/tap.sh"
command -v miltertest >/dev/null 2>&1 ||
	skip_all "miltertest is not installed (apt-get install miltertest)"
mvmtr=$top_builddir/milter/mvmtr
here=$top_srcdir/t/milter
tmp=$(mktemp -d /tmp/mvmtr-mt.XXXXXX)
pids=
cleanup() {
	[ -n "$KEEP" ] && return
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

. "$top_srcdir/t/lib/milter.sh"

# -c: compile only
"$mvmtr" -c "$here/hooks.mfl" >/dev/null 2>&1
ok $? "-c accepts the test script"
# says TEXT NAME: ok NAME when $out has TEXT, else not ok
says() {
	case $out in *"$1"*) ok 0 "$2" ;; *) ok 1 "$2" ;; esac
}
out=$("$mvmtr" -c -v "$here/hooks.mfl")
says "hooks: connect helo envfrom envrcpt data header eoh body eom abort unknown" \
	"-c -v lists the hooks"
says "macros: {auth_authen} i (at connect: {auth_authen} i)" \
	"-c -v lists the macros asked for: the script's and i (the queue id)"
case $out in *"accepts at data"*) r=1 ;; *) r=0 ;; esac
ok $r "-c -v: a script with content hooks does not accept at DATA"
out=$("$mvmtr" -c -v "$here/dns.mfl")
says "macros: i (at connect: i j)" "-c -v: a script using SPF asks for j at connect too"
cat >"$tmp/computed.mfl" <<'S'
string $n = "auth";
void $hook_envrcpt(string $r, string[] $a) {
	if ($macro("{" + $n + "_authen}") != "") accept;
}
S
out=$("$mvmtr" -c -v "$tmp/computed.mfl")
says "macros: the MTA's lists (the script computes macro names)" \
	"-c -v: a computed macro name leaves the MTA's lists"
says "accepts at data: unless a hook queued a change" \
	"-c -v: an envelope-only script accepts at DATA"
printf 'void $hook_envrcpt(string $r) { }\n' >"$tmp/bad1.mfl"
out=$("$mvmtr" -c "$tmp/bad1.mfl" 2>&1)
ok $(( $? == 1 ? 0 : 1 )) "-c: a hook with the wrong parameters exits 1"
case $out in *"bad1.mfl:1:"*"'\$hook_envrcpt' takes (string, string[])"*) r=0 ;; *) r=1 ;; esac
ok $r "and says what the hook takes, at file:line"
printf 'void $hook_rcpt(string $r) { }\n' >"$tmp/bad2.mfl"
out=$("$mvmtr" -c "$tmp/bad2.mfl" 2>&1)
case $out in *"unknown hook '\$hook_rcpt'"*"\$hook_envrcpt"*) r=0 ;; *) r=1 ;; esac
ok $r "-c: an unknown hook is named, with the ones mvmtr calls"
printf 'if (header :is "a" "b" {\n' >"$tmp/bad3.mfl"
"$mvmtr" -c "$tmp/bad3.mfl" >/dev/null 2>&1
ok $(( $? == 1 ? 0 : 1 )) "-c: a syntax error exits 1"
"$mvmtr" -c "$top_srcdir/contrib/mvmtr.mfl" >/dev/null 2>&1
ok $? "-c accepts the example policy in contrib/"
"$mvmtr" -c "$tmp/missing.mfl" >/dev/null 2>&1
ok $(( $? == 1 ? 0 : 1 )) "-c: a missing script exits 1"
# the top level runs once with no connection: what needs one is an error
for stmt in 'accept;' 'tempfail "x";' 'quarantine "x";' '$header_add("X-A", "b");' \
	'$rcpt_add("a@b.example");' '$sender_change("a@b.example");' '$body_replace("x");'; do
	printf '%s\n' "$stmt" >"$tmp/top.mfl"
	out=$("$mvmtr" -c "$tmp/top.mfl" 2>&1)
	case "$?:$out" in 1:*"top.mfl:1: runtime error: "*" works in hooks only (running the top level)"*) r=0 ;; *) r=1 ;; esac
	ok $r "-c: $stmt at the top level is an error, named"
done
printf 'string $j = $macro("j");\n' >"$tmp/top.mfl"
"$mvmtr" -c "$tmp/top.mfl"
ok $? "-c: \$macro at the top level is \"\" at start"

start hooks "$here/hooks.mfl"
hooks_pid=$pid
for s in connect envelope content changes; do
	scenario $s hooks
done
grep -q 'Q1ENV: tempfail: RCPT from client.example\[192.0.2.1\]: 450 4.2.0 greylisted, try again in 300 seconds; from=<s@example.org> to=<temp@example.org>' "$tmp/hooks.log"
ok $? "the log line carries the queue id, client, reply and envelope"
grep -q 'hooks.mfl:[0-9]*: runtime error: division by zero in \$hook_eom; answering tempfail' "$tmp/hooks.log"
ok $? "a runtime error is logged with file:line and the answer"

start minimal "$here/minimal.mfl"
scenario negotiate minimal
start sieve "$here/rules.sieve"
scenario sieve sieve
start mime "$here/mime.sieve"
scenario mime mime
start toplevel "$here/toplevel.mfl"
scenario toplevel toplevel
grep -q 'toplevel.mfl:6: runtime error: division by zero in the top level; answering reject' \
	"$tmp/toplevel.log"
ok $? "the top level's failure is logged once, with file:line and the answer"
[ "$(grep -c 'runtime error' "$tmp/toplevel.log")" -eq 1 ]
ok $? "and not again for each step"

# $client_suspicious and $greylist_key
start suspicious "$here/suspicious.mfl"
scenario suspicious suspicious

# $msa_message alone: the message counted with its first recipient
sed "s|@STORE@|$tmp/msastore|" "$here/msacount.mfl" >"$tmp/msacount.mfl"
start msacount "$tmp/msacount.mfl"
scenario msacount msacount
grep -q "msa: user u1 refused: messages 1 of 1 in 60 s" "$tmp/msacount.log"
ok $? "msacount: the refusal is logged with the limit"

# the store: greylisting, lists, automatic blocks, mvmcas beside mvmtr
mvmcas=$top_builddir/milter/mvmcas
sed "s|@STORE@|$tmp/store|" "$here/store.mfl" >"$tmp/store.mfl"
start store "$tmp/store.mfl"
scenario store store -D mvmcas="$mvmcas -s $tmp/store"
out=$("$mvmcas" -s "$tmp/store" show 100.64.0.99)
case $out in *"blocked	automatic: "*" rejects in 60 s"*) r=0 ;; *) r=1 ;; esac
ok $r "mvmcas show: the automatic block and its reason"
grep -q "blocked 100.64.0.99 for 86400 s: 3 rejects within 60 s" "$tmp/store.log"
ok $? "the automatic block is logged"
out=$("$mvmcas" -s "$tmp/store" stats)
case $out in *"greylist	4	(waiting 2, passed 2)"*) r=0 ;; *) r=1 ;; esac
ok $r "mvmcas stats counts the triplets mvmtr made"
[ $r -eq 0 ] || echo "$out" | sed 's/^/# /'
"$mvmcas" -s "$tmp/store" unblock 100.64.0.99/32
ok $? "mvmcas unblock lifts the automatic block"
"$mvmcas" -s "$tmp/store" dump >"$tmp/dump"
"$mvmcas" -s "$tmp/store2" load "$tmp/dump" >/dev/null &&
	"$mvmcas" -s "$tmp/store2" dump | cmp -s - "$tmp/dump"
ok $? "dump, load and dump again give the same lines"

# a store cut short on disk (a copy taken while it was written, a bad
# restore, a failing disk) is a store failure, not the death of mvmtr
# (it died of SIGBUS at the first lookup, and again after each restart)
for i in $(seq 1 300); do
	printf 'block\t10.%d.%d.0/24\t1796577796\t0\t0\tpadding to fill pages %0100d\n' \
		$((i / 250)) $((i % 250)) 0
done >"$tmp/big.dump"
"$mvmcas" -s "$tmp/dstore" load "$tmp/big.dump" >/dev/null
sed "s|@STORE@|$tmp/dstore|; s|@FAILURE@|open|" "$here/damage.mfl" >"$tmp/dstore.mfl"
sed "s|@STORE@|$tmp/dstore|; s|@FAILURE@|tempfail|" "$here/damage.mfl" >"$tmp/dstore2.mfl"
start damage "$tmp/dstore.mfl"
damage_pid=$pid
scenario damage damage -D store="$tmp/dstore"
kill -0 "$damage_pid" 2>/dev/null
ok $? "mvmtr is alive after the fault"
grep -q "damaged: a page past the end of the store's file (cut short on disk); see mvmcas(8) RECOVERY" \
	"$tmp/damage.log"
ok $? "and logs the store as damaged, with where to read on"
is "$(grep -c 'failing open' "$tmp/damage.log")" 1 \
	"two failures in a minute: one log line that it fails open"
kill "$damage_pid"
"$mvmcas" -s "$tmp/dstore" stats >"$tmp/out" 2>&1
is "$?" 1 "mvmcas on the damaged store: an error, not SIGBUS (exit 135)"
"$mvmcas" -s "$tmp/dstore" check >"$tmp/out" 2>&1
is "$?" 1 "mvmcas check finds the damage"
grep -q "damaged: the file is 16384 bytes, its pages reach" "$tmp/out" &&
	grep -q "To recover: stop mvmtr; mv $tmp/dstore $tmp/dstore.damaged" "$tmp/out"
ok $? "and says what is wrong and how to recover"
start damage2 "$tmp/dstore2.mfl"
damage_pid=$pid
scenario damage2 damage2 -D store="$tmp/dstore" 2>/dev/null
kill -0 "$damage_pid" 2>/dev/null
ok $? "mvmtr started on the damaged store stays up"
grep -q "cut short on disk" "$tmp/damage2.log"
ok $? "and logs why its lookups fail"
grep -q "answering tempfail" "$tmp/damage2.log"
ok $? "and that it answers tempfail"
kill "$damage_pid"
"$mvmcas" -s "$tmp/store" check >"$tmp/out" 2>&1
ok $? "mvmcas check on a sound store: ok"

# reload: a copy of minimal.mfl is replaced by one that rejects at connect
cp "$here/minimal.mfl" "$tmp/live.mfl"
cat >"$tmp/new.mfl" <<'S'
void $hook_connect(string $host, string $addr, int $port) { reject "new program"; }
S
start live "$tmp/live.mfl"
live_pid=$pid
scenario reload live -D pid="$live_pid" -D script="$tmp/live.mfl" -D newscript="$tmp/new.mfl"
grep -q "reload: .*live.mfl compiled and in use" "$tmp/live.log"
ok $? "the reload is logged"
printf 'this is not MFL\n' >"$tmp/live.mfl"
kill -HUP "$live_pid"
sleep 0.5
kill -0 "$live_pid" 2>/dev/null
ok $? "a reload that fails keeps mvmtr running"
grep -q "live.mfl does not compile; keeping the running program" "$tmp/live.log"
ok $? "and says so"
cat >"$tmp/after.lua" <<'S'
local c = mt.connect(sock, 100, 0.05)
mt.conninfo(c, "client.example", "192.0.2.1")
if mt.getreply(c) ~= SMFIR_REPLYCODE then error("old program not kept") end
mt.disconnect(c)
S
miltertest -D sock="unix:$tmp/live.sock" -s "$tmp/after.lua" >/dev/null 2>&1
ok $? "the program before the failed reload still answers"

kill -TERM "$hooks_pid"
i=0
while kill -0 "$hooks_pid" 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
wait "$hooks_pid"
is "$?" 0 "SIGTERM stops mvmtr, exit 0"
grep -q "SIGTERM: stopping" "$tmp/hooks.log"
ok $? "and it logs why"
for p in $pids; do
	kill -TERM "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
pids=
# under --enable-sanitizers their reports land in the logs
! grep -E 'AddressSanitizer|LeakSanitizer|\.[ch]:[0-9]+:[0-9]+: runtime error' "$tmp"/*.log
ok $? "no sanitizer report from any mvmtr"
done_testing
