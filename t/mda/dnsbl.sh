#!/bin/sh
# dnsbl.sh - the dnsbl test in delivery scripts, against a real DNS
# server: unbound serving test zones on loopback inside a private
# network namespace this test makes (unshare -n), as t/milter/dns.sh
# does for mvmtr. The responsible addresses come from the Received:
# chain (or :address), the zones and their answers from dnsbl.conf (or
# the test); a list that refuses, a server that is down, and the
# shipped dnsbl.conf (no zone enabled) list nothing.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/ns.sh"
if [ -z "$MVMF_NETNS" ]; then
	command -v unbound >/dev/null 2>&1 ||
		skip_all "unbound is not installed (apt-get install unbound)"
fi
ns_enter -n
. "$top_srcdir/t/lib/mda.sh"
mvmda="$top_builddir/mda/mvmda"
mda_home
upid=
trap 'kill $upid 2>/dev/null; mda_forget_caches "$tmp"; rm -rf "$tmp"' EXIT

unbound_start "$tmp" <<ZONES || { echo "Bail out! unbound did not start"; exit 99; }
local-zone: "test." static
local-data: "10.2.0.192.bl.test. A 127.0.0.2"
local-data: "11.2.0.192.bl.test. A 127.0.0.4"
local-data: "12.2.0.192.bl.test. A 127.255.255.254"
local-data: "10.2.0.192.bl2.test. A 127.0.0.10"
local-data: "7.113.0.203.bl2.test. A 127.0.0.3"
ZONES
upid=$unbound_pid

cat >rc.mfl <<R
\$namespace("", "maildir++", \$HOME + "/Maildir", "maildir", ".");
\$mvmda_resolver = "127.0.0.1";
\$mvmda_dnsbl_conf = "$tmp/dnsbl.conf";
\$mvmda_dns_timeout = 2;
\$script_run(\$Args[0]);
R
export MVMDA_RC="$tmp/rc.mfl"
cat >junk.sieve <<'S'
require ["fileinto", "vnd.mvmf.dnsbl"];
if dnsbl { fileinto "Junk"; }
S
msg() {	# msg IP...: a message relayed from each IP in turn, newest first
	for ip; do
		printf 'Received: from h (h [%s]) by mx.example.org with ESMTP id x\n' "$ip"
	done
	printf 'From: a@example.org\nSubject: hello\n\nbody\n'
}
count() { find "$1" -type f 2>/dev/null | wc -l; }

printf '# the lists\nbl.test\n\nbl2.test 127.0.0.10\n' >dnsbl.conf
msg 192.0.2.10 | "$mvmda" junk.sieve 2>err
is "$?" 0 "delivered"
is "$(count "$HOME/Maildir/.Junk/new")" 1 "a Received: address listed in a dnsbl.conf zone: dnsbl is true"
msg 198.51.100.9 | "$mvmda" junk.sieve 2>err
is "$(count "$HOME/Maildir/new")" 1 "an address on no list: false"
msg 10.0.0.1 198.51.100.9 203.0.113.7 | "$mvmda" junk.sieve 2>err
is "$(count "$HOME/Maildir/.Junk/new")" 1 \
	"an older relay's address, listed with an answer the zone does not count: false"
printf 'bl.test\nbl2.test 127.0.0.3\n' >dnsbl.conf
msg 10.0.0.1 198.51.100.9 203.0.113.7 | "$mvmda" junk.sieve 2>err
is "$(count "$HOME/Maildir/.Junk/new")" 2 "the same with the answer counted for the zone: true"
printf 'bl.test 127.0.0.4\n' >dnsbl.conf
msg 192.0.2.10 | "$mvmda" junk.sieve 2>err
is "$(count "$HOME/Maildir/.Junk/new")" 2 "bl.test counting 127.0.0.4 only: 192.0.2.10 (127.0.0.2) is not listed"
msg 192.0.2.11 | "$mvmda" junk.sieve 2>err
is "$(count "$HOME/Maildir/.Junk/new")" 3 "192.0.2.11 (127.0.0.4) is"
msg 192.0.2.12 | "$mvmda" junk.sieve 2>err
is "$(count "$HOME/Maildir/.Junk/new")" 3 "an answer of 127.255.255.254 is the list refusing: not listed"
ok "$(grep -q 'dnsbl bl.test: the list refused to answer' err; echo $?)" "and logged"

# MFL mode, zones and address named in the test, :codes
cat >named.mfl <<'S'
if (dnsbl :address "192.0.2.10" ["bl2.test"])
	fileinto "Two";
if (dnsbl :address "192.0.2.10" :codes ["127.0.0.9"] "bl2.test")
	fileinto "Nine";
S
msg 198.51.100.9 | "$mvmda" named.mfl 2>err
is "$(count "$HOME/Maildir/.Two/new")" 1 "MFL: dnsbl :address with a zone named"
is "$(count "$HOME/Maildir/.Nine/new")" 0 ":codes the answer is not: false"

# what lists nothing
rm -f dnsbl.conf
msg 192.0.2.10 | "$mvmda" junk.sieve 2>err
is "$(count "$HOME/Maildir/.Junk/new")" 3 "no dnsbl.conf: no zone, false"
sed "s|^\\\$mvmda_dnsbl_conf = .*|\$mvmda_dnsbl_conf = \"$top_srcdir/mda/dnsbl.conf\";|" rc.mfl >shipped.mfl
before=$(grep -c 'bl.test\|spamhaus\|spamcop' "$tmp/unbound.log")
msg 192.0.2.10 | MVMDA_RC="$tmp/shipped.mfl" "$mvmda" junk.sieve 2>err
is "$(count "$HOME/Maildir/.Junk/new")" 3 "the shipped dnsbl.conf enables no zone: false"
is "$(grep -c 'bl.test\|spamhaus\|spamcop' "$tmp/unbound.log")" "$before" "and asks nothing"
printf 'bl.test\n' >dnsbl.conf
sed 's|^\$mvmda_resolver = .*|$mvmda_resolver = "127.0.0.1:5399";|' rc.mfl >down.mfl
msg 192.0.2.10 | MVMDA_RC="$tmp/down.mfl" "$mvmda" junk.sieve 2>err
is "$?" 0 "the nameserver down: delivered"
is "$(count "$HOME/Maildir/.Junk/new")" 3 "and not listed"
ok "$(grep -q 'dnsbl bl.test: server failure for 192.0.2.10; taken as not listed' err; echo $?)" \
	"said in the log"
printf 'if dnsbl { discard; }\n' >noreq.sieve
before=$(count "$HOME/Maildir/new")
msg 192.0.2.10 | "$mvmda" noreq.sieve 2>err
is "$(count "$HOME/Maildir/new")" "$((before + 1))" \
	"Sieve without require \"vnd.mvmf.dnsbl\": does not compile, kept"
ok "$(grep -q 'noreq.sieve:1:.*vnd.mvmf.dnsbl' err; echo $?)" "and the error names the extension"
done_testing
