#!/usr/bin/env python3
"""run_cases.py - Sieve-mode cases: script + message + envelope -> actions.

Each case in t/sieve/*.cases runs through mflc; its JSON action lines
must equal the case's "want" lines. When Pigeonhole's sieve-test is
installed, each case also runs through it, and the two action lists,
put in one normal form, must be the same, except for the differences
listed in KEPT_DIFFERENCES with the reason we keep them.

Case file format:
    === name
    --- script
    <Sieve script>
    --- message [file]      (optional; a file in t/sieve/messages/ or
    <message>                the text that follows; default.eml if absent)
    --- envelope            (optional: "from: x" and "to: y" lines)
    --- mode mfl            (optional: MFL mode; not compared with Pigeonhole)
    --- memory MB           (optional: mflc's peak resident memory must stay
                             under MB megabytes, and it must end within 10 s)
    --- personal NAME       (optional, repeatable: a script include finds,
    <Sieve script>           personal or :global)
    --- global NAME
    --- want
    <JSON lines>            (status lines compare "status" and "phase";
                             a "message" in want must be a substring)

Usage: run_cases.py MFLC CASE-FILES...   (prints TAP)
       run_cases.py --update MFLC CASE-FILE  (rewrites want from mflc)
"""
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))

# name -> reason: cases whose result differs from Pigeonhole on purpose
KEPT_DIFFERENCES = {
    "imapflags, the obsolete draft: setflag and addflag as imap4flags":
        "Pigeonhole has imapflags but leaves it out of sieve_extensions by "
        "default; mvmf takes it, as Roundcube and KMail still write it",
    "imapflags mark and unmark":
        "the same: imapflags is off in Pigeonhole's default configuration",
    "vnd.dovecot.duplicate, Pigeonhole's older name":
        "Pigeonhole leaves vnd.dovecot.duplicate out of sieve_extensions by "
        "default; mvmf takes it as the RFC 7352 duplicate it became",
    "fileinto empty name is an error":
        "an empty mailbox name is refused when the script runs; Pigeonhole "
        "accepts it and fails later, when storing",
    "value operator upper case":
        "RFC 5231's operators are ABNF quoted strings, which RFC 5234 2.3 "
        "makes case-insensitive; Pigeonhole refuses \"GT\"",
    "fileinto copy INBOX is the keep":
        "one message lands in INBOX either way: we let the fileinto stand "
        "for the implicit keep, Pigeonhole lists both and merges them when "
        "it stores",
    "environment location is MDA":
        "mvmda is a delivery agent (RFC 5183 \"MDA\"); sieve-test says \"MS\"",
    "environment phase is during":
        "mvmda runs during final delivery; sieve-test says \"post\"",
    "environment name is mvmf":
        "the name item is the implementation's own (\"Pigeonhole Sieve\" there)",
    "index with date":
        "RFC 5260 6: :last counts from the end for the date test too; "
        "Pigeonhole's date test takes the first field",
    "duplicate twice in one run is false":
        "Pigeonhole fails the script when one run tests the same id twice; "
        "RFC 7352 does not forbid it, and both tests are false here",
    "nested foreverypart walks below the outer part":
        "RFC 5703 3 allows foreverypart inside foreverypart; Pigeonhole "
        "0.5's sieve-test fails at run time on this script (\"corrupt binary\")",
    "extracttext of a plain part":
        "a text part's content is converted to UTF-8 (its charset is "
        "ISO-8859-1); Pigeonhole hands over the raw octets, then refuses "
        "them as a folder name",
    "extracttext with a modifier":
        "the same ISO-8859-1 part, converted to UTF-8 before :upper",
    "string test default comparator is i;ascii-casemap":
        "RFC 5228 2.7.3 makes i;ascii-casemap the default of every test "
        "that takes a comparator, and RFC 5229 5 gives string no other; "
        "Pigeonhole 0.5 compares string with i;octet when none is given",
    "ihave imapflags after imap4flags is the same conflict":
        "sieve-test has the deprecated imapflags off (Pigeonhole's default), "
        "so its ihave is false; with it on, Pigeonhole's own testsuite "
        "refuses this script (deprecated/imapflags/errors.svtest)",
    "specialuse_exists with a constant that is not a flag is an error":
        "sieve-test reports the bad flag and runs on with the implicit keep; "
        "Pigeonhole's own testsuite (special-use/errors.svtest) has the script "
        "fail to compile, as here",
    "unicode-casemap is, any case and composition":
        "Pigeonhole 0.5 has no i;unicode-casemap (RFC 5051)",
    "unicode-casemap matches with ? over a composed letter":
        "Pigeonhole 0.5 has no i;unicode-casemap (RFC 5051)",
    "unicode-casemap folds compatibility forms (NFKD): fullwidth letters":
        "Pigeonhole 0.5 has no i;unicode-casemap (RFC 5051)",
    "unknown namespace is an error":
        "RFC 5229 3: a reference into a namespace no required extension "
        "defines MUST be an error; we refuse the script, Pigeonhole logs an "
        "error and goes on with the empty string",
}


# The spam and virus scanner headers, set alike for both engines: the
# score that means certainly spam (X-Spam-Score) or infected (X-Virus-Score).
SCANNER_CONTROLS = ["-s", "mfl_spamtest_max=20", "-s", "mfl_virustest_max=5"]
PIGEONHOLE_SCANNER = [
    "  sieve_spamtest_status_type = score",
    "  sieve_spamtest_status_header = X-Spam-Score",
    "  sieve_spamtest_max_value = 20",
    "  sieve_virustest_status_type = score",
    "  sieve_virustest_status_header = X-Virus-Score",
    "  sieve_virustest_max_value = 5",
]


def parse_cases(path):
    cases, cur, section = [], None, None
    with open(path, encoding="utf-8", newline="") as f:
        for line in f:
            if line.startswith("=== "):
                cur = {"name": line[4:].strip(), "file": path,
                       "script": "", "want": "", "envelope": "",
                       "message": None, "message_file": None, "scripts": []}
                cases.append(cur)
                section = None
                continue
            m = re.match(r"^--- (script|message|envelope|want|mode|memory|personal|global)(?: (\S+))?\s*$", line)
            if m and cur is not None:
                section = m.group(1)
                if section in ("personal", "global"):
                    cur["scripts"].append([section, m.group(2), ""])
                    continue
                if section in ("mode", "memory"):
                    cur[section] = m.group(2)
                    section = None
                    continue
                if section == "message":
                    cur["message"] = ""
                    cur["message_file"] = m.group(2)
                continue
            if cur is None or section is None:
                continue
            if section in ("personal", "global"):
                cur["scripts"][-1][2] += line
                continue
            cur[section] += line
    return cases


def message_bytes(case):
    if case["message_file"]:
        with open(os.path.join(HERE, "messages", case["message_file"]), "rb") as f:
            return f.read()
    if case["message"]:
        return case["message"].encode("utf-8").replace(b"\n", b"\r\n")
    with open(os.path.join(HERE, "messages", "default.eml"), "rb") as f:
        return f.read()


def envelope(case):
    env = {}
    for line in case["envelope"].splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            env[k.strip()] = v.strip()
    return env.get("from", "sender@example.org"), env.get("to", "user@example.net")


def write_scripts(case, tmp):
    """The case's personal and global scripts, and nothing else, in the
    directories include looks in (both engines are pointed there)."""
    for where in ("personal", "global"):
        d = os.path.join(tmp, where)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        os.chmod(d, 0o755)
    for where, name, text in case["scripts"]:
        f = os.path.join(tmp, where, name + ".sieve")
        with open(f, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(f, 0o644)


def run_mflc(mflc, case, tmp):
    script = "case.sieve"		# relative: error messages name no tmp path
    msg = "case.eml"
    with open(os.path.join(tmp, script), "w", encoding="utf-8", newline="") as f:
        f.write(case["script"])
    with open(os.path.join(tmp, msg), "wb") as f:
        f.write(message_bytes(case))
    frm, to = envelope(case)
    write_scripts(case, tmp)
    mode = "-M" if case.get("mode") == "mfl" else "-S"
    argv = ([os.path.abspath(mflc), mode, "-m", msg, "-e", frm, "-t", to]
            + SCANNER_CONTROLS
            + ["-s", "mfl_sieve_dir=" + os.path.join(tmp, "personal"),
               "-s", "mfl_sieve_global_dir=" + os.path.join(tmp, "global")]
            + [script])
    status, out, err, peak_kb = run_measured(argv, tmp, 10 if case.get("memory") else 30)
    if isinstance(status, str):     # killed: a failed case, not a crash
        return [{"status": "error", "phase": "timeout", "message": "mflc " + status}]
    if status not in (0, 1, 3):
        raise RuntimeError("mflc exited %s: %s" % (status, err.decode(errors="replace")))
    got = [json.loads(l) for l in out.decode("utf-8").splitlines() if l.strip()]
    if case.get("memory") and peak_kb > int(case["memory"]) * 1024:
        got.append({"status": "error", "phase": "memory",
                    "message": "mflc's peak was %d MB, more than %s MB"
                               % (peak_kb // 1024, case["memory"])})
    return got


def run_measured(argv, cwd, timeout):
    """status (or "killed after N s"), stdout, stderr and the peak
    resident memory in KB of one run of ARGV, read with wait4()"""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(argv, stdout=out, stderr=err, cwd=cwd)
        deadline = time.monotonic() + timeout
        while True:
            pid, st, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                pid, st, usage = os.wait4(p.pid, 0)
                st = None
                break
            time.sleep(0.01)
        p.returncode = 0    # reaped here: keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        status = ("killed after %d s" % timeout if st is None
                  else os.waitstatus_to_exitcode(st))
        return status, out.read(), err.read(), usage.ru_maxrss


def same(got, want):
    if len(got) != len(want):
        return False
    for g, w in zip(got, want):
        if "status" in w:
            if g.get("status") != w.get("status") or g.get("phase") != w.get("phase"):
                return False
            if "message" in w and w["message"] not in g.get("message", ""):
                return False
        elif g != w:
            return False
    return True


def printable(s):
    """Folder names as sieve-test prints them: control characters as '?'."""
    return "".join("?" if ord(c) < 0x20 else c for c in s)


def flag_text(flags):
    """IMAP flags in the normal form: lower case (they compare without
    case, RFC 5232), sorted (Pigeonhole prints system flags first)."""
    if not flags:
        return ""
    return " [flags: " + " ".join(sorted(f.lower() for f in flags)) + "]"


def vacation_text(seconds, subject, frm, handle, reason):
    """A vacation action in the normal form both engines are compared in."""
    # sieve-test shows a handle's first line only
    handle = handle.replace("\r\n", "\n").split("\n")[0]
    return "vacation: seconds=%s%s%s handle=%s reason=%s" % (
        seconds, " subject=" + subject if subject else "", " from=" + frm if frm else "",
        handle, reason.replace("\r\n", "\n").rstrip("\n"))


def notify_text(importance, subject, frm, to, cc, body):
    """A notify action (RFC 5435, mailto) in the normal form both engines
    are compared in: what sieve-test prints of it."""
    return "notify: importance=%s%s%s to=%s cc=%s%s" % (
        importance, " subject=" + subject if subject else "", " from=" + frm if frm else "",
        ",".join(to), ",".join(cc), " body=" + body if body is not None else "")


def mailto_of(action):
    """Our notify action's mailto: URI read as RFC 6068 says (and
    Pigeonhole prints it): recipients without repeats, Cc less To"""
    uri = action["method"][len("mailto:"):]
    to_part, _, query = uri.partition("?")
    to = [a for a in urllib.parse.unquote(to_part).split(",") if a]
    cc, subject, body = [], None, None
    for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        if name.lower() == "to":
            to += [a for a in value.split(",") if a]
        elif name.lower() == "cc":
            cc += [a for a in value.split(",") if a]
        elif name.lower() == "subject":
            subject = value
        elif name.lower() == "body":
            body = value
    dedup = lambda xs, seen: [x for x in xs if not (x.lower() in seen or seen.add(x.lower()))]
    seen = set()
    to = dedup(to, seen)
    cc = dedup(cc, seen)
    return notify_text(action["importance"], action.get("message") or subject,
                       action.get("from"), to, cc, body)


def annotated(line):
    """An action line with its annotations ("(copy)", "[flags: ..]",
    "(create ...)") in one order, whichever order they were added in."""
    m = re.match(r"^(.*?)((?: \([^()]*\)| \[flags: [^]]*\])+)$", line)
    if not m:
        return line
    notes = re.findall(r" \([^()]*\)| \[flags: [^]]*\]", m.group(2))
    return m.group(1) + "".join(sorted(notes))


def normal_ours(actions):
    """Our JSON lines in the normal form both engines are compared in."""
    out, status = [], "ok"
    for a in actions:
        if "status" in a:
            status = a["status"] + ("-" + a["phase"] if a.get("phase") else "")
            continue
        kind = a["action"]
        if kind == "keep":
            out.append(("implicit keep" if a.get("implicit") else "store") + ": INBOX"
                       + flag_text(a.get("flags")))
        elif kind == "fileinto":
            out.append("store: " + printable(a["mailbox"])
                       + (" (copy)" if a.get("copy") else "") + flag_text(a.get("flags"))
                       + (" (create mailbox if it does not exist)" if a.get("create") else "")
                       + (" (use mailbox with special-use flag `%s' instead if accessible)"
                          % a["specialuse"] if a.get("specialuse") else ""))
        elif kind == "redirect":
            out.append("redirect: " + a["address"] + (" (copy)" if a.get("copy") else ""))
        elif kind == "discard":
            out.append("discard")
        elif kind == "vacation":
            out.append(vacation_text(a["seconds"], a.get("subject"), a.get("from"),
                                     a["handle"], a["reason"]))
        elif kind == "notify":
            out.append(mailto_of(a))
        else:
            out.append(json.dumps(a, sort_keys=True))
    out = [annotated(a) for a in out]
    if status == "error-compile":
        return ["compile error"]
    if status == "error-runtime":
        return ["runtime error"] + out
    return out


class Pigeonhole:
    """sieve-test with a private Dovecot config in a temporary folder."""

    def __init__(self, tmp):
        self.exe = shutil.which("sieve-test")
        self.tmp = tmp
        if not self.exe:
            return
        os.chmod(tmp, 0o777)
        conf = os.path.join(tmp, "dovecot.conf")
        lines = ["log_path = /dev/stderr",
                 "mail_location = maildir:%s/Maildir" % tmp,
                 "plugin {",
                 "  sieve = file:%s/personal;active=%s/active.sieve" % (tmp, tmp),
                 "  sieve_global = %s/global" % tmp,
                 "  sieve_extensions = +editheader +vacation-seconds +spamtest"
                 " +spamtestplus +virustest +special-use +vnd.dovecot.environment"] + PIGEONHOLE_SCANNER + ["}"]
        if os.getuid() == 0:
            lines = ["mail_uid = nobody", "mail_gid = %s" % grp_of_nobody(),
                     "first_valid_uid = 0", "first_valid_gid = 0"] + lines
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.conf = conf

    def run(self, case):
        script = os.path.join(self.tmp, "ph.sieve")
        msg = os.path.join(self.tmp, "ph.eml")
        with open(script, "w", encoding="utf-8", newline="") as f:
            f.write(case["script"])
        with open(msg, "wb") as f:
            f.write(message_bytes(case))
        for p in (script, msg):
            os.chmod(p, 0o644)
        frm, to = envelope(case)
        write_scripts(case, self.tmp)
        p = subprocess.run([self.exe, "-c", self.conf, "-f", frm, "-r", to, script, msg],
                           capture_output=True, timeout=30)
        out = p.stdout.decode("utf-8", errors="replace")
        err = p.stderr.decode("utf-8", errors="replace")
        if "failed to compile" in err:
            return ["compile error"], err
        actions, section, vac, in_text = [], None, None, False
        ntf, in_body = None, False
        for line in out.splitlines():
            if ntf is not None:
                # "send notification with method 'mailto:':", "=> key : value"
                # lines, "+ To: x" recipients, the body between "--" lines,
                # an empty line at the end
                if in_body:
                    if line == "--":
                        in_body = False
                    else:
                        ntf["body"] = line if ntf["body"] is None else ntf["body"] + "\n" + line
                    continue
                if line == "--":
                    in_body = True
                    continue
                m = re.match(r"^\s+=> (\w+)\s*: ?(.*)$", line)
                r = re.match(r"^\s+\+ (To|Cc): (.*)$", line)
                if m:
                    if m.group(1) != "body":     # the body follows between "--"
                        ntf[m.group(1)] = m.group(2)
                elif r:
                    ntf[r.group(1).lower()].append(r.group(2))
                elif not line.strip():
                    actions.append(notify_text(ntf.get("importance"), ntf.get("subject"),
                                               ntf.get("from"), ntf["to"], ntf["cc"], ntf["body"]))
                    ntf = None
                continue
            if line.startswith(" * send notification with method 'mailto:'"):
                ntf = {"to": [], "cc": [], "body": None}
                continue
            if vac is not None:
                # "send vacation message:", its "=> key : value" lines,
                # then the reason between START and END MESSAGE
                if in_text:
                    if line == "END MESSAGE":
                        actions.append(vacation_text(vac.get("seconds"), vac.get("subject"),
                                                     vac.get("from"), vac.get("handle"),
                                                     "\n".join(vac["text"])))
                        vac, in_text = None, False
                    else:
                        vac["text"].append(line)
                    continue
                m = re.match(r"^\s+=> (\w+)\s*: (.*)$", line)
                if m:
                    vac[m.group(1)] = m.group(2)
                elif line == "START MESSAGE":
                    in_text = True
                continue
            if line.startswith(" * send vacation message:"):
                vac = {"text": []}
                continue
            if line.startswith("Performed actions:"):
                section = "performed"
            elif line.startswith("Implicit keep:"):
                section = "implicit"
            elif line.strip().startswith("+ ") and section and actions:
                text = line.strip()[2:]
                if text == "preserve implicit keep":
                    actions[-1] += " (copy)"
                elif text.startswith("add IMAP flags: "):
                    actions[-1] += flag_text(text[len("add IMAP flags: "):].split())
                else:
                    actions[-1] += " (" + text + ")"
            elif line.startswith(" * ") and section:
                text = line[3:].strip()
                if text.startswith("track ") and "duplicate" in text:
                    # Pigeonhole records a duplicate id as an action at
                    # the end; mvmda records it when the test runs and
                    # makes it final once delivered (mda/state.c)
                    continue
                m = re.match(r"store message in folder: (.*)$", text)
                if m:
                    actions.append(("implicit keep" if section == "implicit" else "store")
                                   + ": " + m.group(1))
                    continue
                m = re.match(r"redirect message to: <(.*)>$", text)
                if m:
                    actions.append("redirect: " + m.group(1))
                    continue
                actions.append(text)
        if "final result: failed" in err:
            # the actions are dropped; the implicit keep is what happens
            kept = ["implicit keep: INBOX"] if "successful implicit keep" in err else []
            return ["runtime error"] + kept, err
        return [annotated(a) for a in actions], err


def grp_of_nobody():
    import grp
    gid = pwd.getpwnam("nobody").pw_gid
    return grp.getgrgid(gid).gr_name


def main(argv):
    update = False
    if argv and argv[0] == "--update":
        update, argv = True, argv[1:]
    mflc, files = argv[0], argv[1:]
    tmp = tempfile.mkdtemp(prefix="mvmf-sieve-")
    n = failed = 0
    try:
        ph = Pigeonhole(tmp)
        if not ph.exe:
            print("# sieve-test not installed: comparison with Pigeonhole skipped")
        for path in files:
            cases = parse_cases(path)
            if update:
                rewrite(mflc, path, cases, tmp)
                continue
            for case in cases:
                got = run_mflc(mflc, case, tmp)
                want = [json.loads(l) for l in case["want"].splitlines() if l.strip()]
                n += 1
                if same(got, want):
                    print("ok %d - %s" % (n, case["name"]))
                else:
                    failed += 1
                    print("not ok %d - %s" % (n, case["name"]))
                    print("# got  " + " | ".join(json.dumps(g) for g in got))
                    print("# want " + " | ".join(json.dumps(w) for w in want))
                if not ph.exe or case.get("mode") == "mfl":
                    continue
                n += 1
                theirs, err = ph.run(case)
                ours = normal_ours(got)
                name = case["name"]
                if envelope(case)[0] in ("<>", ""):
                    print("ok %d - %s: not compared with Pigeonhole: sieve-test cannot "
                          "take a null envelope sender (-f refuses <> and \"\")" % (n, name))
                elif name in KEPT_DIFFERENCES:
                    print("ok %d - %s: differs from Pigeonhole on purpose: %s"
                          % (n, name, KEPT_DIFFERENCES[name]))
                elif ours == theirs:
                    print("ok %d - %s: same as Pigeonhole" % (n, name))
                else:
                    failed += 1
                    print("not ok %d - %s: same as Pigeonhole" % (n, name))
                    print("# mvmf       " + repr(ours))
                    print("# pigeonhole " + repr(theirs))
                    for l in err.splitlines()[:3]:
                        print("# " + l)
        if not update:
            print("1..%d" % n)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


def rewrite(mflc, path, cases, tmp):
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    out, pos = [], 0
    blocks = re.split(r"(?m)^(?==== )", text)
    for block in blocks:
        if not block.startswith("=== "):
            out.append(block)
            continue
        name = block[4:block.index("\n")].strip()
        case = next(c for c in cases if c["name"] == name)
        got = run_mflc(mflc, case, tmp)
        for g in got:
            # a want message is a substring: keep what follows the
            # temporary directory, which changes from run to run
            if "message" in g and tmp + "/" in g["message"]:
                g["message"] = g["message"].split(tmp + "/")[-1]
        head = re.split(r"(?m)^--- want\s*$", block)[0]
        out.append(head.rstrip("\n") + "\n--- want\n"
                   + "".join(json.dumps(g, separators=(",", ":"), ensure_ascii=False) + "\n" for g in got)
                   + "\n")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("".join(out).rstrip("\n") + "\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
