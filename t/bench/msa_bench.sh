#!/bin/sh
# msa_bench.sh - the submission service through mvmtr (contrib/msa.mfl:
# AUTH required, sender authorization, limits, brakes, DKIM signing with
# a 2048-bit RSA key) against the same Postfix without a milter, in one
# run: a private Postfix with a submission port, SASL from a private
# Dovecot auth server, MSGS messages of 4 KB, PAR sessions at once, each
# with AUTH PLAIN and one message (a Python client: smtp-source has no
# AUTH). ROUNDS rounds interleaved: no milter, mvmtr without signing,
# mvmtr with signing; each rate over the same round's rate without a
# milter, medians. mvmtr's CPU per message for both, so signing's share
# shows (the goal: >= 0.9x Postfix without a milter, with signing on).
# Three more lines put these in their place: "empty", mvmtr with a
# script that does nothing at the message's end, and "null", a filter
# on Sendmail's libmilter that does nothing (the bench compiles it):
# together the milter protocol's own cost through Postfix, the floor
# any milter stands on; and "opendkim", the field's
# signer (OpenDKIM's milter, Debian's package unpacked with apt-get
# download and dpkg -x, not installed) signing with the same key, as an
# admin would add it beside a policy service; "not measured" when it
# cannot run. One message of each signer is captured and checked for
# its DKIM-Signature before the rounds.
# mvmtr listens on unix sockets, as contrib/postfix/main.cf.mvmtr has
# it; SOCK=inet puts it on 127.0.0.1 instead.
set -u
builddir=$(cd "${1:-.}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
MSGS=${MSGS:-2000} PAR=${PAR:-10} ROUNDS=${ROUNDS:-5} SOCK=${SOCK:-unix}
if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root (a private Postfix)"
	exit 0
fi
for c in postfix dovecot opendkim-genkey python3 swaks; do
	command -v $c >/dev/null 2>&1 || { echo "skipped: $c is not installed"; exit 0; }
done
grep -q '^#define HAVE_DKIM 1' "$builddir/config.h" || { echo "skipped: built without DKIM"; exit 0; }
tmp=$(mktemp -d /tmp/msa-bench.XXXXXX)
chmod 755 "$tmp"
PF=$tmp/pf PF_PORT=$((24000 + $$ % 10000))
SUB_PORT=$((PF_PORT + 1)) MT_PORT=$((PF_PORT + 2))
pids=
cleanup() {
	postfix -c "$PF/etc" stop >/dev/null 2>&1
	for p in $pids; do kill "$p" 2>/dev/null; done
	[ -n "${KEEP:-}" ] || rm -rf "$tmp" "$stores"
}
trap cleanup EXIT
. "$here/../lib/postfix.sh"
. "$here/../lib/sasl.sh"

# a key, the key table, users, the policy with generous limits
mkdir "$tmp/dkim"
(cd "$tmp/dkim" && opendkim-genkey -b 2048 -d example.org -s sel1)
chmod 644 "$tmp/dkim/sel1.private"	# for mvmtr running as postfix
mkdir -m 777 "$tmp/socks"
stores=${STOREDIR:-$tmp}/stores	# STOREDIR=/dev/shm: without the disk's fsyncs
mkdir -p "$stores"
echo "k1 example.org:sel1:$tmp/dkim/sel1.private" >"$tmp/dkim/keys"
: >"$tmp/dkim/none"
for i in $(seq 0 99); do echo "u$i:{PLAIN}pw::::::"; done >"$tmp/users"
for sign in 1 0; do
	{
		echo "\$mvmtr_store = \"$stores/store$sign\";"
		cat "$here/../../contrib/msa.mfl"
		echo "\$mvmtr_msa_messages = \"100000/60\";"
		echo "\$mvmtr_msa_recipients = \"100000/60\";"
		echo "\$mvmtr_msa_brake_messages = \"100000/60\";"
		echo "\$mvmtr_msa_brake_new_recipients = \"100000/60\";"
		[ $sign = 1 ] && echo "\$mvmtr_dkim_keys = \"$tmp/dkim/keys\";" ||
			echo "\$mvmtr_dkim_keys = \"$tmp/dkim/none\";"
	} >"$tmp/msa$sign.mfl"
	for i in $(seq 0 99); do
		"$builddir/milter/mvmcas" -s "$stores/store$sign" sender "u$i" @example.org >/dev/null
	done
	chown -R postfix "$stores"
	# a unix socket, as contrib/postfix/main.cf.mvmtr has it, mvmtr
	# running as postfix so that smtpd may connect
	conn="unix:$tmp/socks/mvmtr$sign.sock"
	[ "$SOCK" = inet ] && conn="inet:$((MT_PORT + sign))@127.0.0.1"
	"$builddir/milter/mvmtr" -f -l warning -u postfix -p "$conn" \
		"$tmp/msa$sign.mfl" >"$tmp/mvmtr$sign.log" 2>&1 &
	eval "pid_$sign=$!"
	pids="$pids $!"
	sleep 0.5
done

# the floor: a script with nothing to do but be there at the end
echo 'void $hook_eom() { }' >"$tmp/empty.mfl"
conn="unix:$tmp/socks/empty.sock"
[ "$SOCK" = inet ] && conn="inet:$((MT_PORT + 2))@127.0.0.1"
"$builddir/milter/mvmtr" -f -l warning -u postfix -p "$conn" "$tmp/empty.mfl" \
	>"$tmp/empty.log" 2>&1 &
pid_empty=$!
pids="$pids $!"

# the floor on Sendmail's libmilter: a filter that asks for no step
null=
cat >"$tmp/null.c" <<'C'
#include <libmilter/mfapi.h>
#include <string.h>

static sfsistat
eom(SMFICTX *ctx)
{
	(void) ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
	  unsigned long f3, unsigned long *p0, unsigned long *p1, unsigned long *p2,
	  unsigned long *p3)
{
	(void) ctx;
	(void) f0;
	(void) f2;
	(void) f3;
	*p0 = *p2 = *p3 = 0;
	*p1 = f1 & (SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NORCPT | SMFIP_NOBODY
		    | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA);
	return SMFIS_CONTINUE;
}

int
main(int argc, char **argv)
{
	struct smfiDesc d;

	memset(&d, 0, sizeof(d));
	d.xxfi_name = "null";
	d.xxfi_version = SMFI_VERSION;
	d.xxfi_eom = eom;
	d.xxfi_negotiate = negotiate;
	if (argc != 2 || smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(d) != MI_SUCCESS)
		return 1;
	return smfi_main();
}
C
conn="unix:$tmp/socks/null.sock"
[ "$SOCK" = inet ] && conn="inet:$((MT_PORT + 4))@127.0.0.1"
if cc -O2 -o "$tmp/null" "$tmp/null.c" -lmilter -lpthread >"$tmp/null.log" 2>&1; then
	(umask 0; exec "$tmp/null" "$conn") >>"$tmp/null.log" 2>&1 &
	pid_null=$!
	pids="$pids $!"
	sleep 0.5
	kill -0 "$pid_null" 2>/dev/null && null=1
fi
[ -n "$null" ] || echo "the libmilter null filter did not build or start: $(tail -n 1 "$tmp/null.log")"

# the field's signer: OpenDKIM's milter from Debian's package, unpacked
odk=
if (cd "$tmp" && apt-get download opendkim) >"$tmp/apt.log" 2>&1; then
	dpkg -x "$tmp"/opendkim_*.deb "$tmp/odk"
	cat >"$tmp/opendkim.conf" <<C
Mode s
Domain example.org
Selector sel1
KeyFile $tmp/dkim/sel1.private
RequireSafeKeys false
Canonicalization relaxed/relaxed
SignatureAlgorithm rsa-sha256
Socket $( [ "$SOCK" = inet ] && echo "inet:$((MT_PORT + 3))@127.0.0.1" || echo "local:$tmp/socks/opendkim.sock")
UMask 000
UserID postfix
Syslog no
PidFile $tmp/opendkim.pid
C
	if "$tmp/odk/usr/sbin/opendkim" -f -x "$tmp/opendkim.conf" >"$tmp/opendkim.log" 2>&1 &
	then
		pid_opendkim=$!
		pids="$pids $!"
		sleep 0.5
		kill -0 "$pid_opendkim" 2>/dev/null && odk=1
	fi
fi
[ -n "$odk" ] || echo "opendkim did not start: $(tail -n 1 "$tmp/apt.log" "$tmp/opendkim.log" 2>/dev/null | tr '\n' ' ')"

pf_init
sasl_start "$tmp" "$tmp/users" || { echo "dovecot's auth did not start"; exit 1; }
pids="$pids $sasl_pid"
sed -i "s/^default_transport = .*/default_transport = discard:benchmark/" "$PF/etc/main.cf"
# check.example's mail is kept (one message per signer, checked)
mkdir -m 1777 "$tmp/out"
printf '#!/bin/sh\ncat >"%s/out/$1"\n' "$tmp" >"$tmp/capture.sh"
chmod 755 "$tmp/capture.sh"
echo "capture unix - n n - - pipe flags=q user=nobody argv=$tmp/capture.sh \${user}" >>"$PF/etc/master.cf"
echo "transport_maps = inline:{check.example=capture:}" >>"$PF/etc/main.cf"
cat >>"$PF/etc/master.cf" <<M
127.0.0.1:$SUB_PORT inet n - n - - smtpd
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_sasl_type=dovecot
  -o smtpd_sasl_path=private/auth
  -o smtpd_tls_security_level=none
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
M

cat >"$tmp/client.py" <<'PY'
import smtplib, sys, threading, time
port, n, par = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
body = "".join("line %04d of a 4 KB message body to sign and send, padding...\r\n" % i
               for i in range(64))
lock = threading.Lock()
left, failed = [n], [0]
def worker(k):
    while True:
        with lock:
            if left[0] == 0:
                return
            left[0] -= 1
            i = left[0]
        user = "u%d" % (i % 100)
        msg = ("From: <%s@example.org>\r\nTo: <r%d@remote.example>\r\n"
               "Subject: message %d\r\nMessage-ID: <%d.%d@example.org>\r\n\r\n%s"
               % (user, i, i, i, k, body))
        try:
            s = smtplib.SMTP("127.0.0.1", port)
            s.login(user, "pw")
            s.sendmail(user + "@example.org", ["r%d@remote.example" % i], msg)
            s.quit()
        except Exception as e:
            with lock:
                failed[0] += 1
t0 = time.time()
ts = [threading.Thread(target=worker, args=(k,)) for k in range(par)]
for t in ts: t.start()
for t in ts: t.join()
dt = time.time() - t0
print("%.1f %d" % (n / dt, failed[0]))
PY

cpu_ms() { awk '{ print ($14 + $15) * 1000 / '"$(getconf CLK_TCK)"' }' "/proc/$1/stat"; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "n/a" }'; }
run() {	# NAME MILTER (empty: none)
	if [ -n "$2" ]; then
		postconf -c "$PF/etc" -P "127.0.0.1:$SUB_PORT/inet/smtpd_milters=$2"
	else
		postconf -c "$PF/etc" -P "127.0.0.1:$SUB_PORT/inet/smtpd_milters="
	fi
	pf_start >/dev/null 2>&1 || { echo "postfix did not start"; tail "$PF/maillog"; exit 1; }
	pid=
	[ "$1" = sign ] && pid=$pid_1
	[ "$1" = nosign ] && pid=$pid_0
	[ "$1" = empty ] && pid=$pid_empty
	[ "$1" = null ] && pid=$pid_null
	[ "$1" = opendkim ] && pid=$pid_opendkim
	c0=0
	[ -n "$pid" ] && c0=$(cpu_ms "$pid")
	out=$(python3 "$tmp/client.py" "$SUB_PORT" "$MSGS" "$PAR")
	c1=0
	[ -n "$pid" ] && c1=$(cpu_ms "$pid")
	postfix -c "$PF/etc" stop >/dev/null 2>&1
	sleep 1
	set -- "$1" $out
	if [ "$3" != 0 ]; then
		echo "$1: $3 of $MSGS submissions failed: not a rate"
		return
	fi
	eval "rates_$1=\"\${rates_$1:-} $2\"; cpus_$1=\"\${cpus_$1:-} $(echo "$c0 $c1 $MSGS" |
		awk '{ printf "%.3f", ($2 - $1) / $3 }')\""
	[ "$1" = none ] && round_none=$2
	[ "$1" != none ] && eval "pairs_$1=\"\${pairs_$1:-} $(ratio "$2" "$round_none")\""
}
if [ "$SOCK" = inet ]; then
	m_nosign=inet:127.0.0.1:$MT_PORT m_sign=inet:127.0.0.1:$((MT_PORT + 1))
	m_empty=inet:127.0.0.1:$((MT_PORT + 2)) m_opendkim=inet:127.0.0.1:$((MT_PORT + 3))
	m_null=inet:127.0.0.1:$((MT_PORT + 4))
else
	m_nosign=unix:$tmp/socks/mvmtr0.sock m_sign=unix:$tmp/socks/mvmtr1.sock
	m_empty=unix:$tmp/socks/empty.sock m_opendkim=unix:$tmp/socks/opendkim.sock
	m_null=unix:$tmp/socks/null.sock
fi
# signed (SIGNER MILTER): one message through it, kept and looked at
signed() {
	postconf -c "$PF/etc" -P "127.0.0.1:$SUB_PORT/inet/smtpd_milters=$2"
	pf_start >/dev/null 2>&1 || return 1
	swaks --server 127.0.0.1 --port "$SUB_PORT" --auth PLAIN --auth-user u1 \
		--auth-password pw --from u1@example.org --to "$1@check.example" \
		--header "From: <u1@example.org>" >"$tmp/swaks.$1" 2>&1
	for i in $(seq 50); do [ -s "$tmp/out/$1" ] && break; sleep 0.1; done
	postfix -c "$PF/etc" stop >/dev/null 2>&1
	sleep 1
	grep -q "^DKIM-Signature: .*d=example.org; s=sel1;" "$tmp/out/$1" 2>/dev/null
}
signed sign "$m_sign" || { echo "mvmtr's message carries no DKIM-Signature: not a bench"; exit 1; }
if [ -n "$odk" ] && ! signed opendkim "$m_opendkim"; then
	echo "opendkim did not sign: not measured"
	odk=
fi
echo "-- submission with AUTH: $MSGS messages of 4 KB, $PAR sessions at once, $ROUNDS rounds"
for round in $(seq "$ROUNDS"); do
	run none ""
	run nosign "$m_nosign"
	run sign "$m_sign"
	run empty "$m_empty"
	[ -n "$null" ] && run null "$m_null"
	[ -n "$odk" ] && run opendkim "$m_opendkim"
done
for name in none empty null nosign sign opendkim; do
	eval "rates=\${rates_$name:-}; cpus=\${cpus_$name:-}; pairs=\${pairs_$name:-}"
	if [ -z "$rates" ]; then
		printf '%-8s not measured\n' "$name"
		continue
	fi
	printf '%-8s %8s msg/s' "$name" "$(median $rates)"
	[ "$name" != none ] && printf '  ratio %s (rounds:%s)  milter cpu_ms/msg %s' \
		"$(median $pairs)" "$pairs" "$(median $cpus)"
	echo
done
eval "a=\$(median \${cpus_sign:-0}); b=\$(median \${cpus_nosign:-0})"
echo "DKIM signing (RSA-2048) in mvmtr: $(echo "$a $b" | awk '{ printf "%.3f", $1 - $2 }') cpu_ms/msg" \
	"(sign - nosign); the goal: sign >= 0.90 x none"
echo "(empty: mvmtr with a script that does nothing; null: a libmilter filter that" \
	"does nothing; the two are the milter protocol's floor through Postfix;" \
	"opendkim: OpenDKIM's milter signing alone with the same key)"
