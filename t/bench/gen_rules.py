#!/usr/bin/env python3
"""gen_rules.py N - a Sieve script of N rules, the kind a webmail filter
editor writes: header :contains / :is on Subject, From and List-Id,
address :domain, size :over, each filing into a folder of its own.
mda_bench.py imports rules() to write the same rules for its peers."""
import sys

TESTS = ['header :contains "Subject" "%s"', 'header :is "From" "%s"',
         'header :contains "List-Id" "%s"', 'address :domain :is "from" "%s"',
         'size :over %sM']


def rules(n):
    """(kind, argument, folder) of rule i: kind i % 5 indexes TESTS; the
    size rule's argument is in megabytes"""
    return [(i % 5, ["project-%d" % i, "user%d@example.com" % i,
                     "list%d.lists.example.org" % i, "domain%d.example" % i,
                     str(100 + i)][i % 5], "Folder%d" % i) for i in range(n)]


def sieve(rs):
    out = ['require ["fileinto"];']
    for kind, arg, folder in rs:
        out.append('if %s {\n    fileinto "%s";\n    stop;\n}' % (TESTS[kind] % arg, folder))
    return "\n".join(out)


if __name__ == "__main__":
    print(sieve(rules(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)))
