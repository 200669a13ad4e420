#!/usr/bin/env python3
"""sbcs_gen.py - mfl/msg/sbcs_tables.h: what glibc's iconv(1) makes of
each byte 0x80-0xFF in the single-byte charsets mail uses, so charset.c
converts them without iconv (no gconv module to load; in the static
mvmda, no charset service to start). Run it again when the list changes;
t/unit/charset_test checks every entry against iconv(3) at test time.
Charsets whose glibc converter is stateful (CP1255, CP1258 compose
combining marks) are left to iconv."""
import subprocess
import sys

# (glibc's name, the names mail gives it)
CHARSETS = [
    ("ISO-8859-%d" % n, ["iso-8859-%d" % n, "iso8859-%d" % n, "iso_8859-%d" % n])
    for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16)
] + [
    ("CP125%d" % n, ["windows-125%d" % n, "cp125%d" % n]) for n in (0, 1, 2, 3, 4, 6, 7)
] + [
    ("KOI8-R", ["koi8-r"]), ("KOI8-U", ["koi8-u"]),
    ("CP437", ["cp437", "ibm437"]), ("CP850", ["cp850", "ibm850"]), ("CP866", ["cp866", "ibm866"]),
    ("MACINTOSH", ["macintosh"]),
]


def code_point(charset, byte):
    """the code point iconv gives BYTE, or 0 when it refuses it"""
    r = subprocess.run(["iconv", "-f", charset, "-t", "UTF-32BE"], input=bytes([byte]),
                       capture_output=True)
    if r.returncode != 0 or len(r.stdout) != 4:
        return 0
    return int.from_bytes(r.stdout, "big")


out = ["/* sbcs_tables.h - made by sbcs_gen.py from glibc's iconv; do not edit */",
       "",
       "/* the code point of each byte 0x80-0xFF, 0 where the charset has none */",
       "static const struct sbcs {",
       "\tconst char *names[3];",
       "\tuint16_t high[128];",
       "} sbcs_tables[] = {"]
for charset, names in CHARSETS:
    cps = [code_point(charset, b) for b in range(0x80, 0x100)]
    if any(c > 0xffff for c in cps):
        sys.exit("%s: a code point past U+FFFF" % charset)
    out.append("\t{ { %s }, {  /* %s */" % (", ".join('"%s"' % n for n in names), charset))
    for i in range(0, 128, 8):
        out.append("\t\t" + " ".join("0x%04x," % c for c in cps[i:i + 8]))
    out.append("\t} },")
out.append("};")
sys.stdout.write("\n".join(out) + "\n")
