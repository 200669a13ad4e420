#!/bin/sh
# run.sh - make bench: run every benchmark and print its numbers
set -e
builddir=${1:-.}
echo "== header indexing and address parsing (t/bench/hdr_bench)"
"$builddir/t/bench/hdr_bench"
echo
echo "== 1,000-rule Sieve script (t/bench/sieve_bench.sh)"
sh "$(dirname "$0")/sieve_bench.sh" "$builddir"
echo
echo "== delivery: mvmda against dovecot-lda, procmail, maildrop and the fsync limit (t/bench/mda_bench.py)"
python3 "$(dirname "$0")/mda_bench.py" "$builddir"
echo
echo "== the milter: Postfix without a milter, mvmtr, mailfromd; the milter protocol alone; the store (t/bench/milter_bench.sh)"
sh "$(dirname "$0")/milter_bench.sh" "$builddir"
echo
echo "== the shared store: Redis against LMDB; a big sender's pool (t/bench/redis_bench.sh)"
sh "$(dirname "$0")/redis_bench.sh" "$builddir"
echo
echo "== outbound: the submission service with AUTH, limits and DKIM signing, against Postfix alone (t/bench/msa_bench.sh)"
sh "$(dirname "$0")/msa_bench.sh" "$builddir"
echo
echo "== SMTP-time delivery checks: mvmtr asking mvmda -D, against no check and no milter (t/bench/delivery_bench.sh)"
sh "$(dirname "$0")/delivery_bench.sh" "$builddir"
echo
echo "== the qmail-smtpd compatible receiver: mvmtr-smtpd against qmail-smtpd (t/bench/smtpd_bench.sh)"
sh "$(dirname "$0")/smtpd_bench.sh" "$builddir"
