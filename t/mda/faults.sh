#!/bin/sh
# faults.sh - mvmda when things go wrong: a full file system (ENOSPC,
# a small tmpfs) exits 75 with nothing in new/ and the mbox byte for
# byte as before; a folder it may not write (EACCES) exits 75; 1,000
# deliveries killed with SIGKILL at random moments and 50 concurrent
# ones into one mbox leave every message whole and stored at most once,
# and every one reported delivered stored exactly once (kill.py).
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/mda.sh"
mvmda=$(cd "$top_builddir/mda" && pwd)/mvmda
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
tmp=$(mktemp -d /tmp/mvmda-faults.XXXXXX)
mounted=
cleanup() {
	[ -n "$mounted" ] && umount "$mounted" 2>/dev/null
	mda_forget_caches "$tmp"
	rm -rf "$tmp"
}
trap cleanup EXIT
unset SENDER RECIPIENT DTLINE RPLINE
cat >"$tmp/rc.mfl" <<'R'
$namespace("", "maildir++", $Opts_e[0] + "/Maildir", "maildir", ".");
$namespace("mb/", "fs", $Opts_e[0] + "/mail", "mbox", "/");
if ($Opts_E[0] != "")
	fileinto $Opts_E[0];
R
export MVMDA_RC="$tmp/rc.mfl"
msg() {	# a message of about $1 KiB
	printf 'From: f@example.org\nSubject: big\n\n'
	i=0
	while [ $i -lt "$1" ]; do
		printf '%01023d\n' "$i"
		i=$((i + 1))
	done
}
msg 2 >"$tmp/small"
msg 300 >"$tmp/big"

# ENOSPC
if [ "$(id -u)" = 0 ] && mkdir "$tmp/full" && mount -t tmpfs -o size=256k tmpfs "$tmp/full" 2>/dev/null; then
	mounted="$tmp/full"
	d="$tmp/full"
	"$mvmda" -e "$d" <"$tmp/small"; is "$?" 0 "a small message fits"
	"$mvmda" -e "$d" -E mb/box <"$tmp/small"; is "$?" 0 "into the mbox too"
	cp "$d/mail/box" "$tmp/box.before"
	"$mvmda" -e "$d" <"$tmp/big" 2>"$tmp/err"; is "$?" 75 "ENOSPC in a Maildir: exit 75"
	ok "$(grep -q 'No space left on device' "$tmp/err"; echo $?)" "saying why"
	is "$(ls "$d/Maildir/new" | wc -l)" 1 "nothing new in new/"
	is "$(ls "$d/Maildir/tmp" | wc -l)" 0 "nothing left in tmp/"
	"$mvmda" -e "$d" -E mb/box <"$tmp/big" 2>"$tmp/err"; is "$?" 75 "ENOSPC in an mbox: exit 75"
	ok "$(cmp -s "$d/mail/box" "$tmp/box.before"; echo $?)" "the mbox is byte-identical to before"
	ok "$([ ! -e "$d/mail/box.lock" ]; echo $?)" "and unlocked"
else
	ok 0 "# SKIP ENOSPC: cannot mount a tmpfs here (needs root)"
fi

# EACCES: as a user who may not write the folder
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	chmod 755 "$tmp"
	mkdir -p "$tmp/ro/Maildir/new" "$tmp/ro/Maildir/cur" "$tmp/ro/Maildir/tmp" "$tmp/ro/mail"
	chmod 644 "$tmp/rc.mfl"
	"$mvmda" -d nobody -e "$tmp/ro" <"$tmp/small" 2>"$tmp/err"; is "$?" 75 "EACCES on a Maildir: exit 75"
	ok "$(grep -q 'Permission denied' "$tmp/err"; echo $?)" "saying why"
	"$mvmda" -d nobody -e "$tmp/ro" -E mb/box <"$tmp/small" 2>"$tmp/err"; is "$?" 75 "EACCES on an mbox: exit 75"
	is "$(find "$tmp/ro" -type f | wc -l)" 0 "nothing written anywhere"
elif [ "$(id -u)" != 0 ]; then
	mkdir -p "$tmp/ro/Maildir/new" "$tmp/ro/Maildir/cur" "$tmp/ro/Maildir/tmp"
	chmod 555 "$tmp/ro/Maildir/tmp"
	"$mvmda" -e "$tmp/ro" <"$tmp/small" 2>"$tmp/err"; is "$?" 75 "EACCES on a Maildir: exit 75"
	chmod 755 "$tmp/ro/Maildir/tmp"
fi

# SIGKILL at random moments, then concurrency
mkdir "$tmp/kill"
MVMDA_RC= python3 "$top_srcdir/t/mda/kill.py" "$mvmda" "$tmp/kill" 1000 50 >"$tmp/kill.tap"
grep '^#' "$tmp/kill.tap"
grep '^ok \|^not ok ' "$tmp/kill.tap" >"$tmp/kill.ok"
[ -s "$tmp/kill.ok" ] || ok 1 "kill.py ran"
while read -r line; do
	case $line in
	"ok "*) ok 0 "${line#ok * - }" ;;
	*) ok 1 "${line#not ok * - }" ;;
	esac
done <"$tmp/kill.ok"
done_testing
