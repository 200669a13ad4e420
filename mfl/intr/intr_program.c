/*
 * intr_program - Pigeonhole's extprograms: vnd.dovecot.pipe (the pipe
 * action: the message to a program, after the script), vnd.dovecot.filter
 * (the message through a program, now: its output is the message from
 * here on) and vnd.dovecot.execute (a program run now, a string or the
 * message as its input, its output into a variable). filter and execute
 * are commands and tests alike: as a test each is true when the program
 * exited 0; as a command a failure is a runtime error.
 *
 * Off unless the host adds them (mfl_env_add_programs) and the admin
 * names a directory ($mfl_pipe_dir, $mfl_filter_dir, $mfl_execute_dir):
 * the directories, time limits and line ends are read from the env, not
 * the run, so a script cannot widen them. program.c runs the programs.
 *
 * DIAGNOSTICS: a constant program name or argument that cannot be right
 * is a compile error; program.c's reason in the runtime error.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "env.h"
#include "msg/arena.h"
#include "msg/buf.h"
#include "msg/msg.h"
#include "prog.h"

enum { PROG_COPY, PROG_TRY, PROG_INPUT, PROG_PIPE, PROG_OUTPUT };

static const struct intr_tag pipe_tags[] = {
	{ .name = "copy", .id = PROG_COPY, .capability = "copy" },
	{ .name = "try", .id = PROG_TRY },
	{ .name = NULL }
};

static const struct intr_tag execute_tags[] = {
	{ .name = "input", .arg = TAGARG_STRING, .group = TG_TRANSFORM, .id = PROG_INPUT },
	{ .name = "pipe", .group = TG_TRANSFORM, .id = PROG_PIPE },
	{ .name = "output", .arg = TAGARG_STRING, .id = PROG_OUTPUT, .capability = "variables" },
	{ .name = NULL }
};

/* arg_ok - an argument: no NUL, CR or LF (it is one argv item) */
static int
arg_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == 0 || s[i] == '\r' || s[i] == '\n')
			return 0;
	return 1;
}

/* program_check - a constant name and constant arguments must be right */
static int
program_check(struct compile *cc, struct ast *n, struct site *site)
{
	struct ast *name = n->items[0];

	if (name->kind == A_STR && !mfl_program_name_ok(name->str, name->len)) {
		cerror(cc, name, "%s: invalid program name \"%.*s\"", site->intr->name,
		       (int) (name->len > 60 ? 60 : name->len), name->str);
		return -1;
	}
	if (n->nitems > 1) {
		struct ast *a = n->items[1];
		struct ast *const *items = a->kind == A_LIST ? a->items : &n->items[1];
		size_t count = a->kind == A_LIST ? a->nitems : 1;

		for (size_t i = 0; i < count; i++)
			if (items[i]->kind == A_STR && !arg_ok(items[i]->str, items[i]->len)) {
				cerror(cc, items[i], "%s: an argument holds a line break",
				       site->intr->name);
				return -1;
			}
	}
	return 0;
}

/* request - the program SITE names, its arguments and the envelope */
static int
request(struct mfl_run *run, const struct site *site, struct value *args, const char *kind,
	struct mfl_program *p)
{
	*p = (struct mfl_program) { .kind = kind, .sender = run->env_from,
				    .recipient = run->n_env_to ? run->env_to[0] : NULL,
				    .orig_recipient = run->orig_to,
				    .host = run_environment_value(run, "host") };
	if ((p->name = run_cstr(run, &args[0])) == NULL
	    || !mfl_program_name_ok(p->name, strlen(p->name)))
		return run_error(run, site, "%s: invalid program name \"%.*s\"", site->intr->name,
				 (int) (args[0].u.s.len > 60 ? 60 : args[0].u.s.len),
				 args[0].u.s.ptr);
	if (site->npos > 1) {
		const struct value *items;
		const char **list;
		size_t n;

		run_strlist(run, site, &args[1], &n, &items);
		if ((list = arena_alloc(run->arena, (n + 1) * sizeof(*list))) == NULL)
			return run_error(run, site, "memory limit reached");
		for (size_t i = 0; i < n; i++)
			if (!arg_ok(items[i].u.s.ptr, items[i].u.s.len)
			    || (list[i] = run_cstr(run, &items[i])) == NULL)
				return run_error(run, site, "%s: an argument holds a line break",
						 site->intr->name);
		list[n] = NULL;
		p->args = list;
	}
	return 0;
}

/* pipe: pipe [":copy"] [":try"] <program-name: string>
 *	[<arguments: string-list>]; run by the host with the actions */
static int
pipe_run(struct mfl_run *run, const struct site *site, struct value *args, struct value *ret)
{
	struct action act = { .kind = ACT_PIPE };
	struct mfl_program p;

	(void) ret;
	if (request(run, site, args, "pipe", &p) < 0)
		return -1;
	act.target = p.name;
	act.target_len = strlen(p.name);
	act.args = (const char **) p.args;
	act.copy = intr_tag_present(site, PROG_COPY, args, NULL);
	act.pipe_try = intr_tag_present(site, PROG_TRY, args, NULL);
	return intr_add_action(run, site, &act);
}

const struct intrinsic intr_pipe = {
	.name = "pipe",
	.kind = INTR_COMMAND,
	.capability = "vnd.dovecot.pipe",
	.args = "s?l",
	.tags = pipe_tags,
	.check = program_check,
	.run = pipe_run,
};

/* failed - a program that did not succeed: false for a test, a runtime
 * error for a command */
static int
failed(struct mfl_run *run, const struct site *site, const char *err, struct value *ret)
{
	*ret = value_int(0);
	if (site->intr->kind == INTR_TEST)
		return 0;
	return run_error(run, site, "%s: %s", site->intr->name, err);
}

/* current_message - the message as the script has it now, edits in */
static int
current_message(struct mfl_run *run, struct buf *out)
{
	int rc = msg_edited(run->msg, out);

	if (rc == 0) {
		size_t len;
		const char *data = msg_data(run->msg, &len);

		buf_append(out, data, len);
	}
	return rc < 0 || out->failed ? -1 : 0;
}

/* filter: filter <program-name: string> [<arguments: string-list>] */
static int
filter_run(struct mfl_run *run, const struct site *site, struct value *args, struct value *ret)
{
	struct mfl_program p;
	struct buf in = BUF_INIT, out = BUF_INIT;
	char err[300];
	struct msg *msg;

	if (request(run, site, args, "filter", &p) < 0)
		return -1;
	if (run->msg == NULL)
		return failed(run, site, "no message", ret);
	if (current_message(run, &in) < 0) {
		buf_free(&in);
		return run_error(run, site, "memory limit reached");
	}
	p.input = in.data;
	p.input_len = in.len;
	p.output_max = (size_t) mfl_env_get_int(run->env, "mfl_program_output_max");
	if (mfl_program_run(run->env, &p, &out, err, sizeof(err)) < 0) {
		buf_free(&in);
		buf_free(&out);
		return failed(run, site, err, ret);
	}
	buf_free(&in);
	/* nothing back is no message: taking it would store an empty copy
	 * in place of the mail, so the message stays as it was */
	if (out.len == 0) {
		buf_free(&out);
		*ret = value_int(1);
		return 0;
	}
	buf_putc(&out, 0);	/* a message owns malloc'd text, NUL-ended */
	if (out.failed || (msg = msg_take_mem(out.data, out.len - 1, 0)) == NULL)
		return run_error(run, site, "filter: out of memory");
	if (run_own_message(run, msg) < 0) {
		msg_free(msg);
		return run_error(run, site, "filter: out of memory");
	}
	*ret = value_int(1);
	return 0;
}

const struct intrinsic intr_filter = {
	.name = "filter",
	.kind = INTR_COMMAND,
	.capability = "vnd.dovecot.filter",
	.args = "s?l",
	.check = program_check,
	.run = filter_run,
};

const struct intrinsic intr_filter_test = {
	.name = "filter",
	.kind = INTR_TEST,
	.capability = "vnd.dovecot.filter",
	.args = "s?l",
	.check = program_check,
	.run = filter_run,
};

/* execute: execute [":input" <input-data: string> / ":pipe"]
 *	[":output" <varname: string>] <program-name: string>
 *	[<arguments: string-list>] */
static int
execute_run(struct mfl_run *run, const struct site *site, struct value *args,
	    struct value *ret)
{
	struct mfl_program p;
	struct buf in = BUF_INIT, out = BUF_INIT;
	struct value *input, v;
	char err[300];
	int rc;

	if (request(run, site, args, "execute", &p) < 0)
		return -1;
	if (intr_tag_present(site, PROG_INPUT, args, &input) && input != NULL) {
		p.input = input->u.s.ptr;
		p.input_len = input->u.s.len;
	} else if (intr_tag_present(site, PROG_PIPE, args, NULL) && run->msg != NULL) {
		if (current_message(run, &in) < 0) {
			buf_free(&in);
			return run_error(run, site, "memory limit reached");
		}
		p.input = in.data ? in.data : "";
		p.input_len = in.len;
	}
	p.output_max = site->aux ? (size_t) mfl_env_get_int(run->env, "mfl_program_output_max") : 0;
	rc = mfl_program_run(run->env, &p, &out, err, sizeof(err));
	buf_free(&in);
	if (rc < 0) {
		buf_free(&out);
		return failed(run, site, err, ret);
	}
	if (site->aux) {
		rc = run_str(run, out.data ? out.data : "", out.len, &v);
		buf_free(&out);
		if (rc < 0)
			return run_error(run, site, "memory limit reached");
		run->globals[site->aux - 1] = v;
	}
	*ret = value_int(1);
	return 0;
}

/* execute_check - the name and arguments; :output names a variable,
 * whose slot + 1 goes to aux (0: no :output) */
static int
execute_check(struct compile *cc, struct ast *n, struct site *site)
{
	if (program_check(cc, n, site) < 0)
		return -1;
	site->aux = 0;
	for (size_t i = 0; i < n->ntags; i++)
		if (n->tags[i].def->id == PROG_OUTPUT) {
			int slot = sieve_var_name_slot(cc, n->tags[i].arg, "execute :output");

			if (slot < 0)
				return -1;
			site->aux = slot + 1;
		}
	return 0;
}

const struct intrinsic intr_execute = {
	.name = "execute",
	.kind = INTR_COMMAND,
	.capability = "vnd.dovecot.execute",
	.args = "s?l",
	.aux = INTR_AUX_GLOBAL_OR_0,
	.tags = execute_tags,
	.check = execute_check,
	.run = execute_run,
};

const struct intrinsic intr_execute_test = {
	.name = "execute",
	.kind = INTR_TEST,
	.capability = "vnd.dovecot.execute",
	.args = "s?l",
	.aux = INTR_AUX_GLOBAL_OR_0,
	.tags = execute_tags,
	.check = execute_check,
	.run = execute_run,
};

/* the controls: each kind's directory, seconds and line ends, then
 * the user root runs programs as and the output limit */
static const struct {
	const char *name;
	int type;
	int64_t i;
	const char *s, *doc;
} controls[] = {
	{ "mfl_pipe_dir", MFL_CONTROL_STRING, 0, "",
	  "the only directory vnd.dovecot.pipe runs programs from (\"\": off)" },
	{ "mfl_pipe_timeout", MFL_CONTROL_INT, 10, NULL,
	  "seconds a vnd.dovecot.pipe program may run (0: no limit)" },
	{ "mfl_pipe_eol", MFL_CONTROL_STRING, 0, "crlf",
	  "line ends of the message a pipe program reads: \"crlf\" or \"lf\"" },
	{ "mfl_filter_dir", MFL_CONTROL_STRING, 0, "",
	  "the only directory vnd.dovecot.filter runs programs from (\"\": off)" },
	{ "mfl_filter_timeout", MFL_CONTROL_INT, 10, NULL,
	  "seconds a vnd.dovecot.filter program may run (0: no limit)" },
	{ "mfl_filter_eol", MFL_CONTROL_STRING, 0, "crlf",
	  "line ends of the message a filter program reads: \"crlf\" or \"lf\"" },
	{ "mfl_execute_dir", MFL_CONTROL_STRING, 0, "",
	  "the only directory vnd.dovecot.execute runs programs from (\"\": off)" },
	{ "mfl_execute_timeout", MFL_CONTROL_INT, 10, NULL,
	  "seconds a vnd.dovecot.execute program may run (0: no limit)" },
	{ "mfl_execute_eol", MFL_CONTROL_STRING, 0, "crlf",
	  "line ends of what an execute program reads: \"crlf\" or \"lf\"" },
	{ "mfl_program_user", MFL_CONTROL_STRING, 0, "nobody",
	  "who runs the programs when mvmf runs as root (never root)" },
	{ "mfl_program_output_max", MFL_CONTROL_INT, 32 << 20, NULL,
	  "bytes a filter or execute program may write" },
};

/* mfl_env_add_programs - the three extensions, off until the admin
 * names a directory for each */
int
mfl_env_add_programs(struct mfl_env *env)
{
	static const struct intrinsic *const intrs[] = {
		&intr_pipe, &intr_filter, &intr_filter_test, &intr_execute, &intr_execute_test,
	};

	for (size_t i = 0; i < sizeof(intrs) / sizeof(intrs[0]); i++)
		if (mfl_env_add_intrinsic(env, intrs[i]) < 0)
			return -1;
	for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); i++)
		if (mfl_env_add_control(env, controls[i].name, controls[i].type, controls[i].i,
					controls[i].s, controls[i].doc) < 0)
			return -1;
	return 0;
}

/* mfl_env_programs_from - the program controls as RUN (the host's own,
 * trusted script: mvmda's rc script) left them become the env's, which
 * the commands read */
int
mfl_env_programs_from(struct mfl_env *env, const struct mfl_run *run)
{
	struct value v;

	for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
		char *s;
		int rc;

		if (mfl_run_get_control(run, controls[i].name, &v) < 0)
			continue;
		if (controls[i].type == MFL_CONTROL_INT) {
			if (mfl_env_set_int(env, controls[i].name, v.u.i) < 0)
				return -1;
			continue;
		}
		if ((s = strndup(v.u.s.ptr, v.u.s.len)) == NULL)
			return -1;
		rc = mfl_env_set_string(env, controls[i].name, s);
		free(s);
		if (rc < 0)
			return -1;
	}
	return 0;
}
