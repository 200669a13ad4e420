#!/bin/sh
# demo.sh - the quick start's demo does what it says: contrib/demo/run.sh
# on this build, as root, sends the demo messages through a private
# Postfix with the installed mvmtr (contrib/mvmtr.mfl) and mvmda; each
# first attempt is greylisted and the retry accepted, a listed client
# and an SPF failure are refused, mvmtr's headers are in the stored
# copy, and every message lands in the folder joe's Sieve script and
# ann's MFL filter choose, which the demo's own summary of the Maildirs
# (found on disk) must agree with. The machine's prefix is untouched.
. "$top_srcdir/t/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "the demo's real path needs root"
for c in postfix swaks unbound unshare ip adduser; do
	command -v "$c" >/dev/null 2>&1 || skip_all "$c is not installed (sh contrib/install-deps.sh)"
done
out=$(mktemp /tmp/mvmf-demo-out.XXXXXX)
trap 'rm -f "$out"' EXIT
prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
before=$(ls -A "$prefix" 2>/dev/null | tr '\n' ' ')

sh "$top_srcdir/contrib/demo/run.sh" "$top_builddir" >"$out" 2>&1
st=$?
is "$st" 0 "contrib/demo/run.sh exits 0"
grep -q 'the real path is not shown' "$out" &&
	sed -n 's/^ *(the real path is not shown: \(.*\))$/# \1/p' "$out"
# has PATTERN NAME: a line of the demo's output matches
has() { ok "$(grep -q -e "$1" "$out"; echo $?)" "$2"; }
# line FILE: the demo's line for message FILE in step N (7 or 8)
first() { sed -n '/^7\./,/^8\./p' "$out" | grep "^  $1 from"; }
retry() { sed -n '/^8\./,/^9\./p' "$out" | grep -A2 "^  $1 from"; }

has '^  goes to: folder Lists/dev (list mail' "the filter part: 02-list.eml goes to Lists/dev"
for m in 01-personal 02-list 03-attachment 04-spam; do
	ok "$(first "$m.eml" | grep -q ': 450 4\.7\.1 Greylisted, please try again in 5 seconds$'; echo $?)" \
		"$m: the first attempt is greylisted"
	ok "$(retry "$m.eml" | grep -q ': 250 2\.0\.0 Ok: queued as '; echo $?)" \
		"$m: the retry is accepted"
done
# where: USER MESSAGE FOLDER WHY
where() {
	ok "$(retry "$2.eml" | grep -q -F -x "$(printf '    %-4s -> %s (delivered): %s' "$1" "$3" "$4")"; echo $?)" \
		"$2: $1's copy in $3 ($4)"
}
where joe 01-personal INBOX "by ~joe/.dovecot.sieve"
where ann 01-personal INBOX "no rule matched: implicit keep"
where joe 02-list Lists/dev "by ~joe/.dovecot.sieve"
where ann 02-list Lists/dev "list mail (List-Id dev.lists.example.org)"
where joe 03-attachment Work/Invoices "by ~joe/.dovecot.sieve"
where ann 03-attachment Attachments "has attachments (multipart/mixed)"
where joe 04-spam Junk "by ~joe/.dovecot.sieve"
where ann 04-spam Junk "spam score 12"
has '^  bulk.example.net (198.51.100.66): 554 5\.7\.1 Listed by dnsbl.example: 198.51.100.66 hit our spam traps$' \
	"the client in the block list is refused with its TXT record"
has "^  bad.example.net (203.0.113.9), as <alice@example.org>: 550 5\.7\.23 203\.0\.113\.9 is not one of example.org's designated mail servers" \
	"the client example.org's SPF record does not allow is refused"
has '^  Received-SPF: pass (mx.test.example: domain of example.org designates 192.0.2.25' \
	"the stored copy has mvmtr's Received-SPF"
has '^  X-Filtered-By: mvmtr on mx.test.example$' "and its X-Filtered-By"
for d in "joe  Maildir " "joe  Maildir/.Lists.dev " "joe  Maildir/.Work.Invoices " "joe  Maildir/.Junk " \
	"ann  Maildir " "ann  Maildir/.Lists.dev " "ann  Maildir/.Attachments " "ann  Maildir/.Junk "; do
	has "^  $d *1 message$" "on disk: one message in ${d% }"
done
is "$(sed -n '/^11\./,/^12\./p' "$out" | grep -c ' message')" 8 "and no other folder"
has '^  rejects	2$' "mvmcas stats, as documented, reads mvmtr's store: the two refusals"
has '^  socket: mvmtr:mvmtr 660$' "the socket mvmtr -u made is mvmtr's, 0660"
is "$(ls -A "$prefix" 2>/dev/null | tr '\n' ' ')" "$before" "$prefix on this machine is as it was"
# the demo's daemons end with it (mvmtr's pid file was written where
# the mvmtr user cannot write, and every run left an mvmtr behind)
sleep 0.5
is "$(pgrep -f "$prefix/sbin/mvmtr -u mvmtr:mvmtr" | wc -l)" 0 "no mvmtr of the demo is left running"
[ "$tap_failed" = 0 ] || sed 's/^/# /' "$out"
done_testing
