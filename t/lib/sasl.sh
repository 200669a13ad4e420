# sasl.sh - Dovecot's auth server alone, as a private Postfix's SASL
# (smtpd_sasl_type = dovecot, smtpd_sasl_path = private/auth): its
# files in a directory of the caller's, users from a passwd-file.
#
# sasl_start DIR USERS: dovecot -F in DIR (dovecot.conf, its log), the
# passwd-file USERS (user:{PLAIN}password::::::), listening on
# $PF/queue/private/auth for the postfix user; sets sasl_pid; returns
# 1 when it does not listen within 10 s.
sasl_start() {
	mkdir -p "$1/dovecot" "$PF/queue/private"
	chown postfix "$PF/queue/private"
	chmod 700 "$PF/queue/private"
	cat >"$1/dovecot.conf" <<C
base_dir = $1/dovecot
state_dir = $1/dovecot
log_path = $1/dovecot.log
protocols =
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $2
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  unix_listener $PF/queue/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
C
	dovecot -F -c "$1/dovecot.conf" >"$1/dovecot.out" 2>&1 &
	sasl_pid=$!
	for _i in $(seq 100); do
		[ -S "$PF/queue/private/auth" ] && return 0
		sleep 0.1
	done
	return 1
}
