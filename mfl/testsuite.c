/*
 * testsuite - vnd.dovecot.testsuite, Pigeonhole's language for testing
 * Sieve scripts, so that "mflc -T" runs Pigeonhole's own test suite and
 * a user's tests of their own filters: test blocks that pass, fail or
 * do not apply here; the message and envelope they work on; the scripts
 * they compile and run; the result those runs leave, executed into a
 * mail store and an outbox in memory (testsuite_store.c), which
 * test_message reads back. The report reads like Pigeonhole's testsuite
 * tool's.
 *
 * What needs Dovecot itself (binary save and load, IMAP METADATA,
 * multiscript, a setting mvmf has no control for) makes the block "not
 * applicable", with the reason, rather than failed.
 *
 * DIAGNOSTICS: test_fail outside a test block, a test block inside one,
 * and a script run before any compiled are runtime errors of the test
 * script; mfl_testsuite_run() returns -1 after one, with the message.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "action.h"
#include "compile.h"
#include "env.h"
#include "mflapi.h"
#include "msg/arena.h"
#include "msg/msg.h"
#include "opcodes.h"
#include "prog.h"
#include "testsuite.h"
#include "testsuite_int.h"
#include "tmatch.h"

/* Pigeonhole's testsuite message, when a test sets none */
static const char default_message[] =
    "From: sender@example.com\nTo: recipient@example.org\nSubject: Frop!\n\nFriep!\n";

static int sync_control(struct mfl_testsuite *ts, const char *name);

/* ts_msg - the message as the test file's run has it now (a filter's
 * output, once one ran there) */
struct msg *
ts_msg(const struct mfl_testsuite *ts)
{
	return ts->main != NULL && mfl_run_message(ts->main) != NULL
	    ? mfl_run_message(ts->main) : ts->msg;
}

/* ts_of - the testsuite a run belongs to */
static struct mfl_testsuite *
ts_of(struct mfl_run *run)
{
	return mfl_run_host_data(run);
}

/* -- the report */

/* report - " N: Test 'name' VERDICT[: REASON]" */
static void
report(struct mfl_testsuite *ts, const char *verdict, const char *reason, size_t len)
{
	buf_printf(ts->out, "%2d: Test '%s' %s", ts->index, ts->name ? ts->name : "", verdict);
	if (reason != NULL && len > 0) {
		buf_puts(ts->out, ": ");
		buf_append(ts->out, reason, len);
	}
	buf_putc(ts->out, '\n');
}

/* skip_block - on to the end of the block running */
static void
skip_block(struct mfl_run *run)
{
	run->test_skip = 1;
}

/* not_applicable - the block needs what only Dovecot has: REASON */
static int
not_applicable(struct mfl_run *run, const char *reason)
{
	struct mfl_testsuite *ts = ts_of(run);

	if (run != ts->main || !ts->in_block) {
		buf_printf(ts->out, "-- not applicable here: %s\n", reason);
		return 0;
	}
	if (!ts->not_applicable && !ts->failed) {
		ts->not_applicable = 1;
		ts->nna++;
		report(ts, "NOT APPLICABLE", reason, strlen(reason));
	}
	skip_block(run);
	return 0;
}

/* -- errors the tests read with test_error */

/* errors_clear - forget the last compile's, run's or execution's errors */
static void
errors_clear(struct mfl_testsuite *ts)
{
	for (size_t i = 0; i < ts->nerrors; i++)
		free(ts->errors[i]);
	ts->nerrors = 0;
}

/* ts_error_add - one error message, LEN bytes of TEXT */
void
ts_error_add(struct mfl_testsuite *ts, const char *text, size_t len)
{
	char **more = realloc(ts->errors, (ts->nerrors + 1) * sizeof(*more));
	char *copy = malloc(len + 1);

	if (more == NULL || copy == NULL) {
		free(copy);
		if (more != NULL)
			ts->errors = more;
		return;
	}
	ts->errors = more;
	memcpy(copy, text, len);
	copy[len] = 0;
	ts->errors[ts->nerrors++] = copy;
}

/* errors_from - the messages of "file:line:col: error: text" lines, as
 * Pigeonhole's log gives them to test_error (without the place) */
static void
errors_from(struct mfl_testsuite *ts, const char *text, size_t len)
{
	const char *end = text + len;

	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t) (end - text));
		const char *line_end = nl ? nl : end, *msg;

		msg = memmem(text, (size_t) (line_end - text), "error: ", 7);
		if (msg != NULL)
			ts_error_add(ts, msg + 7, (size_t) (line_end - msg - 7));
		text = nl ? nl + 1 : end;
	}
}

/* -- the message */

/* set_envelope - the envelope every run from now on sees */
static int
set_envelope(struct mfl_testsuite *ts)
{
	if (ts->main == NULL)
		return 0;
	return mfl_run_set_envelope(ts->main, ts->from, ts->to) < 0
	    || mfl_run_set_orig_recipient(ts->main, ts->orig_to) < 0
	    || mfl_run_set_auth(ts->main, ts->auth) < 0 ? -1 : 0;
}

/* replace - *FIELD = LEN bytes of S */
static int
replace(char **field, const char *s, size_t len)
{
	char *copy = strndup(s, len);

	if (copy == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

/* first_address - the address in MSG's first NAME field, into OUT; 0,
 * or -1 when there is none */
static int
first_address(struct msg *msg, const char *name, struct buf *out)
{
	struct hdr_index *idx = msg_headers(msg);
	struct hdr_field *f;
	struct addr *list;
	size_t n;

	if (idx == NULL || (f = hdr_find(idx, name, strlen(name), 0)) == NULL
	    || hdr_unfolded(idx, f) < 0
	    || addr_parse_list(msg_arena(msg), f->unfolded, f->unfolded_len, &list, &n) < 0
	    || n == 0 || (list[0].flags & (ADDR_F_INVALID | ADDR_F_NULL)))
		return -1;
	buf_reset(out);
	addr_spec(&list[0], out);
	buf_cstr(out);
	return out->len > 0 ? 0 : -1;
}

/* envelope_of - the envelope Pigeonhole's testsuite gives a message it
 * is handed: the recipient from Envelope-To or To, the sender from
 * Return-Path, Sender or From, else its defaults */
static int
envelope_of(struct mfl_testsuite *ts, struct msg *msg)
{
	static const char *const to_fields[] = { "Envelope-To", "To", NULL };
	static const char *const from_fields[] = { "Return-Path", "Sender", "From", NULL };
	struct buf a = BUF_INIT;
	int rc = 0, i;

	for (i = 0; to_fields[i] != NULL && first_address(msg, to_fields[i], &a) < 0; i++)
		;
	rc |= replace(&ts->to, to_fields[i] ? a.data : "recipient@example.com",
		      to_fields[i] ? a.len : 21);
	for (i = 0; from_fields[i] != NULL && first_address(msg, from_fields[i], &a) < 0; i++)
		;
	rc |= replace(&ts->from, from_fields[i] ? a.data : "sender@example.com",
		      from_fields[i] ? a.len : 18);
	buf_free(&a);
	return rc < 0 ? -1 : set_envelope(ts);
}

/* set_message - LEN bytes of DATA are the message from now on (and
 * its envelope what its header says) */
static int
set_message(struct mfl_testsuite *ts, const char *data, size_t len)
{
	struct msg **more = realloc(ts->msgs, (ts->nmsgs + 1) * sizeof(*more));
	char **datas, *copy;
	struct msg *msg;

	if (more != NULL)
		ts->msgs = more;
	if (more == NULL || (datas = realloc(ts->datas, (ts->nmsgs + 1) * sizeof(*datas))) == NULL)
		return -1;
	ts->datas = datas;
	if ((copy = malloc(len + 1)) == NULL)
		return -1;
	memcpy(copy, data, len);
	copy[len] = 0;
	if ((msg = msg_from_mem(copy, len, 0)) == NULL) {
		free(copy);
		return -1;
	}
	ts->datas[ts->nmsgs] = copy;
	ts->msgs[ts->nmsgs++] = msg;
	ts->msg = msg;
	if (ts->main != NULL)
		mfl_run_set_message(ts->main, msg);
	return envelope_of(ts, msg);
}

/* adopt_message - MSG (a filter's output in a script test_script_run
 * ran, or NULL) is the message until the result is reset, the
 * testsuite's to free */
static int
adopt_message(struct mfl_testsuite *ts, struct msg *msg)
{
	struct msg **more;
	char **datas;

	if (msg == NULL)
		return 0;
	if ((more = realloc(ts->msgs, (ts->nmsgs + 1) * sizeof(*more))) != NULL)
		ts->msgs = more;
	if (more == NULL || (datas = realloc(ts->datas, (ts->nmsgs + 1) * sizeof(*datas))) == NULL) {
		msg_free(msg);
		return -1;
	}
	ts->datas = datas;
	ts->datas[ts->nmsgs] = NULL;	/* the message owns its text */
	ts->msgs[ts->nmsgs++] = msg;
	if (ts->main != NULL)
		mfl_run_set_message(ts->main, msg);
	return 0;
}

/* -- the test block: compiled around hidden intrinsics */

static int test_begin_run(struct mfl_run *run, const struct site *site,
			  struct value *args, struct value *ret);
static int test_end_run(struct mfl_run *run, const struct site *site,
			struct value *args, struct value *ret);

static const struct intrinsic intr_test_begin = {
	.name = "\001test_begin", .kind = INTR_COMMAND, .args = "s", .run = test_begin_run,
};
static const struct intrinsic intr_test_end = {
	.name = "\001test_end", .kind = INTR_COMMAND, .args = "", .run = test_end_run,
};

/* compile_testblock - N: A_TESTBLOCK (b: its name, a: the block): the
 * block between test_begin and test_end, where test_fail goes on */
int
compile_testblock(struct compile *cc, struct ast *n)
{
	struct ast *begin = ast_new(cc->arena, A_SIEVE, n->file, n->line, n->col);
	struct ast *end = ast_new(cc->arena, A_SIEVE, n->file, n->line, n->col);

	if (begin == NULL || end == NULL || ast_push(cc->arena, begin, n->b) < 0) {
		cerror(cc, n, "out of memory");
		return -1;
	}
	begin->intr = &intr_test_begin;
	begin->str = intr_test_begin.name;
	end->intr = &intr_test_end;
	end->str = intr_test_end.name;
	if (compile_site(cc, begin) < 0 || compile_stmt(cc, n->a) < 0)
		return -1;
	return compile_site(cc, end);
}

/* testsuite_skip - after test_fail: PC at the test_end of the block
 * (blocks do not nest, so the next one after PC) */
int
testsuite_skip(struct mfl_run *run, uint32_t *pc)
{
	const struct mfl_prog *prog = run->prog;

	run->test_skip = 0;
	for (uint32_t at = *pc; at < prog->ncode; at++) {
		uint32_t w = prog->code[at];

		if (INSN_OP(w) == OP_INTR && INSN_ARG(w) >= 0 && (size_t) INSN_ARG(w) < prog->nsites
		    && prog->sites[INSN_ARG(w)].intr == &intr_test_end) {
			*pc = at;
			return 0;
		}
	}
	run->failed = 1;
	buf_reset(&run->error);
	buf_puts(&run->error, "test_fail: no end of its test block");
	return -1;
}

/* test "name" { ... } begins */
static int
test_begin_run(struct mfl_run *run, const struct site *site, struct value *args,
	       struct value *ret)
{
	struct mfl_testsuite *ts = ts_of(run);

	(void) ret;
	if (ts == NULL || run != ts->main)
		return run_error(run, site, "test: a test block in a script test_script_run ran");
	if (ts->in_block)
		return run_error(run, site, "test: already inside a test block");
	free(ts->name);
	if ((ts->name = strndup(args[0].u.s.ptr, args[0].u.s.len)) == NULL)
		return run_error(run, site, "out of memory");
	ts->in_block = 1;
	ts->failed = ts->not_applicable = 0;
	ts->index++;
	return 0;
}

/* ... and ends: passed, unless it failed or did not apply */
static int
test_end_run(struct mfl_run *run, const struct site *site, struct value *args,
	     struct value *ret)
{
	struct mfl_testsuite *ts = ts_of(run);

	(void) site, (void) args, (void) ret;
	if (!ts->failed && !ts->not_applicable) {
		ts->passed++;
		report(ts, "SUCCEEDED", NULL, 0);
	}
	ts->in_block = 0;
	run->nloops = 0;	/* a failure inside foreverypart left it */
	return 0;
}

/* -- commands */

/* test_fail <reason: string> */
static int
test_fail_run(struct mfl_run *run, const struct site *site, struct value *args,
	      struct value *ret)
{
	struct mfl_testsuite *ts = ts_of(run);

	(void) ret;
	if (run != ts->main) {	/* in a script test_script_run runs */
		ts->sub_failed = 1;
		ts_error_add(ts, args[0].u.s.ptr, args[0].u.s.len);
		mfl_run_stop(run);
		return 0;
	}
	if (!ts->in_block)
		return run_error(run, site, "test_fail outside a test block: %.*s",
				 (int) args[0].u.s.len, args[0].u.s.ptr);
	/* a block that fails under a Dovecot setting mvmf could not follow
	 * does not tell whether mvmf is wrong: not applicable, and why */
	for (size_t i = 0; i < sizeof(ts->unsupported) / sizeof(ts->unsupported[0]); i++)
		if (ts->unsupported[i] != NULL) {
			char why[400];

			snprintf(why, sizeof(why), "it runs under Dovecot setting %.80s, which mvmf "
				 "has no control for (it failed: %.*s)", ts->unsupported[i],
				 (int) (args[0].u.s.len > 200 ? 200 : args[0].u.s.len), args[0].u.s.ptr);
			return not_applicable(run, why);
		}
	ts->failed = 1;
	ts->nfailed++;
	report(ts, "FAILED", args[0].u.s.ptr, args[0].u.s.len);
	skip_block(run);
	return 0;
}

/* test_set <name: string> <value: string>: the message, the envelope */
static int
test_set_run(struct mfl_run *run, const struct site *site, struct value *args,
	     struct value *ret)
{
	struct mfl_testsuite *ts = ts_of(run);
	const char *name = run_cstr(run, &args[0]), *v = args[1].u.s.ptr;
	size_t len = args[1].u.s.len;
	int rc = 0;

	(void) ret;
	if (name == NULL)
		return run_error(run, site, "test_set: bad name");
	if (strcmp(name, "message") == 0)
		rc = set_message(ts, v, len);
	else if (strcmp(name, "envelope.from") == 0) {
		/* "<>" is the null sender, as an SMTP path writes it */
		if (len >= 2 && v[0] == '<' && v[len - 1] == '>')
			v++, len -= 2;
		rc = replace(&ts->from, v, len) < 0 ? -1 : set_envelope(ts);
	}
	else if (strcmp(name, "envelope.to") == 0)
		rc = replace(&ts->to, v, len) < 0 ? -1 : set_envelope(ts);
	else if (strcmp(name, "envelope.orig_to") == 0) {
		rc = replace(&ts->orig_to, v, len) < 0 ? -1 : set_envelope(ts);
	} else if (strcmp(name, "envelope.auth") == 0) {
		rc = replace(&ts->auth, v, len) < 0 ? -1 : set_envelope(ts);
	}
	else
		return run_error(run, site, "test_set: unknown item \"%s\"", name);
	return rc < 0 ? run_error(run, site, "test_set %s: out of memory", name) : 0;
}

enum { TAG_INDEX = 1, TAG_SMTP, TAG_FOLDER, TAG_EXTENSION, TAG_APPEND };

/* test_message (:smtp / :folder <name: string>) <index: number> */
static int
test_message_run(struct mfl_run *run, const struct site *site, struct value *args,
		 struct value *ret)
{
	struct mfl_testsuite *ts = ts_of(run);
	struct value *folder = NULL;
	int64_t i = args[0].u.i;
	char why[300];

	*ret = value_int(1);
	if (intr_tag_present(site, TAG_FOLDER, args, &folder)) {
		struct folder *f = ts_folder_find(ts, folder->u.s.ptr, folder->u.s.len, 0);

		if (f != NULL && i >= 0 && (size_t) i < f->n) {
			const char *flags = f->flags[i] ? f->flags[i] : "";
			struct value v;

			/* its stored flags are the internal variable's now
			 * (imap4flags' hasflag reads them, as Pigeonhole's) */
			if (set_message(ts, f->msgs[i], f->lens[i]) < 0
			    || run_str(ts->main, flags, strlen(flags), &v) < 0)
				return run_error(run, site, "out of memory");
			ts->main->imap_flags = v;
			return 0;
		}
		snprintf(why, sizeof(why), "no message %lld in folder %.*s", (long long) i,
			 (int) folder->u.s.len, folder->u.s.ptr);
	} else {
		if (i >= 0 && (size_t) i < ts->nsent) {
			struct sent *s = &ts->sent[i];

			if (set_message(ts, s->data, s->len) < 0
			    || replace(&ts->from, s->from, strlen(s->from)) < 0
			    || replace(&ts->to, s->to, strlen(s->to)) < 0 || set_envelope(ts) < 0)
				return run_error(run, site, "out of memory");
			return 0;
		}
		snprintf(why, sizeof(why), "no message %lld was sent", (long long) i);
	}
	*ret = value_int(0);
	if (site->intr->kind == INTR_TEST)
		return 0;
	if (ts->in_block && run == ts->main) {
		ts->failed = 1;
		ts->nfailed++;
		report(ts, "FAILED", why, strlen(why));
		skip_block(run);
		return 0;
	}
	return run_error(run, site, "test_message: %s", why);
}

static const struct intr_tag message_tags[] = {
	{ .name = "smtp", .arg = TAGARG_NONE, .group = TG_FIRST, .id = TAG_SMTP },
	{ .name = "folder", .arg = TAGARG_STRING, .group = TG_FIRST, .id = TAG_FOLDER },
	{ 0 }
};

/* test_message_print: the message, on the report */
static int
test_message_print_run(struct mfl_run *run, const struct site *site, struct value *args,
		       struct value *ret)
{
	struct mfl_testsuite *ts = ts_of(run);
	size_t len;
	const char *data = msg_data(ts_msg(ts), &len);

	(void) site, (void) args, (void) ret;
	buf_puts(ts->out, "\n--\n");
	buf_append(ts->out, data, len);
	buf_puts(ts->out, "--\n\n");
	return 0;
}

/* result_reset - a new, empty result (the mail store keeps its mail) */
static void
result_reset(struct mfl_testsuite *ts)
{
	mfl_run_clear_actions(ts->main);
	ts->executed = 0;
	ts->implicit_done = 0;
	/* as Pigeonhole: what a filter made of the message is gone too,
	 * and the internal flags variable (imap4flags) is empty again */
	mfl_run_set_message(ts->main, ts->msg);
	ts->main->imap_flags = value_str("", 0);
}

/* test_result_reset: a new, empty result and an empty outbox */
static int
test_result_reset_run(struct mfl_run *run, const struct site *site, struct value *args,
		      struct value *ret)
{
	struct mfl_testsuite *ts = ts_of(run);

	(void) site, (void) args, (void) ret;
	result_reset(ts);
	for (size_t i = 0; i < ts->nsent; i++) {
		free(ts->sent[i].from);
		free(ts->sent[i].to);
		free(ts->sent[i].data);
	}
	ts->nsent = 0;
	return 0;
}

/* test_result_print: the result's actions, as mflc -m prints them */
static int
test_result_print_run(struct mfl_run *run, const struct site *site, struct value *args,
		      struct value *ret)
{
	struct mfl_testsuite *ts = ts_of(run);
	const struct action_list *l = &ts->main->actions;

	(void) site, (void) args, (void) ret;
	for (size_t i = 0; i < l->n; i++) {
		action_json(&l->v[i], ts->out);
		buf_putc(ts->out, '\n');
	}
	return 0;
}

/* test_mailbox_create <name: string> */
static int
test_mailbox_create_run(struct mfl_run *run, const struct site *site, struct value *args,
			struct value *ret)
{
	(void) ret;
	if (ts_folder_find(ts_of(run), args[0].u.s.ptr, args[0].u.s.len, 1) == NULL)
		return run_error(run, site, "out of memory");
	return 0;
}

/* Dovecot's settings and the mvmf controls that do the same */
static const struct {
	const char *setting, *control;
} settings[] = {
	{ "recipient_delimiter", "mfl_subaddress_separator" },
	{ "sieve_spamtest_status_header", "mfl_spamtest_header" },
	{ "sieve_spamtest_status_type", "mfl_spamtest_type" },
	{ "sieve_spamtest_max_header", "mfl_spamtest_max_header" },
	{ "sieve_spamtest_max_value", "mfl_spamtest_max" },
	{ "sieve_virustest_status_header", "mfl_virustest_header" },
	{ "sieve_virustest_status_type", "mfl_virustest_type" },
	{ "sieve_virustest_max_header", "mfl_virustest_max_header" },
	{ "sieve_virustest_max_value", "mfl_virustest_max" },
	{ "sieve_include_max_nesting_depth", "mfl_limit_include_depth" },
	{ "sieve_redirect_envelope_from", "mfl_redirect_envelope_from" },
	{ "sieve_vacation_default_subject_template", "mfl_vacation_subject_template" },
	{ "sieve_vacation_default_subject", "mfl_vacation_default_subject" },
	{ "sieve_vacation_max_subject_codepoints", "mfl_vacation_max_subject" },
	{ "sieve_user_email", "mfl_user_email" },
	{ "sieve_report_from", "mfl_report_from" },
	{ "sieve_notify_mailto_envelope_from", "mfl_notify_envelope_from" },
	{ "sieve_pipe_input_eol", "mfl_pipe_eol" },
	{ "sieve_filter_input_eol", "mfl_filter_eol" },
	{ "sieve_execute_input_eol", "mfl_execute_eol" },
};

/* program_setting - sieve_KIND_bin_dir (made absolute, as mvmf wants
 * it) and sieve_KIND_exec_timeout (Dovecot's "3s", "2m", "0"): the mvmf
 * control and value in CONTROL and VALUE; 0, or -1 when NAME is neither */
static int
program_setting(const char *name, const char *value, char *control, size_t csize,
		char *out, size_t osize)
{
	static const char *const kinds[] = { "pipe", "filter", "execute" };
	char want[64];

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(want, sizeof(want), "sieve_%s_bin_dir", kinds[i]);
		if (strcmp(name, want) == 0) {
			char *abs = realpath(value, NULL);

			snprintf(control, csize, "mfl_%s_dir", kinds[i]);
			snprintf(out, osize, "%s", abs ? abs : value);
			free(abs);
			return 0;
		}
		snprintf(want, sizeof(want), "sieve_%s_exec_timeout", kinds[i]);
		if (strcmp(name, want) == 0) {
			char *end;
			long long v = strtoll(value, &end, 10);

			if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
				v *= 60;
			else if (*end && strcmp(end, "s") != 0 && strcmp(end, "secs") != 0)
				return -1;
			snprintf(control, csize, "mfl_%s_timeout", kinds[i]);
			snprintf(out, osize, "%lld", v);
			return 0;
		}
	}
	return -1;
}

/* set_control - control NAME = VALUE (as text), in the env and in the
 * test file's own run; -1 when it takes no such value */
static int
set_control(struct mfl_testsuite *ts, const char *name, const char *value)
{
	if (mfl_env_get_string(ts->env, name) != NULL) {
		if (mfl_env_set_string(ts->env, name, value) < 0)
			return -1;
	} else {
		char *end;
		long long v = strtoll(value, &end, 10);

		if (!*value || *end || mfl_env_set_int(ts->env, name, v) < 0)
			return -1;
	}
	return sync_control(ts, name);
}

/* text_values - sieve_spamtest_text_valueN (WHICH 0) or virustest's (1)
 * as the "N=text|..." of $mfl_spamtest_text or $mfl_virustest_text */
static int
text_values(struct mfl_testsuite *ts, int which)
{
	struct buf list = BUF_INIT;
	int rc;

	for (int n = 0; n <= 10; n++)
		if (ts->text_values[which][n] != NULL)
			buf_printf(&list, "%s%d=%s", list.len ? "|" : "", n, ts->text_values[which][n]);
	rc = set_control(ts, which ? "mfl_virustest_text" : "mfl_spamtest_text", buf_cstr(&list));
	buf_free(&list);
	return rc;
}

/* text_value_setting - NAME is sieve_spamtest_text_valueN or
 * virustest's: its N, and which (0 spam, 1 virus); -1 when not */
static int
text_value_setting(const char *name, int *which_r)
{
	const char *n;
	char *end;
	long v;

	if (strncmp(name, "sieve_spamtest_text_value", 25) == 0)
		*which_r = 0, n = name + 25;
	else if (strncmp(name, "sieve_virustest_text_value", 26) == 0)
		*which_r = 1, n = name + 26;
	else
		return -1;
	v = strtol(n, &end, 10);
	return *n && !*end && v >= 0 && v <= (*which_r ? 5 : 10) ? (int) v : -1;
}

/* sync_control - the test file's own run sees control NAME as the env
 * has it now (its copy pointed at the string the env just freed) */
static int
sync_control(struct mfl_testsuite *ts, const char *name)
{
	int i = env_control_find(ts->env, name, strlen(name));
	const struct mfl_control *c = i >= 0 ? &ts->env->controls[i] : NULL;

	if (c == NULL || c->type == MFL_CONTROL_STRARR)
		return 0;
	if (c->type == MFL_CONTROL_INT) {
		ts->main->controls[i] = value_int(c->i);
		return 0;
	}
	return run_str(ts->main, c->s, strlen(c->s), &ts->main->controls[i]);
}

/* in_force - Dovecot setting NAME, which mvmf cannot follow, is set
 * (ON) or unset for the blocks that follow */
static void
in_force(struct mfl_testsuite *ts, const char *name, int on)
{
	size_t n = sizeof(ts->unsupported) / sizeof(ts->unsupported[0]), free_slot = n;

	for (size_t i = 0; i < n; i++) {
		if (ts->unsupported[i] == NULL) {
			free_slot = free_slot < n ? free_slot : i;
			continue;
		}
		if (strcmp(ts->unsupported[i], name) == 0) {
			if (!on) {
				free(ts->unsupported[i]);
				ts->unsupported[i] = NULL;
			}
			return;
		}
	}
	if (on && free_slot < n)
		ts->unsupported[free_slot] = strdup(name);
}

/* test_config_set <setting: string> <value: string> */
static int
test_config_set_run(struct mfl_run *run, const struct site *site, struct value *args,
		    struct value *ret)
{
	struct mfl_testsuite *ts = ts_of(run);
	const char *name = run_cstr(run, &args[0]), *value = run_cstr(run, &args[1]);
	char why[200];
	int n, which;

	(void) ret;
	if (name == NULL || value == NULL)
		return run_error(run, site, "test_config_set: a NUL in the setting");
	/* sieve_env_NAME: the environment item vnd.dovecot.config.NAME */
	if (strncmp(name, "sieve_env_", 10) == 0 && name[10]) {
		char item[200];

		snprintf(item, sizeof(item), "vnd.dovecot.config.%s", name + 10);
		return mfl_env_set_environment(ts->env, item, value) < 0
		    ? run_error(run, site, "too many environment items") : 0;
	}
	if ((n = text_value_setting(name, &which)) >= 0)
		return replace(&ts->text_values[which][n], value, strlen(value)) < 0
		    || text_values(ts, which) < 0 ? run_error(run, site, "out of memory") : 0;
	{
		char control[64], v[PATH_MAX];

		if (program_setting(name, value, control, sizeof(control), v, sizeof(v)) == 0)
			return set_control(ts, control, v) < 0
			    ? run_error(run, site, "%s: bad value \"%s\"", name, value) : 0;
	}
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		if (strcmp(name, settings[i].setting) != 0)
			continue;
		if (set_control(ts, settings[i].control, value) == 0) {
			in_force(ts, name, 0);
			return 0;
		}
		snprintf(why, sizeof(why), "%s = \"%.40s\" has no mvmf equivalent", name, value);
		if (!ts->in_block)
			in_force(ts, name, 1);
		return not_applicable(run, why);
	}
	snprintf(why, sizeof(why), "Dovecot setting %s has no mvmf control", name);
	if (!ts->in_block)	/* the blocks after it run under it */
		in_force(ts, name, 1);
	return not_applicable(run, why);
}

/* test_config_unset <setting: string>: back to mvmf's default */
static int
test_config_unset_run(struct mfl_run *run, const struct site *site, struct value *args,
		      struct value *ret)
{
	struct mfl_testsuite *ts = ts_of(run);
	const char *name = run_cstr(run, &args[0]);
	int n, which, k;

	(void) ret;
	if (name == NULL)
		return run_error(run, site, "test_config_unset: a NUL in the setting");
	if ((n = text_value_setting(name, &which)) >= 0) {
		free(ts->text_values[which][n]);
		ts->text_values[which][n] = NULL;
		return text_values(ts, which) < 0 ? run_error(run, site, "out of memory") : 0;
	}
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		if (strcmp(name, settings[i].setting) != 0 || (k = env_control_find(ts->env, settings[i].control,
								     strlen(settings[i].control))) < 0)
			continue;
		if (ts->defaults[k].type == V_INT)
			mfl_env_set_int(ts->env, settings[i].control, ts->defaults[k].u.i);
		else
			mfl_env_set_string(ts->env, settings[i].control, ts->defaults[k].u.s.ptr);
		in_force(ts, name, 0);
		return sync_control(ts, settings[i].control) < 0 ? run_error(run, site, "out of memory") : 0;
	}
	in_force(ts, name, 0);
	return 0;
}

/* test_config_reload [:extension <name>]: controls apply at once */
static int
test_config_reload_run(struct mfl_run *run, const struct site *site, struct value *args,
		       struct value *ret)
{
	(void) run, (void) site, (void) args, (void) ret;
	return 0;
}

static const struct intr_tag reload_tags[] = {
	{ .name = "extension", .arg = TAGARG_STRING, .id = TAG_EXTENSION },
	{ 0 }
};

/* what only Dovecot has: binary save and load, IMAP METADATA */
static int
dovecot_only_run(struct mfl_run *run, const struct site *site, struct value *args,
		 struct value *ret)
{
	char why[120];

	(void) args;
	*ret = value_int(0);
	snprintf(why, sizeof(why), "%s is Dovecot's (its binaries, IMAP or storage)",
		 site->intr->name);
	return not_applicable(run, why);
}

/* -- tests */

/* test_script_compile <script: string>: compiled, the errors kept */
static int
test_script_compile_run(struct mfl_run *run, const struct site *site, struct value *args,
			struct value *ret)
{
	struct mfl_testsuite *ts = ts_of(run);
	const char *script = run_cstr(run, &args[0]);
	struct buf path = BUF_INIT, errors = BUF_INIT;
	struct mfl_prog *prog;

	*ret = value_int(0);
	if (script == NULL)
		return run_error(run, site, "test_script_compile: a NUL in the name");
	errors_clear(ts);
	buf_printf(&path, "%s/%s", ts->dir, script);
	prog = mfl_compile_file(ts->env, buf_cstr(&path), 1, &errors);
	buf_free(&path);
	if (prog == NULL) {
		if (memmem(errors.data, errors.len, "unknown capability \"mboxmetadata\"", 33)
		    || memmem(errors.data, errors.len, "unknown capability \"servermetadata\"", 35)) {
			buf_free(&errors);
			return not_applicable(run, "IMAP METADATA (RFC 5490) lives in Dovecot's IMAP storage");
		}
		errors_from(ts, errors.data, errors.len);
		/* as Pigeonhole's compiler ends: one more error that says so */
		ts_error_add(ts, "script failed to compile", 24);
		buf_free(&errors);
		return 0;
	}
	buf_free(&errors);
	if (ts->compiled != NULL)
		mfl_prog_free(ts->compiled);
	ts->compiled = prog;
	*ret = value_int(1);
	return 0;
}

/* test_script_run [:append_result]: the compiled script over the
 * message; its actions are the result (or join it) */
static int
test_script_run_run(struct mfl_run *run, const struct site *site, struct value *args,
		    struct value *ret)
{
	struct mfl_testsuite *ts = ts_of(run);
	struct mfl_run *sub;
	const struct action_list *l;
	int rc;

	(void) args;
	*ret = value_int(0);
	if (ts->compiled == NULL)
		return run_error(run, site, "test_script_run: no script compiled yet");
	errors_clear(ts);
	if (!intr_tag_present(site, TAG_APPEND, args, NULL))
		result_reset(ts);
	if ((sub = mfl_run_new(ts->compiled)) == NULL
	    || mfl_run_set_envelope(sub, ts->from, ts->to) < 0) {
		mfl_run_free(sub);
		return run_error(run, site, "out of memory");
	}
	mfl_run_set_message(sub, ts_msg(ts));
	mfl_run_set_host_data(sub, ts);
	if (mfl_run_set_orig_recipient(sub, ts->orig_to) < 0
	    || mfl_run_set_auth(sub, ts->auth) < 0) {
		mfl_run_free(sub);
		return run_error(run, site, "out of memory");
	}
	ts->sub_failed = 0;
	rc = mfl_run_main(sub);
	if (rc < 0)
		ts_error_add(ts, mfl_run_error(sub), strlen(mfl_run_error(sub)));
	if (adopt_message(ts, mfl_run_take_message(sub)) < 0) {
		mfl_run_free(sub);
		return run_error(run, site, "out of memory");
	}
	l = mfl_run_actions(sub);
	for (size_t i = 0; rc == 0 && i < l->n; i++) {
		struct action copy;

		/* the implicit keep is not an action of Pigeonhole's result:
		 * test_result_execute makes it when nothing cancelled it */
		if (l->v[i].implicit) {
			run->actions.implicit_flags = l->v[i].flags;
			continue;
		}
		/* a later script's reject after one already there is
		 * dropped, as Pigeonhole merges results (no second notice) */
		if (l->v[i].kind == ACT_REJECT && run->actions.rejected)
			continue;
		if (action_copy(run->arena, &l->v[i], &copy) < 0
		    || action_add(run->arena, &run->actions, &copy) < 0) {
			mfl_run_free(sub);
			return run_error(run, site, "out of memory");
		}
	}
	mfl_run_free(sub);
	*ret = value_int(rc == 0 && !ts->sub_failed);
	ts->sub_failed = 0;
	return 0;
}

/* action_name - an action as Pigeonhole's result names it */
static const char *
action_name(const struct action *a)
{
	static const char *const names[] = {
		[ACT_KEEP] = "keep", [ACT_FILEINTO] = "store", [ACT_REDIRECT] = "redirect",
		[ACT_DISCARD] = "discard", [ACT_REJECT] = "reject", [ACT_VACATION] = "vacation",
		[ACT_NOTIFY] = "notify", [ACT_PIPE] = "pipe", [ACT_REPORT] = "report",
	};

	return names[a->kind];
}

/* test_result_action [:index N] [COMPARATOR] [MATCH-TYPE] <names>: the
 * actions of the result (the Nth only, from 1) */
static int
test_result_action_run(struct mfl_run *run, const struct site *site, struct value *args,
		       struct value *ret)
{
	struct mfl_testsuite *ts = ts_of(run);
	const struct action_list *l = &ts->main->actions;
	struct value *index = NULL;
	struct tmatch tm;
	int m = 0;

	intr_tag_present(site, TAG_INDEX, args, &index);
	tmatch_init(&tm, run, site, &args[0]);
	for (size_t i = 0, nth = 0; i < l->n && m == 0; i++) {
		const char *name = action_name(&l->v[i]);

		/* the implicit keep is not in Pigeonhole's result until it
		 * is executed */
		if (l->v[i].implicit)
			continue;
		if (index != NULL && (int64_t) ++nth != index->u.i)
			continue;
		m = tmatch_one(&tm, name, strlen(name));
	}
	if (m == 0)
		m = tmatch_end(&tm);
	*ret = value_int(m > 0);
	return m < 0 ? -1 : 0;
}

/* test_error [:index N] [COMPARATOR] [MATCH-TYPE] <messages>: the last
 * compile's, run's or execution's errors */
static int
test_error_run(struct mfl_run *run, const struct site *site, struct value *args,
	       struct value *ret)
{
	struct mfl_testsuite *ts = ts_of(run);
	struct value *index = NULL;
	struct tmatch tm;
	int m = 0;

	intr_tag_present(site, TAG_INDEX, args, &index);
	tmatch_init(&tm, run, site, &args[0]);
	for (size_t i = 0; i < ts->nerrors && m == 0; i++) {
		if (index != NULL && (int64_t) i + 1 != index->u.i)
			continue;
		m = tmatch_one(&tm, ts->errors[i], strlen(ts->errors[i]));
	}
	if (m == 0)
		m = tmatch_end(&tm);
	*ret = value_int(m > 0);
	return m < 0 ? -1 : 0;
}

static const struct intr_tag append_tags[] = {
	{ .name = "append_result", .arg = TAGARG_NONE, .id = TAG_APPEND },
	{ 0 }
};

static const struct intr_tag index_tags[] = {
	{ .name = "index", .arg = TAGARG_NUMBER, .id = TAG_INDEX },
	{ 0 }
};

/* test_result_execute: the result's new actions carried out, into the
 * mail store and the outbox */
static int
test_result_execute_run(struct mfl_run *run, const struct site *site, struct value *args,
			struct value *ret)
{
	struct mfl_testsuite *ts = ts_of(run);
	const struct action_list *l = &ts->main->actions;
	int ok = 1;

	(void) site, (void) args;
	errors_clear(ts);
	for (; ts->executed < l->n; ts->executed++) {
		int rc = ts_execute(ts, ts->executed);

		if (rc == -1)
			ts_error_add(ts, "execution failed", 16);
		ok &= rc == 0;
	}
	/* nothing cancelled it: the implicit keep (RFC 5228 2.10.2), once */
	if (!l->cancel_implicit && !ts->implicit_done) {
		ts->implicit_done = 1;
		if (ts_store_flagged(ts, "INBOX", 5, l->implicit_flags) < 0)
			ok = 0;
	}
	*ret = value_int(ok);
	return 0;
}

#define TS_CAP "vnd.dovecot.testsuite"
#define TS_COMMAND(nm, a, fn, t) { .name = nm, .kind = INTR_COMMAND, \
	.capability = TS_CAP, .args = a, .run = fn, .tags = t }
#define TS_TEST(nm, a, fn, f, t) { .name = nm, .kind = INTR_TEST, \
	.capability = TS_CAP, .args = a, .flags = f, .run = fn, .tags = t }

static const struct intrinsic testsuite_intrinsics[] = {
	TS_COMMAND("test_fail", "s", test_fail_run, NULL),
	TS_COMMAND("test_set", "ss", test_set_run, NULL),
	TS_COMMAND("test_message", "i", test_message_run, message_tags),
	TS_COMMAND("test_message_print", "", test_message_print_run, NULL),
	TS_COMMAND("test_result_reset", "", test_result_reset_run, NULL),
	TS_COMMAND("test_result_print", "", test_result_print_run, NULL),
	TS_COMMAND("test_mailbox_create", "s", test_mailbox_create_run, NULL),
	TS_COMMAND("test_config_set", "ss", test_config_set_run, NULL),
	TS_COMMAND("test_config_unset", "s", test_config_unset_run, NULL),
	TS_COMMAND("test_config_reload", "", test_config_reload_run, reload_tags),
	TS_COMMAND("test_binary_save", "s", dovecot_only_run, NULL),
	TS_COMMAND("test_binary_load", "s", dovecot_only_run, NULL),
	TS_COMMAND("test_imap_metadata_set", "?sss", dovecot_only_run, NULL),
	TS_TEST("test_script_compile", "s", test_script_compile_run, 0, NULL),
	TS_TEST("test_script_run", "", test_script_run_run, 0, append_tags),
	TS_TEST("test_message", "i", test_message_run, 0, message_tags),
	TS_TEST("test_multiscript", "l", dovecot_only_run, 0, NULL),
	TS_TEST("test_result_execute", "", test_result_execute_run, 0, NULL),
	TS_TEST("test_result_action", "l", test_result_action_run, INTR_F_MATCH, index_tags),
	TS_TEST("test_error", "l", test_error_run, INTR_F_MATCH, index_tags),
};

/* -- the host's face */

/* mfl_testsuite_new - the testsuite for the test file PATH: its
 * commands and tests added to ENV (before the file is compiled) */
struct mfl_testsuite *
mfl_testsuite_new(struct mfl_env *env, const char *path)
{
	struct mfl_testsuite *ts = calloc(1, sizeof(*ts));
	const char *slash = strrchr(path, '/');

	if (ts == NULL)
		return NULL;
	ts->env = env;
	ts->dir = slash ? strndup(path, (size_t) (slash - path)) : strdup(".");
	/* absolute, so that include and ${tst.path} find the same files
	 * whatever the directory mflc -T was run from */
	if (ts->dir != NULL) {
		char *abs = realpath(ts->dir, NULL);

		if (abs != NULL) {
			free(ts->dir);
			ts->dir = abs;
		}
	}
	if (ts->dir == NULL || set_message(ts, default_message, sizeof(default_message) - 1) < 0) {
		mfl_testsuite_free(ts);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(testsuite_intrinsics) / sizeof(testsuite_intrinsics[0]); i++)
		if (mfl_env_add_intrinsic(env, &testsuite_intrinsics[i]) < 0) {
			mfl_testsuite_free(ts);
			return NULL;
		}
	mfl_env_set_mailbox_exists(env, ts_mailbox_exists, ts);
	/* the controls as mvmf has them, for test_config_unset */
	for (size_t i = 0; i < env->ncontrols; i++) {
		const struct mfl_control *c = &env->controls[i];

		if (c->type == MFL_CONTROL_INT)
			ts->defaults[i] = value_int(c->i);
		else if (c->type == MFL_CONTROL_STRING)
			ts->defaults[i] = value_str(strdup(c->s), strlen(c->s));
	}
	/* ${tst.path}, the test file's directory */
	if (mfl_env_get_string(env, "mfl_testsuite_path") == NULL
	    && mfl_env_add_control(env, "mfl_testsuite_path", MFL_CONTROL_STRING, 0, ts->dir,
				   "the test file's directory, ${tst.path} (mflc -T)") < 0) {
		mfl_testsuite_free(ts);
		return NULL;
	}
	/* where Pigeonhole's testsuite has include find scripts */
	{
		struct buf dir = BUF_INIT;
		int rc;

		buf_printf(&dir, "%s/included", ts->dir);
		rc = mfl_env_set_string(env, "mfl_sieve_dir", buf_cstr(&dir));
		buf_reset(&dir);
		buf_printf(&dir, "%s/included-global", ts->dir);
		if (rc < 0 || mfl_env_set_string(env, "mfl_sieve_global_dir", buf_cstr(&dir)) < 0) {
			buf_free(&dir);
			mfl_testsuite_free(ts);
			return NULL;
		}
		buf_free(&dir);
	}
	return ts;
}

/* mfl_testsuite_run - run the compiled test file PROG, the report on
 * OUT; the number of blocks that failed, or -1 after a runtime error */
int
mfl_testsuite_run(struct mfl_testsuite *ts, const struct mfl_prog *prog, struct buf *out)
{
	int rc;

	ts->out = out;
	if ((ts->main = mfl_run_new(prog)) == NULL)
		return -1;
	mfl_run_set_host_data(ts->main, ts);
	mfl_run_set_message(ts->main, ts_msg(ts));
	if (set_envelope(ts) < 0)
		return -1;
	rc = mfl_run_main(ts->main);
	if (rc < 0)
		buf_printf(out, "XX: %s\n", mfl_run_error(ts->main));
	/* stop inside a block ends the test file there, the block done (as
	 * Pigeonhole's control-stop.svtest has it) */
	if (rc == 0 && ts->in_block)
		test_end_run(ts->main, NULL, NULL, NULL);
	buf_printf(out, "\n%s: %d passed, %d failed, %d not applicable\n",
		   rc < 0 || ts->nfailed ? "FAIL" : "PASS", ts->passed, ts->nfailed, ts->nna);
	return rc < 0 ? -1 : ts->nfailed;
}

/* mfl_testsuite_counts - blocks passed, failed, not applicable */
void
mfl_testsuite_counts(const struct mfl_testsuite *ts, int *passed, int *failed, int *na)
{
	*passed = ts->passed;
	*failed = ts->nfailed;
	*na = ts->nna;
}

/* mfl_testsuite_free - everything it holds */
void
mfl_testsuite_free(struct mfl_testsuite *ts)
{
	if (ts == NULL)
		return;
	if (ts->main != NULL)
		mfl_run_free(ts->main);
	if (ts->compiled != NULL)
		mfl_prog_free(ts->compiled);
	for (size_t i = 0; i < ts->nmsgs; i++) {
		msg_free(ts->msgs[i]);
		free(ts->datas[i]);
	}
	free(ts->datas);
	errors_clear(ts);
	for (size_t i = 0; i < ts->nfolders; i++) {
		for (size_t k = 0; k < ts->folders[i].n; k++)
			free(ts->folders[i].msgs[k]), free(ts->folders[i].flags[k]);
		free(ts->folders[i].msgs);
		free(ts->folders[i].lens);
		free(ts->folders[i].flags);
		free(ts->folders[i].name);
	}
	for (size_t i = 0; i < ts->nsent; i++) {
		free(ts->sent[i].from);
		free(ts->sent[i].to);
		free(ts->sent[i].data);
	}
	free(ts->sent);
	free(ts->folders);
	free(ts->errors);
	free(ts->msgs);
	free(ts->name);
	free(ts->from);
	free(ts->to);
	free(ts->orig_to);
	free(ts->auth);
	for (int w = 0; w < 2; w++)
		for (int n = 0; n <= 10; n++)
			free(ts->text_values[w][n]);
	for (size_t i = 0; i < sizeof(ts->unsupported) / sizeof(ts->unsupported[0]); i++)
		free(ts->unsupported[i]);
	for (size_t i = 0; i < ENV_CONTROLS_MAX; i++)
		if (ts->defaults[i].type == V_STR)
			free((char *) ts->defaults[i].u.s.ptr);
	free(ts->dir);
	free(ts);
}
