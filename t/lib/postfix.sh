# postfix.sh - a private Postfix instance for tests: its own config,
# queue and data directories under $PF (a temporary directory), SMTP on
# 127.0.0.1:$PF_PORT, its log in $PF/maillog. Source it, set PF and
# PF_PORT, write extra main.cf lines with pf_conf, then pf_start;
# pf_stop undoes it all. Needs root and the postfix package; pf_check
# calls skip_all otherwise.

pf_check() {
	[ "$(id -u)" = 0 ] || skip_all "a private Postfix needs root"
	command -v postfix >/dev/null 2>&1 || skip_all "postfix is not installed"
	[ -f /usr/share/postfix/master.cf.dist ] || skip_all "no /usr/share/postfix/master.cf.dist"
	id postfix >/dev/null 2>&1 || skip_all "no postfix user"
	command -v swaks >/dev/null 2>&1 || skip_all "swaks is not installed"
}

# pf_init - main.cf and master.cf for the instance
pf_init() {
	mkdir -p "$PF/etc" "$PF/queue" "$PF/data"
	chown postfix "$PF/data"
	cat >"$PF/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.test.example
mydomain = test.example
myorigin = \$myhostname
mydestination = \$myhostname, test.example, localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:9
default_transport = error:no mail leaves this test
alias_maps =
alias_database =
biff = no
recipient_delimiter = +
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
smtpd_banner = \$myhostname ESMTP test
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
delay_warning_time = 0
CF
	# no chroot (the queue is not where a chroot expects), SMTP on our port
	sed -e 's/^\([a-z][^ ]* *[a-z-]* *[-ny] *[-ny] *\)y/\1n/' \
	    -e "s/^smtp      inet/127.0.0.1:$PF_PORT inet/" \
	    /usr/share/postfix/master.cf.dist >"$PF/etc/master.cf"
}

# pf_conf LINE... - more main.cf settings
pf_conf() {
	for l in "$@"; do printf '%s\n' "$l" >>"$PF/etc/main.cf"; done
}

# pf_start - check the config, start the master, wait for SMTP
pf_start() {
	postfix -c "$PF/etc" check >"$PF/check.log" 2>&1 || { cat "$PF/check.log" >&2; return 1; }
	postfix -c "$PF/etc" start >"$PF/start.log" 2>&1 || { cat "$PF/start.log" >&2; return 1; }
	for i in $(seq 50); do
		if bash -c "exec 3<>/dev/tcp/127.0.0.1/$PF_PORT" 2>/dev/null; then return 0; fi
		sleep 0.2
	done
	echo "postfix did not listen on $PF_PORT" >&2
	return 1
}

# pf_stop - stop the master (and so every daemon of the instance)
pf_stop() {
	postfix -c "$PF/etc" stop >/dev/null 2>&1
	postfix -c "$PF/etc" abort >/dev/null 2>&1
}

# pf_send FROM TO [swaks options...] - one message over SMTP
pf_send() {
	from=$1 to=$2
	shift 2
	swaks --silent 2 --server 127.0.0.1 --port "$PF_PORT" --from "$from" --to "$to" "$@"
}

# pf_flush - retry deferred mail now
pf_flush() {
	postqueue -c "$PF/etc" -f
}

# pf_queue_count - messages still in the queue
pf_queue_count() {
	postqueue -c "$PF/etc" -j 2>/dev/null | wc -l
}

# wait_for CMD... - until CMD succeeds, at most 30 s
wait_for() {
	for i in $(seq 150); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}
