#!/usr/bin/env python3
"""pigeonhole_suite.py - Pigeonhole's own test suite through mflc -T.

Runs every .svtest under TESTS (Pigeonhole 0.5.19's tests/ tree, read in
place), prints per directory the test blocks passed / failed / not
applicable, and checks the outcome against the kept list (KEPT): every
block that does not pass is listed there with its reason. A block that
passed and now fails, and one the list still holds that now passes, are
failures (the list must say where mvmf stands). A file that does not
compile here counts each of its test blocks as failed, with the reason.

usage: pigeonhole_suite.py MFLC TESTS KEPT [--write]
  --write  rewrite KEPT from this run (after a change was understood)
"""
import os
import re
import subprocess
import sys
from collections import defaultdict

VERDICT = re.compile(r"^ *\d+: Test '(.*)' (SUCCEEDED|FAILED|NOT APPLICABLE)(?:: (.*))?$")
# what needs Dovecot's own IMAP storage: a file that requires it does
# not apply here (mfl(7) TESTING SCRIPTS)
DOVECOT_ONLY = {
    "mboxmetadata": "IMAP METADATA (RFC 5490) lives in Dovecot's IMAP storage",
    "servermetadata": "IMAP METADATA (RFC 5490) lives in Dovecot's IMAP storage",
}
BLOCK = re.compile(r'^\s*test\s+"((?:[^"\\]|\\.)*)"\s*\{', re.M)


COMMENT = re.compile(r'/\*.*?\*/', re.S)


def source_of(path):
    """the file's text without its /* */ comments (blocks commented out
    are not tests: Pigeonhole's own enotify/execute.svtest has two)"""
    with open(path, encoding="utf-8", errors="replace") as f:
        return COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), f.read())


def blocks_of(path):
    """the test blocks' names in a file, read as text"""
    return [m.group(1).replace('\\"', '"') for m in BLOCK.finditer(source_of(path))]


def block_texts(path):
    """{block name: its text} (to the next block), read as text"""
    text = source_of(path)
    ms = list(BLOCK.finditer(text))
    return {m.group(1).replace('\\"', '"'): text[m.end():ms[i + 1].start() if i + 1 < len(ms) else len(text)]
            for i, m in enumerate(ms)}


SCRIPT = re.compile(r'test_script_compile\s+"([^"]+)"')


def missing_script(path, body):
    """a script BODY compiles that is not in the shared tree, or None"""
    for m in SCRIPT.finditer(body):
        if not os.path.exists(os.path.join(os.path.dirname(path), m.group(1))):
            return m.group(1)
    return None


def run_file(mflc, path):
    """{block: (verdict, reason)} for one .svtest (a file in failures/
    is expected to fail, as Pigeonhole runs it)"""
    try:
        p = subprocess.run([mflc, "-T", path], capture_output=True, timeout=60)
        out, err, rc = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), p.returncode
    except subprocess.TimeoutExpired:
        out, err, rc = "", "timed out after 60 s", -1
    got = {}
    for line in out.splitlines():
        m = VERDICT.match(line)
        if m:
            verdict = {"SUCCEEDED": "pass", "FAILED": "fail", "NOT APPLICABLE": "n/a"}[m.group(2)]
            got.setdefault(m.group(1), (verdict, (m.group(3) or "").strip()))
    why, verdict = None, "fail"
    if "does not compile" in out:
        first = next((l for l in err.splitlines() if "error:" in l), "")
        why = "does not compile: " + first.split("error:", 1)[-1].strip()
        cap = re.search(r'unknown capability "([^"]+)"', first)
        if cap and cap.group(1) in DOVECOT_ONLY:
            why, verdict = DOVECOT_ONLY[cap.group(1)], "n/a"
    elif rc not in (0, 1):
        xx = [l[4:] for l in out.splitlines() if l.startswith("XX: ")]
        why = "runtime error: " + (xx[0] if xx else err.strip()[:200])
        why = re.sub(r"^\S+:\d+: ", "", why.replace("runtime error: ", "", 1))
        why = "runtime error: " + why
    for name in blocks_of(path):
        if name not in got:
            got[name] = (verdict, why or "not reached")
    # Pigeonhole's examples/ is not in the shared tests/ tree
    for name, body in block_texts(path).items():
        gone = missing_script(path, body)
        if gone and got.get(name, ("pass",))[0] == "fail":
            got[name] = ("n/a", "it compiles %s, which is not in the shared test tree" % gone)
    # tests/failures/ holds fuzz regressions Pigeonhole's Makefile runs
    # with -F, expecting them to fail: a block that fails as a test
    # block (mflc -T said so, no crash, no runtime error) passes
    if os.path.basename(os.path.dirname(path)) == "failures" and rc in (0, 1):
        for name, (v, r) in list(got.items()):
            if v == "fail" and r != "not reached":
                got[name] = ("pass", "")
            elif v == "pass":
                got[name] = ("fail", "passed, but Pigeonhole runs it expecting failure (-F)")
    return got


# blocks that fail where mvmf differs from Pigeonhole on purpose,
# each documented in mfl(7) and checked against sieve-test in t/sieve/*.cases
STRING_OCTET = ("string's default comparator is i;ascii-casemap (RFC 5228 2.7.3); "
                "Pigeonhole's is i;octet (mfl(7) variables, t/sieve/variables.cases)")
SNAPSHOT = ("every copy of a delivery carries the message as the script left it at its end; "
            "Pigeonhole's actions take it as it was then (mfl(7) editheader)")
DOCUMENTED = {
    ("extensions/editheader/alternating.svtest", "Alternating - add; delete"): SNAPSHOT,
    ("extensions/editheader/alternating.svtest", "Alternating - delete; add"): SNAPSHOT,
    ("plugins/extprograms/filter/execute.svtest", "Editheader"): SNAPSHOT,
    ("execute/errors.svtest", "Fileinto missing folder"):
        "mvmda makes a missing folder for every fileinto, :create or not (mfl(7) mailbox)",
    ("test-address.svtest", "Invalid addresses"):
        "UTF-8 in an address is read as RFC 6532 allows; Pigeonhole takes <jürgen@example.com> "
        "as invalid (mfl(7) address)",
    ("extensions/environment/basic.svtest", "Location"):
        "mvmda is an MDA (RFC 5183 \"MDA\"); Pigeonhole's testsuite says \"MS\" (t/sieve/run_cases.py)",
    ("extensions/environment/basic.svtest", "Name"):
        "the name item is the implementation's own: \"mvmf\" (t/sieve/run_cases.py)",
    ("extensions/variables/modifiers.svtest", "Modifiers :lower :upperfirst"): STRING_OCTET,
    ("extensions/variables/modifiers.svtest", "Modifiers :upperfirst :lower"): STRING_OCTET,
    ("extensions/variables/modifiers.svtest", "Modifiers :upper :lowerfirst"): STRING_OCTET,
    ("extensions/variables/modifiers.svtest", "Modifiers :lowerfirst :upper"): STRING_OCTET,
    ("extensions/variables/basic.svtest", "Basic assignment"): STRING_OCTET,
    ("extensions/encoded-character.svtest", "HEX equality one"): STRING_OCTET,
    ("extensions/encoded-character.svtest", "HEX equality one middle"): STRING_OCTET,
}


COUNTS = ("the number of errors a broken script gets differs from Pigeonhole's "
          "(mfl(7) ERRORS)")


def category(verdict, reason, where=None):
    """the kind of reason a block does not pass, for the kept list"""
    if where in DOCUMENTED and verdict == "fail":
        return "[documented difference: %s]" % DOCUMENTED[where]
    if verdict == "fail" and reason in ("wrong number of errors reported",
                                        "incorrect number of compile errors reported"):
        return "[documented difference: %s]" % COUNTS
    if verdict == "n/a":
        return "[not applicable]"
    m = re.match(r'does not compile: unknown capability "([^"]+)"', reason)
    if m:
        return "[extension not built: %s]" % m.group(1)
    return "[fails: to fix, or to document as a difference in mfl(7)]"


def main():
    args = [a for a in sys.argv[1:] if a != "--write"]
    write = "--write" in sys.argv
    if len(args) != 3:
        sys.exit(__doc__)
    mflc, tests, kept_path = args
    results = {}
    for root, dirs, files in os.walk(tests):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(".svtest"):
                path = os.path.join(root, f)
                rel = os.path.relpath(path, tests)
                for name, v in run_file(mflc, path).items():
                    results[(rel, name)] = v
    if write:
        with open(kept_path, "w") as k:
            k.write("# Pigeonhole 0.5.19's test blocks that do not pass under mflc -T,\n"
                    "# with the reason (t/sieve/pigeonhole_suite.py writes it with --write):\n"
                    "# its kind in brackets, then what the block or mflc -T said.\n"
                    "# file<TAB>test<TAB>fail|n/a<TAB>reason\n")
            for (rel, name), (verdict, reason) in sorted(results.items()):
                if verdict != "pass":
                    k.write("%s\t%s\t%s\t%s %s\n" % (rel, name, verdict,
                                                       category(verdict, reason, (rel, name)), reason))
    kept = {}
    with open(kept_path, encoding="utf-8") as k:
        for line in k:
            if line.startswith("#") or not line.strip():
                continue
            rel, name, verdict, reason = (line.rstrip("\n").split("\t") + ["", "", "", ""])[:4]
            kept[(rel, name)] = (verdict, reason)
    per_dir = defaultdict(lambda: [0, 0, 0])
    for (rel, name), (verdict, _) in results.items():
        per_dir[os.path.dirname(rel) or "."][["pass", "fail", "n/a"].index(verdict)] += 1
    checks = []
    for d in sorted(per_dir):
        p, f, n = per_dir[d]
        print("# %-40s %4d passed %4d failed %4d not applicable" % (d, p, f, n))
    tp, tf, tn = (sum(v[i] for v in per_dir.values()) for i in range(3))
    applicable = tp + tf
    print("# all: %d blocks, %d passed, %d failed, %d not applicable; %.1f%% of the applicable "
          "pass (goal: 95%%)" % (tp + tf + tn, tp, tf, tn, 100.0 * tp / applicable if applicable else 0))
    documented = sum(1 for k, v in results.items() if v[0] == "fail"
                     and category(v[0], v[1], k).startswith("[documented"))
    print("# of the failing, %d are documented differences (mfl(7))" % documented)
    regressions = [(k, v) for k, v in sorted(results.items()) if v[0] != "pass" and kept.get(k, (None,))[0] != v[0]]
    fixed = [k for k, v in sorted(results.items()) if v[0] == "pass" and k in kept]
    gone = [k for k in sorted(kept) if k not in results]
    checks.append((not regressions, "every block that does not pass is in the kept list with that verdict (%d not)" % len(regressions),
                   ["%s: %s: %s (%s)" % (k[0], k[1], v[0], v[1]) for k, v in regressions]))
    checks.append((not fixed, "no block in the kept list passes now (%d do: take them off)" % len(fixed),
                   ["%s: %s" % k for k in fixed]))
    checks.append((not gone, "every block in the kept list is in the suite (%d are not)" % len(gone),
                   ["%s: %s" % k for k in gone]))
    checks.append((tp > 0, "some blocks pass (%d)" % tp, []))
    print("1..%d" % len(checks))
    failed = 0
    for i, (ok, what, detail) in enumerate(checks, 1):
        print("%sok %d - %s" % ("" if ok else "not ", i, what))
        for line in detail[:40]:
            print("#   " + line)
        failed += not ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
