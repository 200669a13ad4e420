#!/bin/sh
# bigsender.sh - greylisting a big sender: big.test's SPF record
# authorizes 50 addresses in 5 /24s (a real DNS server, unbound, in a
# private network namespace), and each attempt of a message comes from
# another address of the pool, in another /24, as Microsoft 365's and
# Gmail's retries do. Attempts at 0, 5, 15 and 30 minutes on a simulated
# clock (libfaketime moves mvmtr's time() forward; nothing else of it is
# faked). With SPF-keyed greylisting (the default) each message passes at
# its first retry; with the classic triplet ($mvmtr_greylist_spf = 0)
# every attempt is a new triplet and none passes within the 30 minutes.
# Both are printed. BIGSENDER_MESSAGES sets how many messages (5 here;
# make bench runs it large).
. "$top_srcdir/t/tap.sh"
fatal() {
	echo "Bail out! $*"
	exit 99
}
. "$top_srcdir/t/lib/ns.sh"
faketime_lib=
for f in /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1; do
	[ -e "$f" ] && faketime_lib=$f && break
done
if [ -z "$MVMF_NETNS" ]; then
	command -v unbound >/dev/null 2>&1 ||
		skip_all "unbound is not installed (apt-get install unbound)"
	[ -n "$faketime_lib" ] || skip_all "libfaketime is not installed (apt-get install faketime)"
fi
ns_enter -n
mvmtr=$top_builddir/milter/mvmtr
mvmcas=$top_builddir/milter/mvmcas
drive=$top_builddir/t/bench/milter_drive
messages=${BIGSENDER_MESSAGES:-5}
tmp=$(mktemp -d /tmp/mvmtr-big.XXXXXX)
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	[ -n "$KEEP" ] || rm -rf "$tmp"
}
trap cleanup EXIT

# the pool: .10 to .19 of five /24s, each address named in the record
nets="198.51.100 203.0.113 192.0.2 100.64.1 100.64.2"
record="v=spf1"
for n in $nets; do
	for h in $(seq 10 19); do record="$record ip4:$n.$h"; done
done
record="$record -all"
# a TXT record of 255-byte strings, joined by the reader (RFC 7208 3.3)
strings=$(printf '%s' "$record" | fold -w 200 | sed 's/.*/"&"/' | tr '\n' ' ')
unbound_start "$tmp" <<ZONES || fatal "unbound did not start: $(cat "$tmp/unbound.out")"
local-zone: "test." static
local-data: 'big.test. TXT $strings'
ZONES
pids="$pids $unbound_pid"
dig +short @127.0.0.1 big.test TXT | tr -d '" \n' | grep -q 'ip4:100.64.2.19-all$'
ok $? "big.test's SPF record authorizes 50 addresses in 5 /24s"

# mvmtr_at NAME SPF - mvmtr with SPF-keyed greylisting on (1) or off,
# its clock the offset in $tmp/clock (seconds)
mvmtr_at() {
	cat >"$tmp/$1.mfl" <<S
\$mvmtr_store = "$tmp/$1.store";
\$mvmtr_store_size = 64 << 20;
\$mvmtr_resolver = "127.0.0.1";
\$mvmtr_greylist_spf = $2;

void \$hook_envrcpt(string \$rcpt, string[] \$args) {
	int \$wait = \$greylist();
	if (\$wait > 0)
		tempfail :code "450" :xcode "4.7.1" "Greylisted";
}
S
	echo "+0" >"$tmp/clock"
	# (a sanitizer build: ASan wants to be first; libfaketime only
	# wraps the clock, which ASan does not)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
		LD_PRELOAD=$faketime_lib FAKETIME_TIMESTAMP_FILE="$tmp/clock" FAKETIME_NO_CACHE=1 \
		DONT_FAKE_MONOTONIC=1 "$mvmtr" -f -l info -p "unix:$tmp/$1.sock" "$tmp/$1.mfl" \
		>"$tmp/$1.log" 2>&1 &
	pids="$pids $!"
	for i in $(seq 100); do
		[ -S "$tmp/$1.sock" ] && return 0
		sleep 0.05
	done
	return 1
}

# attempt NAME M K - message M's attempt K, from the pool's /24 number
# (M + K) mod 5: "y" greylisted, "a" accepted
attempt() {
	set -- $1 $2 $3 $(echo $nets | cut -d' ' -f$((($2 + $3) % 5 + 1)))
	"$drive" "unix:$tmp/$1.sock" 1 1 "$4.$((10 + ($2 * 3 + $3) % 10))" news@big.test \
		"r$2@test.example" 100 | sed -n "s/.*failures 0 '\(.\)' 1$/\1/p"
}

# run NAME - every message's attempts at 0, 5, 15, 30 minutes; prints
# per message the attempt that passed (0 for none)
run() {
	: >"$tmp/$1.passed"
	k=0
	for at in 0 300 900 1800; do
		echo "+$at" >"$tmp/clock"
		m=0
		while [ $m -lt "$messages" ]; do
			if ! grep -q "^$m " "$tmp/$1.passed"; then
				r=$(attempt "$1" $m $k)
				[ "$r" = a ] && echo "$m $k $at" >>"$tmp/$1.passed"
				[ "$r" = a ] || [ "$r" = y ] || echo "# message $m attempt $k: no answer ($r)"
			fi
			m=$((m + 1))
		done
		k=$((k + 1))
	done
}

mvmtr_at spf 1 || fatal "mvmtr did not start: $(cat "$tmp/spf.log")"
run spf
mvmtr_at plain 0 || fatal "mvmtr did not start: $(cat "$tmp/plain.log")"
run plain

n_spf=$(awk '$2 <= 1' "$tmp/spf.passed" | wc -l)
n_proven=$(awk '$2 == 0' "$tmp/spf.passed" | wc -l)
n_plain=$(wc -l <"$tmp/plain.passed")
delay_spf=$(awk '{ s += $3 } END { printf "%d", NR ? s / NR / 60 : 0 }' "$tmp/spf.passed")
echo "# $messages messages, retries at 5, 15, 30 min from other addresses of the pool:"
echo "#   SPF-keyed greylisting: $(wc -l <"$tmp/spf.passed") accepted, $n_spf at the first retry or before ($n_proven at once: the domain was proven by then), mean delay $delay_spf min"
echo "#   classic triplets:      $n_plain accepted within 30 min; the others still waiting"
is "$n_spf" "$messages" "SPF-keyed: every message is accepted by its first retry, from another address"
is "$n_plain" 0 "classic triplets: no message passes in 30 minutes (each attempt a new triplet)"
grep -q "spf: pass for mailfrom=<news@big.test>" "$tmp/spf.log"
ok $? "the SPF check behind it passed (logged)"
# passes are counted until the domain is proven ($mvmtr_greylist_autoallow, 5)
passes=$((messages < 5 ? messages : 5))
"$mvmcas" -s "$tmp/spf.store" list clients | grep -q "^client	spf:big.test	$passes	"
ok $? "mvmcas shows the proven sender: spf:big.test, $passes passes"
"$mvmcas" -s "$tmp/spf.store" list greylist | grep -q "^greylist	spf:big.test	news@big.test	r0@test.example	1	"
ok $? "and its triplets, keyed by the domain"
"$mvmcas" -s "$tmp/plain.store" list greylist | awk '$5 == 1' | grep -q .
is "$?" 1 "classic triplets: none passed in the store either"
done_testing
