#!/bin/sh
# include_path.sh - include finds a script beside the including one when
# that one was named by a relative path (it looked in dir/dir/ before)
. "$top_srcdir/t/tap.sh"
mflc=$(cd "$top_builddir/mfl" && pwd)/mflc
tmp=$(mktemp -d /tmp/mfl-include.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/sub"
printf 'require ["include", "fileinto"];\ninclude "y";\n' >"$tmp/sub/x.sieve"
printf 'require "fileinto";\nfileinto "FromY";\n' >"$tmp/sub/y.sieve"
printf 'Subject: s\n\nb\n' >"$tmp/m"
out=$(cd "$tmp" && "$mflc" -m m sub/x.sieve 2>&1)
ok "$(echo "$out" | grep -q '"FromY"'; echo $?)" "mflc sub/x.sieve: include \"y\" reads sub/y.sieve ($(echo "$out" | head -n 1))"
out=$(cd "$tmp/sub" && "$mflc" -m ../m x.sieve 2>&1)
ok "$(echo "$out" | grep -q '"FromY"'; echo $?)" "mflc x.sieve in its own directory too"
out=$("$mflc" -m "$tmp/m" "$tmp/sub/x.sieve" 2>&1)
ok "$(echo "$out" | grep -q '"FromY"'; echo $?)" "and by an absolute path"
done_testing
