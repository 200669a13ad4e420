#!/bin/sh
# sieve_bench.sh - the 1,000-rule Sieve script over one 4 KB message:
# mvmf in-process (compile + run), mvmf as a process (mflc, as a host
# would start it per message), and Pigeonhole's sieve-test running the
# same script from its compiled binary (sievec), side by side.
set -eu
builddir=${1:-.}
here=$(cd "$(dirname "$0")" && pwd)
rounds=${ROUNDS:-200}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
python3 "$here/gen_rules.py" 1000 >"$tmp/rules.sieve"
python3 "$here/gen_message.py" >"$tmp/msg.eml"
chmod 644 "$tmp/rules.sieve" "$tmp/msg.eml"
echo "script: 1000 rules, $(wc -c <"$tmp/rules.sieve") bytes; message: $(wc -c <"$tmp/msg.eml") bytes"

"$builddir/t/bench/sieve_bench" "$tmp/rules.sieve" "$tmp/msg.eml" 500

ms_per() {	# command... : mean wall ms over $rounds runs
	start=$(date +%s%N)
	i=0
	while [ "$i" -lt "$rounds" ]; do
		"$@" >/dev/null 2>&1 || true
		i=$((i + 1))
	done
	end=$(date +%s%N)
	echo $(( (end - start) / rounds / 1000 ))	# microseconds
}

rm -f "$tmp/rules.sieve.mflc"
compiled=$(ms_per "$builddir/mfl/mflc" -S -e someone@domain998.example \
	-t user@example.net -m "$tmp/msg.eml" "$tmp/rules.sieve")
"$builddir/mfl/mflc" -S -m "$tmp/msg.eml" "$tmp/rules.sieve" | head -1
printf 'mflc process, compiling each time, mean of %d: %d us\n' "$rounds" "$compiled"
"$builddir/mfl/mflc" -C -S -m "$tmp/msg.eml" "$tmp/rules.sieve" >/dev/null
ours=$(ms_per "$builddir/mfl/mflc" -C -S -e someone@domain998.example \
	-t user@example.net -m "$tmp/msg.eml" "$tmp/rules.sieve")
printf 'mflc process, cached program (-C), mean of %d: %d us\n' "$rounds" "$ours"

true_us=$(ms_per /bin/true)
printf 'process start-up floor (/bin/true): %d us\n' "$true_us"

if command -v sieve-test >/dev/null 2>&1 && command -v sievec >/dev/null 2>&1; then
	conf="$tmp/dovecot.conf"
	{
		if [ "$(id -u)" = 0 ]; then
			echo "mail_uid = nobody"
			echo "mail_gid = $(id -gn nobody)"
			echo "first_valid_uid = 0"
			echo "first_valid_gid = 0"
		fi
		echo "log_path = /dev/null"
		echo "mail_location = maildir:$tmp/Maildir"
	} >"$conf"
	sievec -c "$conf" "$tmp/rules.sieve" "$tmp/rules.svbin"
	chmod 644 "$tmp/rules.svbin"
	sieve-test -c "$conf" -f someone@domain998.example -r user@example.net \
		"$tmp/rules.svbin" "$tmp/msg.eml" 2>/dev/null | grep 'store' | head -1
	theirs=$(ms_per sieve-test -c "$conf" -f someone@domain998.example \
		-r user@example.net "$tmp/rules.svbin" "$tmp/msg.eml")
	printf 'sieve-test with the compiled binary, mean of %d: %d us\n' "$rounds" "$theirs"
	awk -v a="$theirs" -v b="$ours" -v c="$compiled" 'BEGIN {
		printf "mvmf is %.1fx faster than Pigeonhole per message (cached), %.1fx compiling each time\n", a / b, a / c }'
else
	echo "peer: sieve-test/sievec not installed (apt-get install dovecot-sieve)"
fi
