#!/bin/sh
# cache.sh - the compiled-script cache (mflc -C, mfl_compile_cached): it
# is used while every source file is unchanged, refreshed when one
# changes, and never trusted when damaged, forged, foreign or writable by
# others; concurrent writers leave one whole file.
. "$top_srcdir/t/tap.sh"
mflc="$top_builddir/mfl/mflc"
msg="$top_srcdir/t/sieve/messages/default.eml"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

folder() {	# the folder mflc -C files the message into
	"$mflc" -C -m "$msg" "$1" 2>/dev/null | sed -n 's/.*"mailbox":"\([^"]*\)".*/\1/p'
}
# rewrite FILE with TEXT of the same length, keeping its inode and mtime:
# only the cache can then tell old from new
same_stat_rewrite() {
	touch -r "$1" ref
	printf '%s' "$2" >"$1"
	touch -r ref "$1"
}

printf 'require "fileinto";\nfileinto "AAAA";\n' >s.sieve
is "$(folder s.sieve)" "AAAA" "first run compiles"
ok "$([ -f s.sieve.mflc ]; echo $?)" "and writes s.sieve.mflc"
same_stat_rewrite s.sieve 'require "fileinto";
fileinto "BBBB";
'
is "$(folder s.sieve)" "AAAA" "an unchanged source (size, mtime, inode) runs from the cache"
touch -d '2001-01-01' s.sieve
is "$(folder s.sieve)" "BBBB" "a changed mtime recompiles"
is "$(folder s.sieve)" "BBBB" "and the new program is cached"

# damage: a flipped byte fails the checksum
same_stat_rewrite s.sieve 'require "fileinto";
fileinto "CCCC";
'
python3 - s.sieve.mflc <<'PY'
import sys
p = sys.argv[1]
d = bytearray(open(p, 'rb').read())
d[len(d) // 2] ^= 0xff
open(p, 'wb').write(bytes(d))
PY
is "$(folder s.sieve)" "CCCC" "a damaged cache is not used"
same_stat_rewrite s.sieve 'require "fileinto";
fileinto "DDDD";
'
head -c 100 s.sieve.mflc >t && cat t >s.sieve.mflc
is "$(folder s.sieve)" "DDDD" "a truncated cache is not used"

# forged: valid checksum over bytecode that would underflow the stack
same_stat_rewrite s.sieve 'require "fileinto";
fileinto "EEEE";
'
"$mflc" -C -m "$msg" s.sieve >/dev/null 2>&1
same_stat_rewrite s.sieve 'require "fileinto";
fileinto "FFFF";
'
python3 - s.sieve.mflc <<'PY'
import struct, sys
p = sys.argv[1]
d = bytearray(open(p, 'rb').read())
body = d[40:]
# the first code word follows the header fields; find PUSHK (op 2) ...
# simplest forgery: turn every PUSHK into POP (op 3): pops what is not there
i = body.find(b'\x02\x00\x00\x00')
while i >= 0:
    body[i] = 3
    i = body.find(b'\x02\x00\x00\x00', i + 4)
def checksum(b):
    h = (14695981039346656037 ^ len(b)) & (2**64 - 1)
    n = len(b) // 8 * 8
    for j in range(0, n, 8):
        w = struct.unpack_from('<Q', b, j)[0]
        h = ((h ^ w) * 0x9e3779b97f4a7c15) & (2**64 - 1)
        h ^= h >> 29
    for c in b[n:]:
        h = ((h ^ c) * 1099511628211) & (2**64 - 1)
    return h
struct.pack_into('<Q', d, 24, checksum(bytes(body)))
d[40:] = body
open(p, 'wb').write(bytes(d))
PY
is "$(folder s.sieve)" "FFFF" "a forged cache fails verification and is not run"

# foreign or writable by others: never read
"$mflc" -C -m "$msg" s.sieve >/dev/null 2>&1
same_stat_rewrite s.sieve 'require "fileinto";
fileinto "GGGG";
'
chmod 666 s.sieve.mflc
is "$(folder s.sieve)" "GGGG" "a cache others can write is not used"
if [ "$(id -u)" = 0 ]; then
	"$mflc" -C -m "$msg" s.sieve >/dev/null 2>&1
	same_stat_rewrite s.sieve 'require "fileinto";
fileinto "HHHH";
'
	chown nobody s.sieve.mflc
	is "$(folder s.sieve)" "HHHH" "a cache owned by another user is not used"
else
	ok 0 "a cache owned by another user is not used # SKIP needs root to chown"
fi

# an included file changed: the cache is stale
printf 'include "lib.mfl";\nfileinto $name;\n' >main.mfl
printf 'string $name = "LIB1";\n' >lib.mfl
is "$(folder main.mfl)" "LIB1" "program with an include"
printf 'string $name = "LIB2";\n' >lib.mfl
touch -d '2002-02-02' lib.mfl
is "$(folder main.mfl)" "LIB2" "a changed include makes the cache stale"

# concurrent first runs: all right, one whole cache, no temporary left
printf 'require "fileinto";\nfileinto "PAR";\n' >p.sieve
i=0
while [ $i -lt 20 ]; do
	folder p.sieve >out.$i &
	i=$((i + 1))
done
wait
is "$(cat out.* | sort -u)" "PAR" "20 concurrent runs all file right"
is "$(ls | grep -c 'p.sieve.mflc.')" "0" "no temporary file left behind"
is "$(folder p.sieve)" "PAR" "the cache they left is whole"
done_testing
