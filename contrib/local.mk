# contrib/local.mk - snippets, examples and the demo
EXTRA_DIST += contrib/quickstart.sh contrib/demo/run.sh contrib/demo/messages \
	contrib/demo/filter.mfl
EXTRA_DIST += contrib/mvmtr.mfl contrib/postfix/main.cf.mvmtr \
	contrib/sendmail/mvmtr.mc contrib/systemd/mvmtr.service
