#!/bin/sh
# delivery_bench.sh - the SMTP-time delivery check (mvmtr asking mvmda
# -D what the recipient's own script decides), in one run:
#
#  1. the service alone: REQ questions before DATA for a user with a
#     10-rule Sieve script, one at a time (the user's worker warm):
#     latency p50 and p99 as the asker sees it, and the service's CPU
#     per question (its own and its workers');
#  2. the milter protocol (t/bench/milter_drive, one connection at a
#     time): mvmtr with no check, then with the check on - the latency
#     per transaction it adds (two questions: the script reads the
#     header, so it is asked again at end of message);
#  3. a private Postfix receiving MSGS 4 KB messages (smtp-source, PAR
#     at once), one local recipient each: without a milter, with mvmtr
#     and no check (accepting at DATA), with mvmtr taking the message to
#     its end but no check (what the check needs of the MTA anyway),
#     with the check on, and with the check on for a user whose rules
#     look at the envelope only (check_env: accepted at DATA); ROUNDS
#     rounds interleaved, each ratio to the same round's Postfix without
#     a milter.
#
# Needs root (a user, a private Postfix), unshare, postfix, smtp-source;
# prints what it skips and why.
set -u
builddir=$(cd "${1:-.}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
MSGS=${MSGS:-2000} PAR=${PAR:-20} REQ=${REQ:-2000} TX=${TX:-2000} ROUNDS=${ROUNDS:-3}

if [ -z "${MVMF_NETNS:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "skipped: needs root (a user, a private Postfix)"
		exit 0
	fi
	for c in unshare postfix smtp-source useradd python3; do
		command -v $c >/dev/null 2>&1 || { echo "skipped: $c is not installed"; exit 0; }
	done
	MVMF_NETNS=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up
ip addr add 192.0.2.25/32 dev lo
tmp=$(mktemp -d /tmp/delivery-bench.XXXXXX)
chmod 755 "$tmp"
PF=$tmp/pf PF_PORT=2525
user=$(echo "dlvbench$$" | cut -c1-30)
user2=$(echo "dlvbenchenv$$" | cut -c1-30)
pids=
cleanup() {
	[ -f "$PF/etc/main.cf" ] && postfix -c "$PF/etc" stop >/dev/null 2>&1
	for p in $pids; do kill "$p" 2>/dev/null; done
	userdel "$user" >/dev/null 2>&1
	userdel "$user2" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$here/milter_env.sh"
. "$here/../lib/postfix.sh"

useradd -M -d "$tmp/$user" -s /bin/sh "$user" || { echo "skipped: cannot add a user"; exit 0; }
mkdir -p "$tmp/$user"
# ten rules, none of which matches the benchmark's mail
{
	echo 'require ["envelope", "ereject", "fileinto"];'
	for i in 1 2 3 4 5; do
		echo "if envelope :domain :is \"from\" \"spam$i.example\" { ereject \"no $i\"; }"
		echo "if header :contains \"subject\" \"offer $i\" { fileinto \"Junk\"; }"
	done
} >"$tmp/$user/.dovecot.sieve"
chown -R "$user" "$tmp/$user"
chmod 700 "$tmp/$user"
# and a user whose ten rules look at the envelope only: every answer is
# final at RCPT, so mvmtr accepts the message at DATA
useradd -M -d "$tmp/$user2" -s /bin/sh "$user2" || { echo "skipped: cannot add a user"; exit 0; }
mkdir -p "$tmp/$user2"
{
	echo 'require ["envelope", "ereject"];'
	for i in 1 2 3 4 5 6 7 8 9 10; do
		echo "if envelope :domain :is \"from\" \"spam$i.example\" { ereject \"no $i\"; }"
	done
} >"$tmp/$user2/.dovecot.sieve"
chown -R "$user2" "$tmp/$user2"
chmod 700 "$tmp/$user2"
rc=$(cd "$here/../../mda" && pwd)/mvmda-rc.mfl
# a delivery writes the compiled cache the service then reads
echo "Subject: warm" | su "$user" -s /bin/sh -c \
	"cd $tmp/$user && MVMDA_RC=$rc HOME=$tmp/$user $builddir/mda/mvmda -n" >/dev/null 2>&1
[ -f "$tmp/$user/.dovecot.sieve.mflc" ] || echo "(no compiled cache: the service compiles each time)"
mkdir -p "$tmp/run"
MVMDA_RC="$rc" "$builddir/mda/mvmda" -D "unix:$tmp/run/mvmda.sock" -g postfix -t 5 \
	2>"$tmp/service.log" &
svc=$!
pids="$pids $svc"
for i in $(seq 50); do [ -S "$tmp/run/mvmda.sock" ] && break; sleep 0.1; done

proc_cpu() {	# PID: CPU ms used by PID, its workers, and those that ended
	for c in $(pgrep -P "$1"); do cat "/proc/$c/stat" 2>/dev/null; done |
		awk -v hz="$(getconf CLK_TCK)" -v own="$(cut -d' ' -f14-17 "/proc/$1/stat")" '
			{ t += $14 + $15 }
			END { split(own, o, " "); print (t + o[1] + o[2] + o[3] + o[4]) * 1000 / hz }'
}

echo "-- 1. mvmda -D alone: $REQ questions before DATA, one at a time, a 10-rule Sieve script"
cpu0=$(proc_cpu "$svc")
python3 - "$tmp/run/mvmda.sock" "$REQ" "$user@test.example" >"$tmp/lat.out" <<'PY'
import socket, sys, time
path, n, rcpt = sys.argv[1], int(sys.argv[2]), sys.argv[3]
req = ("MVMDA/1 DECIDE\nphase: rcpt\nrecipient: %s\nsender: a@pass.test\n"
       "client: 192.0.2.25\nhelo: client.example\n\n" % rcpt).encode()
lat, answers = [], {}
for i in range(n):
    t = time.perf_counter()
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(req)
    out = b""
    while not out.endswith(b"\n"):
        d = s.recv(4096)
        if not d:
            break
        out += d
    s.close()
    lat.append(time.perf_counter() - t)
    a = out.decode().strip()
    answers[a] = answers.get(a, 0) + 1
lat.sort()
print("p50_ms %.3f p99_ms %.3f max_ms %.3f answers %s" % (lat[len(lat) // 2] * 1e3,
      lat[int(len(lat) * 0.99)] * 1e3, lat[-1] * 1e3, answers))
PY
cpu1=$(proc_cpu "$svc")
echo "service: $(cat "$tmp/lat.out")  cpu_ms/question $(echo "$cpu0 $cpu1 $REQ" | awk '{ printf "%.3f", ($2 - $1) / $3 }')"

cat >"$tmp/nocheck.mfl" <<'MFL'
void $hook_envrcpt(string $rcpt, string[] $args) {
	if ($rcpt == "nobody@test.example")
		reject "no such user";
}
MFL
# the same taking the whole message (an end-of-message hook), as mvmtr
# must with the check on: what the check costs beyond that
{ cat "$tmp/nocheck.mfl"; echo 'void $hook_eom() { }'; } >"$tmp/nocheckeom.mfl"
sed "1i\\
\$mvmtr_delivery_socket = \"unix:$tmp/run/mvmda.sock\";\\
\$mvmtr_delivery_domains = \"test.example\";" "$tmp/nocheck.mfl" >"$tmp/check.mfl"
chmod 644 "$tmp"/*.mfl
mkdir -m 1777 "$tmp/socks"
start_mvmtr() {	# NAME: mvmtr with $tmp/NAME.mfl on $tmp/socks/NAME.sock
	"$builddir/milter/mvmtr" -f -l warning -p "unix:$tmp/socks/$1.sock" "$tmp/$1.mfl" \
		>"$tmp/mvmtr-$1.log" 2>&1 &
	pids="$pids $!"
	eval "pid_$1=$!"
	for i in $(seq 50); do
		[ -S "$tmp/socks/$1.sock" ] && chmod 666 "$tmp/socks/$1.sock" && return 0
		sleep 0.1
	done
	echo "mvmtr ($1) did not start:"
	cat "$tmp/mvmtr-$1.log"
	exit 1
}
start_mvmtr nocheck
start_mvmtr nocheckeom
start_mvmtr check

echo "-- 2. the milter protocol: $TX transactions, one at a time, one local recipient"
for name in nocheck check; do
	c0=$(proc_cpu "$svc")
	line=$("$builddir/t/bench/milter_drive" "unix:$tmp/socks/$name.sock" "$TX" 1 192.0.2.25 \
		a@pass.test "$user@test.example" 4096)
	c1=$(proc_cpu "$svc")
	eval "p50_$name=\$(echo \"\$line\" | awk '{ print \$10 }')"
	eval "p99_$name=\$(echo \"\$line\" | awk '{ print \$12 }')"
	printf '%-8s %s  service cpu_ms/tx %s\n' "$name" "$line" \
		"$(echo "$c0 $c1 $TX" | awk '{ printf "%.3f", ($2 - $1) / $3 }')"
done
echo "added per transaction: p50 $(echo "$p50_check $p50_nocheck" | awk '{ printf "%.3f", $1 - $2 }') ms," \
	"p99 $(echo "$p99_check $p99_nocheck" | awk '{ printf "%.3f", $1 - $2 }') ms (two questions: RCPT and end of message)"

echo "-- 3. Postfix: $MSGS messages of 4 KB to the local user, $PAR sessions at once, $ROUNDS rounds"
bench_postfix
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "n/a" }'; }
pf_run() {	# NAME MILTER [USER]
	postconf -c "$PF/etc" -e "smtpd_milters = $2"
	pf_start >/dev/null 2>&1 || { echo "postfix did not start"; tail "$PF/maillog"; exit 1; }
	eval "mpid=\${pid_$(echo "$1" | sed 's/_env$//'):-}"
	m0=0 m1=0
	[ -n "$mpid" ] && m0=$(proc_cpu "$mpid")
	s0=$(proc_cpu "$svc")
	start=$(date +%s%N)
	smtp-source -s "$PAR" -m "$MSGS" -l 4096 -f a@pass.test -t "${3:-$user}@test.example" \
		"192.0.2.25:$PF_PORT" >"$tmp/smtp-source.out" 2>&1
	rc=$?
	end=$(date +%s%N)
	[ -n "$mpid" ] && m1=$(proc_cpu "$mpid")
	s1=$(proc_cpu "$svc")
	rate=$(echo "$MSGS $start $end" | awk '{printf "%.1f", $1 / (($3 - $2) / 1e9)}')
	v=$1
	eval "mcpus_$v=\"\${mcpus_$v:-} $(echo "$m0 $m1 $MSGS" | awk '{ printf "%.3f", ($2 - $1) / $3 }')\""
	eval "scpus_$v=\"\${scpus_$v:-} $(echo "$s0 $s1 $MSGS" | awk '{ printf "%.3f", ($2 - $1) / $3 }')\""
	if [ $rc -ne 0 ]; then
		echo "$1: smtp-source: $(tail -1 "$tmp/smtp-source.out") (not a rate)"
	else
		[ "$1" = none ] && round_none=$rate
		eval "rates_$v=\"\${rates_$v:-} $rate\"; pairs_$v=\"\${pairs_$v:-} $(ratio "$rate" "$round_none")\""
	fi
	bench_postfix_stop
}
round_none=0
for round in $(seq "$ROUNDS"); do
	pf_run none ""
	pf_run nocheck "unix:$tmp/socks/nocheck.sock"
	pf_run nocheckeom "unix:$tmp/socks/nocheckeom.sock"
	pf_run check "unix:$tmp/socks/check.sock"
	pf_run check_env "unix:$tmp/socks/check.sock" "$user2"
done
for name in none nocheck nocheckeom check check_env; do
	eval "rates=\${rates_$name:-}; pairs=\${pairs_$name:-}; mcpus=\${mcpus_$name:-}; scpus=\${scpus_$name:-}"
	[ -n "$rates" ] || { printf '%-10s not measured\n' "$name"; continue; }
	printf '%-10s %8s msg/s  ratio to no milter %s  mvmtr cpu_ms/msg %s  mvmda -D cpu_ms/msg %s\n' \
		"$name" "$(median $rates)" "$(median $pairs)" "$(median $mcpus)" "$(median $scpus)"
done
[ -n "${rates_check:-}" ] && [ -n "${rates_nocheckeom:-}" ] &&
	echo "check / nocheckeom (the check beyond taking the message): $(ratio "$(median $rates_check)" "$(median $rates_nocheckeom)")"
echo "questions answered by the service: $(grep -c "decision" "$tmp/service.log")," \
	"errors: $(grep -c "decision.*: error" "$tmp/service.log")"
echo "recipients refused in Postfix's log (should be 0): $(grep -c 'milter-reject' "$PF/maillog")"
