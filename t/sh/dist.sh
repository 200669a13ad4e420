#!/bin/sh
# dist.sh - the tarball (make dist) holds every file git tracks but
# .gitignore and m4/.keep: a file left out of EXTRA_DIST builds and
# passes here, then breaks make distcheck and every build from the
# tarball (debian/mvmf-mda.postinst did). Run from a git checkout's
# build; a tarball's own build skips it.
. "$top_srcdir/t/tap.sh"
command -v git >/dev/null 2>&1 || skip_all "git is not installed"
src=$(cd "$top_srcdir" && pwd -P)
[ "$(git -C "$src" rev-parse --show-toplevel 2>/dev/null)" = "$src" ] ||
	skip_all "$src is not a git checkout's top (a tarball's build)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the tarball's tree, made where make dist makes it from, but in $tmp
if ${MAKE:-make} -s -C "$top_builddir" distdir distdir="$tmp/pkg" top_distdir="$tmp/pkg" \
	>"$tmp/log" 2>&1; then
	ok 0 "make distdir runs"
else
	ok 1 "make distdir runs: $(tail -n 3 "$tmp/log" | tr '\n' ' ')"
fi
git -C "$src" ls-files | grep -v -x -e .gitignore -e m4/.keep | sort >"$tmp/tracked"
(cd "$tmp/pkg" && find . -type f | sed 's|^\./||' | sort) >"$tmp/shipped"
ok "$([ -s "$tmp/tracked" ]; echo $?)" "git tracks files here ($(wc -l <"$tmp/tracked"))"
is "$(comm -23 "$tmp/tracked" "$tmp/shipped" | tr '\n' ' ')" "" \
	"every file git tracks is in the tarball (EXTRA_DIST)"
done_testing
