#!/bin/sh
# run.sh - make bench: run every benchmark and print its numbers
set -e
builddir=${1:-.}
echo "== header indexing and address parsing (t/bench/hdr_bench)"
"$builddir/t/bench/hdr_bench"
