#!/bin/sh
# layers.sh - libmfl's layers hold, as DESIGN.md and STYLE.md draw them:
#   * hosts (mda/, milter/, the tools mflc and mflmsg, the tests and the
#     benchmarks) include from mfl/ only the two faces, "mfl.h" for the
#     language and "msg/msg.h" for the message model;
#   * the message model (mfl/msg/) includes nothing from the language
#     (mfl/, mfl/intr/);
#   * libmfl includes no libmilter, LMDB or hiredis header: hosts bring
#     those.
# An include is resolved as the compiler does: the including file's own
# folder for "name", then -I mfl/ (the one libmfl path on the hosts'
# command line). The checks run over a made-up tree first, so a check
# that finds nothing is seen to find what it should.
. "$top_srcdir/t/tap.sh"

# White-box tests reach inside libmfl on purpose, and say why beside the
# include: verify_test forges bytecode (opcodes.h, prog.h), lang_fuzz
# drives the lexer alone (lex.h, diag.h), cache_fuzz the cache's reader
# (cache.h), charset_test every single-byte table against iconv
# (msg/sbcs_tables.h).
whitebox="t/unit/verify_test.c t/fuzz/lang_fuzz.c t/fuzz/cache_fuzz.c t/unit/charset_test.c"

# includes FILE - "q NAME" or "a NAME" for each #include "NAME" / <NAME>
includes() {
	sed -n -e 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/q \1/p' \
		-e 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\([^>]*\)>.*/a \1/p' "$1"
}

# resolve TOP FILE KIND NAME - the file under TOP/mfl an include names,
# or nothing when it is not one of libmfl's
resolve() {
	if [ "$3" = q ] && [ -f "$(dirname "$2")/$4" ]; then
		realpath -m "$(dirname "$2")/$4"
	elif [ -f "$1/mfl/$4" ]; then
		realpath -m "$1/mfl/$4"
	fi
}

# host_violations TOP FILE... - "FILE: NAME" for each header of libmfl's
# that a host includes past its faces
host_violations() {
	top=$(realpath "$1")
	shift
	for f; do
		includes "$f" | while read -r kind name; do
			case $(resolve "$top" "$f" "$kind" "$name") in
			"$top/mfl/mfl.h" | "$top/mfl/msg/msg.h") ;;
			"$top/mfl/"*) echo "${f#"$top"/}: $name" ;;
			esac
		done
	done
}

# model_violations TOP - "FILE: NAME" for each header outside mfl/msg/
# that a file of the message model includes from libmfl
model_violations() {
	top=$(realpath "$1")
	for f in "$top"/mfl/msg/*.[ch]; do
		includes "$f" | while read -r kind name; do
			case $(resolve "$top" "$f" "$kind" "$name") in
			"$top/mfl/msg/"* | "") ;;
			*) echo "${f#"$top"/}: $name" ;;
			esac
		done
	done
}

# hosts TOP - the host files of the tree at TOP, white-box tests left out
hosts() {
	for f in "$1"/mda/*.[ch] "$1"/milter/*.[ch] "$1"/mfl/mflc.c \
		"$1"/mfl/mflmsg.c "$1"/t/unit/*.[ch] "$1"/t/fuzz/*.c \
		"$1"/t/bench/*.[ch]; do
		[ -f "$f" ] || continue
		case " $whitebox " in
		*" ${f#"$1"/} "*) continue ;;
		esac
		echo "$f"
	done
}

# the checks find what they should in a made-up tree
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/mfl/msg" "$tmp/mfl/intr" "$tmp/mda" "$tmp/milter" "$tmp/t/unit"
touch "$tmp/mfl/mfl.h" "$tmp/mfl/prog.h" "$tmp/mfl/intr/intr.h" \
	"$tmp/mfl/msg/msg.h" "$tmp/mfl/msg/buf.h" "$tmp/mda/mda.h"
printf '#include "mfl.h"\n#include "msg/msg.h"\n#include "mda.h"\n#include <string.h>\n' \
	>"$tmp/mda/good.c"
printf '#include "prog.h"\n' >"$tmp/mda/core.c"
printf '#include "msg/buf.h"\n' >"$tmp/milter/model.c"
printf '#include <intr/intr.h>\n' >"$tmp/milter/angle.c"
printf '#include "../../mfl/prog.h"\n' >"$tmp/t/unit/path_test.c"
printf '#include "buf.h"\n#include <stddef.h>\n' >"$tmp/mfl/msg/good.c"
printf '#include "prog.h"\n#include "../intr/intr.h"\n' >"$tmp/mfl/msg/bad.c"
is "$(host_violations "$tmp" $(hosts "$tmp") | sort | tr '\n' ' ')" \
	"mda/core.c: prog.h milter/angle.c: intr/intr.h milter/model.c: msg/buf.h t/unit/path_test.c: ../../mfl/prog.h " \
	"the host check finds each include past the faces, and only those"
is "$(model_violations "$tmp" | sort | tr '\n' ' ')" \
	"mfl/msg/bad.c: ../intr/intr.h mfl/msg/bad.c: prog.h " \
	"the model check finds each language header, and only those"

# and the tree holds them
top=$(realpath "$top_srcdir")
for dir in mda milter mfl t; do
	is "$(host_violations "$top" $(hosts "$top" | grep "^$top/$dir/"))" "" \
		"$dir/ includes from mfl/ only mfl.h and msg/msg.h"
done
for f in $whitebox; do
	[ -f "$top/$f" ]
	ok $? "white-box test $f is still there"
done
is "$(model_violations "$top")" "" "mfl/msg/ includes nothing of the language"
for lib in libmilter lmdb hiredis; do
	hits=$(grep -rl --include='*.[ch]' "#[[:space:]]*include[[:space:]]*[<\"]$lib" "$top/mfl")
	is "$hits" "" "mfl/ includes no $lib header"
done
printf '#include <lmdb.h>\n' >"$tmp/mfl/intr/x.c"
hits=$(grep -rl --include='*.[ch]' "#[[:space:]]*include[[:space:]]*[<\"]lmdb" "$tmp/mfl")
is "$hits" "$tmp/mfl/intr/x.c" "the library check finds such an include in a sub-folder"
done_testing
