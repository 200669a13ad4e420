#!/usr/bin/env python3
"""cache_seeds.py MFLC DIR - the seeds of the cache fuzz target
(t/fuzz/cache_fuzz.c) made again, in the cache format MFLC writes: the
bodies (what follows the 40-byte header) of the caches `MFLC -C` makes
for the scripts below, and four forgeries of them, each one code word
changed, as the fuzzer first found them: the VM's type checks (NEG and
INDEX of a string) and the verifier's (a RET where the function returns
an int, a match variable below ${0}). Run it after a change of the
cache format (mfl/cache.c CACHE_MAGIC), as the seeds of an old format
stop at the reader's first check."""
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from mflcache import code_at, opcodes  # noqa: E402

mflc, out = sys.argv[1], sys.argv[2]
scripts = {
    "rules.sieve": 'require ["fileinto", "variables", "envelope"];\n'
                   'if header :contains "subject" "report" { fileinto "Reports"; stop; }\n'
                   'if address :domain :is "from" "example.org" { fileinto "Org"; }\n'
                   'if envelope :localpart :is "to" "bob" { set "who" "bob"; keep; }\n'
                   'if size :over 100K { discard; }\n',
    "flags.sieve": 'require ["imap4flags", "fileinto"];\n'
                   'setflag "\\\\Seen";\naddflag ["\\\\Flagged", "$Work"];\n'
                   'if hasflag :contains "\\\\Flagged" { fileinto :flags "\\\\Answered" "F"; }\n'
                   'removeflag "\\\\Seen";\n',
    "loop.mfl": 'int $sum(int[] $v) {\n\tint $t = 0;\n'
                '\tfor (int $i = 0; $i < $length($v); $i++)\n\t\t$t = $t + $v[$i];\n'
                '\treturn $t;\n}\nif ($sum([1, 2, 3]) == 6)\n\tkeep;\n',
    "strings.mfl": 'string $s = $lower("Hello") + " " + $substr("world", 0, 3);\n'
                   'string[] $p = $split("a,b,c", ",");\n'
                   'if ($index($s, "wor") > 0 && $join($p, "-") == "a-b-c")\n\tkeep;\n',
    "forge.mfl": 'int $n = 5;\nstring[] $a = ["x", "y"];\n'
                 'int $f(int $k) {\n\treturn $k + 1;\n}\n'
                 '$n = -$n;\nstring $s = $a[1];\n$n = $f($n);\nif ($n < 0)\n\tkeep;\n',
    "match.sieve": 'require ["variables", "regex", "fileinto"];\n'
                   'if header :regex "subject" "^(.*) report$" { fileinto "${1}"; }\n',
}
op = opcodes()


def forge(body, before, after):
    """BODY with the first code word BEFORE (opcode, operand) made AFTER"""
    at, ncode = code_at(body)
    b = bytearray(body)
    for pc in range(ncode):
        w = struct.unpack_from("<I", b, at + 4 * pc)[0]
        if (w & 0xff, w >> 8) == (op[before[0]], before[1]):
            struct.pack_into("<I", b, at + 4 * pc, op[after[0]] | (after[1] & 0xffffff) << 8)
            return bytes(b)
    sys.exit("cache_seeds.py: no %s %d in the code" % before)


bodies = {}
with tempfile.TemporaryDirectory() as tmp:
    open(os.path.join(tmp, "m.eml"), "w").write("From: a@example.org\nSubject: x report\n\nhi\n")
    for name, text in scripts.items():
        path = os.path.join(tmp, name)
        open(path, "w").write(text)
        subprocess.run([mflc, "-C", "-m", os.path.join(tmp, "m.eml"), path],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bodies[name] = open(path + ".mflc", "rb").read()[40:]
seeds = {name: bodies[name] for name in ("rules.sieve", "flags.sieve", "loop.mfl", "strings.mfl")}
# $n = -$n with a string where $n is read; $a[1] with a string as $a
seeds["forged-neg-of-a-string"] = forge(bodies["forge.mfl"], ("GETG", 0), ("PUSHK", 0))
seeds["forged-index-on-a-string"] = forge(bodies["forge.mfl"], ("GETG", 1), ("PUSHK", 1))
seeds["forged-ret-in-an-int-function"] = forge(bodies["forge.mfl"], ("RETV", 0), ("RET", 0))
seeds["forged-match-variable-below-0"] = forge(bodies["match.sieve"], ("GETMATCH", 1), ("GETMATCH", -1))
for name, body in seeds.items():
    open(os.path.join(out, name), "wb").write(body)
    print("%s: %d bytes" % (name, len(body)))
