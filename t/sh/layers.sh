#!/bin/sh
# headers.sh - libmfl includes no libmilter, LMDB or hiredis header: hosts
# bring those; the language stays free of them (DESIGN.md, STYLE.md)
. "$top_srcdir/t/tap.sh"
for lib in libmilter lmdb hiredis; do
	hits=$(grep -l "#[[:space:]]*include[[:space:]]*[<\"]$lib" \
		"$top_srcdir"/mfl/*.[ch] "$top_srcdir"/mfl/*/*.[ch] 2>/dev/null)
	is "$hits" "" "mfl/ includes no $lib header"
done
# and the check itself finds such an include when there is one
tmp=$(mktemp -d)
printf '#include <lmdb.h>\n' >"$tmp/x.c"
hits=$(grep -l "#[[:space:]]*include[[:space:]]*[<\"]lmdb" "$tmp"/*.c)
is "$hits" "$tmp/x.c" "the check catches an include"
rm -rf "$tmp"
done_testing
