#!/bin/sh
# milter_bench.sh - mvmtr's speed, in one run, against what a user would
# pick instead and against the limits, all inside a private network
# namespace with its own DNS server (unbound):
#
#  1. the milter protocol alone (t/bench/milter_drive: a connection and
#     a message per transaction, PAR at once): the floors - mvmtr's
#     engine with a filter that does nothing (engine_null: accepting at
#     MAIL as the accept-all policy does, "data" taking the steps the
#     policy below takes and accepting at DATA as mvmtr does for it, and
#     "eom" staying to the end of the message, as mvmtr does for a
#     script with an end-of-message hook) and a bare
#     libmilter filter (milter_null, what a libmilter milter costs at
#     least) - then mvmtr and mailfromd with an accept-all policy, then
#     with greylisting (triplet already passed) + SPF + one DNSBL zone:
#     hot, one client, sender and recipient over and over (every cache
#     hits), and cold, every transaction from another client of a /24,
#     with its own sender and recipient (a new triplet each: greylisted,
#     a store write; SPF and DNSBL asked for each client). A policy is
#     first shown a sender whose SPF record fails every client: one
#     that lets it through does not really check (mailfromd's resolver
#     can fail in its forked children, every answer then "continue"),
#     and it is "not measured" rather than given a ratio;
#  2. a private Postfix receiving MSGS 4 KB messages from smtp-source,
#     PAR sessions at once, one message each: without a milter, then
#     with each filter of 1, ROUNDS times interleaved (medians; each
#     ratio is to the same round's run without a milter); the milter's
#     CPU per message and every process's;
#  3. the greylist store with ENTRIES triplets loaded by mvmcas: lookup
#     latency (t/bench/store_bench) beside bare LMDB.
#
# The filters listen on unix sockets, as contrib/postfix/main.cf.mvmtr
# sets them up; SOCK=inet puts them on TCP ports of 127.0.0.1 instead.
# Needs root, unshare, unbound, postfix (smtp-source), mailfromd;
# prints what it skips and why. MAILFROMD=0 leaves mailfromd out,
# ENTRIES=0 the store.
set -u
builddir=$(cd "${1:-.}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
MSGS=${MSGS:-2000} PAR=${PAR:-20} TX=${TX:-20000} MFD_TX=${MFD_TX:-1000}
ENTRIES=${ENTRIES:-10000000} SOCK=${SOCK:-unix} ROUNDS=${ROUNDS:-3}

if [ -z "${MVMF_NETNS:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "skipped: needs root (a network namespace, a private Postfix)"
		exit 0
	fi
	for c in unshare unbound postfix smtp-source; do
		command -v $c >/dev/null 2>&1 || { echo "skipped: $c is not installed"; exit 0; }
	done
	MVMF_NETNS=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up
ip addr add 192.0.2.25/32 dev lo
tmp=$(mktemp -d /tmp/milter-bench.XXXXXX)
chmod 755 "$tmp"
pids=
PF=$tmp/pf PF_PORT=2525
cleanup() {
	[ -f "$PF/etc/main.cf" ] && postfix -c "$PF/etc" stop >/dev/null 2>&1
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
have_mfd=${MAILFROMD:-1}
command -v mailfromd >/dev/null 2>&1 || have_mfd=0

. "$here/milter_env.sh"
bench_dns

# the policies, the same in both languages
bench_policies "$tmp/store"
mkdir -p "$tmp/mfd-accept" "$tmp/mfd-policy"
chown mail "$tmp/mfd-accept" "$tmp/mfd-policy" 2>/dev/null
cat >"$tmp/mfd-accept.mf" <<'MF'
prog envfrom
do
  accept
done
MF
# mailfromd's way: the connection's facts kept from their own handlers
# (Postfix sends no {client_addr} macro by default)
cat >"$tmp/mfd-policy.mf" <<'MF'
require status
require dns
require spf
require match_dnsbl

string ip
string sender
string heloname

prog connect
do
  set ip $4
done

prog helo
do
  set heloname $1
done

prog envfrom
do
  set sender $1
done

prog envrcpt
do
  if greylist("%ip %sender $1", 1)
    tempfail 450 4.7.1 "Greylisted"
  elif spf_check_host(ip, domainpart(sender), sender, heloname, "mx.test.example") = Fail
    reject 550 5.7.23 "SPF fail"
  elif match_dnsbl(ip, "bl.test", "ANY")
    reject 554 5.7.1 "Listed by bl.test"
  fi
done
MF
chmod 644 "$tmp"/*.mf "$tmp"/*.mfl

var() {	# NAME as a shell variable name
	echo "$1" | tr - _
}
# sock PORT: the libmilter socket of the filter numbered PORT;
# pf_sock PORT: the same in Postfix's spelling
# (in a directory mailfromd, running as mail, may make them in too)
mkdir -m 1777 "$tmp/socks"
sock() {
	if [ "$SOCK" = unix ]; then echo "unix:$tmp/socks/$1.sock"; else echo "inet:$1@127.0.0.1"; fi
}
pf_sock() {
	if [ "$SOCK" = unix ]; then echo "unix:$tmp/socks/$1.sock"; else echo "inet:127.0.0.1:$1"; fi
}
# start_filter NAME PORT COMMAND...: a filter on $(sock PORT)
start_filter() {
	name=$1 port=$2
	shift 2
	"$@" >"$tmp/$name.log" 2>&1 &
	pids="$pids $!"
	eval "pid_$(var "$name")=$!"
	for i in $(seq 100); do
		if [ "$SOCK" = unix ]; then
			# Postfix's smtpd runs as postfix
			[ -S "$tmp/socks/$port.sock" ] && chmod 666 "$tmp/socks/$port.sock" && return 0
		else
			bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && return 0
		fi
		sleep 0.1
	done
	echo "$name did not start:"
	cat "$tmp/$name.log"
	return 1
}
filters="engine-null:7305 engine-data:7307 engine-eom:7306 mvmtr-accept:7301 mvmtr-policy:7302"
start_filter engine-null 7305 "$builddir/t/bench/engine_null" "$(sock 7305)"
start_filter engine-data 7307 "$builddir/t/bench/engine_null" "$(sock 7307)" data
start_filter engine-eom 7306 "$builddir/t/bench/engine_null" "$(sock 7306)" eom
if [ -x "$builddir/t/bench/milter_null" ]; then
	start_filter libmilter-null 7300 "$builddir/t/bench/milter_null" "$(sock 7300)" &&
		filters="libmilter-null:7300 $filters"
else
	echo "libmilter-dev is not installed: no bare libmilter filter to compare with"
fi
start_filter mvmtr-accept 7301 "$builddir/milter/mvmtr" -f -l warning \
	-p "$(sock 7301)" "$tmp/accept.mfl"
start_filter mvmtr-policy 7302 "$builddir/milter/mvmtr" -f -l warning \
	-p "$(sock 7302)" "$tmp/policy.mfl"
if [ $have_mfd = 1 ]; then
	# mailfromd forks per connection and its child closes every
	# descriptor up to the limit: with 1024, systemd's default soft
	# limit for a service, not this shell's (maybe far more; each
	# close is a system call). Its listen queue and instances sized
	# for Postfix's 100 smtpd processes (with the defaults, Postfix's
	# connects fail with EAGAIN and every session gets a 451).
	for p in accept:7303 policy:7304; do
		cat >"$tmp/mfd-${p%:*}.conf" <<CONF
server milter {
	listen "$(sock "${p#*:}")";
	max-instances 100;
	backlog 128;
};
CONF
		start_filter "mailfromd-${p%:*}" "${p#*:}" sh -c 'ulimit -n 1024 && exec "$@"' sh \
			mailfromd --foreground --stderr -u mail \
			--config-file="$tmp/mfd-${p%:*}.conf" --state-directory="$tmp/mfd-${p%:*}" \
			--resolv-conf-file="$tmp/resolv.conf" "$tmp/mfd-${p%:*}.mf" &&
			filters="$filters mailfromd-${p%:*}:${p#*:}"
	done
else
	echo "mailfromd is not installed: no comparison with it (apt-get install mailfromd)"
fi
sleep 1

# A filter's CPU time: perf's task-clock, counted exactly over every
# thread and child (mailfromd forks one per connection); without perf,
# the clock ticks in /proc/PID/stat, which sample at CLK_TCK and charge
# short bursts unevenly.
have_perf=0
perf stat -e task-clock -o /dev/null true >/dev/null 2>&1 && have_perf=1
[ $have_perf = 1 ] || echo "perf is not usable: CPU times from /proc clock ticks (apt-get install linux-perf)"
hz=$(getconf CLK_TCK)
cpu_start() {	# PID: start counting PID's CPU time
	if [ $have_perf = 1 ]; then
		perf stat -x, -e task-clock -p "$1" -o "$tmp/perf.out" >/dev/null 2>&1 &
		perf_pid=$!
		sleep 0.3
	else
		cpu_pid=$1
		cpu_a=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat")
	fi
}
cpu_stop() {	# N: CPU milliseconds per item since cpu_start
	if [ $have_perf = 1 ]; then
		kill -INT "$perf_pid"
		wait "$perf_pid"
		awk -F, -v n="$1" '/task-clock/ && $1 != "" { ms = $1 }
			END { if (ms != "") printf "%.3f", ms / n; else printf "n/a" }' "$tmp/perf.out"
	else
		awk -v a="$cpu_a" -v n="$1" -v hz="$hz" \
			'{ printf "%.3f", ($14 + $15 + $16 + $17 - a) * 1000 / hz / n }' \
			"/proc/$cpu_pid/stat"
	fi
}
drive() {	# PORT COUNT THREADS
	"$builddir/t/bench/milter_drive" "$(sock "$1")" "$2" "$3" 192.0.2.25 \
		a@pass.test user@test.example 4096
}

# the greylist triplet passes before anything is measured
for port in 7302 7304; do
	case " $filters " in *":$port "*) drive $port 1 1 >/dev/null ;; esac
done
sleep 2
for port in 7302 7304; do
	case " $filters " in *":$port "*) drive $port 1 1 | sed "s/^/warm-up $port: /" ;; esac
done
# warnings NAME: the resolver's complaints in the filter's log so far
warnings() {
	grep -c -i 'adns\|resolver' "$tmp/$1.log" 2>/dev/null || true
}
# does each policy check SPF? A sender of fail.test must be refused
for f in mvmtr-policy:7302 mailfromd-policy:7304; do
	name=${f%:*} port=${f#*:}
	case " $filters " in *" $f "*) ;; *) continue ;; esac
	out=$("$builddir/t/bench/milter_drive" "$(sock "$port")" 1 1 192.0.2.25 a@fail.test \
		user@test.example 100)
	case $out in
	*"'y' 1"*|*"'r' 1"*) echo "$name refuses an SPF fail: it checks" ;;
	*)	why="an SPF fail let through ($(echo "$out" | sed 's/.*failures //'))"
		n=$(grep -c adns "$tmp/$name.log" 2>/dev/null)
		[ "${n:-0}" -gt 0 ] && why="$why; $n resolver warnings (adns) in its log"
		eval "broken_$(var "$name")=\"\$why\""
		echo "$name does not check: $why" ;;
	esac
done

echo "-- 1. the milter protocol alone: $TX transactions ($MFD_TX for mailfromd), $PAR at once"
for f in $filters; do
	name=${f%:*} port=${f#*:}
	n=$TX
	case $name in mailfromd*) n=$MFD_TX ;; esac
	eval "pid=\$pid_$(var "$name") broken=\${broken_$(var "$name"):-}"
	if [ -n "$broken" ]; then
		printf '%-17s not measured: %s\n' "$name" "$broken"
		continue
	fi
	w0=$(warnings "$name")
	cpu_start "$pid"
	line=$(drive "$port" "$n" "$PAR")
	cpu=$(cpu_stop "$n")
	w=$(($(warnings "$name") - w0))
	if [ "$w" -gt 0 ]; then
		printf '%-17s not measured: %d resolver warnings in its log during the run (%s)\n' \
			"$name" "$w" "$(grep -m 1 -i 'adns\|resolv' "$tmp/$name.log" | cut -c1-80)"
		eval "broken_$(var "$name")=\"\$w resolver warnings during the run\""
		continue
	fi
	rate=$(echo "$line" | awk '{print $8}')
	eval "rate_$(var "$name")=$rate"
	printf '%-17s %s cpu_ms/tx %s\n' "$name" "$line" "$cpu"
done
line=$(drive 7302 "$TX" 4)
printf '%-17s %s\n' "mvmtr-policy(4)" "$line"
# cold: a new client, sender and recipient in every transaction
for f in mvmtr-policy:7302 mailfromd-policy:7304; do
	name=${f%:*} port=${f#*:}
	case " $filters " in *" $f "*) ;; *) continue ;; esac
	eval "broken=\${broken_$(var "$name"):-}"
	[ -n "$broken" ] && continue
	n=$TX
	case $name in mailfromd*) n=$MFD_TX ;; esac
	eval "pid=\$pid_$(var "$name")"
	w0=$(warnings "$name")
	cpu_start "$pid"
	line=$("$builddir/t/bench/milter_drive" "$(sock "$port")" "$n" "$PAR" 192.0.2.0/24 \
		"s%n@pass.test" "user%n@test.example" 4096)
	cpu=$(cpu_stop "$n")
	w=$(($(warnings "$name") - w0))
	if [ "$w" -gt 0 ]; then
		printf '%-17s not measured: %d resolver warnings in its log during the run\n' \
			"$name-cold" "$w"
		continue
	fi
	eval "rate_$(var "$name")_cold=$(echo "$line" | awk '{print $8}')"
	printf '%-17s %s cpu_ms/tx %s\n' "$name-cold" "$line" "$cpu"
done
ratio() {	# A B: A / B, or "not measured" when B is not a rate
	echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "not measured" }'
}
echo "mvmtr-accept / engine-null (the engine's floor): $(ratio "$rate_mvmtr_accept" "$rate_engine_null")"
echo "mvmtr-policy / engine-data (the engine's floor): $(ratio "$rate_mvmtr_policy" "$rate_engine_data")"
echo "engine-null / libmilter-null: $(ratio "$rate_engine_null" "${rate_libmilter_null:-0}")"
if [ $have_mfd = 1 ]; then
	echo "mvmtr-accept / mailfromd-accept: $(ratio "$rate_mvmtr_accept" "${rate_mailfromd_accept:-0}")"
	echo "mvmtr-policy / mailfromd-policy: $(ratio "$rate_mvmtr_policy" "${rate_mailfromd_policy:-0}")"
	echo "mvmtr-policy-cold / mailfromd-policy-cold: $(ratio "${rate_mvmtr_policy_cold:-0}" \
		"${rate_mailfromd_policy_cold:-0}")"
fi

echo "-- 2. Postfix: $MSGS messages of 4 KB, $PAR sessions at once, one message each, $ROUNDS rounds"
. "$here/../lib/postfix.sh"
bench_postfix
pf_run() {	# NAME MILTER PID: one run; its numbers kept under NAME
	postconf -c "$PF/etc" -e "smtpd_milters = $2"
	pf_start >/dev/null 2>&1 || { echo "postfix did not start"; tail "$PF/maillog"; exit 1; }
	[ -n "$3" ] && cpu_start "$3"
	busy0=$(busy_ms)
	start=$(date +%s%N)
	smtp-source -s "$PAR" -m "$MSGS" -l 4096 -f a@pass.test -t user@test.example \
		"192.0.2.25:$PF_PORT" >"$tmp/smtp-source.out" 2>&1
	rc=$?
	end=$(date +%s%N)
	busy1=$(busy_ms)
	cpu=0.000
	[ -n "$3" ] && cpu=$(cpu_stop "$MSGS")
	rate=$(echo "$MSGS $start $end" | awk '{printf "%.1f", $1 / (($3 - $2) / 1e9)}')
	sys=$(echo "$busy0 $busy1 $MSGS" | awk '{printf "%.3f", ($2 - $1) / $3}')
	v=$(var "$1")
	if [ $rc -ne 0 ]; then
		# not a rate: smtp-source stops at the first refusal
		eval "failed_$v=\"\$(tail -1 \"\$tmp/smtp-source.out\")\""
		echo "$1: smtp-source: $(tail -1 "$tmp/smtp-source.out")"
	else
		[ "$1" = none ] && round_none=$rate
		# each filter against Postfix without one in the same round
		pair=$(ratio "$rate" "$round_none")
		eval "rates_$v=\"\${rates_$v:-} $rate\"; cpus_$v=\"\${cpus_$v:-} $cpu\"; \
			syss_$v=\"\${syss_$v:-} $sys\"; pairs_$v=\"\${pairs_$v:-} $pair\""
	fi
	bench_postfix_stop
}
# the configurations, interleaved round by round so that drift in the
# machine's speed touches them all alike, and each compared with the
# same round's Postfix without a milter; mailfromd once (it is slow)
round_none=0
for round in $(seq "$ROUNDS"); do
	pf_run none "" ""
	pf_run engine-null "$(pf_sock 7305)" "$pid_engine_null"
	case " $filters " in *" libmilter-null:"*)
		pf_run libmilter-null "$(pf_sock 7300)" "$pid_libmilter_null" ;;
	esac
	pf_run mvmtr-accept "$(pf_sock 7301)" "$pid_mvmtr_accept"
	pf_run engine-data "$(pf_sock 7307)" "$pid_engine_data"
	pf_run mvmtr-policy "$(pf_sock 7302)" "$pid_mvmtr_policy"
	pf_run engine-eom "$(pf_sock 7306)" "$pid_engine_eom"
	[ "$round" -gt 1 ] && continue
	case " $filters " in *" mailfromd-accept:"*)
		pf_run mailfromd-accept "$(pf_sock 7303)" "$pid_mailfromd_accept" ;;
	esac
	case " $filters " in *" mailfromd-policy:"*)
		[ -z "${broken_mailfromd_policy:-}" ] &&
			pf_run mailfromd-policy "$(pf_sock 7304)" "$pid_mailfromd_policy" ;;
	esac
done
echo "(medians of $ROUNDS rounds, mailfromd of 1; ratio: the median of each round's rate over" \
	"that round's Postfix without a milter, with the range; system: CPU of every process per message)"
eval "none_sys=\$(median \$syss_none)"
for name in none engine-null libmilter-null mvmtr-accept engine-data mvmtr-policy \
	engine-eom mailfromd-accept mailfromd-policy; do
	v=$(var "$name")
	eval "rates=\${rates_$v:-}; cpus=\${cpus_$v:-}; syss=\${syss_$v:-}; pairs=\${pairs_$v:-}; \
		failed=\${failed_$v:-}"
	if [ -z "$rates" ]; then
		[ -n "$failed" ] && printf '%-17s no rate: every run stopped at a refusal (%s)\n' "$name" "$failed"
		eval "broken=\${broken_$v:-}"
		[ -n "$broken" ] && printf '%-17s not measured: %s\n' "$name" "$broken"
		continue
	fi
	sys=$(median $syss)
	range=$(printf '%s\n' $pairs | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }')
	printf '%-17s %8s msg/s  ratio %s (%s)  milter cpu_ms/msg %s  system cpu_ms/msg %s (+%s)%s\n' \
		"$name" "$(median $rates)" "$(median $pairs)" "$range" "$(median $cpus)" \
		"$sys" "$(echo "$sys $none_sys" | awk '{ printf "%.3f", $1 - $2 }')" \
		"${failed:+  (some runs refused: $failed)}"
done
n=$(grep -c 'milter-reject\|milter.*reject' "$PF/maillog")
echo "milter rejects in Postfix's log (should be 0): $n"

[ "$ENTRIES" -gt 0 ] || exit 0
echo "-- 3. the greylist store: $ENTRIES passed triplets"
now=$(date +%s)
start=$(date +%s%N)
awk -v n="$ENTRIES" -v now="$now" 'BEGIN {
	for (i = 0; i < n; i++)
		printf "greylist\t10.%d.%d.0/24\ts%d@d%d.example\tr%d@example.org\t1\t2\t%d\t%d\t%d\n",
		    int(i / 256) % 256, i % 256, i, i % 1000, i, now - 600, now, now - 300
}' | "$builddir/milter/mvmcas" -s "$tmp/big" -S 17179869184 load >"$tmp/load.out" 2>&1
end=$(date +%s%N)
echo "mvmcas load: $(tail -1 "$tmp/load.out"); $(echo "$start $end" | awk '{printf "%.1f", ($2 - $1) / 1e9}') s; $(du -sh "$tmp/big" | cut -f1) on disk"
"$builddir/t/bench/store_bench" "$tmp/big" "$ENTRIES" 200000
