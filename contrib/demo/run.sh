#!/bin/sh
# demo/run.sh - the quick start's demo: what mvmf does with some mail.
#
# The demo shows what the filters see in each demo message (decoded
# subject, parsed sender and recipients, MIME structure) and where the
# demo filter, contrib/demo/filter.mfl, files it and why; then, as root,
# the real path (contrib/demo/mail.sh): the messages sent over SMTP to a
# private Postfix with mvmtr as its milter (greylisting, a DNS block
# list, SPF, headers) and mvmda as its mailbox_command, delivering into
# the Maildir folders a user's Sieve script and another's MFL filter
# choose. Without root, mvmda alone delivers them into a temporary home.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
builddir=${1:-$top}
mflmsg="$builddir/mfl/mflmsg"
mflc="$builddir/mfl/mflc"

if [ ! -x "$mflmsg" ]; then
	echo "demo: $mflmsg is not built; run contrib/quickstart.sh" >&2
	exit 1
fi
echo "mvmf demo: how libmfl reads each message in contrib/demo/messages,"
echo "and where contrib/demo/filter.mfl files it"
echo
for m in "$here"/messages/*.eml; do
	view=$("$mflmsg" "$m")
	subject=$(printf '%s\n' "$view" | sed -n 's/^  Subject: //p' | head -1)
	from=$(printf '%s\n' "$view" | sed -n 's/^  From: \(<.*\)$/\1/p' | head -1)
	rcpts=$(printf '%s\n' "$view" | sed -n 's/^  To: <\([^>]*\)>.*/\1/p' | tr '\n' ' ')
	parts=$(printf '%s\n' "$view" | sed -n '/^mime:/,$p' | sed 1d |
		awk '{print $2}' | tr '\n' ' ')
	printf '%s\n' "$(basename "$m")"
	printf '  subject: %s\n' "$subject"
	printf '  from:    %s\n' "${from:-(none)}"
	printf '  to:      %s\n' "${rcpts:-(no recipients listed)}"
	printf '  parts:   %s\n' "$parts"
	result=$("$mflc" -M -e sender@example.org -t bob@example.net -m "$m" \
		"$here/filter.mfl" 2>&1)
	why=$(printf '%s\n' "$result" | sed -n 's/^mflc: log: //p' | tail -1)
	where=$(printf '%s\n' "$result" | sed -n \
		-e 's/.*"action":"fileinto","mailbox":"\([^"]*\)".*/folder \1/p' \
		-e 's/.*"action":"keep".*/INBOX/p' | head -1)
	printf '  goes to: %s (%s)\n' "$where" "$why"
done
echo
echo "mvmf demo: the real path, Postfix -> mvmtr -> Postfix local -> mvmda"
echo "(contrib/demo/mail.sh: a private Postfix on loopback, nothing on this"
echo "machine changes)"
st=0
if [ "$(id -u)" = 0 ]; then
	sh "$here/mail.sh" "$builddir" || st=$?
else
	echo "  (the real path is not shown: it needs root, as the quick start says)"
	st=77
fi
[ "$st" = 0 ] || [ "$st" = 77 ] || exit "$st"
mvmda="$builddir/mda/mvmda"
if [ "$st" = 77 ] && [ -x "$mvmda" ]; then
	home=$(mktemp -d)
	echo
	echo "Delivered by mvmda alone (one process per message, as Postfix runs it):"
	for m in "$here"/messages/*.eml; do
		HOME=$home MVMDA_RC="$top/mda/mvmda-rc.mfl" SENDER=sender@example.org \
			RECIPIENT=bob@example.net "$mvmda" "$here/filter.mfl" <"$m" 2>/dev/null ||
			echo "  mvmda exited $? for $(basename "$m")"
	done
	(cd "$home" && find Maildir -type f -path '*/new/*' | sed 's|/new/.*||' | sort | uniq -c |
		awk '{printf "  %-28s %d message%s\n", $2, $1, $1 == 1 ? "" : "s"}')
	rm -rf "$home"
fi
echo
echo "Full view of any message: $mflmsg -b FILE (see mflmsg(1))"
echo "Try a filter on a message:  $mflc -m FILE SCRIPT (see mflc(1), mfl(7))"
echo "Deliver one:                $mvmda -n SCRIPT < FILE (see mvmda(1))"
