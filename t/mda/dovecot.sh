#!/bin/sh
# dovecot.sh - folders mvmda makes are the folders Dovecot shows: names
# with non-ASCII characters (and "&") are written in modified UTF-7 (RFC
# 3501 5.1.3), as Dovecot and Courier read Maildir++ names, and
# Dovecot's own doveadm lists them as the script named them; a
# namespace with ",utf8" keeps raw UTF-8 names for those who want it.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/mda.sh"
mvmda="$top_builddir/mda/mvmda"
command -v doveadm >/dev/null 2>&1 || skip_all "doveadm is not installed (apt-get install dovecot-core)"
[ "$(id -u)" = 0 ] || skip_all "not root: doveadm reads the maildir as another user (nobody)"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
mda_home
chmod 755 "$tmp"

cat >rc.mfl <<'R'
$namespace("", "maildir++", $HOME + "/Maildir", "maildir", ".");
$namespace("raw/", "maildir++,utf8", $HOME + "/Raw", "maildir", "/");
$script_run($Args[0]);
R
export MVMDA_RC="$tmp/rc.mfl"
cat >msg <<'M'
From: a@example.org
Subject: folders

body
M
cat >folders.sieve <<'S'
require "fileinto";
fileinto "Café";
fileinto "Lists.Réunion";
fileinto "R&D";
fileinto "日本語";
fileinto "raw/Café";
S
"$mvmda" folders.sieve <msg 2>err
is "$?" 0 "delivered into five folders with non-ASCII names"
ok "$([ -d "$HOME/Maildir/.Caf&AOk-/new" ] && [ -d "$HOME/Maildir/.Lists.R&AOk-union" ]; echo $?)" \
	"on disk in modified UTF-7"
ok "$([ -d "$HOME/Raw/.Café/new" ]; echo $?)" "a ,utf8 namespace keeps the UTF-8 name"

chown -R nobody "$HOME"
mkdir -p "$tmp/run"
cat >dovecot.conf <<C
base_dir = $tmp/run
log_path = $tmp/dovecot.log
ssl = no
mail_uid = nobody
mail_gid = $(id -gn nobody)
mail_location = maildir:~/Maildir
C
list=$(cd / && USER=nobody HOME="$HOME" doveadm -c "$tmp/dovecot.conf" mailbox list 2>"$tmp/doveadm.err" | sort | tr '\n' '|')
is "$list" "Café|INBOX|Lists|Lists.Réunion|R&D|日本語|" \
	"doveadm mailbox list shows the names the script used"
[ -s "$tmp/doveadm.err" ] && sed 's/^/# /' "$tmp/doveadm.err"
n=$(cd / && USER=nobody HOME="$HOME" doveadm -c "$tmp/dovecot.conf" search mailbox "Café" ALL 2>/dev/null | wc -l)
is "$n" 1 "and Dovecot finds the message in Café"
done_testing
