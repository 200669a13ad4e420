/*
 * interactive - mvmda -i: MFL read from stdin (a terminal or a pipe),
 * each statement run as soon as it is complete. The statements so far
 * are one program: when a new one completes, the whole program is
 * compiled and run again from the start on an empty message, and only
 * what the new statement added is shown ($log lines, a runtime error),
 * so globals, functions and controls set earlier stay in effect. A
 * statement that does not compile or fails at runtime is reported and
 * forgotten. At the end
 * of input the action list is printed as mvmda -n prints it.
 *
 * The rc script's top level has run first (main.c), so its namespaces
 * and settings are in effect.
 *
 * DIAGNOSTICS: errors on stderr as "<stdin>:line:col: error: ..."; the
 * exit status is 1 when any statement did not compile or failed, or the
 * input ended inside one.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mda.h"
#include "mfl.h"
#include "msg/msg.h"

struct repl {
	size_t lines_seen;	/* $log lines of the last run */
	size_t lines_shown;	/* $log lines printed so far */
};

/* repl_log - $log: print the lines the previous runs have not shown */
static void
repl_log(void *ctx, const char *msg, size_t len)
{
	struct repl *r = ctx;

	if (++r->lines_seen > r->lines_shown) {
		printf("%.*s%s", (int) len, msg, len > 0 && msg[len - 1] == '\n' ? "" : "\n");
		r->lines_shown = r->lines_seen;
	}
}

/* incomplete - the errors say only that the input stopped too soon */
static int
incomplete(const char *errors)
{
	return errors != NULL && strstr(errors, ": error: ") != NULL
	    && (strstr(errors, "found end of file") != NULL || strstr(errors, "unterminated") != NULL)
	    && strchr(errors, '\n') == errors + strlen(errors) - 1;
}

/* run_program - compile SRC; run it when it compiles; -1 when it did not
 * compile, 0 or 1 (runtime error) otherwise; the run in *RUN_R */
static int
run_program(struct mda *mda, const struct buf *src, struct buf *errors,
	    struct mfl_prog **prog_r, struct mfl_run **run_r)
{
	struct mfl_prog *prog;
	struct mfl_run *run;

	buf_reset(errors);
	prog = mfl_compile_mem(mda->env, "<stdin>", src->data ? src->data : "", src->len,
			       mda->sieve, errors);
	if (prog == NULL)
		return -1;
	if ((run = mfl_run_new(prog)) == NULL || rc_publish(mda, run) < 0) {
		mfl_run_free(run);
		mfl_prog_free(prog);
		buf_puts(errors, "out of memory\n");
		return -1;
	}
	mfl_run_free(*run_r);
	mfl_prog_free(*prog_r);
	*run_r = run;
	*prog_r = prog;
	action_list_init(&mda->actions);
	mda->scripts_run = 0;
	return mfl_run_main(run) < 0;
}

/* interactive - the loop; the exit status */
int
interactive(struct mda *mda)
{
	struct buf src = BUF_INIT, errors = BUF_INIT, out = BUF_INIT;
	struct repl repl = { 0, 0 };
	struct mfl_prog *prog = NULL;
	struct mfl_run *run = NULL;
	int tty = isatty(0), status = 0, failed = 0;
	char *line = NULL;
	size_t cap = 0, accepted = 0, accepted_lines = 0;
	ssize_t n;

	mfl_env_set_log(mda->env, repl_log, &repl);
	mda->msg = msg_from_mem("", 0, 1 << 20);
	for (;;) {
		if (tty)
			fputs(src.len > accepted ? "  ...> " : "mvmda> ", stderr);
		if ((n = getline(&line, &cap, stdin)) <= 0)
			break;
		buf_append(&src, line, (size_t) n);
		repl.lines_seen = 0;
		status = run_program(mda, &src, &errors, &prog, &run);
		if (status < 0 && incomplete(errors.data))
			continue;	/* the statement goes on */
		if (status != 0) {
			/* reported and forgotten, so later statements run */
			fputs(status < 0 ? errors.data : mfl_run_error(run), stderr);
			if (status > 0)
				fputc('\n', stderr);
			src.len = accepted;
			repl.lines_shown = accepted_lines;
			failed = 1;	/* the exit status says so at the end */
			continue;
		}
		accepted = src.len;
		accepted_lines = repl.lines_seen;
		fflush(stdout);
	}
	if (src.len > accepted) {
		/* input ended inside a statement: it is not run, and says so */
		fputs(errors.data && *errors.data ? errors.data
		      : "<stdin>: error: input ended inside a statement\n", stderr);
		failed = 1;
	}
	if (run != NULL) {
		mda_merge(mda, mfl_run_actions(run), 1);
		deliver_print(mda, &out);
		fwrite(out.data ? out.data : "", 1, out.len, stdout);
	}
	free(line);
	buf_free(&src);
	buf_free(&errors);
	buf_free(&out);
	mfl_run_free(run);
	mfl_prog_free(prog);
	return failed;
}
