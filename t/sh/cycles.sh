#!/bin/sh
# cycles.sh - the modules call each other one way (DESIGN.md, STYLE.md):
#   * no circle of calls among mvmda's modules, nor among mvmtr's, but
#     the one named below;
#   * the message model (mfl/msg/) calls nothing in the language.
# Read from the built objects with nm: module A calls B when A leaves a
# symbol undefined that B defines. The check runs over a made-up graph
# first, so a check that finds nothing is seen to find a circle.
. "$top_srcdir/t/tap.sh"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
command -v nm >/dev/null 2>&1 || skip_all "nm (binutils) is not installed"
cd "$top_builddir" || exit 1
for f in mda/libmda.a milter/libmtr.a milter/libshared.a mfl/libmfl.a; do
	[ -f "$f" ] || skip_all "$f is not built"
done
exec python3 - "$top_srcdir" <<'PY'
import glob, os, subprocess, sys

srcdir = sys.argv[1]
# spf_cache keeps spf's results and frees them with spf_result_free():
# a cache private to spf, known and left so
ALLOWED = [{"spf", "spf_cache"}]
n = failed = 0

def ok(cond, name, detail=""):
    global n, failed
    n += 1
    print(("ok" if cond else "not ok"), n, "-", name)
    if not cond:
        failed += 1
        for line in detail.splitlines():
            print("#", line)

def symbols(paths):
    """module -> (defined, undefined) from nm -A over objects and archives"""
    mods = {}
    out = subprocess.run(["nm", "-A"] + paths, capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        where, _, rest = line.rpartition(":")
        member = where.rsplit(":", 1)[-1]
        mod = os.path.basename(member)[:-2].rsplit("-", 1)[-1]
        d, u = mods.setdefault(mod, (set(), set()))
        f = rest.split()
        if len(f) == 2 and f[0] == "U":
            u.add(f[1])
        elif len(f) == 3 and f[1] in "TDBRCV":
            d.add(f[2])
    return mods

def graph(mods):
    return {a: {b for b in mods if b != a and mods[a][1] & mods[b][0]}
            for a in mods}

def circles(g):
    """strongly connected components with more than one module (Tarjan)"""
    index, low, stack, on, found, count = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = count[0]; count[0] += 1
        stack.append(v); on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop(); on.discard(w); comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(comp)
    for v in sorted(g):
        if v not in index:
            visit(v)
    return found

def unexpected(g):
    return [c for c in circles(g) if c not in ALLOWED]

# the check on a made-up graph: a circle of three is found, a line is not
made = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "spf": {"spf_cache"},
        "spf_cache": {"spf"}}
ok(unexpected(made) == [{"a", "b", "c"}], "the check finds a made-up circle, and only it")

sys.setrecursionlimit(10000)
for name, paths in (("mvmda", ["mda/libmda.a", "milter/libshared.a"]
                     + glob.glob("mda/mvmda-*.o")),
                    ("mvmtr", ["milter/libmtr.a", "milter/libshared.a"]
                     + glob.glob("milter/mvmtr-*.o") + glob.glob("milter/mvmcas-*.o"))):
    g = graph(symbols(paths))
    bad = unexpected(g)
    ok(not bad, "no circle of calls among %s's modules (%d modules)" % (name, len(g)),
       "\n".join(" <-> ".join(sorted(c)) for c in bad))

mods = symbols(["mfl/libmfl.a"])
model = {os.path.basename(p)[:-2] for p in glob.glob(os.path.join(srcdir, "mfl/msg/*.c"))}
ok(model and model <= set(mods), "libmfl holds the message model's %d modules" % len(model))
g = graph(mods)
calls = sorted("%s -> %s" % (a, b) for a in model for b in g.get(a, ()) if b not in model)
ok(not calls, "the message model calls nothing in the language", "\n".join(calls))
print("1..%d" % n)
sys.exit(1 if failed or n == 0 else 0)
PY
