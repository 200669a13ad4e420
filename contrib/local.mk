# contrib/local.mk - snippets, examples and the demo
EXTRA_DIST += contrib/quickstart.sh contrib/demo/run.sh contrib/demo/messages \
	contrib/demo/filter.mfl
