# mda/local.mk - mvmda, the delivery agent

bin_PROGRAMS += mda/mvmda
noinst_LIBRARIES += mda/libmda.a

# everything but the driver, so unit tests link the same code
mda_libmda_a_SOURCES = mda/deliver.c mda/log.c mda/log.h mda/mail.h \
	mda/maildir.c mda/maildir.h mda/mbox.c mda/mbox.h mda/mda.h \
	mda/namespace.c mda/namespace.h mda/rc.c mda/received.c \
	mda/received.h mda/sendmail.c mda/sendmail.h mda/interactive.c \
	mda/state.c mda/state.h mda/vacation.c mda/vacation.h mda/enotify.c mda/enotify.h \
	mda/intr_dnsbl.c mda/message.c mda/service.c mda/service.h \
	mda/setup.c mda/decide.c mda/progcache.c mda/progcache.h mda/lmtp.c mda/lmtp.h \
	mda/twin.c mda/twin.h
mda_libmda_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/mda $(LMDB_CFLAGS) \
	-DMVMDA_RC='"$(sysconfdir)/mvmf/mvmda-rc.mfl"' \
	-DMVMDA_RC_DEFAULT='"$(mvmdadir)/mvmda-rc.mfl"' \
	-DMVMDA_DATA_DIR='"$(mvmdadir)"' \
	-DMVMDA_CACHE_DIR='"$(localstatedir)/cache/mvmf"' \
	-DMVMDA_DNSBL_CONF='"$(sysconfdir)/mvmf/dnsbl.conf"' \
	-DMVMDA_DNSBL_CONF_DEFAULT='"$(mvmdadir)/dnsbl.conf"' \
	-DMVMDA_DYNAMIC='"$(pkglibexecdir)/mvmda-dynamic"'

mda_mvmda_SOURCES = mda/main.c
mda_mvmda_CPPFLAGS = $(mda_libmda_a_CPPFLAGS)
mda_mvmda_LDADD = mda/libmda.a milter/libshared.a mfl/libmfl.a $(MDA_MAIN_LIBS)

# mvmda with a static glibc (configure's --enable-mvmda-static-libc), and
# mvmda-dynamic, the same program with the shared one, for what needs NSS
# or gconv modules (mda/twin.c)
if MDA_STATIC_LIBC
pkglibexec_PROGRAMS = mda/mvmda-dynamic
mda_mvmda_CPPFLAGS += -DMDA_STATIC_LIBC=1
mda_mvmda_LDFLAGS = $(MDA_LIBC_LDFLAGS)
mda_mvmda_dynamic_SOURCES = mda/main.c
mda_mvmda_dynamic_CPPFLAGS = $(mda_libmda_a_CPPFLAGS)
mda_mvmda_dynamic_LDADD = mda/libmda.a milter/libshared.a mfl/libmfl.a $(MDA_LIBS)
if BUILTIN_RC
nodist_mda_mvmda_dynamic_SOURCES = mda/builtin_rc.c
endif
endif

if BUILTIN_RC
nodist_mda_mvmda_SOURCES = mda/builtin_rc.c
CLEANFILES += mda/builtin_rc.c
endif

# the built-in rc script: the installed one with its includes in place
mda/builtin_rc.c: $(srcdir)/mda/mvmda-rc.mfl $(srcdir)/mda/include/qmail.mfl $(srcdir)/mda/include/namespaces.mfl $(srcdir)/mda/embed.sh
	$(AM_V_GEN)$(MKDIR_P) mda && sh $(srcdir)/mda/embed.sh $(srcdir)/mda/mvmda-rc.mfl > $@.tmp && mv $@.tmp $@

mvmdadir = $(datadir)/mvmf/mvmda
dist_mvmda_DATA = mda/mvmda-rc.mfl mda/dnsbl.conf
mvmdaincludedir = $(mvmdadir)/include
dist_mvmdainclude_DATA = mda/include/qmail.mfl mda/include/namespaces.mfl
EXTRA_DIST += mda/embed.sh

# where root's mvmda -c keeps the system rc script's compiled cache
# (never beside it in /etc or /usr); the admin's own rc script, when
# there is one, is $(sysconfdir)/mvmf/mvmda-rc.mfl (see mvmda-sysrc(5))
install-data-hook: install-mvmda-cachedir
install-mvmda-cachedir:
	$(MKDIR_P) $(DESTDIR)$(localstatedir)/cache/mvmf
.PHONY: install-mvmda-cachedir
