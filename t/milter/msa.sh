#!/bin/sh
# msa.sh - mvmtr on a submission service with real SASL: a private
# Postfix (t/lib/postfix.sh) with a submission port whose smtpd
# authenticates through a private Dovecot auth server (passwd-file the
# test writes), mvmtr running the packaged example policy
# contrib/msa.mfl with short windows. swaks with AUTH: an allowed sender
# accepted, another sender refused, a From: not allowed refused at the
# end, an unauthenticated submission refused; over the limit tempfailed
# and accepted after the window; a burst, and a run of new recipients,
# lock the user; mvmcas shows and unlocks. DKIM: the policy signs with
# $dkim_sign; the message as Postfix delivers it (a pipe transport
# captures it) verifies with OpenDKIM's own opendkim-testmsg against the
# key a real DNS server (unbound) serves, and fails once a signed field
# is changed. All in network and mount namespaces of its own (its
# resolv.conf names the private DNS server).
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/postfix.sh"
. "$top_srcdir/t/lib/ns.sh"
. "$top_srcdir/t/lib/sasl.sh"
if [ -z "$MVMF_NETNS" ]; then
	pf_check
	command -v dovecot >/dev/null 2>&1 || skip_all "dovecot is not installed (dovecot-core)"
	id dovenull >/dev/null 2>&1 || skip_all "no dovenull user (dovecot-core makes it)"
	command -v unbound >/dev/null 2>&1 || skip_all "unbound is not installed"
	command -v opendkim-testmsg >/dev/null 2>&1 ||
		skip_all "opendkim-testmsg is not installed (opendkim-tools)"
	grep -q '^#define HAVE_DKIM 1' "$top_builddir/config.h" ||
		skip_all "built without DKIM (./configure --with-dkim)"
fi
ns_enter -n -m
mvmtr=$(cd "$top_builddir/milter" && pwd)/mvmtr
mvmcas=$(cd "$top_builddir/milter" && pwd)/mvmcas
tmp=$(mktemp -d /tmp/mvmtr-msa.XXXXXX)
chmod 755 "$tmp"
PF="$tmp/pf"
PF_PORT=$((23000 + $$ % 15000))
SUB_PORT=$((PF_PORT + 1))
MT_PORT=$((PF_PORT + 2))
pids=
cleanup() {
	pf_stop
	for p in $pids; do kill "$p" 2>/dev/null; done
	[ -n "$KEEP" ] || rm -rf "$tmp"
}
trap cleanup EXIT

# DKIM: a key for example.org, selector sel1, its public half in DNS
mkdir "$tmp/dkim"
(cd "$tmp/dkim" && opendkim-genkey -b 2048 -d example.org -s sel1) ||
	{ ok 1 "opendkim-genkey makes a key"; done_testing; }
echo "k1 example.org:sel1:$tmp/dkim/sel1.private" >"$tmp/dkim/keys"
txt=$(sed -n 's/.*"\(.*\)".*/\1/p' "$tmp/dkim/sel1.txt" | tr -d '\n')
unbound_start "$tmp" <<ZONES || { ok 1 "unbound starts"; done_testing; }
local-zone: "example.org." static
local-data: 'sel1._domainkey.example.org. TXT "$(echo "$txt" | cut -c1-250)" "$(echo "$txt" | cut -c251-)"'
ZONES
pids="$pids $unbound_pid"
echo "nameserver 127.0.0.1" >"$tmp/resolv.conf"
mount --bind "$tmp/resolv.conf" /etc/resolv.conf
dig +short sel1._domainkey.example.org TXT | tr -d '" \n' | grep -q "p=MII"
ok $? "the public key is in DNS (this namespace's resolv.conf names unbound)"

# the policy: the example as shipped, its limits shortened for the test
{
	echo "\$mvmtr_store = \"$tmp/store\";"
	echo "\$mvmtr_store_size = 64 << 20;"
	cat "$top_srcdir/contrib/msa.mfl"
	echo "\$mvmtr_msa_messages = \"2/3\";"
	echo "\$mvmtr_msa_recipients = \"50/60\";"
	echo "\$mvmtr_msa_brake_messages = \"4/60\";"
	echo "\$mvmtr_msa_brake_new_recipients = \"3/3600\";"
	echo "\$mvmtr_msa_brake_failed_recipients = \"3/3600\";"
	echo "\$mvmtr_dkim_keys = \"$tmp/dkim/keys\";"
} >"$tmp/msa.mfl"
"$mvmtr" -f -l info -p "inet:$MT_PORT@127.0.0.1" "$tmp/msa.mfl" >"$tmp/mvmtr.log" 2>&1 &
pids="$pids $!"

# Dovecot's auth server alone, for Postfix's smtpd (smtpd_sasl_type dovecot)
pf_init
for u in alice carol dave erin; do echo "$u:{PLAIN}pw-$u::::::"; done >"$tmp/users"
sasl_start "$tmp" "$tmp/users" ||
	{ cat "$tmp/dovecot.out" "$tmp/dovecot.log" >&2; ok 1 "dovecot auth listens"; done_testing; }
pids="$pids $sasl_pid"

# submitted mail goes to a pipe that keeps it in $tmp/out
mkdir -m 1777 "$tmp/out"
printf '#!/bin/sh\ncat >"%s/out/$(date +%%s%%N).$$"\n' "$tmp" >"$tmp/capture.sh"
chmod 755 "$tmp/capture.sh"
sed -i "s/^default_transport = .*/default_transport = capture/" "$PF/etc/main.cf"
echo "capture unix - n n - - pipe flags=q user=nobody argv=$tmp/capture.sh" >>"$PF/etc/master.cf"
pf_conf "smtpd_milters =" "milter_default_action = tempfail" \
	"mydestination = example.org" "local_recipient_maps = inline:{alice=x,carol=x,dave=x,erin=x}"
# the submission service as contrib/postfix/master.cf.submission has it,
# on a port of the test's, without chroot and TLS (no certificate here),
# its milter on TCP; and the unauthenticated client of mynetworks let
# through to mvmtr, which must refuse it itself
sed -e "s/^submission inet  *n  *-  *y /127.0.0.1:$SUB_PORT inet n - n /" \
    -e "s/smtpd_tls_security_level=encrypt/smtpd_tls_security_level=none/" \
    -e "s/=permit_sasl_authenticated,reject/=permit_sasl_authenticated,permit_mynetworks,reject/" \
    -e "s|smtpd_milters=unix:mvmtr/msa.sock|smtpd_milters=inet:127.0.0.1:$MT_PORT|" \
    "$top_srcdir/contrib/postfix/master.cf.submission" | grep -v '^#' >>"$PF/etc/master.cf"
grep -q "^127.0.0.1:$SUB_PORT inet n - n " "$PF/etc/master.cf" &&
	grep -q "smtpd_milters=inet:127.0.0.1:$MT_PORT" "$PF/etc/master.cf"
ok $? "contrib/postfix/master.cf.submission, adapted to the test, is in master.cf"
pf_start || { cat "$PF/maillog" >&2; ok 1 "private Postfix starts"; done_testing; }
ok 0 "private Postfix with a submission port, SASL through a private Dovecot, mvmtr with contrib/msa.mfl"
n_out() { find "$tmp/out" -type f | wc -l; }

"$mvmcas" -s "$tmp/store" sender alice bob@example.org >/dev/null &&
	printf '# who may send as what\nalice alice@example.org\ncarol carol@example.org\ndave @example.org\nerin erin@example.org\n' |
	"$mvmcas" -s "$tmp/store" sender-map | grep -q "^senders of 4 users: 4 patterns$" &&
	"$mvmcas" -s "$tmp/store" limit carol messages "100/60"
ok $? "mvmcas sender-map: alice may send as alice@example.org, carol as hers, dave as any @example.org; carol's own limit"
"$mvmcas" -s "$tmp/store" senders alice | grep -c "^sender" | grep -qx 1
ok $? "the map replaced alice's old list (bob@example.org gone)"

# sub USER FROM [swaks options] - one submission; the dialogue in $tmp/swaks.out
sub() {
	user=$1 from=$2
	shift 2
	if [ "$user" = - ]; then
		set -- "$@"
	else
		set -- --auth PLAIN --auth-user "$user" --auth-password "pw-$user" "$@"
	fi
	swaks --server 127.0.0.1 --port "$SUB_PORT" --from "$from" --to someone@remote.example \
		--header "From: <$from>" "$@" >"$tmp/swaks.out" 2>&1
}
said() { grep -q -- "$1" "$tmp/swaks.out"; }

sub alice alice@example.org --header "Subject: signed by mvmtr"
said "<-  250 2.0.0 Ok: queued"
ok $? "alice, authenticated, sends as herself: accepted"
for i in $(seq 100); do [ "$(n_out)" -ge 1 ] && break; sleep 0.1; done
msg=$tmp/out/$(ls "$tmp/out" | sort | head -n 1)
grep -q "^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=sel1;" "$msg"
ok $? "the message Postfix delivered carries mvmtr's DKIM-Signature (d=example.org, s=sel1)"
opendkim-testmsg <"$msg" >"$tmp/verify.out" 2>&1
ok $? "opendkim-testmsg verifies it against the key in DNS ($(head -c 200 "$tmp/verify.out"))"
sed 's/^Subject: signed by mvmtr/Subject: changed after signing/' "$msg" >"$tmp/tampered"
opendkim-testmsg <"$tmp/tampered" >"$tmp/verify.out" 2>&1
r=$?
[ $r -ne 0 ] && grep -q "Bad signature" "$tmp/verify.out"
ok $? "a signed field changed after signing: the verifier refuses it (exit $r: $(head -c 120 "$tmp/verify.out"))"
grep -q "dkim: signed for example.org, selector sel1" "$tmp/mvmtr.log"
ok $? "mvmtr logged the signature"
sub alice bob@example.org
said "<\*\* 553 5.7.1 You (alice) may not send as <bob@example.org>"
ok $? "alice as bob: refused at MAIL, 553 5.7.1"
sub alice alice@example.org --header "From: Bob <bob@example.org>"
said "<\*\* 553 5.7.1 You (alice) may not use that From: address"
ok $? "alice's envelope with bob's From: refused at the end of the message"
sub - alice@example.org
said "<\*\* 530 5.7.0 Authentication required"
ok $? "no AUTH: 530 5.7.0"
sub alice alice@example.org
said "<\*\* 451 4.7.1 Sending limit reached (messages 2 of 2 in 3 s), try again later"
ok $? "the third message within 3 s: tempfailed with the limit"
sleep 6
sub alice alice@example.org
said "<-  250 2.0.0 Ok: queued"
ok $? "after the window: accepted again"

# a burst: carol's own limit lets her, the brake (4 a minute) does not
for i in 1 2 3 4; do sub carol carol@example.org; done
said "<-  250 2.0.0 Ok: queued"
ok $? "carol sends 4 messages in a burst"
sub carol carol@example.org
said "<\*\* 452 4.5.3 Sending limit reached (locked: automatic: 5 messages in 60 s (brake 4))"
ok $? "the 5th locks her account (counted with its first recipient)"
sub carol carol@example.org
said "<\*\* 451 4.7.1 Your account may not send now (automatic: 5 messages in 60 s (brake 4))"
ok $? "and then every submission is held back, saying why"
grep -q "msa: user carol locked: more messages than 4/60 (mvmcas unlock carol releases it)" "$tmp/mvmtr.log"
ok $? "mvmtr logged the lock"
"$mvmcas" -s "$tmp/store" users | grep -q "^user	carol	1	[0-9]*	automatic: 5 messages in 60 s (brake 4)	100/60	$"
ok $? "mvmcas users shows it"
"$mvmcas" -s "$tmp/store" unlock carol | grep -q "^unlocked carol$"
ok $? "mvmcas unlock carol"
sub carol carol@example.org
said "<-  250 2.0.0 Ok: queued"
ok $? "she sends again"

# new recipients: dave writes to addresses he never wrote to (brake: 3 an hour)
"$mvmcas" -s "$tmp/store" limit dave messages "100/60" >/dev/null
sub dave dave@example.org --to new1@remote.example,new2@remote.example,new3@remote.example
said "<-  250 2.0.0 Ok: queued"
ok $? "dave writes to 3 new recipients"
sub dave dave@example.org --to new1@remote.example
said "<-  250 2.0.0 Ok: queued"
ok $? "writing again to a known one counts nothing"
sub dave dave@example.org --to new4@remote.example,new5@remote.example
said "<\*\* 452 4.5.3 Sending limit reached (locked: automatic: 4 new recipients in 3600 s (brake 3))"
ok $? "the 4th new recipient within the hour locks dave"
sub dave dave@example.org
said "<\*\* 451 4.7.1 Your account may not send now (automatic: 4 new recipients in 3600 s (brake 3))"
ok $? "his next submission is held back"

# failed recipients: erin writes to users example.org does not have
# (Postfix refuses them: unlisted in local_recipient_maps; mvmtr asks
# Postfix for the refused ones too); brake: 3 an hour
"$mvmcas" -s "$tmp/store" limit erin messages "100/60" >/dev/null
sub erin erin@example.org --to nobody1@example.org,nobody2@example.org,nobody3@example.org,someone@remote.example
said "<\*\* 550 5.1.1 <nobody3@example.org>: Recipient address rejected" && said "<-  250 2.0.0 Ok: queued"
ok $? "erin: 3 recipients refused by Postfix, the message to the 4th queued"
grep -q "msa: user erin: recipient <nobody2@example.org> refused by the MTA" "$tmp/mvmtr.log"
ok $? "mvmtr saw the refused recipients (SMFIP_RCPT_REJ) and logged them"
sub erin erin@example.org --to nobody4@example.org
grep -q "msa: user erin locked: more failed recipients than 3/3600 (mvmcas unlock erin releases it)" "$tmp/mvmtr.log"
ok $? "the 4th failed recipient within the hour locks erin, logged"
sub erin erin@example.org
said "<\*\* 451 4.7.1 Your account may not send now (automatic: 4 failed recipients in 3600 s (brake 3))"
ok $? "her next submission is held back, saying why"
"$mvmcas" -s "$tmp/store" unlock erin >/dev/null && sub erin erin@example.org --to nobody5@example.org,someone@remote.example
said "<-  250 2.0.0 Ok: queued" || cat "$tmp/swaks.out" >&2
ok $? "unlocked, she sends again (the brake counts afresh: one failure does not lock)"
done_testing
