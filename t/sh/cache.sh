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
cat >forge.py <<'PY'
# forge.py CACHE code|site|string|list|type|lines|marks|control -
# rewrite the cache with a valid checksum over a forgery only
# prog_verify() and the site and constant checks can refuse: "code",
# every PUSHK (an opcode is the low byte of an instruction word; the
# numbers from mfl/opcodes.h) made a POP, which pops what is not there;
# "site", the first call site's aux (the global an intrinsic keeps) set
# where it has none; "string", every string constant's offset moved
# past the file's end (a constant is used where the file is mapped);
# "list", every one made a list that was never written; "type", every
# one of no type there is; "lines", the line map made bytes that never
# end an entry (read on an error only, with care); "marks", each mark
# where reading it starts put past its end; "control", a control read
# past those the cache says it names.
# The file stays well formed (mfl/cache.c serialise: mode, source
# files, controls, code (aligned), line map and marks, constants
# (records aligned, lists, strings), globals, sites, functions)
import os, struct, sys
sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "t", "lib"))
from mflcache import code_at, controls, opcodes   # noqa: E402
op = opcodes()
p, what = sys.argv[1], sys.argv[2]
d = bytearray(open(p, 'rb').read())
body = d[40:]
u32 = lambda at: struct.unpack_from('<I', body, at)[0]
at, ncode = code_at(body)
forged = 0
if what == "control":      # the first GETC names the control after
    for pc in range(ncode):   # the last one the cache records
        if body[at + 4 * pc] == op["GETC"]:
            struct.pack_into('<I', body, at + 4 * pc, op["GETC"] | controls(body) << 8)
            forged += 1
            break
if what == "code":
    for pc in range(ncode):
        if body[at + 4 * pc] == op["PUSHK"]:
            body[at + 4 * pc] = op["POP"]
            forged += 1
at += ncode * 4
if what == "lines":        # the line map (mfl/linemap.c), all 0xff: cut short
    n = u32(at)
    for k in range(n):
        body[at + 4 + k] = 0xff
    forged = n
at += 4 + u32(at)          # the line map: a length, its bytes
if what == "marks":        # each mark's offset past the map's end
    n = u32(at)
    for k in range(n):
        struct.pack_into('<I', body, at + 4 + 12 * k, 0xffffffff)
    forged = n
at += 4 + 12 * u32(at)     # and its marks (offset, line, file: 3 x u32)
nconsts, at = u32(at), at + 4
at += -at % 8              # zeros: the constants' records are 8-byte aligned
for i in range(nconsts):   # type, length, value or offset (struct const_rec)
    rec = at + 16 * i
    if u32(rec) == 2 and what in ("string", "list", "type"):
        if what == "string":
            struct.pack_into('<Q', body, rec + 8, len(body) + 4096)
        else:
            struct.pack_into('<II', body, rec, 3 if what == "list" else 9, 0)
        forged += 1
at += 16 * nconsts
narrays, at = u32(at), at + 4
for _ in range(narrays):   # the constant lists
    n, at = u32(at), at + 4
    for _ in range(n):
        at += 4 + u32(at)
at += 8 + struct.unpack_from('<Q', body, at)[0]   # the strings
nglobals, at = u32(at), at + 4
at += 4 * nglobals
nsites, at = u32(at), at + 4
if what == "site" and nsites > 0:
    at += 4 + u32(at)        # name
    at += 4 + u32(at) + 4    # capability, kind
    struct.pack_into('<I', body, at + 12, 7)  # match, relop, pattern_list, aux
    forged += 1
assert forged > 0, "nothing to forge"
M = 2**64 - 1
def step(h, w):
    h = ((h ^ w) * 0x9e3779b97f4a7c15) & M
    return h ^ (h >> 29)
def checksum(b):   # mfl/cache.c's: four lanes of 8 bytes, folded
    lane = [(14695981039346656037 ^ len(b)) & M, 0x243f6a8885a308d3,
            0x13198a2e03707344, 0xa4093822299f31d0]
    n = len(b) // 32 * 32
    for j in range(0, n, 32):
        for k in range(4):
            lane[k] = step(lane[k], struct.unpack_from('<Q', b, j + 8 * k)[0])
    h = lane[0]
    for k in range(1, 4):
        h = step(h, lane[k])
    m = n + (len(b) - n) // 8 * 8
    for j in range(n, m, 8):
        h = step(h, struct.unpack_from('<Q', b, j)[0])
    for c in b[m:]:
        h = ((h ^ c) * 1099511628211) & M
    return h
struct.pack_into('<Q', d, 24, checksum(bytes(body)))
d[40:] = body
open(p, 'wb').write(bytes(d))
PY
python3 forge.py s.sieve.mflc code
is "$(folder s.sieve)" "FFFF" "a forged cache fails verification and is not run"
"$mflc" -C -m "$msg" s.sieve >/dev/null 2>&1
same_stat_rewrite s.sieve 'require "fileinto";
fileinto "F2F2";
'
python3 forge.py s.sieve.mflc site
is "$(folder s.sieve)" "F2F2" "a cache with a forged call site is not run"
# forged constants: a string past the file's end, a list never written,
# a type there is not; each cache refused, the script compiled again
# (the folder's name as long as the last one: the source's size stays)
for what in STRG LIST TYPE; do
	"$mflc" -C -m "$msg" s.sieve >/dev/null 2>&1
	same_stat_rewrite s.sieve "require \"fileinto\";
fileinto \"$what\";
"
	python3 forge.py s.sieve.mflc "$(echo $what | tr A-Z a-z | sed 's/strg/string/')"
	is "$(folder s.sieve)" "$what" "a cache with a forged constant ($what) is not used"
done

# a damaged line map (read only to say where a runtime error is): the
# cache is used, and the error says line 0 rather than reading past it
printf 'require "ihave";\nkeep;\n\nerror "boom";\n' >e.sieve
"$mflc" -C -m "$msg" e.sieve >/dev/null 2>&1	# compiled and cached
[ -f e.sieve.mflc ] && "$mflc" -C -m "$msg" e.sieve 2>&1 | grep -q '"e.sieve:4: runtime error: error: boom"'
ok $? "a runtime error names its line (4), from the cache's line map"
python3 forge.py e.sieve.mflc lines
"$mflc" -C -m "$msg" e.sieve 2>&1 | grep -q '"e.sieve:0: runtime error: error: boom"'
ok $? "  the map forged to bytes that never end an entry: the cache is used, line 0"
# far into the code (700 words): read from the mark before it
{ printf 'require "ihave";\n'; i=0; while [ $i -lt 100 ]; do
	printf 'if header :is "x-%d" "y" { keep; }\n' $i; i=$((i + 1)); done
  printf 'error "late";\n'; } >e2.sieve
"$mflc" -C -m "$msg" e2.sieve >/dev/null 2>&1
[ -f e2.sieve.mflc ] && "$mflc" -C -m "$msg" e2.sieve 2>&1 | grep -q '"e2.sieve:102: runtime error: error: late"'
ok $? "an error 700 words in names its line (102), from the cache"
python3 forge.py e2.sieve.mflc marks
"$mflc" -C -m "$msg" e2.sieve 2>&1 | grep -q '"e2.sieve:0: runtime error: error: late"'
ok $? "  its marks forged past the map's end: line 0, no read outside it"

# the controls a cache records are those its code names: a cache that
# mflc -C made (an env with the language's controls) is read by mvmda
# (which has more, after them), and one mvmda made by mflc -C
mvmda="$top_builddir/mda/mvmda"
mvmda_n() {	# mvmda -n SCRIPT: the folder it would file into
	HOME="$PWD" MVMDA_RC="$top_srcdir/mda/mvmda-rc.mfl" "$mvmda" -n "$1" <"$msg" 2>/dev/null |
		sed -n 's/.*"mailbox":"\([^"]*\)".*/\1/p'
}
printf 'require "fileinto";\nfileinto "MMMM";\n' >m.sieve
folder m.sieve >/dev/null
same_stat_rewrite m.sieve 'require "fileinto";
fileinto "NNNN";
'
is "$(mvmda_n m.sieve)" "MMMM" "mvmda runs the cache mflc -C made (a Sieve script names no control)"
printf 'require "fileinto";\nfileinto "PPPP";\n' >p.sieve
mvmda_n p.sieve >/dev/null
same_stat_rewrite p.sieve 'require "fileinto";
fileinto "QQQQ";
'
is "$(folder p.sieve)" "PPPP" "mflc -C runs the cache mvmda made"
# a control read past those recorded: refused, compiled again
printf 'if ($mfl_limit_instructions > 0)\n\tfileinto "RRRR";\n' >c.mfl
is "$(folder c.mfl)" "RRRR" "a script that reads a control"
same_stat_rewrite c.mfl 'if ($mfl_limit_instructions > 0)
	fileinto "SSSS";
'
python3 forge.py c.mfl.mflc control
is "$(folder c.mfl)" "SSSS" "  its cache forged to read a control it does not record is not used"

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

# the mode: a run that leaves it to the script (its first line, its
# name) takes the cache's without reading the script, but only when that
# one was found the same way; a mode forced on the command line is
# cached as forced, and a run forcing the other mode does not take it
printf '# mfl: sieve\nrequire "fileinto";\nif header :contains "subject" "" { fileinto "MOD1"; }\n' >m.txt
is "$(folder m.txt)" "MOD1" "the mode comment gives Sieve"
same_stat_rewrite m.txt '# mfl: sieve
require "fileinto";
if header :contains "subject" "" { fileinto "MOD2"; }
'
is "$(folder m.txt)" "MOD1" "a run leaving the mode to the script takes the cache's"
is "$("$mflc" -C -M -m "$msg" m.txt 2>/dev/null | grep -c '"phase":"compile"')" "1" \
	"a run forcing MFL does not take the Sieve cache (and fails to compile)"
printf 'require "fileinto";\nif header :contains "subject" "" { fileinto "MOD3"; }\n' >f.txt
"$mflc" -C -S -m "$msg" f.txt >/dev/null 2>&1
ok "$([ -f f.txt.mflc ]; echo $?)" "a forced Sieve run caches f.txt"
is "$("$mflc" -C -m "$msg" f.txt 2>/dev/null | grep -c '"phase":"compile"')" "1" \
	"a run leaving the mode to f.txt (MFL by its name) does not take the forced cache"

# two intrinsics of one name (the deprecated notify and enotify's): the
# cache finds again the one the script was compiled with
for ext in notify enotify; do
	if [ $ext = notify ]; then
		printf 'require ["notify"];\nnotify :method "mailto" :options "a@example.org" :message "n1";\n' >$ext.sieve
	else
		printf 'require ["enotify"];\nnotify :message "n1" "mailto:a@example.org";\n' >$ext.sieve
	fi
	"$mflc" -C -m "$msg" $ext.sieve >/dev/null 2>&1
	same_stat_rewrite $ext.sieve "$(sed 's/"n1"/"n2"/' $ext.sieve)
"
	is "$("$mflc" -C -m "$msg" $ext.sieve 2>/dev/null | sed -n 's/.*"message":"\([^"]*\)".*/\1/p')" "n1" \
		"a script with $ext's notify runs from its cache"
done

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
