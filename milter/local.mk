# milter/local.mk - mvmtr, the milter

sbin_PROGRAMS += milter/mvmtr
noinst_LIBRARIES += milter/libmtr.a milter/libshared.a

# what mvmtr and mvmda share: the resolver, DNSBL and the dnsbl test's
# arguments, networks, and LMDB files cut short on disk
milter_libshared_a_SOURCES = milter/cidr.h milter/cidr.c milter/dns.h milter/dns.c \
	milter/dnsbl.h milter/dnsbl.c milter/dnsbl_args.h milter/dnsbl_args.c \
	milter/mapfault.h milter/mapfault.c
milter_libshared_a_CPPFLAGS = $(AM_CPPFLAGS) $(LMDB_CFLAGS)
MTR_LIBS = milter/libmtr.a milter/libshared.a

# the policy side (no protocol), so unit tests link the same code
milter_libmtr_a_SOURCES = milter/mvmtr.h milter/log.c milter/change.c milter/program.c \
	milter/session.c milter/intr_milter.c milter/intr_assess.c \
	milter/assess.h milter/assess.c milter/greylist.c milter/rdns.h milter/rdns.c milter/msa.h milter/msa.c milter/intr_msa.c milter/dkim.h milter/dkim.c milter/store.h \
	milter/store.c milter/store_open.c milter/store_lmdb.c milter/store_redis.c milter/dns_state.h milter/dns_state.c \
	milter/spf.h milter/spf.c milter/spf_cache.c milter/intr_dns.c \
	milter/delivery.h milter/delivery.c
milter_libmtr_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/milter $(LMDB_CFLAGS) $(HIREDIS_CFLAGS) $(OPENDKIM_CFLAGS) \
	-DMVMTR_STORE_DEFAULT='"$(localstatedir)/lib/mvmf/mvmtr"' \
	-DMVMTR_SCRIPT='"$(sysconfdir)/mvmf/mvmtr.mfl"' \
	-DMVMTR_DKIM_KEYS='"$(sysconfdir)/mvmf/dkim-keys"' \
	-DMVMTR_SOCKET='"unix:$(mvmtr_socket)"'

milter_mvmtr_SOURCES = milter/main.c milter/callbacks.c milter/engine.h milter/engine.c
milter_mvmtr_CPPFLAGS = $(milter_libmtr_a_CPPFLAGS)
milter_mvmtr_LDADD = $(MTR_LIBS) $(MFL_LIBS) $(LMDB_LIBS) $(HIREDIS_LIBS) $(OPENDKIM_LIBS) $(SPF2_LIBS) \
	$(RESOLV_LIBS) -lpthread

sbin_PROGRAMS += milter/mvmcas
milter_mvmcas_SOURCES = milter/mvmcas.c
milter_mvmcas_CPPFLAGS = $(milter_libmtr_a_CPPFLAGS)
milter_mvmcas_LDADD = $(MTR_LIBS) $(MFL_LIBS) $(LMDB_LIBS) $(HIREDIS_LIBS) $(OPENDKIM_LIBS) $(SPF2_LIBS) \
	$(RESOLV_LIBS)

# the qmail-smtpd compatible receiver (./configure --enable-qmail-smtpd)
if QMAIL_SMTPD
sbin_PROGRAMS += milter/mvmtr-smtpd
endif
milter_mvmtr_smtpd_SOURCES = milter/smtpd_main.c milter/smtpd.h milter/smtpd.c \
	milter/milter_client.c milter/qmail_ctl.h milter/qmail_ctl.c
milter_mvmtr_smtpd_CPPFLAGS = $(milter_libmtr_a_CPPFLAGS) -DQMAIL_HOME='"$(qmailhome)"'
# one process per connection: libc only (the policy runs in mvmtr), log.c
# and change.c from libmtr.a, buf.c from libmfl.a
milter_mvmtr_smtpd_LDADD = milter/libmtr.a mfl/libmfl.a
# statically, unless ./configure --disable-static-smtpd (SMTPD_LDFLAGS)
milter_mvmtr_smtpd_LDFLAGS = $(SMTPD_LDFLAGS)
EXTRA_DIST += milter/smtpd_session.c
