#!/bin/sh
# demo/run.sh - the quick start's demo: what mvmf does with some mail.
#
# Today mvmf has its message model and the mflmsg tool, so the demo shows
# what the filters will see in each demo message: the decoded subject,
# the parsed sender and recipients, and the MIME structure. As mvmtr and
# mvmda land, this script grows into the full path (a private Postfix on
# loopback, mvmtr, mvmda, Maildir) without the quick start changing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
builddir=${1:-$top}
mflmsg="$builddir/mfl/mflmsg"

if [ ! -x "$mflmsg" ]; then
	echo "demo: $mflmsg is not built; run contrib/quickstart.sh" >&2
	exit 1
fi
echo "mvmf demo: how libmfl reads each message in contrib/demo/messages"
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
done
echo
echo "Full view of any message: $mflmsg -b FILE (see mflmsg(1))"
