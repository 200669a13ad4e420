# contrib/local.mk - snippets, examples and the demo
EXTRA_DIST += contrib/quickstart.sh contrib/demo/run.sh contrib/demo/mail.sh \
	contrib/demo/joe.sieve contrib/demo/messages \
	contrib/demo/filter.mfl
EXTRA_DIST += contrib/mvmtr.mfl contrib/postfix/main.cf.mvmtr contrib/postfix/master.cf.submission \
	contrib/postfix/main.cf.lmtp contrib/systemd/mvmda-lmtp.service.in \
	contrib/sendmail/mvmtr-msa.mc \
	contrib/sendmail/mvmtr.mc contrib/sendmail/mvmda.mc \
	contrib/systemd/mvmtr.service.in contrib/systemd/mvmtr-smtpd.socket \
	contrib/systemd/mvmtr-smtpd@.service.in contrib/systemd/mvmda-decide.service.in \
	contrib/qmail/run contrib/qmail/mvmtr-run

# example policies beyond /etc/mvmf/mvmtr.mfl: the submission service's
mvmfexamplesdir = $(pkgdatadir)/examples
dist_mvmfexamples_DATA = contrib/msa.mfl

# Dovecot's ManageSieve offers what mvmda runs (mvmda(1) MANAGESIEVE)
mvmfdovecotdir = $(pkgdatadir)/dovecot
dist_mvmfdovecot_DATA = contrib/dovecot/90-mvmf-sieve.conf

# the units with the paths configure was given
noinst_DATA = contrib/systemd/mvmtr.service contrib/systemd/mvmtr-smtpd@.service \
	contrib/systemd/mvmda-decide.service contrib/systemd/mvmda-lmtp.service
CLEANFILES += contrib/systemd/mvmtr.service contrib/systemd/mvmtr-smtpd@.service \
	contrib/systemd/mvmda-decide.service contrib/systemd/mvmda-lmtp.service
contrib/systemd/mvmda-lmtp.service: $(srcdir)/contrib/systemd/mvmda-lmtp.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib/systemd && sed -e 's|@bindir[@]|$(bindir)|g' \
		$(srcdir)/contrib/systemd/mvmda-lmtp.service.in >$@.tmp && mv $@.tmp $@
contrib/systemd/mvmda-decide.service: $(srcdir)/contrib/systemd/mvmda-decide.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib/systemd && sed -e 's|@bindir[@]|$(bindir)|g' \
		$(srcdir)/contrib/systemd/mvmda-decide.service.in >$@.tmp && mv $@.tmp $@
contrib/systemd/mvmtr-smtpd@.service: $(srcdir)/contrib/systemd/mvmtr-smtpd@.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib/systemd && sed -e 's|@sbindir[@]|$(sbindir)|g' \
		$(srcdir)/contrib/systemd/mvmtr-smtpd@.service.in >$@.tmp && mv $@.tmp $@
contrib/systemd/mvmtr.service: $(srcdir)/contrib/systemd/mvmtr.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib/systemd && sed -e 's|@sbindir[@]|$(sbindir)|g' \
		-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		-e 's|@mvmtr_socket[@]|$(mvmtr_socket)|g' \
		-e 's|@mvmtr_socketdir[@]|'"$$(dirname '$(mvmtr_socket)')"'|g' \
		$(srcdir)/contrib/systemd/mvmtr.service.in >$@.tmp && mv $@.tmp $@
