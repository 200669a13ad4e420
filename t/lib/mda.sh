# mda.sh - for mvmda's tests: a sandbox to run in, mail that leaves, caught.
#
# mda_home: a new temporary directory ($tmp, removed at exit) as the
# working directory, with an empty home in it ($HOME), mvmda's rc script
# ($MVMDA_RC), and none of the variables an MTA hands mvmda.
#
# mda_rc_folders: $MVMDA_RC is $tmp/rc.mfl, an rc script that stores in
# ~/Maildir (Maildir++) and, as "mb/NAME", in the mbox ~/mail/NAME, and
# runs the scripts named on the command line.
#
# recording_mta DIR: DIR/sendmail writes each call to DIR/sent.N (its
# arguments, each in [], on the first line, then what it was given),
# and DIR/rc.mfl is an rc script that stores in ~/Maildir (Maildir++),
# sends through that sendmail and runs the script named.
mda_home() {
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	cd "$tmp" || exit 1
	unset SENDER RECIPIENT ORIGINAL_RECIPIENT DTLINE RPLINE EXTENSION LOCAL DOMAIN QUEUE_ID \
		LOCAL_PART QUALIFY_DOMAIN MESSAGE_ID
	HOME="$tmp/home"
	MVMDA_RC="$top_srcdir/mda/mvmda-rc.mfl"
	export HOME MVMDA_RC
	mkdir -p "$HOME"
}

mda_rc_folders() {
	cat >"$tmp/rc.mfl" <<'R'
$namespace("", "maildir++", $HOME + "/Maildir", "maildir", ".");
$namespace("mb/", "fs", $HOME + "/mail", "mbox", "/");
for (int $i = 0; $i < $length($Args); $i++)
	$script_run($Args[$i]);
R
	MVMDA_RC="$tmp/rc.mfl"
	export MVMDA_RC
}

recording_mta() {
	cat >"$1/sendmail" <<'SM'
#!/bin/sh
n=$(ls "$(dirname "$0")"/sent.* 2>/dev/null | wc -l)
for a in "$@"; do printf '[%s]' "$a"; done >"$(dirname "$0")/sent.$n"
echo >>"$(dirname "$0")/sent.$n"
cat >>"$(dirname "$0")/sent.$n"
SM
	chmod +x "$1/sendmail"
	cat >"$1/rc.mfl" <<R
\$namespace("", "maildir++", \$HOME + "/Maildir", "maildir", ".");
\$mvmda_sendmail = "$1/sendmail";
\$script_run(\$Args[0]);
R
}
