# milter.sh - mvmtr under OpenDKIM's miltertest, for the milter tests.
# Source it after tap.sh with $mvmtr (the binary), $here (t/milter) and
# $tmp (a temporary directory) set; each mvmtr started is added to
# $pids for the caller's cleanup.

# start NAME SCRIPT: mvmtr in the foreground on $tmp/NAME.sock; its log
# in $tmp/NAME.log, its pid in $pid
start() {
	"$mvmtr" -f -l debug -p "unix:$tmp/$1.sock" "$2" >"$tmp/$1.log" 2>&1 &
	pid=$!
	pids="$pids $pid"
	i=0
	while [ ! -S "$tmp/$1.sock" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}

# scenario NAME SOCK [-D var=value ...]: run lua/NAME.lua; its checks
# become this test's
scenario() {
	name=$1 sockname=$2
	shift 2
	cat "$here/prelude.lua" "$here/lua/$name.lua" >"$tmp/$name.lua"
	miltertest -D sock="unix:$tmp/$sockname.sock" "$@" -s "$tmp/$name.lua" \
		>"$tmp/$name.out" 2>&1
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok 0 "$name: ${line#ok - }" ;;
		"not ok - "*) ok 1 "$name: ${line#not ok - }" ;;
		"# "*) echo "$line" ;;
		esac
	done <"$tmp/$name.out"
	ok $rc "$name: miltertest finished without an error"
	[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/$name.out"
}
