#!/bin/sh
# install-deps.sh - install what mvmf needs to build and test on Debian 12
#
# Idempotent and non-interactive; run as root. Used by the README's quick
# start and by .ci/run, so the two never drift apart. Postfix is preseeded
# to "No configuration": the tests run private instances with their own
# config and queue directories and never touch the system's.
set -eu

BUILD="build-essential autoconf automake libtool pkg-config clang clang-format
	libmilter-dev libspf2-dev libpcre2-dev liblmdb-dev lmdb-utils
	libhiredis-dev libopendkim-dev libunistring-dev debhelper lintian liblockfile1 m4"
TEST="postfix miltertest dovecot-sieve dovecot-core redis-server unbound
	dnsmasq-base swaks procmail maildrop bind9-dnsutils iproute2
	valgrind python3 ca-certificates libgmime-3.0-dev systemd-container
	ucspi-tcp dovecot-managesieved sieve-connect faketime opendkim-tools strace"
# the peers make bench compares with (not needed by make check)
BENCH="mailfromd dovecot-lmtpd"

if [ "$(id -u)" != 0 ]; then
	echo "install-deps.sh: must run as root (it calls apt-get)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" |
	debconf-set-selections
# Keep package scripts from starting daemons: the tests start their own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
missing=
for p in $BUILD $TEST $BENCH; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		grep -q '^install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
