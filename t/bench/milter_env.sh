# milter_env.sh - what milter_bench.sh and milter_ab.sh share, sourced
# inside their network namespace with $tmp (the run's directory), $PF
# and $PF_PORT (t/lib/postfix.sh) and $pids (killed at the end) set.

# bench_dns: unbound on 127.0.0.1 with the sender's SPF record
# (pass.test: 192.0.2.0/24), one that fails every client (fail.test: a
# policy that lets its sender through does not really check SPF) and an
# empty block list (bl.test); the SOA
# gives negative answers a TTL, as real lists' zones do (RFC 2308).
# $tmp/resolv.conf points at it.
bench_dns() {
	cat >"$tmp/unbound.conf" <<CONF
server:
	interface: 127.0.0.1
	do-daemonize: no
	chroot: ""
	username: ""
	directory: "$tmp"
	use-syslog: no
	logfile: "$tmp/unbound.log"
	do-ip6: no
	module-config: "iterator"
	local-zone: "test." static
	local-data: "test. 3600 IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300"
	local-zone: "2.0.192.in-addr.arpa." static
	local-data: 'pass.test. TXT "v=spf1 ip4:192.0.2.0/24 -all"'
	local-data: 'fail.test. TXT "v=spf1 -all"'
	local-data: "bl.test. A 127.0.0.1"
remote-control:
	control-enable: no
CONF
	unbound -d -c "$tmp/unbound.conf" >/dev/null 2>&1 &
	pids="$pids $!"
	echo "nameserver 127.0.0.1" >"$tmp/resolv.conf"
}

# bench_postfix: a private Postfix (t/lib/postfix.sh) that discards what
# it accepts, listening on 192.0.2.25 too: smtp-source connects there,
# so the client is not on the loopback network (which SPF would pass
# without asking); no milter yet
bench_postfix() {
	pf_init
	grep "^127.0.0.1:$PF_PORT inet" "$PF/etc/master.cf" |
		sed "s/^127.0.0.1:/192.0.2.25:/" >>"$PF/etc/master.cf"
	pf_conf "inet_interfaces = 192.0.2.25, 127.0.0.1" "local_transport = discard" \
		"smtpd_peername_lookup = no" "milter_default_action = tempfail" \
		"local_recipient_maps =" \
		"smtpd_milters =" "maillog_file = $PF/maillog"
}

# bench_postfix_stop: the queue drained (up to a minute), Postfix
# stopped, a second's pause before the next run
bench_postfix_stop() {
	for i in $(seq 300); do
		[ "$(pf_queue_count)" -eq 0 ] && break
		sleep 0.2
	done
	pf_stop
	sleep 1
}

# busy_ms: CPU milliseconds all processes have used so far (/proc/stat)
busy_ms() {
	awk -v hz="$(getconf CLK_TCK)" '/^cpu / { print ($2 + $3 + $4 + $7 + $8) * 1000 / hz }' \
		/proc/stat
}

# median N...: the median of the numbers given
median() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# bench_policies STORE: $tmp/accept.mfl (accept at MAIL) and
# $tmp/policy.mfl (greylisting with the triplet passed after a second,
# SPF, one DNSBL zone, the store in STORE), mode 0644
bench_policies() {
	cat >"$tmp/accept.mfl" <<'MFL'
void $hook_envfrom(string $from, string[] $args) {
	accept;
}
MFL
	cat >"$tmp/policy.mfl" <<MFL
\$mvmtr_store = "$1";
\$mvmtr_resolver = "127.0.0.1";
\$mvmtr_greylist_delay = 1;
\$mvmtr_greylist_autoallow = 0;
void \$hook_envrcpt(string \$rcpt, string[] \$args) {
	int \$wait = \$greylist();
	if (\$wait > 0)
		tempfail :code "450" :xcode "4.7.1" \$sprintf("Greylisted for %d seconds", \$wait);
	if (\$spf() == "fail")
		reject :code "550" :xcode "5.7.23" \$spf_explanation();
	if (dnsbl "bl.test")
		reject :code "554" :xcode "5.7.1" "Listed by bl.test";
}
MFL
	chmod 644 "$tmp/accept.mfl" "$tmp/policy.mfl"
}
