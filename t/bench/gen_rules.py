#!/usr/bin/env python3
"""gen_rules.py N - a Sieve script of N rules, the kind a webmail filter
editor writes: header :contains / :is on Subject, From and List-Id,
address :domain, size :over, each filing into a folder of its own."""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
out = ['require ["fileinto"];']
for i in range(n):
    k = i % 5
    if k == 0:
        t = 'header :contains "Subject" "project-%d"' % i
    elif k == 1:
        t = 'header :is "From" "user%d@example.com"' % i
    elif k == 2:
        t = 'header :contains "List-Id" "list%d.lists.example.org"' % i
    elif k == 3:
        t = 'address :domain :is "from" "domain%d.example"' % i
    else:
        t = 'size :over %dM' % (100 + i)
    out.append('if %s {\n    fileinto "Folder%d";\n    stop;\n}' % (t, i))
print("\n".join(out))
