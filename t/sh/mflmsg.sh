#!/bin/sh
# mflmsg.sh - the debugging view: headers decoded, addresses parsed,
# MIME tree with offsets, bodies decoded with -b; errors and exit codes.
. "$top_srcdir/t/tap.sh"
mflmsg="$top_builddir/mfl/mflmsg"
sample="$top_srcdir/t/data/sample.eml"
out=$("$mflmsg" -b "$sample")
ok $? "mflmsg exits 0 on a good message"

has() {
	case "$out" in
	*"$1"*) ok 0 "$2" ;;
	*) ok 1 "$2"; echo "# missing: $1" ;;
	esac
}
has "envelope: From sender@example.org Mon Nov  2 10:00:00 2026" "envelope line set apart"
has "  Subject: café menu" "subject RFC 2047-decoded from ISO-8859-1"
has "  From: <joerg@example.org> name=\"Jörg\"" "display name decoded"
has "  To: <ed@a.test> name=\"Ed\" group=\"A Group\"" "group member"
has "  To: <joe@b.test> group=\"A Group\"" "second group member"
has "  To: <jo@c.test> name=\"Smith, Jo\"" "quoted display name with comma"
has "    1 text/plain charset=iso-8859-1 quoted-printable" "text part with charset and encoding"
has "Le café est ouvert." "body decoded with -b"
has "    2 message/rfc822" "enclosed message"
has "      3 text/plain" "enclosed message's own part"
is "$(printf 'Subject: x\n\nb\n' | "$mflmsg" | sed -n 1p)" "message -: 14 bytes" "reads stdin"

"$mflmsg" /nonexistent/message 2>err.$$ >/dev/null
is $? 1 "missing file exits 1"
is "$(cat err.$$)" "mflmsg: /nonexistent/message: No such file or directory" "missing file says why"
"$mflmsg" -x 2>/dev/null
is $? 2 "bad option exits 2"
rm -f err.$$
done_testing
