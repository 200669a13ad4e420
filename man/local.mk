# man/local.mk - the manual pages, made from man/*.in with the paths
# configure was given (sysconfdir, localstatedir, runstatedir, datadir),
# so they name the files this build really uses

man_pages = man/mflmsg.1 man/mflc.1 man/mfl.7 man/mvmda.1 man/mvmda-sysrc.5 \
	man/mvmtr.8 man/mvmcas.8
if QMAIL_SMTPD
man_pages += man/mvmtr-smtpd.8
endif
man_MANS = $(man_pages)
EXTRA_DIST += man/mflmsg.1.in man/mflc.1.in man/mfl.7.in man/mvmda.1.in \
	man/mvmda-sysrc.5.in man/mvmtr.8.in man/mvmcas.8.in man/mvmtr-smtpd.8.in
CLEANFILES += $(man_pages) man/.made

# one run makes them all, so make -j does not write one twice at once
$(man_pages): man/.made
man/.made: $(srcdir)/man/mflmsg.1.in $(srcdir)/man/mflc.1.in $(srcdir)/man/mfl.7.in \
		$(srcdir)/man/mvmda.1.in $(srcdir)/man/mvmda-sysrc.5.in \
		$(srcdir)/man/mvmtr.8.in $(srcdir)/man/mvmcas.8.in \
		$(srcdir)/man/mvmtr-smtpd.8.in Makefile
	$(AM_V_GEN)$(MKDIR_P) man && for m in $(man_pages); do \
		sed -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		    -e 's|@localstatedir[@]|$(localstatedir)|g' \
		    -e 's|@runstatedir[@]|$(runstatedir)|g' \
		    -e 's|@datadir[@]|$(datadir)|g' \
		    -e 's|@pkgdatadir[@]|$(pkgdatadir)|g' \
		    -e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g' \
		    -e 's|@mvmtr_socket[@]|$(mvmtr_socket)|g' \
		    -e 's|@qmailhome[@]|$(qmailhome)|g' \
		    $(srcdir)/$$m.in >$$m.tmp && mv $$m.tmp $$m || exit 1; \
	done && touch $@
