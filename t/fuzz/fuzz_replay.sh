#!/bin/sh
# fuzz_replay.sh - replay the fuzz targets' seed corpora (make check)
. "$top_srcdir/t/tap.sh"
exec "$top_builddir/t/fuzz/msg_replay" "$top_srcdir/t/fuzz/seeds/msg"
