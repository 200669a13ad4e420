#!/bin/sh
# redis_bench.sh - the store on Redis against the store on LMDB, in one
# run, with a private redis-server (unix socket and TCP on 127.0.0.1):
#
#  1. the milter protocol (t/bench/milter_drive: a connection and a
#     message per transaction, PAR at once) through mvmtr with the
#     greylist policy (the triplet passed beforehand): LMDB, Redis over
#     its unix socket, both as configured by default (a triplet read as
#     passed is taken as passed for $mvmtr_greylist_memo, 60 s, so the
#     same client's next messages do not ask the store), then Redis
#     over its unix socket and over TCP with the memo off (every
#     message asks Redis: a client seen once a minute or less);
#     ROUNDS rounds interleaved, each round's Redis rate over the same
#     round's LMDB rate, medians (this machine's speed drifts between
#     rounds); the goal is Redis (unix) >= 0.7 x LMDB's tx/s;
#  2. ENTRIES passed triplets loaded by mvmcas into each: Redis's
#     memory per triplet and per million; greylist lookup latency
#     (t/bench/store_bench) on each, beside redis-benchmark's bare GET
#     (Redis's limit); the goal is a greylist lookup p99 < 300 us;
#  3. the big-sender simulation (t/milter/bigsender.sh) with BIG
#     messages: SPF-keyed greylisting against classic triplets.
#
# Needs redis-server and redis-benchmark; prints what it skips and why.
set -u
builddir=$(cd "${1:-.}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
TX=${TX:-20000} PAR=${PAR:-20} ROUNDS=${ROUNDS:-5}
ENTRIES=${ENTRIES:-1000000} BIG=${BIG:-100}
for c in redis-server redis-cli redis-benchmark; do
	command -v $c >/dev/null 2>&1 || { echo "skipped: $c is not installed"; exit 0; }
done
grep -q '^#define HAVE_REDIS 1' "$builddir/config.h" ||
	{ echo "skipped: built without Redis"; exit 0; }
tmp=$(mktemp -d /tmp/redis-bench.XXXXXX)
port=$((16400 + $$ % 1000))
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	redis-cli -s "$tmp/redis.sock" shutdown nosave >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
redis-server --port "$port" --bind 127.0.0.1 --unixsocket "$tmp/redis.sock" --dir "$tmp" \
	--save '' --appendonly no --daemonize yes --logfile "$tmp/redis.log" >/dev/null
for i in $(seq 100); do
	redis-cli -s "$tmp/redis.sock" ping 2>/dev/null | grep -q PONG && break
	sleep 0.05
done
rcli() { redis-cli -s "$tmp/redis.sock" "$@"; }
echo "redis: $(redis-server --version | cut -d' ' -f1-3), unix socket and 127.0.0.1:$port"

# the greylist policy, the store in @STORE@
names="lmdb redis-unix redis-unix-ask redis-tcp-ask"
for name in $names; do
	memo=60
	case $name in
	lmdb) store=$tmp/store ;;
	redis-unix) store=redis+unix://$tmp/redis.sock ;;
	redis-unix-ask) store=redis+unix://$tmp/redis.sock memo=0 ;;
	redis-tcp-ask) store=redis://127.0.0.1:$port/1 memo=0 ;;
	esac
	cat >"$tmp/$name.mfl" <<MFL
\$mvmtr_store = "$store";
\$mvmtr_greylist_memo = $memo;
\$mvmtr_greylist_delay = 1;
\$mvmtr_greylist_autoallow = 0;
\$mvmtr_greylist_spf = 0;
void \$hook_envrcpt(string \$rcpt, string[] \$args) {
	int \$wait = \$greylist();
	if (\$wait > 0)
		tempfail :code "450" :xcode "4.7.1" \$sprintf("Greylisted for %d seconds", \$wait);
}
MFL
	"$builddir/milter/mvmtr" -f -l warning -p "unix:$tmp/$name.sock" "$tmp/$name.mfl" \
		>"$tmp/$name.log" 2>&1 &
	eval "pid_$(echo $name | tr - _)=$!"
	pids="$pids $!"
done
for name in $names; do
	for i in $(seq 100); do [ -S "$tmp/$name.sock" ] && break; sleep 0.05; done
done
drive() {	# NAME COUNT THREADS
	"$builddir/t/bench/milter_drive" "unix:$tmp/$1.sock" "$2" "$3" 192.0.2.25 \
		a@pass.test user@test.example 4096
}
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "n/a" }'; }

# the triplet passes before anything is measured
for name in $names; do drive $name 1 1 >/dev/null; done
sleep 2
for name in $names; do
	drive $name 1 1 | grep -q "'a' 1$" || echo "warm-up $name: not passed: $(drive $name 1 1)"
done

echo "-- 1. the milter protocol through mvmtr's greylist policy: $TX transactions, $PAR at once, $ROUNDS rounds"
for round in $(seq "$ROUNDS"); do
	for name in $names; do
		line=$(drive $name "$TX" "$PAR")
		v=$(echo $name | tr - _)
		if echo "$line" | grep -q "failures 0 'a' $TX$"; then
			eval "rate_$v=$(echo "$line" | awk '{print $8}')"
			eval "rates_$v=\"\${rates_$v:-} \$rate_$v\""
			eval "p99_$v=\"\${p99_$v:-} $(echo "$line" | awk '{print $12}')\""
		else
			eval "rate_$v="
			echo "$name round $round: not every transaction accepted: $line"
		fi
	done
	# each Redis rate over the same round's LMDB rate
	for v in redis_unix redis_unix_ask redis_tcp_ask; do
		eval "r=\${rate_$v:-}"
		[ -n "$r" ] && [ -n "$rate_lmdb" ] &&
			eval "pairs_$v=\"\${pairs_$v:-} $(ratio "$r" "$rate_lmdb")\""
	done
done
for name in $names; do
	v=$(echo $name | tr - _)
	eval "rates=\${rates_$v:-}; p99s=\${p99_$v:-}"
	if [ -z "$rates" ]; then
		printf '%-14s not measured\n' "$name"
		continue
	fi
	printf '%-14s %8s tx/s  p99 %s ms  (rounds:%s)\n' "$name" "$(median $rates)" "$(median $p99s)" "$rates"
done
for v in redis_unix redis_unix_ask redis_tcp_ask; do
	eval "pairs=\${pairs_$v:-}"
	name=$(echo $v | tr _ -)
	goal=
	[ $v != redis_tcp_ask ] && goal=" (goal >= 0.70)"
	if [ -z "$pairs" ]; then
		echo "$name / lmdb: not measured"
	else
		echo "$name / lmdb: $(median $pairs)$goal (each round:$pairs)"
	fi
done
for p in $pids; do kill "$p" 2>/dev/null; done
pids=

echo "-- 2. the store with $ENTRIES passed triplets"
now=$(date +%s)
gen() {
	awk -v n="$ENTRIES" -v now="$now" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "greylist\t10.%d.%d.0/24\ts%d@d%d.example\tr%d@example.org\t1\t2\t%d\t%d\t%d\n",
			    int(i / 256) % 256, i % 256, i, i % 1000, i, now - 600, now, now - 300
	}'
}
rcli flushall >/dev/null
before=$(rcli info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
start=$(date +%s%N)
gen | "$builddir/milter/mvmcas" -s "redis+unix://$tmp/redis.sock" load >"$tmp/load.out" 2>&1
end=$(date +%s%N)
after=$(rcli info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
echo "mvmcas load into Redis: $(tail -1 "$tmp/load.out"); $(echo "$start $end" | awk '{printf "%.1f", ($2 - $1) / 1e9}') s"
echo "Redis memory: $(echo "$before $after $ENTRIES" | awk '{ printf "%.0f bytes per triplet, %.0f MB per million triplets", ($2 - $1) / $3, ($2 - $1) / $3 * 1e6 / 1048576 }') (used_memory, keys with TTLs)"
start=$(date +%s%N)
gen | "$builddir/milter/mvmcas" -s "$tmp/big" -S 17179869184 load >"$tmp/load.out" 2>&1
end=$(date +%s%N)
echo "mvmcas load into LMDB: $(tail -1 "$tmp/load.out"); $(echo "$start $end" | awk '{printf "%.1f", ($2 - $1) / 1e9}') s; $(du -sh "$tmp/big" | cut -f1) on disk"
echo "greylist lookups, Redis over its unix socket (goal: greylist_check p99 < 300 us):"
"$builddir/t/bench/store_bench" "redis+unix://$tmp/redis.sock" "$ENTRIES" 200000 | sed 's/^/  /'
echo "greylist lookups, Redis over TCP on 127.0.0.1:"
"$builddir/t/bench/store_bench" "redis://127.0.0.1:$port/0" "$ENTRIES" 200000 | sed 's/^/  /'
echo "redis-benchmark GET, one client (Redis's limit for one lookup):"
redis-benchmark -s "$tmp/redis.sock" -t get -n 200000 -c 1 -q 2>/dev/null | tr '\r' '\n' | grep -v '^$' | tail -1 | sed 's/^/  /'
redis-benchmark -s "$tmp/redis.sock" -t get -n 200000 -c 1 2>/dev/null | tr '\r' '\n' |
	sed -n '/latency summary/,/^$/p' | head -3 | sed 's/^/  /'
echo "greylist lookups, LMDB:"
"$builddir/t/bench/store_bench" "$tmp/big" "$ENTRIES" 200000 | sed 's/^/  /'

echo "-- 3. a big sender's pool, $BIG messages (t/milter/bigsender.sh)"
top_srcdir=$(cd "$here/../.." && pwd) top_builddir=$builddir BIGSENDER_MESSAGES=$BIG \
	sh "$here/../milter/bigsender.sh" 2>&1 | grep -E '^# |^not ok|SKIP'
