# man/local.mk - the manual pages
dist_man_MANS += man/mflmsg.1 man/mflc.1 man/mfl.7 man/mvmda.1 man/mvmda-sysrc.5 man/mvmtr.8 man/mvmcas.8
