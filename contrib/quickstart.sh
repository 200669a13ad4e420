#!/bin/sh
# quickstart.sh - the README's first command: install what mvmf needs
# (Debian 12, as root), build it in this tree, and run the demo.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh contrib/install-deps.sh
[ -x configure ] || ./autogen.sh
[ -f Makefile ] || ./configure
make -j"$(nproc)"
sh contrib/demo/run.sh "$top"
