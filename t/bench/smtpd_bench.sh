#!/bin/sh
# smtpd_bench.sh - mvmtr-smtpd against notqmail's qmail-smtpd, in one
# run: smtp-source sends MSGS 4 KB messages, PAR sessions at once, one
# message a session, through tcpserver into qmail-queue (a private qmail
# built and installed as t/lib/qmail.sh does, its queue on a tmpfs, so
# the receivers' own cost is what differs). ROUNDS rounds, each running
# qmail-smtpd, mvmtr-smtpd with an accept-all script and mvmtr-smtpd
# with the greylist + SPF + DNSBL policy (triplet already passed; DNS
# from unbound in the namespace, milter_env.sh), interleaved; medians of
# messages/s, the ratio to qmail-smtpd in the same round, and the CPU
# of every process per message. Goals (issue #19): >= 0.95 with
# accept-all, >= 0.9 with the policy. Needs root, unshare, tcpserver,
# postfix's smtp-source, unbound, notqmail (../shared or $MVMF_NOTQMAIL).
set -u
builddir=$(cd "${1:-${MVMF_BENCH_BUILDDIR:-.}}" && pwd)
MVMF_BENCH_BUILDDIR=$builddir
export MVMF_BENCH_BUILDDIR
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/../.." && pwd)
top_builddir=$builddir
MSGS=${MSGS:-2000} PAR=${PAR:-20} ROUNDS=${ROUNDS:-5}
export top_srcdir top_builddir MSGS PAR ROUNDS

skip_all() {
	echo "skipped: $*"
	exit 0
}
smtpd=$builddir/milter/mvmtr-smtpd
[ -x "$smtpd" ] || skip_all "mvmtr-smtpd is not built (./configure --enable-qmail-smtpd)"
for c in unshare tcpserver smtp-source unbound; do
	command -v $c >/dev/null 2>&1 || skip_all "$c is not installed"
done
. "$top_srcdir/t/lib/ns.sh"
. "$top_srcdir/t/lib/qmail.sh"
qmail_check
qmail_build || skip_all "notqmail does not build (see t/notqmail/build.log)"
MVMF_NETNS=${MVMF_NETNS:-}
ns_enter -m -n
ip addr add 192.0.2.25/32 dev lo
tmp=$(mktemp -d /tmp/smtpd-bench.XXXXXX)
chmod 755 "$tmp"
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$here/milter_env.sh"
bench_dns
ns_user_etc "$tmp" "$tmp/home/joe"
cp "$tmp/resolv.conf" /etc/resolv.conf.bench && mv /etc/resolv.conf.bench /etc/resolv.conf
qmail_install mx.test.example || skip_all "notqmail does not install"
echo 0 >"$QH/control/databytes"

mkdir "$tmp/store"
chown 7791:7790 "$tmp/store"
bench_policies "$tmp/store/mvmtr"

# serve NAME COMMAND...: tcpserver on 192.0.2.25:25 running COMMAND as
# qmaild, as a qmail site runs qmail-smtpd
serve() {
	name=$1
	shift
	tcpserver -q -c "$((PAR * 2))" -HRl0 -u 7791 -g 7790 192.0.2.25 25 "$@" 2>"$tmp/$name.log" &
	server=$!
	tcp_wait 192.0.2.25 25
}
stop() {
	kill "$server" 2>/dev/null
	wait "$server" 2>/dev/null
}
# queued: messages qmail-queue has taken so far
queued() { find "$QH/queue/todo" "$QH/queue/mess" -type f 2>/dev/null | wc -l; }

# the two scripts in running mvmtr daemons, which mvmtr-smtpd asks
mkdir "$tmp/run"
for s in accept policy; do
	"$builddir/milter/mvmtr" -f -l warning -u qmaild:nofiles -p "unix:$tmp/run/$s.sock" \
		"$tmp/$s.mfl" 2>"$tmp/mvmtr-$s.log" &
	pids="$pids $!"
done
i=0
until [ -S "$tmp/run/accept.sock" ] && [ -S "$tmp/run/policy.sock" ] || [ $i -ge 50 ]; do
	sleep 0.1
	i=$((i + 1))
done

# the policy's triplet passes the greylist first
serve warm "$smtpd" -q "$QH" -m "unix:$tmp/run/policy.sock"
smtp-source -m 1 -f a@pass.test -t joe@mx.test.example 192.0.2.25:25 >/dev/null 2>&1
sleep 2
smtp-source -m 1 -f a@pass.test -t joe@mx.test.example 192.0.2.25:25 >/dev/null 2>&1
stop

# run NAME COMMAND...: MSGS messages through COMMAND; "rate cpu_us_per_msg ok"
run() {
	name=$1
	shift
	rm -rf "$QH/queue/todo/"* "$QH/queue/mess/"*/* "$QH/queue/intd/"* "$QH/queue/info/"*/* 2>/dev/null
	serve "$name" "$@"
	before=$(queued)
	cpu0=$(busy_ms)
	t0=$(date +%s.%N)
	smtp-source -s "$PAR" -m "$MSGS" -l 4096 -f a@pass.test -t joe@mx.test.example \
		192.0.2.25:25 >"$tmp/$name.src" 2>&1
	t1=$(date +%s.%N)
	cpu1=$(busy_ms)
	stop
	got=$(($(queued) - before))
	awk -v n="$MSGS" -v t0="$t0" -v t1="$t1" -v c0="$cpu0" -v c1="$cpu1" -v got="$got" \
		'BEGIN { printf "%.0f %.0f %d\n", n / (t1 - t0), (c1 - c0) * 1000 / n, got }'
}

echo "smtp-source: $MSGS messages of 4 KB, $PAR sessions at once, one message a session; qmail-queue on a tmpfs"
linked=statically
readelf -l "$smtpd" 2>/dev/null | grep -q INTERP && linked=dynamically
echo "mvmtr-smtpd (linked $linked) asks a running mvmtr (-m), which runs the script"
configs="accept policy"
short=
eval "rates_qmail= cpu_qmail="
for c in $configs; do eval "ratio_$(echo $c | tr - _)= cpu_$(echo $c | tr - _)="; done
for r in $(seq "$ROUNDS"); do
	set -- $(run qmail-smtpd "$QH/bin/qmail-smtpd")
	q=$1
	rates_qmail="$rates_qmail $1" cpu_qmail="$cpu_qmail $2"
	[ "$3" -lt "$MSGS" ] && short="$short qmail-smtpd:$3"
	line="  round $r: qmail-smtpd $q msg/s"
	for c in $configs; do
		set -- $(run "mvmtr-$c" "$smtpd" -q "$QH" -m "unix:$tmp/run/$c.sock")
		[ "$3" -lt "$MSGS" ] && short="$short mvmtr-$c:$3"
		v=$(echo "$c" | tr - _)
		ratio=$(echo "$1 $q" | awk '{ printf "%.3f", $1 / $2 }')
		eval "ratio_$v=\"\$ratio_$v $ratio\" cpu_$v=\"\$cpu_$v $2\""
		line="$line, $c $1 ($ratio)"
	done
	echo "$line"
done
if [ -n "$short" ]; then
	echo "not measured: some messages were not queued ($short); see $tmp/*.log"
	exit 0
fi
# range N...: "min-median-max" of the numbers given
range() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "%s-%s-%s", v[1], v[int((NR + 1) / 2)], v[NR] }'
}
echo "median of $ROUNDS rounds (ratio to qmail-smtpd in the same round, min-median-max; CPU of every process per message):"
printf '  qmail-smtpd                        %6s msg/s  %5s us/msg\n' "$(median $rates_qmail)" "$(median $cpu_qmail)"
for c in $configs; do
	v=$(echo "$c" | tr - _)
	case $c in
	accept) what="mvmtr-smtpd + mvmtr, accept-all" goal=0.95 ;;
	policy) what="mvmtr-smtpd + mvmtr, policy" goal=0.90 ;;
	esac
	eval "printf '  %-34s ratio %5s (%s)  %5s us/msg   (goal >= %s)\n' \"\$what\" \"\$(median \$ratio_$v)\" \"\$(range \$ratio_$v)\" \"\$(median \$cpu_$v)\" \$goal"
done
