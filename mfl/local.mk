# mfl/local.mk - libmfl (the message model, the language, its intrinsics) and its tools

noinst_LIBRARIES += mfl/libmfl.a
mfl_libmfl_a_CFLAGS = $(AM_CFLAGS) $(PCRE2_CFLAGS)
mfl_libmfl_a_CPPFLAGS = $(AM_CPPFLAGS) \
	-DMFL_SIEVE_GLOBAL_DIR='"$(sysconfdir)/mvmf/sieve"'
# the message model (mfl/msg/), the language (mfl/), its intrinsics
# (mfl/intr/): one library, three layers; hosts include mfl.h and
# msg/msg.h only (t/sh/layers.sh)
mfl_libmfl_a_SOURCES = \
	mfl/msg/addr.c mfl/msg/addr.h \
	mfl/msg/arena.c mfl/msg/arena.h \
	mfl/msg/buf.c mfl/msg/buf.h \
	mfl/msg/charset.c mfl/msg/charset.h mfl/msg/sbcs_tables.h \
	mfl/msg/codec.c mfl/msg/codec.h \
	mfl/msg/date.c mfl/msg/date.h \
	mfl/msg/hdr.c mfl/msg/hdr.h \
	mfl/msg/mime.c mfl/msg/mime.h \
	mfl/msg/mimeparam.c mfl/msg/mimeparam.h \
	mfl/msg/msg.c mfl/msg/msg.h \
	mfl/msg/rfc2047.c mfl/msg/rfc2047.h \
	mfl/msg/str.h \
	mfl/action.c mfl/action.h \
	mfl/ast.c mfl/ast.h \
	mfl/cache.c mfl/cache.h \
	mfl/compile.c mfl/compile.h \
	mfl/compile_expr.c \
	mfl/compile_fep.c mfl/testsuite.c mfl/testsuite.h mfl/testsuite_int.h \
	mfl/testsuite_store.c mfl/vacation.c \
	mfl/notify.c mfl/notify.h \
	mfl/program.c \
	mfl/report.c \
	mfl/redirect.c mfl/redirect.h \
	mfl/compile_include.c \
	mfl/compile_share.c \
	mfl/compile_site.c \
	mfl/diag.c mfl/diag.h \
	mfl/disasm.c \
	mfl/env.c mfl/env.h \
	mfl/lex.c mfl/lex.h \
	mfl/match.c mfl/match.h \
	mfl/mfl.h \
	mfl/mflapi.h \
	mfl/opcodes.h \
	mfl/parse.c mfl/parse.h \
	mfl/parse_mfl.c \
	mfl/parse_sieve.c \
	mfl/prog.h \
	mfl/regex.c mfl/regex.h \
	mfl/run.c \
	mfl/tmatch.c mfl/tmatch.h \
	mfl/value.h \
	mfl/verify.c \
	mfl/linemap.c \
	mfl/vm.c mfl/vm.h \
	mfl/intr/intr.c mfl/intr/intr.h \
	mfl/intr/intr_action.c \
	mfl/intr/intr_body.c \
	mfl/intr/intr_date.c \
	mfl/intr/intr_duplicate.c \
	mfl/intr/intr_editheader.c \
	mfl/intr/intr_environment.c \
	mfl/intr/intr_flags.c \
	mfl/intr/intr_ihave.c \
	mfl/intr/intr_mailbox.c \
	mfl/intr/intr_mime.c \
	mfl/intr/intr_program.c \
	mfl/intr/intr_report.c \
	mfl/intr/intr_replace.c \
	mfl/intr/intr_spamtest.c \
	mfl/intr/intr_string.c \
	mfl/intr/intr_test.c \
	mfl/intr/intr_vacation.c mfl/intr/intr_notify.c mfl/intr/intr_notify_old.c \
	mfl/intr/intr_variables.c

MFL_LIBS = mfl/libmfl.a $(PCRE2_LIBS) $(UNISTRING_LIBS)

bin_PROGRAMS += mfl/mflmsg mfl/mflc
mfl_mflmsg_SOURCES = mfl/mflmsg.c
mfl_mflmsg_LDADD = $(MFL_LIBS)
mfl_mflc_SOURCES = mfl/mflc.c
mfl_mflc_LDADD = $(MFL_LIBS)

# makes mfl/msg/sbcs_tables.h from glibc's iconv (run by hand when its
# list of charsets changes; t/unit/charset_test checks the tables)
EXTRA_DIST += mfl/msg/sbcs_gen.py
