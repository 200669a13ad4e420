# t/local.mk - the test suite (make check) and benchmarks (make bench)
#
# Every test speaks TAP through automake's tap-driver. A test that cannot
# run prints "1..0 # SKIP reason" and exits 77; t/run-test turns that exit
# into the TAP skip the driver expects, and passes every other status on.

TEST_EXTENSIONS = .sh
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
LOG_COMPILER = $(SHELL) $(top_srcdir)/t/run-test
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = $(LOG_COMPILER)
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; top_builddir='$(abs_top_builddir)'; \
	export top_srcdir top_builddir;

EXTRA_DIST += t/run-test t/tap.sh t/lib/postfix.sh t/lib/milter.sh t/lib/mda.sh t/lib/ns.sh t/lib/qmail.sh t/lib/sasl.sh t/lib/sendmail.sh t/lib/mflcache.py t/sh/nspawn-check.sh

check_LIBRARIES = t/unit/libtap.a
t_unit_libtap_a_SOURCES = t/unit/tap.c t/unit/tap.h

UNIT_LDADD = t/unit/libtap.a $(MFL_LIBS)

unit_tests = \
	t/unit/arena_test \
	t/unit/buf_test \
	t/unit/charset_test \
	t/unit/codec_test \
	t/unit/rfc2047_test \
	t/unit/hdr_test \
	t/unit/addr_test \
	t/unit/mimeparam_test \
	t/unit/mime_test \
	t/unit/msg_test \
	t/unit/verify_test \
	t/unit/host_test \
	t/unit/corpus_test \
	t/unit/mda_test \
	t/unit/assess_test \
	t/unit/assess_redis_test \
	t/unit/dns_test \
	t/unit/spf_cache_test \
	t/unit/engine_test

check_PROGRAMS += $(unit_tests)
TESTS += $(unit_tests)

t_unit_arena_test_LDADD = $(UNIT_LDADD)
t_unit_buf_test_LDADD = $(UNIT_LDADD)
t_unit_charset_test_LDADD = $(UNIT_LDADD)
t_unit_codec_test_LDADD = $(UNIT_LDADD)
t_unit_rfc2047_test_LDADD = $(UNIT_LDADD)
t_unit_hdr_test_LDADD = $(UNIT_LDADD)
t_unit_addr_test_LDADD = $(UNIT_LDADD)
t_unit_mimeparam_test_LDADD = $(UNIT_LDADD)
t_unit_mime_test_LDADD = $(UNIT_LDADD)
t_unit_msg_test_LDADD = $(UNIT_LDADD)
t_unit_corpus_test_LDADD = $(UNIT_LDADD)
t_unit_verify_test_LDADD = $(UNIT_LDADD)
t_unit_host_test_LDADD = $(UNIT_LDADD)
t_unit_assess_test_CPPFLAGS = $(milter_libmtr_a_CPPFLAGS)
t_unit_assess_test_LDADD = $(MTR_LIBS) $(UNIT_LDADD) $(LMDB_LIBS) $(HIREDIS_LIBS) $(OPENDKIM_LIBS) -lpthread
# the same tests on Redis (and what only Redis has)
t_unit_assess_redis_test_SOURCES = t/unit/assess_test.c
t_unit_assess_redis_test_CPPFLAGS = $(milter_libmtr_a_CPPFLAGS) -DASSESS_REDIS
t_unit_assess_redis_test_LDADD = $(t_unit_assess_test_LDADD)
t_unit_dns_test_CPPFLAGS = $(milter_libmtr_a_CPPFLAGS)
t_unit_dns_test_LDADD = $(MTR_LIBS) $(UNIT_LDADD) $(LMDB_LIBS) $(HIREDIS_LIBS) $(OPENDKIM_LIBS) $(RESOLV_LIBS) -lpthread
t_unit_spf_cache_test_CPPFLAGS = $(milter_libmtr_a_CPPFLAGS)
t_unit_spf_cache_test_LDADD = $(MTR_LIBS) $(UNIT_LDADD) $(SPF2_LIBS) $(RESOLV_LIBS) \
	-lpthread
t_unit_engine_test_SOURCES = t/unit/engine_test.c milter/engine.c milter/engine.h
t_unit_engine_test_CPPFLAGS = $(milter_libmtr_a_CPPFLAGS)
t_unit_engine_test_LDADD = $(MTR_LIBS) $(UNIT_LDADD) -lpthread
t_unit_mda_test_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/mda
t_unit_mda_test_LDADD = mda/libmda.a milter/libshared.a $(UNIT_LDADD) $(LMDB_LIBS) $(RESOLV_LIBS)

# Shell tests that run the installed-to-be binaries.
sh_tests = \
	t/sh/mflmsg.sh \
	t/sh/layers.sh \
	t/sh/cycles.sh \
	t/sh/help.sh \
	t/sh/paths.sh \
	t/sh/debian.sh \
	t/sh/demo.sh \
	t/sh/systemd.sh \
	t/sh/cache.sh \
	t/sh/dist.sh \
	t/golden/run.sh \
	t/mda/options.sh \
	t/mda/sieve.sh t/mda/managesieve.sh t/mda/programs.sh \
	t/mda/sysrc.sh \
	t/mda/sendmail.sh \
	t/mda/qmail.sh \
	t/mda/postfix.sh \
	t/mda/lmtp.sh \
	t/mda/faults.sh \
	t/mda/durable.sh \
	t/mda/static.sh \
	t/mda/hostile.sh \
	t/mda/big.sh \
	t/mda/dovecot.sh \
	t/mda/dnsbl.sh \
	t/milter/miltertest.sh \
	t/milter/postfix.sh \
	t/milter/redis.sh \
	t/milter/bigsender.sh \
	t/milter/msa.sh \
	t/milter/sendmail_msa.sh \
	t/milter/delivery.sh \
	t/milter/concurrency.sh \
	t/milter/dns.sh \
	t/milter/slow.sh \
	t/milter/start.sh

TESTS += $(sh_tests)
# the qmail-smtpd compatible receiver's tests, when it is built
if QMAIL_SMTPD
TESTS += t/milter/smtpd.sh
endif
EXTRA_DIST += t/milter/smtpd.sh t/milter/smtp_dialogue.py
EXTRA_DIST += t/milter/hooks.mfl t/milter/minimal.mfl t/milter/rules.sieve \
	t/milter/toplevel.mfl t/milter/lua/toplevel.lua \
	t/milter/mime.sieve t/milter/lua/mime.lua \
	t/milter/store.mfl t/milter/lua/store.lua t/milter/suspicious.mfl t/milter/lua/suspicious.lua \
	t/milter/msacount.mfl t/milter/lua/msacount.lua \
	t/milter/prelude.lua t/milter/lua/connect.lua t/milter/lua/envelope.lua \
	t/milter/lua/content.lua t/milter/lua/changes.lua \
	t/milter/lua/negotiate.lua t/milter/lua/sieve.lua t/milter/lua/reload.lua \
	t/milter/dns.mfl t/milter/lua/dns.lua t/milter/lua/damage.lua t/milter/lua/damage2.lua t/milter/damage.mfl
EXTRA_DIST += $(sh_tests) t/mda/kill.py t/data t/golden/rules.sieve t/golden/loop.mfl \
	t/golden/strings.mfl t/golden/rules.dis t/golden/loop.dis \
	t/golden/strings.dis t/golden/shared.sieve t/golden/shared.dis

# make bench: never part of make check
EXTRA_PROGRAMS += t/bench/hdr_bench
t_bench_hdr_bench_SOURCES = t/bench/hdr_bench.c
t_bench_hdr_bench_LDADD = $(MFL_LIBS)
if HAVE_GMIME
t_bench_hdr_bench_SOURCES += t/bench/peer_gmime.c t/bench/peer_gmime.h
t_bench_hdr_bench_CFLAGS = $(AM_CFLAGS) $(GMIME_CFLAGS)
t_bench_hdr_bench_LDADD += $(GMIME_LIBS)
endif
EXTRA_DIST += t/bench/peer_gmime.c t/bench/peer_gmime.h
EXTRA_PROGRAMS += t/bench/sieve_bench
t_bench_sieve_bench_LDADD = $(MFL_LIBS)
EXTRA_DIST += t/bench/sieve_bench.sh t/bench/gen_rules.py t/bench/gen_message.py
EXTRA_DIST += t/bench/run.sh t/bench/mda_bench.py
EXTRA_PROGRAMS += t/bench/mda_limit
# mda_run also measures t/mda/big.sh's peak RSS, milter_drive drives
# t/milter/redis.sh's load
check_PROGRAMS += t/bench/mda_run
check_PROGRAMS += t/bench/milter_drive
EXTRA_PROGRAMS += t/bench/engine_null t/bench/store_bench
t_bench_milter_drive_LDADD = -lpthread
t_bench_engine_null_SOURCES = t/bench/engine_null.c milter/engine.c milter/engine.h
t_bench_engine_null_CPPFLAGS = $(milter_libmtr_a_CPPFLAGS)
t_bench_engine_null_LDADD = $(MTR_LIBS) $(MFL_LIBS) -lpthread
# the bare libmilter filter, libmilter's floor, when libmilter-dev is here
bench_milter_null =
if HAVE_LIBMILTER
EXTRA_PROGRAMS += t/bench/milter_null
t_bench_milter_null_LDADD = $(MILTER_LIBS)
bench_milter_null += t/bench/milter_null$(EXEEXT)
endif
EXTRA_DIST += t/bench/milter_null.c
t_bench_store_bench_CPPFLAGS = $(milter_libmtr_a_CPPFLAGS)
t_bench_store_bench_LDADD = $(MTR_LIBS) $(MFL_LIBS) $(LMDB_LIBS) $(HIREDIS_LIBS) $(OPENDKIM_LIBS)
EXTRA_DIST += t/bench/milter_bench.sh t/bench/milter_ab.sh t/bench/milter_env.sh t/bench/smtpd_bench.sh t/bench/delivery_bench.sh \
	t/bench/redis_bench.sh t/bench/msa_bench.sh
CLEANFILES += $(EXTRA_PROGRAMS)

bench: t/bench/hdr_bench$(EXEEXT) t/bench/sieve_bench$(EXEEXT) mfl/mflc$(EXEEXT) \
	t/bench/mda_limit$(EXEEXT) t/bench/mda_run$(EXEEXT) mda/mvmda$(EXEEXT) \
	t/bench/milter_drive$(EXEEXT) t/bench/engine_null$(EXEEXT) $(bench_milter_null) \
	t/bench/store_bench$(EXEEXT) milter/mvmtr$(EXEEXT) milter/mvmcas$(EXEEXT)
	$(SHELL) $(top_srcdir)/t/bench/run.sh $(top_builddir)

.PHONY: bench

# Fuzz targets: libFuzzer binaries with --enable-fuzz (CC=clang); the
# same entry points are linked into replay programs that make check runs
# over the seed corpora in t/fuzz/seeds/.
check_PROGRAMS += t/fuzz/msg_replay t/fuzz/mfl_replay t/fuzz/sieve_replay \
	t/fuzz/lex_replay t/fuzz/milter_replay t/fuzz/cache_replay t/fuzz/service_replay
t_fuzz_service_replay_SOURCES = t/fuzz/replay.c t/fuzz/service_fuzz.c
t_fuzz_service_replay_CPPFLAGS = $(mda_libmda_a_CPPFLAGS)
t_fuzz_service_replay_LDADD = mda/libmda.a milter/libshared.a $(UNIT_LDADD) $(LMDB_LIBS) \
	$(RESOLV_LIBS)
t_fuzz_cache_replay_SOURCES = t/fuzz/replay.c t/fuzz/cache_fuzz.c
t_fuzz_cache_replay_LDADD = $(UNIT_LDADD)
t_fuzz_milter_replay_SOURCES = t/fuzz/replay.c t/fuzz/milter_fuzz.c milter/engine.c \
	milter/engine.h
t_fuzz_milter_replay_CPPFLAGS = $(milter_libmtr_a_CPPFLAGS)
t_fuzz_milter_replay_LDADD = $(MTR_LIBS) $(UNIT_LDADD) -lpthread
t_fuzz_msg_replay_SOURCES = t/fuzz/replay.c t/fuzz/msg_fuzz.c
t_fuzz_msg_replay_LDADD = $(UNIT_LDADD)
t_fuzz_mfl_replay_SOURCES = t/fuzz/replay.c t/fuzz/lang_fuzz.c
t_fuzz_mfl_replay_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_MODE=0
t_fuzz_mfl_replay_LDADD = $(UNIT_LDADD)
t_fuzz_sieve_replay_SOURCES = t/fuzz/replay.c t/fuzz/lang_fuzz.c
t_fuzz_sieve_replay_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_MODE=1
t_fuzz_sieve_replay_LDADD = $(UNIT_LDADD)
t_fuzz_lex_replay_SOURCES = t/fuzz/replay.c t/fuzz/lang_fuzz.c
t_fuzz_lex_replay_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_MODE=2
t_fuzz_lex_replay_LDADD = $(UNIT_LDADD)
TESTS += t/fuzz/fuzz_replay.sh
EXTRA_DIST += t/fuzz/fuzz_replay.sh t/fuzz/seeds t/fuzz/smtpd_fuzz.c t/fuzz/cache_seeds.py
# mvmtr-smtpd's SMTP server, when configure builds it
SMTPD_FUZZ_SOURCES = t/fuzz/smtpd_fuzz.c milter/smtpd.c milter/smtpd.h milter/smtpd_session.c \
	milter/qmail_ctl.c milter/qmail_ctl.h
if QMAIL_SMTPD
check_PROGRAMS += t/fuzz/smtpd_replay
endif
t_fuzz_smtpd_replay_SOURCES = t/fuzz/replay.c $(SMTPD_FUZZ_SOURCES)
t_fuzz_smtpd_replay_CPPFLAGS = $(milter_libmtr_a_CPPFLAGS)
t_fuzz_smtpd_replay_LDADD = $(MTR_LIBS) $(UNIT_LDADD) $(LMDB_LIBS) $(HIREDIS_LIBS) $(OPENDKIM_LIBS) $(SPF2_LIBS) \
	$(RESOLV_LIBS) -lpthread

if FUZZ
noinst_PROGRAMS += t/fuzz/msg_fuzz t/fuzz/mfl_fuzz t/fuzz/sieve_fuzz t/fuzz/lex_fuzz \
	t/fuzz/milter_fuzz t/fuzz/cache_fuzz t/fuzz/service_fuzz
t_fuzz_service_fuzz_SOURCES = t/fuzz/service_fuzz.c
t_fuzz_service_fuzz_CPPFLAGS = $(mda_libmda_a_CPPFLAGS)
t_fuzz_service_fuzz_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
t_fuzz_service_fuzz_LDADD = mda/libmda.a milter/libshared.a $(MFL_LIBS) $(LMDB_LIBS) \
	$(RESOLV_LIBS)
t_fuzz_cache_fuzz_SOURCES = t/fuzz/cache_fuzz.c
t_fuzz_cache_fuzz_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
t_fuzz_cache_fuzz_LDADD = $(MFL_LIBS)
FUZZ_FLAGS = -fsanitize=fuzzer
if QMAIL_SMTPD
noinst_PROGRAMS += t/fuzz/smtpd_fuzz
endif
t_fuzz_smtpd_fuzz_SOURCES = $(SMTPD_FUZZ_SOURCES)
t_fuzz_smtpd_fuzz_CPPFLAGS = $(milter_libmtr_a_CPPFLAGS)
t_fuzz_smtpd_fuzz_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
t_fuzz_smtpd_fuzz_LDADD = $(MTR_LIBS) $(MFL_LIBS) $(LMDB_LIBS) $(HIREDIS_LIBS) $(OPENDKIM_LIBS) $(SPF2_LIBS) \
	$(RESOLV_LIBS) -lpthread
t_fuzz_milter_fuzz_SOURCES = t/fuzz/milter_fuzz.c milter/engine.c milter/engine.h
t_fuzz_milter_fuzz_CPPFLAGS = $(milter_libmtr_a_CPPFLAGS)
t_fuzz_milter_fuzz_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
t_fuzz_milter_fuzz_LDADD = $(MTR_LIBS) $(MFL_LIBS) -lpthread
t_fuzz_msg_fuzz_SOURCES = t/fuzz/msg_fuzz.c
t_fuzz_msg_fuzz_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
t_fuzz_msg_fuzz_LDADD = $(MFL_LIBS)
t_fuzz_mfl_fuzz_SOURCES = t/fuzz/lang_fuzz.c
t_fuzz_mfl_fuzz_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_MODE=0
t_fuzz_mfl_fuzz_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
t_fuzz_mfl_fuzz_LDADD = $(MFL_LIBS)
t_fuzz_sieve_fuzz_SOURCES = t/fuzz/lang_fuzz.c
t_fuzz_sieve_fuzz_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_MODE=1
t_fuzz_sieve_fuzz_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
t_fuzz_sieve_fuzz_LDADD = $(MFL_LIBS)
t_fuzz_lex_fuzz_SOURCES = t/fuzz/lang_fuzz.c
t_fuzz_lex_fuzz_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_MODE=2
t_fuzz_lex_fuzz_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
t_fuzz_lex_fuzz_LDADD = $(MFL_LIBS)
endif

# Sieve-mode cases, compared with Pigeonhole's sieve-test when installed,
# and MFL-mode error cases in the same format; self-checking MFL scripts
TESTS += t/sieve/cases.sh t/mfl/run.sh t/sieve/pigeonhole.sh t/sieve/testsuite.sh \
	t/mfl/include_path.sh t/sieve/scanner_controls.sh
EXTRA_DIST += t/sieve/cases.sh t/sieve/run_cases.py t/sieve/messages \
	t/sieve/pigeonhole.sh t/sieve/pigeonhole_suite.py t/sieve/pigeonhole.kept t/sieve/testsuite.sh t/sieve/replace-enclose.svtest t/mfl/include_path.sh t/sieve/scanner_controls.sh \
	t/sieve/actions.cases t/sieve/address.cases t/sieve/control.cases t/sieve/enotify.cases t/sieve/specialuse.cases t/sieve/unicode.cases \
	t/sieve/lexical.cases t/sieve/tests.cases \
	t/sieve/relational.cases t/sieve/regex.cases t/sieve/subaddress.cases \
	t/sieve/variables.cases t/sieve/copy.cases t/sieve/imap4flags.cases \
	t/sieve/body.cases t/sieve/environment.cases t/sieve/date.cases \
	t/sieve/spamtest.cases t/sieve/ihave.cases t/sieve/mailbox.cases \
	t/sieve/editheader.cases t/sieve/duplicate.cases \
	t/sieve/vacation.cases t/sieve/include.cases t/sieve/mime.cases \
	t/mfl/run.sh t/mfl/errors.cases t/mfl/lib \
	t/mfl/controls.mfl t/mfl/functions.mfl t/mfl/hooks.mfl \
	t/mfl/include.mfl t/mfl/intrinsics.mfl t/mfl/operators.mfl \
	t/mfl/sieve_tests.mfl t/mfl/statements.mfl t/mfl/stop.mfl \
	t/mfl/types.mfl

# Sendmail's packages, downloaded once per build tree by t/mda/sendmail.sh
# and t/milter/sendmail_msa.sh (t/lib/sendmail.sh),
# and notqmail, built once per build tree by t/lib/qmail.sh
clean-local: clean-test-components
clean-test-components:
	rm -rf t/sendmail-debs t/sendmail-msa-debs t/notqmail
.PHONY: clean-test-components
