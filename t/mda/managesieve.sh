#!/bin/sh
# managesieve.sh - Dovecot's ManageSieve feeds mvmda (mvmda(1) MANAGESIEVE):
# a private Dovecot (managesieved) on loopback in a network namespace of
# its own, with contrib/dovecot/90-mvmf-sieve.conf included; the
# sieve-connect client uploads and activates a script as a user would
# from Roundcube or Thunderbird, and mvmda, delivering as that user with
# the default rc script, runs what Dovecot stored (~/.dovecot.sieve ->
# ~/sieve/NAME.sieve). A script using an extension mvmda cannot run is
# refused at upload with Dovecot's error; Dovecot offers exactly mflc -L's
# extensions.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/ns.sh"
for c in dovecot doveadm sieve-connect setpriv; do
	command -v $c >/dev/null 2>&1 || skip_all "$c is not installed (contrib/install-deps.sh)"
done
[ -x /usr/lib/dovecot/managesieve ] ||
	skip_all "Dovecot's managesieved is not installed (dovecot-managesieved)"
[ "$(id -u)" = 0 ] || skip_all "needs root (Dovecot runs its services as their users)"
ns_enter -m -n
mvmda=$(cd "$top_builddir/mda" && pwd)/mvmda
mflc=$(cd "$top_builddir/mfl" && pwd)/mflc
conf=$(cd "$top_srcdir/contrib/dovecot" && pwd)/90-mvmf-sieve.conf
tmp=$(mktemp -d /tmp/mvmf-managesieve.XXXXXX)
chmod 755 "$tmp"
home=$tmp/home/joe
cleanup() {
	doveadm -c "$tmp/dovecot.conf" stop >/dev/null 2>&1
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
ns_user_etc "$tmp" "$home"

cat >"$tmp/dovecot.conf" <<EOF
base_dir = $tmp/run
state_dir = $tmp/state
log_path = $tmp/dovecot.log
protocols = sieve
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $tmp/passwd
}
userdb {
  driver = passwd
}
mail_location = maildir:~/Maildir
service managesieve-login {
  inet_listener sieve {
    address = 127.0.0.1
    port = 4190
  }
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
}
!include $conf
EOF
echo 'joe:{PLAIN}secret' >"$tmp/passwd"
printf 'secret\n' >"$tmp/pw"
dovecot -c "$tmp/dovecot.conf"
ok "$?" "a private Dovecot with managesieved starts, 90-mvmf-sieve.conf included"
tcp_wait 127.0.0.1 4190
# ms ARGS...: sieve-connect as joe, its output in ms.out
ms() {
	sieve-connect -s 127.0.0.1 -p 4190 -u joe --passwordfd 3 --clearchan "$@" \
		3<"$tmp/pw" >"$tmp/ms.out" 2>&1
}

# what Dovecot offers is what mvmda runs
offered=$(printf 'a LOGOUT\r\n' | bash -c 'exec 3<>/dev/tcp/127.0.0.1/4190; cat >&3; cat <&3' |
	sed -n 's/^"SIEVE" "\(.*\)"\r*$/\1/p' | tr ' ' '\n' | sort | tr '\n' ' ')
ours=$("$mflc" -L | grep -v -x -e 'comparator-i;octet' -e 'comparator-i;ascii-casemap' \
	-e 'comparator-i;unicode-casemap' -e ereject -e extlists -e fcc -e replace -e enclose -e vnd.dovecot.pipe -e vnd.dovecot.filter -e vnd.dovecot.execute |
	sort | tr '\n' ' ')
is "$offered" "$ours" "managesieved's SIEVE capability is mflc -L's extensions (but the two implicit comparators, i;unicode-casemap, ereject, extlists, fcc, replace and enclose, which Pigeonhole 0.5.19 does not know, and the extprograms, off until the admin turns them on)"
ok "$(grep -q 'ignored unknown extension' "$tmp/dovecot.log"; [ $? = 1 ]; echo $?)" \
	"and Dovecot knows every name the file gives"

cat >"$tmp/main.sieve" <<'S'
require ["fileinto", "variables"];
if header :matches "subject" "[*] *" {
	fileinto "Lists.${1}";
}
S
ms --upload --localsieve "$tmp/main.sieve" --remotesieve main
is "$?" 0 "sieve-connect uploads a script$(head -n 1 "$tmp/ms.out" | sed 's/^/: /')"
ms --activate --remotesieve main
is "$?" 0 "and activates it"
is "$(readlink "$home/.dovecot.sieve")" "sieve/main.sieve" "Dovecot made ~/.dovecot.sieve point at it"

cat >"$tmp/msg" <<'M'
From: alice@example.org
To: joe@example.net
Subject: [dev] the build is green

All good.
M
deliver() {
	(cd / && setpriv --reuid=4711 --regid=4711 --clear-groups env -i HOME="$home" USER=joe \
		PATH="$PATH" SENDER=alice@example.org RECIPIENT=joe@example.net \
		MVMDA_RC="$(cd "$top_srcdir/mda" && pwd)/mvmda-rc.mfl" "$mvmda") <"$tmp/msg" 2>"$tmp/mvmda.err"
}
deliver
is "$?" 0 "mvmda delivers as joe with the default rc script"
is "$(ls "$home/Maildir/.Lists.dev/new" 2>/dev/null | wc -l)" 1 \
	"into the folder the uploaded script chose (.Lists.dev)$(head -n 1 "$tmp/mvmda.err" | sed 's/^/: /')"

# a new version, uploaded over the old one, is what the next delivery runs
printf 'require "fileinto";\nfileinto "Everything";\n' >"$tmp/main.sieve"
ms --upload --localsieve "$tmp/main.sieve" --remotesieve main
deliver
is "$(ls "$home/Maildir/.Everything/new" 2>/dev/null | wc -l)" 1 "the re-uploaded script runs on the next delivery"

# refused at upload: an extension mvmda cannot run
printf 'require ["mboxmetadata", "fileinto"];\nif metadata "INBOX" "/private/x" "y" { fileinto "M"; }\n' >"$tmp/meta.sieve"
ms --upload --localsieve "$tmp/meta.sieve" --remotesieve meta
is "$?" 1 "a script requiring mboxmetadata is refused at upload"
ok "$(grep -q "unknown Sieve capability .mboxmetadata" "$tmp/ms.out"; echo $?)" \
	"with Dovecot's error: $(grep -m1 'capability' "$tmp/ms.out")"
ms --list
ok "$(grep -q '^meta' "$tmp/ms.out"; [ $? = 1 ]; echo $?)" "and not stored"
# a script mvmda runs but Dovecot would not offer without the file
printf 'require "enotify";\nnotify "mailto:joe@example.net";\n' >"$tmp/ntf.sieve"
ms --checkscript --localsieve "$tmp/ntf.sieve"
is "$?" 0 "CHECKSCRIPT passes a script mvmda runs (enotify)"
done_testing
