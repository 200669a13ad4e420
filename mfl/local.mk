# mfl/local.mk - libmfl, the language and message model, and its tools

noinst_LIBRARIES += mfl/libmfl.a
mfl_libmfl_a_CFLAGS = $(AM_CFLAGS) $(PCRE2_CFLAGS)
mfl_libmfl_a_SOURCES = \
	mfl/action.c mfl/action.h \
	mfl/addr.c mfl/addr.h \
	mfl/arena.c mfl/arena.h \
	mfl/ast.c mfl/ast.h \
	mfl/buf.c mfl/buf.h \
	mfl/cache.c mfl/cache.h \
	mfl/charset.c mfl/charset.h \
	mfl/codec.c mfl/codec.h \
	mfl/compile.c mfl/compile.h \
	mfl/compile_expr.c \
	mfl/compile_fep.c \
	mfl/compile_include.c \
	mfl/compile_site.c \
	mfl/date.c mfl/date.h \
	mfl/diag.c mfl/diag.h \
	mfl/disasm.c \
	mfl/env.c mfl/env.h \
	mfl/hdr.c mfl/hdr.h \
	mfl/intr.c mfl/intr.h \
	mfl/intr_action.c \
	mfl/intr_body.c \
	mfl/intr_date.c \
	mfl/intr_environment.c \
	mfl/intr_duplicate.c \
	mfl/intr_editheader.c \
	mfl/intr_flags.c \
	mfl/intr_mime.c \
	mfl/intr_ihave.c \
	mfl/intr_mailbox.c \
	mfl/intr_spamtest.c \
	mfl/intr_string.c \
	mfl/intr_test.c \
	mfl/intr_vacation.c \
	mfl/intr_variables.c \
	mfl/lex.c mfl/lex.h \
	mfl/match.c mfl/match.h \
	mfl/mime.c mfl/mime.h \
	mfl/mimeparam.c mfl/mimeparam.h \
	mfl/msg.c mfl/msg.h \
	mfl/opcodes.h \
	mfl/parse.c mfl/parse.h \
	mfl/parse_mfl.c \
	mfl/parse_sieve.c \
	mfl/prog.h \
	mfl/regex.c mfl/regex.h \
	mfl/rfc2047.c mfl/rfc2047.h \
	mfl/run.c \
	mfl/str.h \
	mfl/tmatch.c mfl/tmatch.h \
	mfl/value.h \
	mfl/verify.c \
	mfl/vm.c mfl/vm.h \
	mfl/mfl.h mfl/mflapi.h

MFL_LIBS = mfl/libmfl.a $(PCRE2_LIBS)

bin_PROGRAMS += mfl/mflmsg mfl/mflc
mfl_mflmsg_SOURCES = mfl/mflmsg.c
mfl_mflmsg_LDADD = $(MFL_LIBS)
mfl_mflc_SOURCES = mfl/mflc.c
mfl_mflc_LDADD = $(MFL_LIBS)
