# mfl/local.mk - libmfl, the language and message model, and its tools

noinst_LIBRARIES += mfl/libmfl.a
mfl_libmfl_a_SOURCES = \
	mfl/addr.c mfl/addr.h \
	mfl/arena.c mfl/arena.h \
	mfl/buf.c mfl/buf.h \
	mfl/charset.c mfl/charset.h \
	mfl/codec.c mfl/codec.h \
	mfl/hdr.c mfl/hdr.h \
	mfl/mime.c mfl/mime.h \
	mfl/mimeparam.c mfl/mimeparam.h \
	mfl/msg.c mfl/msg.h \
	mfl/rfc2047.c mfl/rfc2047.h \
	mfl/str.h \
	mfl/mfl.h

bin_PROGRAMS += mfl/mflmsg
mfl_mflmsg_SOURCES = mfl/mflmsg.c
mfl_mflmsg_LDADD = mfl/libmfl.a
