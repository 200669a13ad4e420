#!/bin/sh
# concurrency.sh - 1,000 SMTP sessions, 100 at a time (smtp-source),
# through a private Postfix and mvmtr greylisting every new recipient:
# every message is greylisted (counted, then discarded), mvmtr neither
# crashes nor errs, and the
# store agrees with Postfix's log: a triplet per recipient, and their
# attempts add up to 1,000 (no update lost between threads).
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/postfix.sh"
pf_check
command -v smtp-source >/dev/null 2>&1 || skip_all "smtp-source (postfix) is not installed"
mvmtr=$(cd "$top_builddir/milter" && pwd)/mvmtr
mvmcas=$(cd "$top_builddir/milter" && pwd)/mvmcas
tmp=$(mktemp -d /tmp/mvmtr-cc.XXXXXX)
chmod 755 "$tmp"
PF="$tmp/pf"
PF_PORT=$((20000 + ($$ + 7) % 20000))
MT_PORT=$((PF_PORT + 1))
mt_pid=
cleanup() {
	pf_stop
	[ -n "$mt_pid" ] && kill "$mt_pid" 2>/dev/null
	[ -n "$KEEP" ] || rm -rf "$tmp"
}
trap cleanup EXIT

cat >"$tmp/policy.mfl" <<S
\$mvmtr_store = "$tmp/store";
\$mvmtr_store_size = 256 << 20;
\$mvmtr_greylist_autoallow = 0;
int \$waiting = 0;
# smtp-source gives up at the first 4xx, so the verdict is counted and
# the message discarded at its end instead of refused
void \$hook_envrcpt(string \$rcpt, string[] \$args) {
	if (\$greylist() > 0)
		\$waiting += 1;
}
void \$hook_eom() {
	if (\$waiting > 0)
		discard;
}
S
"$mvmtr" -f -p "inet:$MT_PORT@127.0.0.1" "$tmp/policy.mfl" >"$tmp/mvmtr.log" 2>&1 &
mt_pid=$!
pf_init
pf_conf "smtpd_milters = inet:127.0.0.1:$MT_PORT" \
	"milter_default_action = accept" \
	"local_recipient_maps =" \
	"smtpd_client_connection_count_limit = 0" \
	"default_process_limit = 150"
pf_start || { cat "$PF/maillog" >&2; ok 1 "private Postfix starts"; done_testing; }
ok 0 "private Postfix with mvmtr"

# -N: a new number before every recipient, so each is a new triplet
smtp-source -N -s 100 -m 1000 -f sender@example.org -t rcpt@test.example \
	"127.0.0.1:$PF_PORT" >"$tmp/source.out" 2>&1
ok $? "smtp-source: 1000 sessions, 100 in parallel"
wait_for sh -c "[ \$(grep -c 'milter-discard: END-OF-MESSAGE' '$PF/maillog') -ge 1000 ]"
is "$(grep -c 'milter-discard: END-OF-MESSAGE' "$PF/maillog")" 1000 \
	"every message was greylisted and discarded by mvmtr"
kill -0 "$mt_pid"
ok $? "mvmtr is still running"
is "$(grep -c 'runtime error\|store:' "$tmp/mvmtr.log")" 0 "no runtime or store error"
# the store agrees with Postfix: one triplet per distinct recipient,
# and every one of the 1000 attempts counted (no update lost)
distinct=$(grep 'milter-discard: END-OF-MESSAGE' "$PF/maillog" | grep -o 'to=<[^>]*>' | sort -u | wc -l)
out=$("$mvmcas" -s "$tmp/store" stats)
case $out in *"greylist	$distinct	(waiting $distinct, passed 0)"*) r=0 ;; *) r=1 ;; esac
ok $r "mvmcas stats: one waiting triplet per recipient Postfix saw ($distinct)"
[ $r -eq 0 ] || echo "$out" | sed 's/^/# /'
is "$("$mvmcas" -s "$tmp/store" dump | awk -F'\t' '$1 == "greylist" { n += $6 } END { print n + 0 }')" 1000 \
	"the triplets' attempts add up to the 1000 sessions"
kill -TERM "$mt_pid"
wait "$mt_pid"
is "$?" 0 "mvmtr stops cleanly afterwards"
mt_pid=
! grep -E 'AddressSanitizer|LeakSanitizer|ThreadSanitizer|\.[ch]:[0-9]+:[0-9]+: runtime error' "$tmp/mvmtr.log"
ok $? "no sanitizer report"
done_testing
