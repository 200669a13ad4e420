/* testsuite_int.h - what the testsuite's two files share: the state of
 * one test file's run (testsuite.c), and the mail store and outbox its
 * results are executed into (testsuite_store.c) */
#ifndef MFL_TESTSUITE_INT_H
#define MFL_TESTSUITE_INT_H

#include <stddef.h>

#include "env.h"
#include "value.h"

struct action;
struct buf;
struct mfl_run;
struct msg;

struct folder {
	char *name;
	char **msgs;		/* malloc'd, NUL-ended copies */
	size_t *lens;
	char **flags;		/* each one's IMAP flags, space-separated */
	size_t n;
};

struct sent {			/* one message the result sent */
	char *from, *to, *data;
	size_t len;
};

struct mfl_testsuite {
	struct mfl_env *env;
	char *dir;		/* of the test file: scripts are read there */
	struct mfl_run *main;	/* the test file's own run */
	struct buf *out;	/* the report */
	/* the test block running */
	char *name;
	int in_block, failed, not_applicable, index;
	int passed, nfailed, nna;
	/* the message and envelope */
	struct msg **msgs;	/* every one made, freed at the end */
	char **datas;		/* their text, which a msg does not own */
	size_t nmsgs;
	struct msg *msg;
	char *from, *to, *orig_to, *auth;
	/* test_script_compile and _run */
	struct mfl_prog *compiled;
	char **errors;		/* of the last compile, run or execution */
	size_t nerrors;
	int sub_failed;		/* test_fail in a script test_script_run ran */
	size_t executed;	/* actions of the result already executed */
	int implicit_done;	/* and its implicit keep */
	struct folder *folders;
	size_t nfolders;
	struct sent *sent;
	size_t nsent;
	char *text_values[2][11];	/* sieve_{spam,virus}test_text_valueN */
	char *unsupported[16];	/* Dovecot settings in force mvmf cannot follow */
	struct value defaults[ENV_CONTROLS_MAX];	/* for test_config_unset */
};

/* testsuite.c */
struct msg *ts_msg(const struct mfl_testsuite *ts);
void ts_error_add(struct mfl_testsuite *ts, const char *text, size_t len);

/* testsuite_store.c */
struct folder *ts_folder_find(struct mfl_testsuite *ts, const char *name, size_t len, int make);
int ts_mailbox_exists(void *ctx, const char *name, size_t len);
int ts_store_flagged(struct mfl_testsuite *ts, const char *name, size_t len,
		     const char *const *flags);
int ts_execute(struct mfl_testsuite *ts, size_t index);

#endif
