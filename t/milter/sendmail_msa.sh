#!/bin/sh
# sendmail_msa.sh - mvmtr on Sendmail's MSA port: a real Sendmail
# (Debian's packages, fetched with apt-get download and unpacked with
# dpkg -x, as t/mda/sendmail.sh does) with a sendmail.cf built by m4
# from contrib/sendmail/mvmtr-msa.mc, real SASL (Cyrus, the sasldb made
# with saslpasswd2 from Debian's sasl2-bin, also unpacked), mvmtr
# running the packaged example policy contrib/msa.mfl; in a network and
# mount namespace of its own (a private copy of /etc holds the SASL
# configuration). swaks with AUTH: an allowed sender accepted, another
# refused by mvmtr, the MTA port (25) not under the outbound policy;
# recipients Sendmail refuses reach mvmtr (SMFIP_RCPT_REJ, {rcpt_mailer}
# "error") and lock the user past the failed-recipient brake.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/ns.sh"
. "$top_srcdir/t/lib/sendmail.sh"
sm_check
debs=$top_builddir/t/sendmail-msa-debs
sm_fetch "$debs" sendmail-bin sendmail-cf sendmail-base sasl2-bin
ns_enter -m -n
mvmtr=$(cd "$top_builddir/milter" && pwd)/mvmtr
mvmcas=$(cd "$top_builddir/milter" && pwd)/mvmcas
mt_pid=
cleanup() {
	[ -n "$mt_pid" ] && kill "$mt_pid" 2>/dev/null
	sm_stop
}
trap cleanup EXIT
sm_unpack "$debs"
saslpasswd2=$tmp/root/usr/sbin/saslpasswd2
[ -x "$saslpasswd2" ] || skip_all "no saslpasswd2 in the packages"
missing=$(ldd "$saslpasswd2" | sed -n 's/^[[:space:]]*\([^ ]*\) => not found/\1/p' | tr '\n' ' ')
[ -z "$missing" ] || skip_all "saslpasswd2 needs libraries not installed: $missing"
ls /usr/lib/*/sasl2/libplain.so* /usr/lib/*/sasl2/libsasldb.so* >/dev/null 2>&1 ||
	skip_all "Cyrus SASL's PLAIN and sasldb plugins are not installed (libsasl2-modules, libsasl2-modules-db)"

# a private /etc: the SASL configuration (Cyrus reads /etc/sasl2/Sendmail.conf)
ns_user_etc "$tmp" "$tmp/home/joe"
echo "127.0.0.1 $(hostname) mx.example.test" >>/etc/hosts
echo "nameserver 127.0.0.1" >/etc/resolv.conf.mvmf
mv /etc/resolv.conf.mvmf /etc/resolv.conf
mkdir -p /etc/sasl2
printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s/sasldb2\nmech_list: PLAIN LOGIN\n' \
	"$tmp" >/etc/sasl2/Sendmail.conf
for u in alice erin; do
	echo "pw-$u" | "$saslpasswd2" -p -c -f "$tmp/sasldb2" -u mx.example.test "$u" || break
done
chmod 600 "$tmp/sasldb2"
ok $? "saslpasswd2 makes a sasldb with alice and erin"

# mvmtr with the shipped policy
: >"$tmp/dkim-keys"
{
	echo "\$mvmtr_store = \"$tmp/store\";"
	echo "\$mvmtr_store_size = 64 << 20;"
	cat "$top_srcdir/contrib/msa.mfl"
	echo "\$mvmtr_msa_brake_failed_recipients = \"2/3600\";"
	echo "\$mvmtr_dkim_keys = \"$tmp/dkim-keys\";"
} >"$tmp/msa.mfl"
"$mvmtr" -f -l info -p "unix:$tmp/msa.sock" "$tmp/msa.mfl" >"$tmp/mvmtr.log" 2>&1 &
mt_pid=$!
"$mvmcas" -s "$tmp/store" sender alice alice@example.test >/dev/null &&
	"$mvmcas" -s "$tmp/store" sender erin erin@example.test >/dev/null
ok $? "mvmcas: alice may send as alice@example.test, erin as erin@example.test"

{ sm_mc_head; cat <<MC; } >"$tmp/sendmail.mc"
define(\`confDELIVERY_MODE', \`queueonly')dnl
define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN')dnl
define(\`confAUTH_REALM', \`mx.example.test')dnl
TRUST_AUTH_MECH(\`PLAIN LOGIN')dnl
define(\`MVMTR_MSA_SOCKET', \`unix:$tmp/msa.sock')dnl
include(\`$top_srcdir/contrib/sendmail/mvmtr-msa.mc')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
MC
m4 "$tmp/sendmail.mc" >"$tmp/sendmail.cf" 2>"$tmp/m4.log"
is "$?" 0 "m4 builds sendmail.cf with contrib/sendmail/mvmtr-msa.mc$(head -n 2 "$tmp/m4.log" | tr '\n' ' ')"
grep -q "^Xmvmtr-msa, S=unix:$tmp/msa.sock, F=T" "$tmp/sendmail.cf" &&
	grep -q "^O DaemonPortOptions=Port=submission, Name=MSA, M=Ea, InputMailFilters=mvmtr-msa" "$tmp/sendmail.cf" &&
	! grep -q "^O InputMailFilters=.*mvmtr-msa" "$tmp/sendmail.cf"
ok $? "the filter is the MSA daemon's only, not every daemon's"
chmod 644 "$tmp/sendmail.cf"
: >"$tmp/aliases"
"$sendmail" -C "$tmp/sendmail.cf" -bi >"$tmp/newaliases.log" 2>&1
timeout 20 "$sendmail" -C "$tmp/sendmail.cf" -bd -O ErrorMode=p >"$tmp/sm.out" 2>&1 </dev/null
is "$?" 0 "sendmail -bd starts$(head -n 3 "$tmp/sm.out" | tr "\n" " ")"
i=0
until bash -c 'exec 3<>/dev/tcp/127.0.0.1/587' 2>/dev/null || [ $i -ge 50 ]; do sleep 0.2; i=$((i + 1)); done

# sub USER FROM [swaks options] - one submission on port 587
sub() {
	user=$1 from=$2
	shift 2
	if [ "$user" = - ]; then
		set -- "$@"
	else
		set -- --auth PLAIN --auth-user "$user" --auth-password "pw-$user" "$@"
	fi
	swaks --server 127.0.0.1 --port 587 --helo client.test --from "$from" \
		--to someone@remote.example --header "From: <$from>" "$@" >"$tmp/swaks.out" 2>&1
}
said() { grep -q -- "$1" "$tmp/swaks.out"; }

sub alice alice@example.test
said "<-  250 2.0.0 .* Message accepted for delivery"
ok $? "alice, authenticated with SASL, sends as herself on the MSA port: accepted"
sub alice bob@example.test
said "<\*\* 553 5.7.1 .*You (alice) may not send as <bob@example.test>" || sed 's/^/# /' "$tmp/swaks.out"
ok $? "alice as bob: refused by mvmtr at MAIL, 553 5.7.1"
sub - alice@example.test
said "<\*\* 530 5.7.0 Authentication required"
ok $? "no AUTH on the MSA port: 530 5.7.0"
swaks --server 127.0.0.1 --port 25 --helo client.test --from bob@elsewhere.test \
	--to postmaster@example.test --quit-after MAIL >"$tmp/swaks.out" 2>&1
said "<-  250 2.1.0 <bob@elsewhere.test>... Sender ok"
ok $? "port 25 (the MTA) is not under the outbound policy: an unauthenticated sender is fine there"

# failed recipients: Sendmail refuses users example.test does not have;
# mvmtr sees them and locks erin past 2 an hour
sub erin erin@example.test --to nobody1@example.test,nobody2@example.test,someone@remote.example
said "<\*\* 550 5.1.1 <nobody2@example.test>... User unknown" && said "<-  250 2.0.0 .* Message accepted"
ok $? "erin: 2 recipients refused by Sendmail, the message to the 3rd accepted"
grep -q "msa: user erin: recipient <nobody2@example.test> refused by the MTA" "$tmp/mvmtr.log"
ok $? "mvmtr saw the refused recipients (SMFIP_RCPT_REJ) and logged them"
sub erin erin@example.test --to nobody3@example.test
grep -q "msa: user erin locked: more failed recipients than 2/3600" "$tmp/mvmtr.log"
ok $? "the 3rd failed recipient within the hour locks erin, logged"
sub erin erin@example.test
said "<\*\* 451 4.7.1 Your account may not send now (automatic: 3 failed recipients in 3600 s (brake 2))"
ok $? "her next submission is held back, saying why"
"$mvmcas" -s "$tmp/store" users | grep -q "^user	erin	1	"
ok $? "mvmcas users shows erin locked"
done_testing
