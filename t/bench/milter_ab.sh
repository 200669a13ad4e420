#!/bin/sh
# milter_ab.sh - two or more mvmtr scripts compared under a private
# Postfix, run after run: Postfix without a milter, then each script, R
# times over (default 4), MSGS messages of 4 KB from smtp-source in PAR
# sessions. Each run prints its rate, the CPU of every process per
# message (/proc/stat) and mvmtr's (perf, when usable); the end gives
# the medians and each script's ratio to the runs without a milter.
# For a change whose effect is smaller than make bench's run-to-run
# spread: the scripts alternate, so drift touches them alike.
#
#   sh t/bench/milter_ab.sh BUILDDIR NAME=SCRIPT.mfl...
#
# In the scripts @TMP@ becomes the run's directory (for $mvmtr_store);
# unbound answers pass.test (SPF: 192.0.2.0/24) and bl.test (an empty
# list) at 127.0.0.1 (milter_env.sh, as for milter_bench.sh). Needs root, unshare,
# unbound, postfix (smtp-source); linux-perf for mvmtr's CPU.
set -u
[ $# -ge 2 ] || { echo "usage: milter_ab.sh BUILDDIR NAME=SCRIPT..." >&2; exit 2; }
builddir=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
shift
MSGS=${MSGS:-2000} PAR=${PAR:-20} R=${R:-4}
if [ -z "${MVMF_NETNS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "skipped: needs root"; exit 0; }
	for c in unshare unbound postfix smtp-source; do
		command -v $c >/dev/null 2>&1 || { echo "skipped: $c is not installed"; exit 0; }
	done
	MVMF_NETNS=1 exec unshare -n sh "$0" "$builddir" "$@"
fi
ip link set lo up
ip addr add 192.0.2.25/32 dev lo
tmp=$(mktemp -d /tmp/milter-ab.XXXXXX)
chmod 755 "$tmp"
PF=$tmp/pf PF_PORT=2525 pids=
cleanup() {
	[ -f "$PF/etc/main.cf" ] && postfix -c "$PF/etc" stop >/dev/null 2>&1
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$here/milter_env.sh"
bench_dns
mkdir -m 1777 "$tmp/socks"
names=
for spec in "$@"; do
	name=${spec%%=*} script=${spec#*=}
	case $name in none | *[!a-zA-Z0-9_]*)
		echo "milter_ab.sh: $name: a name of letters, digits and _, not none" >&2
		exit 2 ;;
	esac
	sed "s|@TMP@|$tmp|g" "$script" >"$tmp/$name.mfl"
	"$builddir/milter/mvmtr" -f -l warning -p "unix:$tmp/socks/$name.sock" \
		"$tmp/$name.mfl" >"$tmp/$name.log" 2>&1 &
	pids="$pids $!"
	eval "pid_$name=$!"
	names="$names $name"
done
for i in $(seq 100); do
	[ "$(ls "$tmp/socks" | wc -l)" -ge $# ] && break
	sleep 0.1
done
chmod 666 "$tmp"/socks/*.sock
# a greylisting script's triplet passes before anything is measured
for name in $names; do
	"$builddir/t/bench/milter_drive" "unix:$tmp/socks/$name.sock" 1 1 192.0.2.25 \
		a@pass.test user@test.example 4096 >/dev/null
done
sleep 2
. "$here/../lib/postfix.sh"
bench_postfix
have_perf=0
perf stat -e task-clock -o /dev/null true >/dev/null 2>&1 && have_perf=1
run() {	# NAME: one run, its numbers kept under NAME
	milter=
	[ "$1" = none ] || milter="unix:$tmp/socks/$1.sock"
	postconf -c "$PF/etc" -e "smtpd_milters = $milter"
	pf_start >/dev/null 2>&1 || { echo "postfix did not start"; exit 1; }
	if [ "$1" != none ] && [ $have_perf = 1 ]; then
		eval "p=\$pid_$1"
		perf stat -x, -e task-clock -p "$p" -o "$tmp/perf.out" >/dev/null 2>&1 &
		perf_pid=$!
		sleep 0.3
	fi
	b0=$(busy_ms)
	s=$(date +%s%N)
	smtp-source -s "$PAR" -m "$MSGS" -l 4096 -f a@pass.test -t user@test.example \
		"192.0.2.25:$PF_PORT" >"$tmp/smtp-source.out" 2>&1 ||
		echo "$1: smtp-source: $(tail -1 "$tmp/smtp-source.out")"
	e=$(date +%s%N)
	b1=$(busy_ms)
	cpu=n/a
	if [ "$1" != none ] && [ $have_perf = 1 ]; then
		kill -INT "$perf_pid"
		wait "$perf_pid"
		cpu=$(awk -F, -v n="$MSGS" '/task-clock/ { printf "%.3f", $1 / n }' "$tmp/perf.out")
	fi
	rate=$(echo "$MSGS $s $e" | awk '{ printf "%.1f", $1 / (($3 - $2) / 1e9) }')
	sys=$(echo "$b0 $b1 $MSGS" | awk '{ printf "%.3f", ($2 - $1) / $3 }')
	printf '%-16s rate %7s msg/s  system cpu_ms/msg %s  mvmtr cpu_ms/msg %s\n' \
		"$1" "$rate" "$sys" "$cpu"
	eval "rates_$1=\"\${rates_$1:-} $rate\" syss_$1=\"\${syss_$1:-} $sys\" \
		cpus_$1=\"\${cpus_$1:-} $cpu\""
	bench_postfix_stop
}
for r in $(seq "$R"); do
	run none
	for name in $names; do
		run "$name"
	done
done
echo "-- medians of $R runs (ratio: to the median without a milter)"
none_rate=$(median $rates_none)
for name in none $names; do
	eval "rate=\$(median \$rates_$name) sys=\$(median \$syss_$name) cpus=\$cpus_$name"
	printf '%-16s rate %7s msg/s  ratio %s  system cpu_ms/msg %s  mvmtr cpu_ms/msg %s\n' \
		"$name" "$rate" "$(echo "$rate $none_rate" | awk '{ printf "%.3f", $1 / $2 }')" \
		"$sys" "$([ "$name" = none ] && echo - || median $cpus)"
done
n=$(grep -c 'milter-reject' "$PF/maillog")
echo "milter rejects in Postfix's log (should be 0 for a policy that passes): $n"
