#!/bin/sh
# big.sh - big messages are streamed, never held: one of 24 MB through a
# pipe (as Postfix's local(8) gives it) and as a regular file, filed by a
# script that reads only its header, delivered byte for byte with a peak
# RSS far below its size; CRLF line ends made LF across the spool's
# chunk boundaries (a CR as a chunk's last byte, a lone CR, a CR at the
# very end) exactly as for a small message; a script that reads the
# whole body finds its last line holding the message once (its text is
# not copied when it is the body as it is); a spool directory that cannot
# be written is a temporary failure naming it, nothing delivered.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/lib/mda.sh"
mvmda=$(cd "$top_builddir/mda" && pwd)/mvmda
mda_home
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"

# the rc script: ~/Maildir (Maildir++), mbox files under ~/mail as mb/
mda_rc_folders

# gen NAME MB CRLF: a message of MB megabytes; CRLF 1: CRLF line ends,
# a CR as the last byte of every 64 KB, lone CRs, a CR at the very end
cat >gen.py <<'PY'
import sys
name, mb, crlf = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
eol = b"\r\n" if crlf else b"\n"
head = eol.join([b"From: Alice <alice@example.org>", b"To: bob@example.net",
                 b"Subject: big one", b"Message-ID: <big@example.org>", b"", b""])
line = b"x" * 62 + eol
body = bytearray(head)
while len(body) < mb << 20:
    body += line
    if len(body) % (1 << 19) < 64:   # lines an mbox quotes, here and there
        body += b"From the middle" + eol + b">From quoted once" + eol
if crlf:
    for k in range(1, len(body) // 65536):   # a CRLF split across reads
        body[k * 65536 - 1:k * 65536 + 1] = b"\r\n"
    body += b"lone\rCR" + eol
body += b"the last line" + eol + (b"ends with CR\r" if crlf else b"")
open(name, "wb").write(body)
PY
# run HOW SCRIPT MSG: mvmda with MSG on stdin through a pipe (HOW pipe)
# or as the file itself (HOW file), by mda_run, a runner small enough
# not to lend its child RSS before exec; prints "exit maxrss_kb"
run() {
	echo "$tmp/$3" >list
	set -- "$1" "$2" "$(cd "$top_builddir/t/bench" && pwd)/mda_run"
	if [ "$1" = pipe ]; then "$3" list "$mvmda" "$2"; else "$3" -f list "$mvmda" "$2"; fi |
		awk '{ print ($4 == 0 ? 0 : "failed"), $3 }'
}
# run_err SCRIPT: mvmda on stdin, its errors in err; its exit code
run_err() {
	"$mvmda" "$1" 2>err
	echo $?
}
python3 gen.py lf.eml 24 0
python3 gen.py crlf.eml 3 1
python3 -c "import sys; sys.stdout.buffer.write(open('crlf.eml','rb').read().replace(b'\r\n', b'\n'))" >crlf.want
printf 'require "fileinto";\nif header :contains "subject" "big" { fileinto "Big"; }\n' >head.sieve
printf 'require ["fileinto", "body"];\nif body :contains "the last line" { fileinto "Last"; }\n' >body.sieve
printf 'require "fileinto";\nfileinto "mb/box";\n' >mbox.sieve
# rss_ok COND NAME: a peak RSS check, left out (TAP SKIP) when mvmda
# carries AddressSanitizer, whose shadow memory is resident too
asan=$(ldd "$mvmda" 2>/dev/null | grep -c libasan)
rss_ok() {
	if [ "$asan" -gt 0 ]; then ok 0 "$2 # SKIP AddressSanitizer build"; else ok "$1" "$2"; fi
}
delivered() { find "$HOME/Maildir/$1" -type f 2>/dev/null | head -n 1; }
# what was stored (this rc script adds no header lines)
content() { cat "$1"; }

size=$(wc -c <lf.eml)
for how in pipe file; do
	rm -rf "$HOME/Maildir"
	set -- $(run $how head.sieve lf.eml)
	f=$(delivered .Big/new)
	is "$1" 0 "24 MB through a $how, a header-only script: delivered"
	content "$f" | cmp -s - lf.eml
	ok $? "  byte for byte"
	rss_ok "$([ "$2" -lt 12288 ]; echo $?)" "  peak RSS $2 KB, far below its $((size >> 10)) KB"
done

for how in pipe file; do
	rm -rf "$HOME/Maildir"
	set -- $(run $how head.sieve crlf.eml)
	f=$(delivered .Big/new)
	content "$f" | cmp -s - crlf.want
	ok $? "CRLF through a $how, CRs at every 64 KB boundary, a lone CR, one at the end: LF as for a small message"
done

rm -rf "$HOME/Maildir"
set -- $(run pipe body.sieve lf.eml)
f=$(delivered .Last/new)
is "$1:$([ -n "$f" ] && echo found)" 0:found "a script reading the whole body finds its last line"
rss_ok "$([ "$2" -le $(((size >> 10) + 4096)) ]; echo $?)" "  peak RSS $2 KB: the message's $((size >> 10)) KB once, and less than 4 MB more"

set -- $(run pipe mbox.sieve crlf.eml)
is "$1" 0 "a big message into an mbox: delivered"
# its From line taken off, the message's From lines quoted (mboxrd)
python3 - crlf.want "$HOME/mail/box" <<'PY'
import re, sys
want = re.sub(rb"(?m)^(>*From )", rb">\1", open(sys.argv[1], "rb").read())
got = open(sys.argv[2], "rb").read().split(b"\n", 1)[1]
sys.exit(0 if got[:len(want)] == want else 1)
PY
ok $? "  the message as it came, LF line ends"

# the spool is in the home (no $TMPDIR), the Maildir copy is that file
# itself linked into place, nothing on top of it (this rc script adds
# no lines): written once; a second folder (:copy) gets a copy of its
# own; with the spool on another filesystem the copy is written
printf 'require ["fileinto", "copy"];\nfileinto :copy "One";\nfileinto "Two";\n' >two.sieve
if command -v strace >/dev/null 2>&1; then
	rm -rf "$HOME/Maildir"
	# (LeakSanitizer, in a sanitizer build, cannot run under ptrace)
	cat lf.eml | ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -e trace=linkat -o trace "$mvmda" two.sieve 2>err
	r=$?
	f1=$(delivered .One/new) f2=$(delivered .Two/new)
	is "$r:$(grep -c 'linkat(AT_FDCWD, "/proc/self/fd/[0-9]*", [0-9]*, "[^"]*", AT_SYMLINK_FOLLOW) = 0' trace)" 0:1 \
		"the spool in the home: the first Maildir copy is the spool file, linked into tmp/ (once)"
	content "$f1" | cmp -s - lf.eml && content "$f2" | cmp -s - lf.eml &&
		[ "$(stat -c %i "$f1")" != "$(stat -c %i "$f2")" ] && [ "$(stat -c %h:%a "$f1")" = 1:600 ]
	ok $? "  both folders byte for byte, each its own file (one link, mode 600)"
else
	ok 0 "the spool linked into tmp/ # SKIP strace is not installed"
	ok 0 "  both folders byte for byte # SKIP strace is not installed"
fi
if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" != "$(stat -f -c %T "$HOME")" ]; then
	rm -rf "$HOME/Maildir"
	TMPDIR=/dev/shm
	export TMPDIR
	r=$(cat lf.eml | run_err two.sieve)
	unset TMPDIR
	f1=$(delivered .One/new) f2=$(delivered .Two/new)
	content "$f1" | cmp -s - lf.eml && content "$f2" | cmp -s - lf.eml
	is "$r:$?" 0:0 "the spool on another filesystem (TMPDIR=/dev/shm): both copies written, byte for byte"
else
	ok 0 "the spool on another filesystem # SKIP no /dev/shm of another kind here"
fi

# qmail's preline: its Return-Path and Delivered-To taken off the top
# of a big message on a regular file (qmail-local's), in place, not by
# copying the rest
rm -rf "$HOME/Maildir"
{ printf 'Return-Path: <alice@example.org>\nDelivered-To: joe@example.net\n'; cat lf.eml; } >pre.eml
set -- $(RPLINE='Return-Path: <alice@example.org>
' DTLINE='Delivered-To: joe@example.net
' run file head.sieve pre.eml)
f=$(delivered .Big/new)
content "$f" | cmp -s - lf.eml
is "$1:$?" 0:0 "24 MB under qmail's preline: its two lines taken off, the rest byte for byte"
rss_ok "$([ "$2" -lt 12288 ]; echo $?)" "  peak RSS $2 KB, far below its $((size >> 10)) KB"

# editheader on a big message: what is stored is the edited copy in
# memory, not the file (whose pages the mbox writer lets go as it goes)
rm -f "$HOME/mail/box"
printf 'require ["fileinto", "editheader"];\naddheader "X-Edited" "yes";\nfileinto "mb/box";\n' >ed.sieve
set -- $(run pipe ed.sieve lf.eml)
python3 - lf.eml "$HOME/mail/box" <<'PY'
import re, sys
want = b"X-Edited: yes\n" + re.sub(rb"(?m)^(>*From )", rb">\1", open(sys.argv[1], "rb").read()) + b"\n"
got = open(sys.argv[2], "rb").read()
sys.exit(0 if got.split(b"\n", 1)[1] == want else 1)
PY
is "$1:$?" 0:0 "24 MB edited (addheader) into an mbox: the edited message, byte for byte"

rm -f "$HOME/mail/box"
set -- $(run pipe mbox.sieve lf.eml)
is "$1" 0 "24 MB into an mbox, written in pieces: delivered"
python3 - lf.eml "$HOME/mail/box" <<'PY'
import re, sys
want = re.sub(rb"(?m)^(>*From )", rb">\1", open(sys.argv[1], "rb").read()) + b"\n"
got = open(sys.argv[2], "rb").read()
sys.exit(0 if got.split(b"\n", 1)[1] == want else 1)
PY
ok $? "  its From lines quoted as mboxrd quotes them, the blank line after it"
rss_ok "$([ "$2" -lt 12288 ]; echo $?)" "  peak RSS $2 KB, far below its $((size >> 10)) KB"

rm -rf "$HOME/Maildir"
TMPDIR=$tmp/no-such-dir
export TMPDIR
r=$(cat lf.eml | run_err head.sieve)
unset TMPDIR
is "$r" 75 "the spool directory cannot be written: EX_TEMPFAIL"
grep -q "cannot make a file in $tmp/no-such-dir for the message" err
ok $? "  the error names it ($(head -n 1 err))"
is "$(find "$HOME/Maildir" -type f 2>/dev/null | wc -l)" 0 "  nothing delivered"
done_testing
