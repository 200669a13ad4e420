#!/bin/sh
# dns.sh - SPF and DNSBL against a real DNS server: unbound serving test
# zones on loopback inside a private network namespace that this test
# makes (unshare -n), with mvmtr and OpenDKIM's miltertest in it too.
# Besides the answers: a closed port (server down), a server that never
# answers (timeouts; the zones of one dnsbl call are asked at once),
# and one query per zone and connection (the cache).
. "$top_srcdir/t/tap.sh"
fatal() {
	echo "Bail out! $*"
	exit 99
}
. "$top_srcdir/t/lib/ns.sh"
if [ -z "$MVMF_NETNS" ]; then
	command -v unbound >/dev/null 2>&1 ||
		skip_all "unbound is not installed (apt-get install unbound)"
	command -v miltertest >/dev/null 2>&1 ||
		skip_all "miltertest is not installed (apt-get install miltertest)"
	command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
fi
ns_enter -n
mvmtr=$top_builddir/milter/mvmtr
here=$top_srcdir/t/milter
tmp=$(mktemp -d /tmp/mvmtr-dns.XXXXXX)
pids=
cleanup() {
	[ -n "$KEEP" ] && return
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# the zones: SPF records for pass/fail/... .test, DNSBL entries in
# bl.test and bl2.test for 192.0.2.10-12 and 2001:db8::99
v6=9.9.$(printf '0.%.0s' $(seq 1 22))8.b.d.0.1.0.0.2
unbound_start "$tmp" <<ZONES || fatal "unbound did not start: $(cat "$tmp/unbound.out")"
local-zone: "test." static
local-data: 'pass.test. TXT "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/64 -all"'
local-data: 'fail.test. TXT "v=spf1 ip4:203.0.113.0/24 -all exp=why.fail.test"'
local-data: 'why.fail.test. TXT "%{i} may not send mail for %{d}"'
local-data: 'softfail.test. TXT "v=spf1 ~all"'
local-data: 'neutral.test. TXT "v=spf1 ?all"'
local-data: "none.test. A 192.0.2.1"
local-data: 'none.test. TXT "not an SPF record"'
local-data: 'perm.test. TXT "v=spf1 ip4:300.1.2.3 -all"'
local-data: 'two.test. TXT "v=spf1 -all"'
local-data: 'two.test. TXT "v=spf1 +all"'
local-data: 'mx.test. TXT "v=spf1 mx -all"'
local-data: "mx.test. MX 10 mail.mx.test."
local-data: "mail.mx.test. A 192.0.2.10"
local-data: 'incl.test. TXT "v=spf1 include:pass.test -all"'
local-data: 'temp.test. TXT "v=spf1 include:x.refused.test -all"'
local-zone: "refused.test." refuse
local-data: "10.2.0.192.bl.test. A 127.0.0.2"
local-data: '10.2.0.192.bl.test. TXT "Listed: see https://bl.test/192.0.2.10"'
local-data: "11.2.0.192.bl.test. A 127.0.0.4"
local-data: "12.2.0.192.bl.test. A 127.255.255.254"
local-data: "$v6.bl.test. A 127.0.0.2"
local-data: "10.2.0.192.bl2.test. A 127.0.0.10"
local-data: "20.2.0.192.bl.test. A 127.0.0.2"
ZONES
pids="$pids $unbound_pid"
# the server that never answers: it notes each query's name
cat >"$tmp/sink.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.2", 53))
out = open(sys.argv[1], "a", buffering=1)
open(sys.argv[1] + ".ready", "w").close()
while True:
	pkt = s.recv(4096)
	i, labels = 12, []
	while i < len(pkt) and pkt[i]:
		labels.append(pkt[i + 1:i + 1 + pkt[i]].decode("ascii", "replace"))
		i += 1 + pkt[i]
	out.write(".".join(labels) + "\n")
PY
python3 "$tmp/sink.py" "$tmp/sink.log" &
pids="$pids $!"
i=0
until [ -e "$tmp/sink.log.ready" ] &&
	dig +time=1 +tries=1 @127.0.0.1 pass.test TXT 2>/dev/null | grep -q 'v=spf1' ||
	[ $i -ge 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ $i -lt 50 ] || { cat "$tmp/unbound.out" "$tmp/unbound.log" 2>/dev/null; fatal "unbound or the silent server did not start"; }

. "$top_srcdir/t/lib/milter.sh"
sed -e "s|@NS@|127.0.0.1|" -e "s|@DOWN@|127.0.0.3:53|" -e "s|@SINK@|127.0.0.2|" \
	"$here/dns.mfl" >"$tmp/dns.mfl"
start dns "$tmp/dns.mfl"
mvmtr_pid=$pid
scenario dns dns

# one connection, two messages, each asking bl.test about 192.0.2.20 in
# several dnsbl tests, $dnsbl_a and $dnsbl_txt: one query of each type
n=$(grep -c ' 20\.2\.0\.192\.bl\.test\. A IN' "$tmp/unbound.log")
is "$n" 1 "one A query per zone, however often the script asks"
n=$(grep -c ' 20\.2\.0\.192\.bl\.test\. TXT IN' "$tmp/unbound.log")
is "$n" 1 "one TXT query too"
n=$(grep -c ' 10\.2\.0\.192\.bl\.test\. A IN' "$tmp/unbound.log")
is "$n" 1 "192.0.2.10, asked in many connections: one query (the process keeps answers for their TTL)"
n=$(grep -c ' 20\.2\.0\.192\.bl2\.test\. A IN' "$tmp/unbound.log")
is "$n" 1 "bl2.test, named only in \$hook_eom, was asked with bl.test at once"
# the three zones of one dnsbl call reach the silent server at once,
# before the first retransmission
grep '\.z[123]\.test$' "$tmp/sink.log" | head -n 3 | sort | tr '\n' ' ' >"$tmp/first3"
case $(cat "$tmp/first3") in
*"10.2.0.192.z1.test 10.2.0.192.z2.test 10.2.0.192.z3.test"*) r=0 ;;
*) r=1 ;;
esac
ok $r "the zones of one dnsbl call are asked in parallel"
[ $r -eq 0 ] || head -n 12 "$tmp/sink.log" | sed 's/^/# /'
n=$(grep -c '^10\.2\.0\.192\.z1\.test$' "$tmp/sink.log")
[ "$n" -ge 2 ]
ok $? "a query that gets no answer is sent again within the timeout ($n times)"
grep -q 'dnsbl z1.test: timeout for 192.0.2.10; taken as not listed' "$tmp/dns.log"
ok $? "a zone that does not answer is logged"
grep -q 'dnsbl bl.test: the list refused to answer' "$tmp/dns.log"
ok $? "a refusal (127.255.255.x) is logged"
grep -q 'spf: pass for mailfrom=<a@pass.test> from 192.0.2.10' "$tmp/dns.log"
ok $? "SPF results are logged"
grep -q "reject: RCPT from client.example\[198.51.100.7\]: 550 5.7.23 198.51.100.7 may not send mail for fail.test;" "$tmp/dns.log"
ok $? "the SPF reject carries the domain's explanation"
grep -q "reject: RCPT from client.example\[192.0.2.10\]: 554 5.7.1 Listed: Listed: see https://bl.test/192.0.2.10;" "$tmp/dns.log"
ok $? "the DNSBL reject carries the list's TXT answer"
grep -q 'dnsbl bl.test: 192.0.2.10 is listed (127.0.0.2)' "$tmp/dns.log"
ok $? "a listing is logged"
kill -0 "$mvmtr_pid" 2>/dev/null
ok $? "mvmtr is still running"
if grep -q 'runtime error\|Sanitizer\|runtime error:' "$tmp/dns.log"; then
	ok 1 "no runtime error or sanitizer report in mvmtr's log"
	grep 'runtime error\|Sanitizer' "$tmp/dns.log" | sed 's/^/# /' | head
else
	ok 0 "no runtime error or sanitizer report in mvmtr's log"
fi
done_testing
