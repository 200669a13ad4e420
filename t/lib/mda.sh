# mda.sh - for mvmda's tests: a sandbox to run in, mail that leaves, caught.
#
# mda_home: a new temporary directory ($tmp, removed at exit) as the
# working directory, with an empty home in it ($HOME), mvmda's rc script
# ($MVMDA_RC), and none of the variables an MTA hands mvmda.
#
# mda_forget_caches DIR: what mvmda compiled for root-owned rc scripts
# under DIR and kept in the system's cache directory (the configured
# LOCALSTATEDIR/cache/mvmf), removed: a test's temporary rc scripts
# leave nothing there.
#
# mda_rc_folders: $MVMDA_RC is $tmp/rc.mfl, an rc script that stores in
# ~/Maildir (Maildir++) and, as "mb/NAME", in the mbox ~/mail/NAME, and
# runs the scripts named on the command line.
#
# recording_mta DIR: DIR/sendmail writes each call to DIR/sent.N (its
# arguments, each in [], on the first line, then what it was given),
# and DIR/rc.mfl is an rc script that stores in ~/Maildir (Maildir++),
# sends through that sendmail and runs the script named.
mda_forget_caches() {
	[ -d "$1" ] || return 0
	set -- "$1" "$(strings "$top_builddir/mda/mvmda" 2>/dev/null | grep -m 1 '/cache/mvmf$')"
	[ -n "$2" ] && [ -d "$2" ] || return 0
	# named after the rc script's path as given (mfl/cache.c), resolved
	# when it had . or .. parts: both spellings of DIR
	for d in "$1" "$(cd "$1" && pwd -P)"; do
		rm -f "$2/$(printf '%s' "$d" | sed 's|/|%2F|g')%2F"*.mflc
	done
}

mda_home() {
	tmp=$(mktemp -d)
	trap 'mda_forget_caches "$tmp"; rm -rf "$tmp"' EXIT
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
