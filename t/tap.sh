# tap.sh - TAP helpers for shell tests; source it, then call ok/is/done.
#   skip_all REASON   prints the skip plan and exits 77
#   ok COND-STATUS NAME   (ok 0 "name" passes)
#   is GOT WANT NAME
tap_n=0
tap_failed=0

skip_all() {
	echo "1..0 # SKIP $*"
	exit 77
}

ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

is() {
	tap_n=$((tap_n + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $tap_n - $3"
	else
		echo "not ok $tap_n - $3"
		printf '# got %s, want %s\n' "$1" "$2"
		tap_failed=$((tap_failed + 1))
	fi
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ] && [ "$tap_n" -gt 0 ]
	exit $?
}
