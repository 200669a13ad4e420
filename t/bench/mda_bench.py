#!/usr/bin/env python3
"""mda_bench.py BUILDDIR [N] - one delivery agent process per message, as
an MTA runs them, each message through a pipe as Postfix's local(8)
gives it: N generated messages (median ~4 KB) into a Maildir on disk,
filtered by Sieve scripts of 10, 100, 1,000 and 10,000 rules
(gen_rules.py), by mvmda, dovecot-lda (the same Sieve script), procmail
and maildrop (the same rules in their languages), and by mda_limit,
which only writes tmp/ -> fsync -> rename -> fsync dir: the physical
limit. Two corpora: "spread", each message meant for one rule (spread
over them, so an agent that stops at the first match stops early), and
"traverse", no message matching any rule (every rule is tried). Every
peer's filing, mvmda's included, is checked against an evaluator of
the rules written here, not against mvmda. Then the same for messages
of 1 MB and 50 MB (10 rules), where peak RSS tells who holds the whole
message. Prints wall and CPU time (user + system of the children),
their ratios to the limit, and peak RSS. As root, also mvmda's LMTP service (mvmda -L)
and Dovecot's LMTP (a private dovecot -F with Pigeonhole, the same
script as ~/.dovecot.sieve): the same messages one LMTP transaction
each, one after the other over one connection (Python's LMTP client),
delivered as a user the bench makes for the run with the script as
~/.mvmda.sieve; their CPU is the service's with all its processes';
"not measured" (and why) without root, useradd or dovecot-lmtpd. Each
row runs every peer MDA_BENCH_ROUNDS times (2 by default); within a
round the peers take turns, 20 messages each (the first peer another
each time, each peer in its own home), so that the disk's or the
machine's moment falls on all of them alike, and the table shows each
peer's faster round (a round with a failure or a wrong filing instead,
if there was one). The LMTP services run after the round.
MDA_BENCH_ROWS="10 100 1000 1000t 10000t 1m 50m" picks rows (default all)."""
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from gen_rules import rules, sieve  # noqa: E402  the Sieve script and its rules
build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
N = int(sys.argv[2]) if len(sys.argv) > 2 else 300
ROUNDS = max(1, int(os.environ.get("MDA_BENCH_ROUNDS", "2")))
src = os.path.dirname(os.path.dirname(here))
mvmda = os.path.join(build, "mda", "mvmda")
limit = os.path.join(build, "t", "bench", "mda_limit")
runner = os.path.join(build, "t", "bench", "mda_run")
work = tempfile.mkdtemp(prefix="mda-bench.", dir="/var/tmp")
os.chmod(work, 0o755)
# as root, every peer runs as nobody (dovecot-lda will not run as root
# without an auth service; an MTA never runs these as root either)
as_user = []
if os.getuid() == 0:
    as_user = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def chown_nobody(path):
    if as_user:
        subprocess.run(["chown", "-R", "nobody:nogroup", path], check=True)


# the system rc script, installed as an admin would: root-owned, its
# compiled cache made by root with mvmda -c
rcdir = os.path.join(work, "rc")
shutil.copytree(os.path.join(src, "mda"), rcdir, ignore=shutil.ignore_patterns("*.c", "*.h", "*.mflc"))
# and its cache directory, as make install makes it: without it every
# delivery compiles the rc script again
with open(os.path.join(build, "Makefile")) as f:
    localstate = re.search(r"^localstatedir = (.*)$", f.read(), re.M).group(1).strip()
prefix = ""
with open(os.path.join(build, "Makefile")) as f:
    prefix = re.search(r"^prefix = (.*)$", f.read(), re.M).group(1).strip()
cachedir = os.path.join(localstate.replace("${prefix}", prefix), "cache", "mvmf")
if not os.path.isdir(cachedir):
    if os.getuid() == 0:
        os.makedirs(cachedir, 0o755)
        print("mda_bench: made %s, the rc script's cache directory, as make install does" % cachedir)
    else:
        print("mda_bench: %s is missing (make install makes it): mvmda compiles the rc script each time" % cachedir)


def messages(n, nrules, corpus="spread", size=None):
    """N messages; "spread": message j is meant for rule (j*37 % nrules)
    unless that is a size rule (it then stays in INBOX); "traverse": none
    matches any rule; sizes around 4 KB, or SIZE bytes"""
    rnd = random.Random(5228)
    msgs = []
    for j in range(n):
        r = (j * 37) % nrules
        k = r % 5 if corpus == "spread" else 4
        frm = "someone@sender.example"
        subj = "Weekly report %d" % j
        extra = ""
        if k == 0:
            subj = "About project-%d and more" % r
        elif k == 1:
            frm = "user%d@example.com" % r
        elif k == 2:
            extra = "List-Id: Discussion <list%d.lists.example.org>\n" % r
        elif k == 3:
            frm = "boss@domain%d.example" % r
        lines = max(5, int(rnd.lognormvariate(4.1, 0.5))) if size is None else size // 64
        body = "".join("Line %07d of message %d, with some text to fill the line up.\n" % (i, j)
                       for i in range(lines))
        msgs.append(("Return-Path: <%s>\nReceived: from mx.sender.example (mx.sender.example [192.0.2.7])\n"
                     "\tby mail.example.net (Postfix) with ESMTPS id 4F%05d\n\tfor <user@example.net>; "
                     "Mon, 2 Nov 2026 10:00:00 +0000 (UTC)\nFrom: %s\nTo: user@example.net\n"
                     "Subject: %s\nDate: Mon, 2 Nov 2026 10:00:00 +0000\nMessage-ID: <b%d@sender.example>\n"
                     "%sMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s"
                     % (frm, j, frm, subj, j, extra, body)).encode())
    return msgs


def expected(msg, rs):
    """the folder the rules file MSG into, by the rules' own meaning
    (Sieve: first match, then stop; :contains and :is case-insensitive)"""
    head = msg.split(b"\n\n", 1)[0].decode()
    fields = {}
    for line in re.sub(r"\n[ \t]", " ", head).split("\n"):
        if ":" in line:
            name, value = line.split(":", 1)
            fields.setdefault(name.strip().lower(), value.strip())
    subj, frm, lid = fields.get("subject", ""), fields.get("from", ""), fields.get("list-id", "")
    addr = re.search(r"<([^>]*)>", frm)
    addr = (addr.group(1) if addr else frm).lower()
    for k, arg, folder in rs:
        a = arg.lower()
        if ((k == 0 and a in subj.lower()) or (k == 1 and frm.lower() == a)
                or (k == 2 and a in lid.lower()) or (k == 3 and addr.rsplit("@", 1)[-1] == a)
                or (k == 4 and len(msg) > int(arg) << 20)):
            return folder
    return "INBOX"


def procmailrc(rs, md):
    out = ["MAILDIR=%s" % md, "DEFAULT=%s/" % md, "LOGFILE=/dev/null", ""]
    for k, arg, folder in rs:
        if k == 4:	# size, in megabytes
            cond = "* > %d" % (int(arg) << 20)
        else:
            cond = ["* ^Subject:.*%s", "* ^From: *%s *$", "* ^List-Id:.*%s",
                    "* ^From:.*@%s\\>"][k] % re.escape(arg)
        out.append(":0\n%s\n%s/.%s/\n" % (cond, md, folder))
    return "\n".join(out)


def mailfilter(rs, md):
    out = ['DEFAULT="%s/"' % md]
    for k, arg, folder in rs:
        a = re.escape(arg).replace("/", "\\/")
        if k == 4:
            cond = "$SIZE > %d" % (int(arg) << 20)
        else:
            cond = ["/^Subject:.*%s/", "/^From: *%s *$/", "/^List-Id:.*%s/", "/^From:.*@%s$/"][k] % a
        out.append('if (%s)\n{\n\tto "%s/.%s/"\n}' % (cond, md, folder))
    return "\n".join(out) + "\n"


def maildir(path):
    for d in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(path, d), exist_ok=True)


kept = []


def prepare(home, rs):
    """a fresh Maildir with the rules' folders. What the last run
    delivered is moved aside, not deleted, until the end: on ext4 a
    freed inode is not reused for a minute, and each file created in
    the meantime scans past it (recently_deleted), so deleting between
    peers would slow down whoever runs next"""
    if os.path.exists(home):
        kept.append(os.path.join(work, "delivered%d" % len(kept)))
        os.rename(home, kept[-1])
    md = os.path.join(home, "Maildir")
    maildir(md)
    for _, _, folder in rs:
        maildir(os.path.join(md, "." + folder))
        open(os.path.join(md, "." + folder, "maildirfolder"), "w").close()
    return md


BATCH = 20


def write_batches(msgs):
    """the messages as files, and list files of BATCH of them each"""
    lists = []
    for i, m in enumerate(msgs):
        p = os.path.join(work, "msg%d" % i)
        with open(p, "wb") as f:
            f.write(m)
        if i % BATCH == 0:
            lists.append(os.path.join(work, "list%d" % len(lists)))
            open(lists[-1], "w").close()
        with open(lists[-1], "a") as lf:
            lf.write(p + "\n")
    return lists


def run(argv, listfile, env):
    """the messages in LISTFILE, one process each, one after the other,
    through mda_run: (wall, cpu, maxrss KB, failures)"""
    out = subprocess.run(as_user + [runner, listfile] + argv, env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    return float(out[0]), float(out[1]), int(out[2]), int(out[3])


def where(md):
    """message number -> folder, from what is on disk"""
    out = {}
    for root, dirs, files in os.walk(md):
        if os.path.basename(root) not in ("new", "cur"):
            continue
        folder = os.path.basename(os.path.dirname(root))
        folder = "INBOX" if folder == "Maildir" else folder.lstrip(".")
        for f in files:
            m = re.search(rb"^Message-ID: <b(\d+)@", open(os.path.join(root, f), "rb").read(), re.M)
            if m:
                out[int(m.group(1))] = folder
    return out


def check(got, truth):
    """what a peer filed against the evaluator's folders"""
    agree = sum(1 for k, v in truth.items() if got.get(k) == v)
    return "right folders" if agree == len(truth) else "WRONG folders (%d of %d right)" % (agree, len(truth))


def tree_cpu(root):
    """CPU seconds of ROOT and every process under it, with what they
    reaped"""
    kids, total = {}, 0.0
    stats = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    v = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(d)] = v
            kids.setdefault(int(v[1]), []).append(int(d))
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += sum(int(x) for x in stats[pid][11:15])
        todo.extend(kids.get(pid, []))
    return total / os.sysconf("SC_CLK_TCK")


def lmtp_dovecot(sock, home):
    """dovecot's LMTP with Pigeonhole, private (its own base_dir), the
    user's script as ~/.dovecot.sieve, on the unix socket SOCK"""
    conf = os.path.join(work, "dovecot-lmtp.conf")
    with open(conf, "w") as f:
        f.write("\n".join([
            "base_dir = %s/dovecot-run" % work, "state_dir = %s/dovecot-state" % work,
            "log_path = %s/dovecot-lmtp.log" % work, "protocols = lmtp", "ssl = no",
            "listen = 127.0.0.1", "auth_username_format = %Ln", "first_valid_uid = 100",
            "userdb {", "  driver = passwd", "}", "passdb {", "  driver = passwd", "}",
            "mail_location = maildir:~/Maildir",
            "service lmtp {", "  unix_listener %s {" % sock, "    mode = 0666", "  }", "}",
            "protocol lmtp {", "  mail_plugins = sieve", "}",
            "plugin {", "  sieve = file:~/sieve;active=~/.dovecot.sieve", "}"]) + "\n")
    return [shutil.which("dovecot"), "-F", "-c", conf]


def lmtp_run(msgs, env, home, script, peer="mvmda"):
    """the messages over LMTP (one connection, one transaction each) to
    mvmda -L or dovecot's LMTP, delivered as a user made for the run
    whose home is HOME: (wall, cpu, 0, failures), None when it cannot
    run here, or why it failed"""
    import smtplib
    user = "mvmdabench%d" % os.getpid()
    if os.getuid() != 0 or not shutil.which("useradd"):
        return None
    if peer == "dovecot" and not (shutil.which("dovecot") and os.path.exists("/usr/lib/dovecot/lmtp")):
        return None
    if subprocess.run(["useradd", "-M", "-d", home, "-s", "/bin/sh", user],
                      capture_output=True).returncode != 0:
        return None
    sock = os.path.join(work, "lmtp.sock")
    svc = None
    try:
        shutil.copy(script, os.path.join(home, ".mvmda.sieve" if peer == "mvmda" else ".dovecot.sieve"))
        subprocess.run(["chown", "-R", user, home], check=True)
        if os.path.exists(sock):
            os.unlink(sock)
        argv = [mvmda, "-L", "unix:" + sock, "-g", "root"] if peer == "mvmda" else lmtp_dovecot(sock, home)
        svc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        # the user's compiled script cache warmed once, as on a live system
        c = smtplib.LMTP(sock)
        c.ehlo("bench")
        c.sendmail("someone@sender.example", [user + "@example.net"], msgs[0])
        c.quit()
        for root, dirs, files in os.walk(home):
            for f in files:
                if os.path.basename(root) in ("new", "cur"):
                    os.unlink(os.path.join(root, f))
        time.sleep(1.2)	# the warming connection's process reaped
        c0 = tree_cpu(svc.pid)
        bad = 0
        t0 = time.monotonic()
        c = smtplib.LMTP(sock)
        c.ehlo("bench")
        for m in msgs:
            try:
                c.sendmail("someone@sender.example", [user + "@example.net"], m)
            except smtplib.SMTPException:
                bad += 1
        c.quit()
        wall = time.monotonic() - t0
        time.sleep(1.2)	# reaped: its CPU is the service's children's
        used = tree_cpu(svc.pid) - c0
        return wall, used, 0, bad
    except (OSError, smtplib.SMTPException) as e:
        return "%s: %s" % (peer, e)
    finally:
        if svc is not None:
            svc.terminate()
            svc.wait()
        subprocess.run(["userdel", user], capture_output=True)


def dovecot_conf(home, script):
    conf = os.path.join(work, "dovecot.conf")
    lines = ["log_path = /dev/null", "mail_location = maildir:%s/Maildir" % home,
             "protocol lda {", "  mail_plugins = sieve", "}",
             "plugin {", "  sieve = file:%s;active=%s" % (os.path.join(work, "sieve"), script), "}"]
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    return conf


def bench(nrules, corpus="spread", n=None, size=None, skip=()):
    n = n or N
    rs = rules(nrules)
    msgs = messages(n, nrules, corpus, size)
    truth = {j: expected(m, rs) for j, m in enumerate(msgs)}
    home = os.path.join(work, "home")
    script = os.path.join(work, "scripts", "rules%d.sieve" % nrules)
    os.makedirs(os.path.dirname(script), exist_ok=True)
    with open(script, "w") as f:
        f.write(sieve(rs) + "\n")
    env = {"HOME": home, "USER": "nobody" if as_user else os.environ.get("USER", "root"), "PATH": "/usr/bin:/bin",
           "MVMDA_RC": os.path.join(rcdir, "mvmda-rc.mfl"),
           "SENDER": "someone@sender.example", "RECIPIENT": "user@example.net"}
    # each peer its own home, all of them there at once: the peers take
    # turns batch by batch (BATCH messages each, the first peer another
    # each time), so that what the disk and the machine do at a moment
    # falls on all of them alike
    homes = {}

    def home_of(name):
        return homes.setdefault(name, os.path.join(work, "home-" + name))
    peers = [("limit", [limit, os.path.join(home_of("limit"), "Maildir")]),
             ("mvmda", [mvmda, script])]
    if os.path.exists("/usr/lib/dovecot/dovecot-lda"):
        peers.append(("dovecot-lda", ["/usr/lib/dovecot/dovecot-lda", "-c",
                                      dovecot_conf(home_of("dovecot-lda"), script),
                                      "-f", "someone@sender.example", "-a", "user@example.net"]))
    if shutil.which("procmail"):
        rc = os.path.join(work, "procmailrc")
        peers.append(("procmail", [shutil.which("procmail"), "-m", rc]))
    if shutil.which("maildrop"):
        mf = os.path.join(work, "mailfilter")
        peers.append(("maildrop", [shutil.which("maildrop"), mf]))
    peers = [p for p in peers if p[0] not in skip]
    print("\n%d rules, %s corpus, %d messages of %s, one process each, through a pipe, Maildir on %s"
          % (nrules, corpus, n, "about 4 KB" if size is None else "%d KB" % (size >> 10), work))
    for name in skip:
        print("%-12s not measured (%s)" % (name, skip[name]))
    subprocess.run([mvmda, "-c"], env=env, capture_output=True)
    lists = write_batches(msgs)
    runs = {}
    for rnd in range(ROUNDS):
        mds, envs = {}, {}
        for name, argv in peers:
            mds[name] = prepare(home_of(name), rs)
            envs[name] = dict(env, HOME=home_of(name))
            if name == "procmail":
                with open(argv[2], "w") as f:
                    f.write(procmailrc(rs, mds[name]))
            if name == "maildrop":
                with open(argv[1], "w") as f:
                    f.write(mailfilter(rs, mds[name]))
                os.chmod(argv[1], 0o600)
            chown_nobody(home_of(name))
        chown_nobody(work + "/scripts")
        for name, argv in peers:
            if os.path.isfile(argv[-1]):
                chown_nobody(argv[-1])
        if rnd == 0:	# warm the user's script cache once, as on a live system
            # (with a message: on an empty one mvmda defers before the script)
            warm = subprocess.run(as_user + [mvmda, "-n", script], env=envs["mvmda"],
                                  capture_output=True, input=msgs[0])
            if not os.path.exists(script + ".mflc"):
                print("mda_bench: mvmda -n did not cache %s (exit %d): %s"
                      % (script, warm.returncode, warm.stderr.decode(errors="replace").strip()))
        total = {name: [0.0, 0.0, 0, 0] for name, _ in peers}
        for b, listfile in enumerate(lists):
            for name, argv in peers[b % len(peers):] + peers[:b % len(peers)]:
                wall, cpu, rss, bad = run(argv, listfile, envs[name])
                t = total[name]
                t[0] += wall
                t[1] += cpu
                t[2] = max(t[2], rss)
                t[3] += bad
        for name, _ in peers:
            runs.setdefault(name, []).append(
                tuple(total[name]) + ("" if name == "limit" else check(where(mds[name]), truth),))
        if size is None and runs.get("mvmda -L", []) is not None:
            md = prepare(home, rs)
            r = lmtp_run(msgs, env, home, script)
            if r is None or isinstance(r, str):
                print("mvmda -L     not measured (%s)" % (r or "needs root and useradd"))
                runs["mvmda -L"] = None	# not tried again
            else:
                runs.setdefault("mvmda -L", []).append(r + (check(where(md), truth),))
        if (size is None and "dovecot-lda" in total and "dovecot-lmtp" not in skip
                and runs.get("dovecot-lmtp", []) is not None):
            md = prepare(home, rs)
            r = lmtp_run(msgs, env, home, script, "dovecot")
            if r is None or isinstance(r, str):
                print("dovecot-lmtp not measured (%s)" % (r or "needs root, useradd, dovecot-lmtpd"))
                runs["dovecot-lmtp"] = None
            else:
                runs.setdefault("dovecot-lmtp", []).append(r + (check(where(md), truth),))
    # each peer's fastest run; a run with failures or a wrong filing is
    # shown instead, so that no best time hides one; peak RSS the highest
    results = {}
    for name, rr in runs.items():
        if rr is None:
            continue
        worst = [x for x in rr if x[3] or x[4].startswith("WRONG")]
        best = worst[0] if worst else min(rr, key=lambda x: x[0])
        results[name] = best[:2] + (max(x[2] for x in rr),) + best[3:]
    lw, lc = results["limit"][0], results["limit"][1]
    print("%-12s %9s %9s %7s %7s %8s  %s" % ("peer", "wall s", "cpu s", "wall x", "cpu x", "maxrss", "check"))
    for name, (wall, cpu, rss, bad, same) in results.items():
        print("%-12s %9.3f %9.3f %7.2f %7.2f %6s  %s%s" % (name, wall, cpu, wall / lw, cpu / lc,
                                                          "%dKB" % rss if rss else "-", same,
                                                          "" if not bad else ", %d failed" % bad))
    if "mvmda -L" in results:
        print("mvmda -L: %.0f msg/s, %.2fx the per-process mvmda's (%.0f msg/s); wall per message %.2fx the limit's"
              % (n / results["mvmda -L"][0], results["mvmda"][0] / results["mvmda -L"][0],
                 n / results["mvmda"][0], results["mvmda -L"][0] / lw))
    if "mvmda -L" in results and "dovecot-lmtp" in results:
        print("mvmda -L: %.2fx dovecot's LMTP's messages per second (%.0f msg/s)"
              % (results["dovecot-lmtp"][0] / results["mvmda -L"][0], n / results["dovecot-lmtp"][0]))
    return results


print("mda_bench: %d messages; ratios are to the limit (tmp -> fsync -> rename -> fsync dir)" % N)
slow = "10,000 rules: minutes per run, left out"
rows = {"10": lambda: bench(10), "100": lambda: bench(100), "1000": lambda: bench(1000),
        "1000t": lambda: bench(1000, "traverse"),
        "10000t": lambda: bench(10000, "traverse", skip={"maildrop": slow, "dovecot-lda": slow, "dovecot-lmtp": slow}),
        "1m": lambda: bench(10, n=20, size=1 << 20), "50m": lambda: bench(10, n=3, size=50 << 20)}
# MDA_BENCH_ROWS="10 50m": only those rows (all by default)
only = os.environ.get("MDA_BENCH_ROWS", "").split() or list(rows)
try:
    for r in only:
        rows[r]()
finally:
    shutil.rmtree(work, ignore_errors=True)
    # the rc script's cache, named after its path under WORK
    for f in os.listdir(cachedir) if os.path.isdir(cachedir) else []:
        if f.startswith(work.replace("/", "%2F") + "%2F"):
            os.unlink(os.path.join(cachedir, f))
