#!/bin/sh
# durable.sh - what mvmda makes for a delivery stays after a crash: every
# directory it makes on the way (the Maildir, its tmp, new and cur, a
# Maildir++ folder, the directories above an mbox) and a new mbox file
# have their names fsync'd in the directory holding them before mvmda
# exits 0, as POSIX asks (an fsync of a file does not make its name
# durable, nor its directory's name in turn; ext4 without a journal and
# others do it on their own, but not all). Seen through strace -y: each
# mkdir/mkdirat that made something, and the open that made the mbox,
# is followed by an fsync of the directory that holds what it made. A
# folder that is there is not probed (no mkdir of its tmp, new, cur);
# one that lost them gets them again.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/mda.sh"
mvmda=$(cd "$top_builddir/mda" && pwd)/mvmda
command -v strace >/dev/null 2>&1 || skip_all "strace is not installed"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
mda_home
# ~/Maildir (Maildir++) and "mb/NAME" as the mbox ~/mail/NAME
mda_rc_folders

# synced TRACE MBOX: each name made (a directory; MBOX, a file made by
# its open) and whether an fsync of the directory holding it came after
cat >synced.py <<'PY'
import os, re, sys
made, synced = [], []
for n, line in enumerate(open(sys.argv[1])):
    line = re.sub(r"^\d+ +", "", line)
    m = re.match(r'mkdir\("([^"]+)", \d+\) = 0', line)
    if m:
        made.append((n, m.group(1)))
    m = re.match(r'mkdirat\(\d+<([^>]+)>, "([^"]+)", \d+\) = 0', line)
    if m:
        made.append((n, m.group(1) + "/" + m.group(2)))
    m = re.match(r'openat\(\d+<([^>]+)>, "([^"]+)", [^)]*O_CREAT[^)]*\) = \d+', line)
    if m and m.group(1) + "/" + m.group(2) == sys.argv[2]:
        made.append((n, sys.argv[2]))
    m = re.match(r'fsync\(\d+<([^>]+)>\) = 0', line)
    if m:
        synced.append((n, m.group(1)))
for n, path in made:
    parent = os.path.dirname(path)
    ok = any(k > n and p == parent for k, p in synced)
    print("%s %s" % ("synced" if ok else "NOT-SYNCED", path))
PY
# deliver SCRIPT: mvmda under strace, the message on stdin; its exit code
deliver() {
	printf 'From: alice@example.org\nTo: bob@example.net\nSubject: %s\n\nhello\n' "$1" |
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -y -e trace=mkdir,mkdirat,openat,fsync,renameat2,linkat -o trace "$mvmda" "$1" 2>err
}
# check WHAT: each made name in the trace synced, and at least one made
check() {
	python3 synced.py trace "$HOME/mail/sub/box" >made
	[ -s made ] && ! grep -q NOT-SYNCED made
	ok $? "  $1: $(wc -l <made | tr -d ' ') made, each fsync'd in its directory$(grep NOT-SYNCED made | head -n 3 | sed 's/^/; /' | tr '\n' ' ')"
}

printf 'keep;\n' >inbox.sieve
deliver inbox.sieve
is "$?:$(ls "$HOME/Maildir/new" | wc -l)" 0:1 "a first delivery into a home without a Maildir"
check "~/Maildir, tmp, new, cur"
grep -q "mkdir(\"$HOME/Maildir\"" trace
ok $? "  ~/Maildir was made in this delivery (the trace shows it)"

printf 'require "fileinto";\nfileinto "Lists";\n' >folder.sieve
deliver folder.sieve
is "$?:$(ls "$HOME/Maildir/.Lists/new" | wc -l)" 0:1 "a first delivery into a new Maildir++ folder"
check ".Lists, its tmp, new, cur"

printf 'require "fileinto";\nfileinto "mb/sub/box";\n' >mbox.sieve
deliver mbox.sieve
is "$?:$(grep -c '^Subject: mbox.sieve' "$HOME/mail/sub/box" 2>/dev/null)" 0:1 \
	"a first delivery into a new mbox in new directories"
check "~/mail, ~/mail/sub and the mbox file"
grep "$HOME/mail/sub/box" made >/dev/null
ok $? "  the new mbox file is among them"

# an existing folder: nothing made or probed (no mkdir, no maildirfolder
# opened), no fsync beyond the delivery's own
deliver folder.sieve
is "$?:$(ls "$HOME/Maildir/.Lists/new" | wc -l)" 0:2 "a second delivery into that folder"
python3 synced.py trace "$HOME/mail/sub/box" >made
is "$(wc -l <made | tr -d ' '):$(grep -c 'fsync(' trace):$(grep -c 'mkdir\|maildirfolder' trace)" 0:2:0 \
	"  nothing made or probed, two fsyncs (the message, new/)"
is "$(grep -c 'renameat2(.*RENAME_NOREPLACE) = 0' trace):$(grep -c 'linkat(' trace)" 1:0 \
	"  moved into new/ by a rename that never replaces, not a link"

# a folder that lost its new/ (and cur/): made again, and synced
rm -r "$HOME/Maildir/.Lists/new" "$HOME/Maildir/.Lists/cur"
deliver folder.sieve
is "$?:$(ls "$HOME/Maildir/.Lists/new" | wc -l):$(test -d "$HOME/Maildir/.Lists/cur"; echo $?)" 0:1:0 \
	"a folder without new/ and cur/: both made again, the message delivered"
check "new and cur made again"
done_testing
