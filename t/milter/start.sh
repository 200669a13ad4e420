#!/bin/sh
# start.sh - mvmtr started as the admin starts it: as root with -u, as a
# daemon, under a strict umask (0077, 0117). Its socket is 0660 and the
# user's, its store directory 0750 and its files 0640 whatever the
# umask (0117 made the store directory drw-r----- and the start failed),
# its pid file 0644; missing directories of the socket and the store
# are made, the user's; everything that can fail is tried before it
# detaches, so a failed start exits with a sysexits code and the reason
# on stderr (it exited 0 after detaching, the reason only in syslog).
. "$top_srcdir/t/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "not root: mvmtr -u needs root"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
mvmtr=$top_builddir/milter/mvmtr
tmp=$(mktemp -d /tmp/mvmtr-start.XXXXXX)
chmod 755 "$tmp"
cleanup() {
	[ -f "$tmp/run/m.pid" ] && kill "$(cat "$tmp/run/m.pid")" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
ngroup=$(id -gn nobody)
mkdir -p "$tmp/run" "$tmp/lib"
chown nobody:"$ngroup" "$tmp/run" "$tmp/lib"
cat >"$tmp/policy.mfl" <<S
\$mvmtr_store = "$tmp/lib/mvmtr";
\$mvmtr_store_size = 64 << 20;
void \$hook_envrcpt(string \$r, string[] \$a) { int \$w = \$greylist(); }
S
mode() { stat -c '%a %U' "$1"; }

for mask in 0077 0117; do
	rm -rf "$tmp/lib/mvmtr" "$tmp/run/"*
	(umask $mask && "$mvmtr" -u nobody -p "unix:$tmp/run/m.sock" -P "$tmp/run/m.pid" \
		"$tmp/policy.mfl" 2>"$tmp/err")
	is "$?" 0 "umask $mask: mvmtr -u nobody starts as a daemon"
	i=0
	while [ ! -s "$tmp/run/m.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	pid=$(cat "$tmp/run/m.pid" 2>/dev/null)
	ok "$(kill -0 "$pid" 2>/dev/null; echo $?)" "umask $mask: and keeps running"
	is "$(mode "$tmp/run/m.sock")" "660 nobody" "umask $mask: the socket is 0660, the user's"
	is "$(mode "$tmp/lib/mvmtr")" "750 nobody" "umask $mask: the store directory 0750, the user's"
	is "$(mode "$tmp/lib/mvmtr/data.mdb")" "640 nobody" "umask $mask: its file 0640"
	is "$(mode "$tmp/run/m.pid")" "644 nobody" "umask $mask: the pid file 0644"
	kill "$pid" 2>/dev/null
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	rm -f "$tmp/run/m.pid"
done

# the directories of the socket and the store made when they are
# missing, as after a boot (/run/mvmf) or before the first start
# (/var/lib/mvmf): README's start line needs no mkdir
sed "s|$tmp/lib/mvmtr|$tmp/lib/gone/mvmtr|" "$tmp/policy.mfl" >"$tmp/gone.mfl"
(umask 0077 && "$mvmtr" -u nobody -p "unix:$tmp/new/run/g.sock" -P "$tmp/new/run/g.pid" \
	"$tmp/gone.mfl" 2>"$tmp/err")
is "$?" 0 "missing directories of the socket and the store: mvmtr starts ($(cat "$tmp/err"))"
is "$(mode "$tmp/new/run")" "750 nobody" "the socket's directory is made 0750, the user's"
is "$(mode "$tmp/new")" "755 root" "a missing level above it 0755, as mkdir -p makes it"
is "$(mode "$tmp/lib/gone")" "750 nobody" "the store's directory is made 0750, the user's"
is "$(mode "$tmp/lib/gone/mvmtr")" "750 nobody" "and the store in it"
i=0
# the pid file is written as the user, in the directory mvmtr made
while [ ! -s "$tmp/new/run/g.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
pid=$(cat "$tmp/new/run/g.pid" 2>/dev/null)
ok "$([ -n "$pid" ] && kill "$pid" 2>/dev/null; echo $?)" "its pid file is there, and the daemon stops"

# a failed start: before detaching, with a sysexits code and the reason
: >"$tmp/file"
sed "s|$tmp/lib/mvmtr|$tmp/file/gone/mvmtr|" "$tmp/policy.mfl" >"$tmp/gone.mfl"
"$mvmtr" -u nobody -p "unix:$tmp/run/g.sock" "$tmp/gone.mfl" 2>"$tmp/err"
is "$?" 73 "a store directory that cannot be made: 73 (EX_CANTCREAT)"
ok "$(grep -q "$tmp/file/gone/mvmtr: Not a directory" "$tmp/err"; echo $?)" \
	"on stderr, naming the path and the reason: $(cat "$tmp/err")"
"$mvmtr" -u nobody -p "unix:$tmp/file/run/g.sock" "$tmp/policy.mfl" 2>"$tmp/err"
is "$?" 69 "a socket directory that cannot be made: 69 (EX_UNAVAILABLE)"
ok "$(grep -q "$tmp/file/run/g.sock: Not a directory" "$tmp/err"; echo $?)" \
	"on stderr, naming the path: $(cat "$tmp/err")"
# mvmcas only reads: a store not made yet is said so, not "cannot be
# made: <a directory that exists> does not exist"
mkdir -p "$tmp/empty"
"$top_builddir/milter/mvmcas" -s "$tmp/empty/mvmtr" stats 2>"$tmp/err"
is "$?" 1 "mvmcas stats on a store not made yet fails"
ok "$(grep -q "$tmp/empty/mvmtr: there is no store here" "$tmp/err"; echo $?)" \
	"saying there is no store, not that $tmp/empty is missing: $(cat "$tmp/err")"
mkdir -p "$tmp/rootlib"
sed "s|$tmp/lib/mvmtr|$tmp/rootlib/mvmtr|" "$tmp/policy.mfl" >"$tmp/root.mfl"
"$mvmtr" -u nobody -p "unix:$tmp/run/r.sock" "$tmp/root.mfl" 2>"$tmp/err"
is "$?" 73 "a store directory mvmtr may not make: 73"
ok "$(grep -q "permission denied: $tmp/rootlib is owned by root:root, mode 755; mvmtr runs as nobody:$ngroup" "$tmp/err"; echo $?)" \
	"on stderr: the owner it has and the one mvmtr runs as"
printf 'if (1 {\n' >"$tmp/bad.mfl"
"$mvmtr" -p "unix:$tmp/run/b.sock" "$tmp/bad.mfl" 2>"$tmp/err"
is "$?" 78 "a script that does not compile: 78 (EX_CONFIG)"
"$mvmtr" -u no-such-user-here -p "unix:$tmp/run/u.sock" "$tmp/policy.mfl" 2>"$tmp/err"
is "$?" 67 "an unknown user: 67 (EX_NOUSER)"
ok "$(grep -q 'no such user: no-such-user-here' "$tmp/err"; echo $?)" "said on stderr"
"$mvmtr" -p "bogus:x" "$tmp/policy.mfl" 2>"$tmp/err"
is "$?" 69 "a socket that cannot be opened: 69 (EX_UNAVAILABLE)"
"$mvmtr" -Z 2>/dev/null
is "$?" 64 "a bad option: 64 (EX_USAGE)"
out=$("$mvmtr" --help)
is "$?" 0 "--help: exit 0"
ok "$(printf '%s\n' "$out" | grep -q '^usage: mvmtr'; echo $?)" "--help prints the usage on stdout"
is "$("$mvmtr" --version)" "mvmtr $("$mvmtr" -V | cut -d' ' -f2)" "--version"
done_testing
