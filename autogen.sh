#!/bin/sh
# autogen.sh - make configure from a git checkout
set -e
cd "$(dirname "$0")"
mkdir -p build-aux m4
autoreconf --install --force
