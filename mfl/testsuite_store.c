/*
 * testsuite_store - where vnd.dovecot.testsuite's results go: a mail
 * store of folders and an outbox in memory, which test_message reads
 * back. Each action is carried out as mvmda carries it out (the same
 * texts from libmfl: vacation replies, notifications, reports, redirect
 * senders), so a test of a script tells what a delivery would do.
 *
 * DIAGNOSTICS: -1 when memory runs out; an action that fails the way a
 * delivery's would says so in the test file's errors and returns -2.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "action.h"
#include "intr/intr.h"
#include "mflapi.h"
#include "msg/arena.h"
#include "msg/msg.h"
#include "prog.h"
#include "testsuite_int.h"

/* ts_folder_find - the folder NAME, made when MAKE; NULL when not there */
struct folder *
ts_folder_find(struct mfl_testsuite *ts, const char *name, size_t len, int make)
{
	struct folder *more;
	char canon[1024];

	/* INBOX is INBOX in any case, as a hierarchy's top too (RFC 3501
	 * 5.1: "Inbox.Junk" is "INBOX.Junk") */
	if (len >= 5 && len < sizeof(canon) && strncasecmp(name, "inbox", 5) == 0
	    && (len == 5 || name[5] == '.' || name[5] == '/')) {
		memcpy(canon, "INBOX", 5);
		memcpy(canon + 5, name + 5, len - 5);
		name = canon;
	}

	for (size_t i = 0; i < ts->nfolders; i++)
		if (strlen(ts->folders[i].name) == len && memcmp(ts->folders[i].name, name, len) == 0)
			return &ts->folders[i];
	if (!make || (more = realloc(ts->folders, (ts->nfolders + 1) * sizeof(*more))) == NULL)
		return NULL;
	ts->folders = more;
	more = &ts->folders[ts->nfolders];
	*more = (struct folder) { .name = strndup(name, len) };
	if (more->name == NULL)
		return NULL;
	ts->nfolders++;
	return more;
}

/* ts_mailbox_exists - mailboxexists (RFC 5490) asks the mail store */
int
ts_mailbox_exists(void *ctx, const char *name, size_t len)
{
	struct mfl_testsuite *ts = ctx;

	return ts_folder_find(ts, name, len, 0) != NULL;
}

/* current - the message as it is now, with its header edits, onto OUT */
static int
current(struct mfl_testsuite *ts, struct buf *out)
{
	int rc = msg_edited(ts_msg(ts), out);

	if (rc == 0) {
		size_t len;
		const char *data = msg_data(ts_msg(ts), &len);

		buf_append(out, data, len);
	}
	return rc < 0 ? -1 : 0;
}

/* store_buf - DATA (taken over) into FOLDER */
static int
store_buf(struct mfl_testsuite *ts, const char *name, size_t len, struct buf *data,
	  const char *const *flags)
{
	struct folder *f = ts_folder_find(ts, name, len, 1);
	struct buf joined = BUF_INIT;
	char **msgs, **fl;
	size_t *lens;

	if (f == NULL) {
		buf_free(data);
		return -1;
	}
	msgs = realloc(f->msgs, (f->n + 1) * sizeof(*msgs));
	if (msgs != NULL)
		f->msgs = msgs;
	lens = realloc(f->lens, (f->n + 1) * sizeof(*lens));
	if (lens != NULL)
		f->lens = lens;
	fl = realloc(f->flags, (f->n + 1) * sizeof(*fl));
	if (fl != NULL)
		f->flags = fl;
	if (msgs == NULL || lens == NULL || fl == NULL) {
		buf_free(data);
		return -1;
	}
	for (size_t i = 0; flags != NULL && flags[i] != NULL; i++)
		buf_printf(&joined, "%s%s", i ? " " : "", flags[i]);
	f->flags[f->n] = joined.len ? joined.data : NULL;
	buf_putc(data, 0);
	f->msgs[f->n] = data->data;
	f->lens[f->n++] = data->len - 1;
	return 0;
}

/* store - the message as it is now (with its header edits) into FOLDER,
 * with the IMAP FLAGS (NULL-ended, or NULL) */
int
ts_store_flagged(struct mfl_testsuite *ts, const char *name, size_t len, const char *const *flags)
{
	struct buf data = BUF_INIT;

	if (current(ts, &data) < 0) {
		buf_free(&data);
		return -1;
	}
	return store_buf(ts, name, len, &data, flags);
}

/* store - the message into FOLDER, no flags */
static int
store(struct mfl_testsuite *ts, const char *name, size_t len)
{
	return ts_store_flagged(ts, name, len, NULL);
}

/* fileinto - the message into folder NAME, as mvmda files it: a name
 * with an empty, "." or ".." level or a control character cannot be a
 * folder, and the message goes to INBOX instead (the error says so) */
static int
fileinto(struct mfl_testsuite *ts, const char *name, size_t len, const char *const *flags)
{
	const char *why = NULL;
	char line[400];

	for (size_t i = 0, start = 0; i <= len && why == NULL; i++) {
		if (i < len && ((unsigned char) name[i] < 0x20 || name[i] == 0x7f))
			why = "a control character";
		else if (i == len || name[i] == '/') {
			size_t n = i - start;

			if (n == 0 || (n == 1 && name[start] == '.')
			    || (n == 2 && name[start] == '.' && name[start + 1] == '.'))
				why = "an empty, \".\" or \"..\" level";
			start = i + 1;
		}
	}
	if (why == NULL)
		return ts_store_flagged(ts, name, len, flags);
	snprintf(line, sizeof(line), "failed to store into mailbox '%.*s': invalid name (%s); "
		 "the message goes to INBOX", (int) (len > 200 ? 200 : len), name, why);
	ts_error_add(ts, line, strlen(line));
	return store(ts, "INBOX", 5) < 0 ? -1 : -2;
}

/* fcc - RFC 8580: a copy of TEXT (LEN bytes) into FOLDER, if any, with
 * the IMAP FLAGS (the testsuite's folders have no special-use flags:
 * :specialuse falls back to FOLDER, as RFC 8579 4 has it) */
static int
fcc(struct mfl_testsuite *ts, const char *folder, const char *const *flags, const char *text,
    size_t len)
{
	struct buf copy = BUF_INIT;

	if (folder == NULL)
		return 0;
	buf_append(&copy, text, len);
	return store_buf(ts, folder, strlen(folder), &copy, flags);
}

/* send - a message to TO from FROM into the outbox: DATA, LEN bytes
 * (taken over) */
static int
send(struct mfl_testsuite *ts, const char *from, const char *to, char *data, size_t len)
{
	struct sent *more = realloc(ts->sent, (ts->nsent + 1) * sizeof(*more));

	if (more == NULL) {
		free(data);
		return -1;
	}
	ts->sent = more;
	more[ts->nsent] = (struct sent) {
		.from = strdup(from ? from : ""), .to = strdup(to ? to : ""),
		.data = data, .len = len,
	};
	ts->nsent++;
	return 0;
}

/* header_of - the first NAME field's value of the message, or "" */
static void
header_of(struct mfl_testsuite *ts, const char *name, struct buf *out)
{
	struct hdr_field *f = hdr_find(msg_headers(ts_msg(ts)), name, strlen(name), 0);

	if (f != NULL)
		buf_append(out, f->value, f->value_len);
}

/* compose - a reply to the envelope sender: SUBJECT, BODY (a vacation,
 * a reject's notice); taken into the outbox */
static int
compose(struct mfl_testsuite *ts, const char *from, const char *auto_submitted,
	const char *subject, const char *body, size_t len)
{
	struct buf m = BUF_INIT;

	buf_printf(&m, "From: %s\nTo: <%s>\nSubject: %s\n", from, ts->from ? ts->from : "",
		   subject);
	buf_puts(&m, "In-Reply-To: ");
	header_of(ts, "Message-ID", &m);
	buf_puts(&m, "\nReferences: ");
	header_of(ts, "Message-ID", &m);
	buf_printf(&m, "\nAuto-Submitted: %s\nMIME-Version: 1.0\n"
		   "Content-Type: text/plain; charset=utf-8\n\n", auto_submitted);
	buf_append(&m, body, len);
	buf_putc(&m, '\n');
	return send(ts, NULL, ts->from, m.data, m.len);
}

/* redirect - the message to A's address, as mvmda sends it: from the
 * sender $mfl_redirect_envelope_from picks, with X-Sieve-Redirected-From
 * on top; one that already came through this user's redirect is kept
 * instead (a loop) */
static int
redirect(struct mfl_testsuite *ts, const struct action *a)
{
	const char *user = mfl_redirect_user(mfl_env_get_string(ts->env, "mfl_user_email"), ts->to);
	const char *from;
	struct buf data = BUF_INIT;
	char to[1024], explicit[1024];

	if (mfl_redirect_loop(ts_msg(ts), mfl_env_get_string(ts->env, "mfl_user_email"), ts->to))
		return store(ts, "INBOX", 5);
	from = mfl_redirect_sender(mfl_env_get_string(ts->env, "mfl_redirect_envelope_from"),
				   mfl_env_get_string(ts->env, "mfl_user_email"), ts->from, ts->to,
				   ts->orig_to, explicit, sizeof(explicit));
	buf_printf(&data, "X-Sieve-Redirected-From: %s\n", user);
	if (current(ts, &data) < 0) {
		buf_free(&data);
		return -1;
	}
	buf_putc(&data, 0);
	snprintf(to, sizeof(to), "%.*s", (int) a->target_len, a->target);
	return send(ts, from, to, data.data, data.len - 1);
}

/* pipe_message - the pipe action: the message to the admin's program;
 * a failure is reported here (a timeout as Pigeonhole does: the reason,
 * then that the pipe failed) and returns -2; :try makes it no failure */
static int
pipe_message(struct mfl_testsuite *ts, const struct action *a)
{
	struct mfl_program p = {
		.kind = "pipe", .name = a->target, .args = a->args, .sender = ts->from,
		.recipient = ts->to, .orig_recipient = ts->orig_to,
		.host = ts->main ? run_environment_value(ts->main, "host") : NULL,
	};
	struct buf data = BUF_INIT, out = BUF_INIT;
	char err[300], line[400];
	int rc;

	if (current(ts, &data) < 0) {
		buf_free(&data);
		return -1;
	}
	p.input = data.data ? data.data : "";
	p.input_len = data.len;
	rc = mfl_program_run(ts->env, &p, &out, err, sizeof(err));
	buf_free(&data);
	buf_free(&out);
	if (rc == 0 || a->pipe_try)
		return 0;
	if (strstr(err, "timed out") != NULL) {
		ts_error_add(ts, err, strlen(err));
		snprintf(line, sizeof(line), "failed to pipe message to program %s", a->target);
	} else {
		snprintf(line, sizeof(line), "failed to pipe message to program %s: %s", a->target,
			 err);
	}
	ts_error_add(ts, line, strlen(line));
	return -2;
}

/* sending_env - what mail the result sends is made from: the envelope,
 * the user's address, and the sender policy control POLICY */
static struct mfl_report_env
sending_env(struct mfl_testsuite *ts, const char *policy)
{
	return (struct mfl_report_env) {
		.policy = mfl_env_get_string(ts->env, policy),
		.user_email = mfl_env_get_string(ts->env, "mfl_user_email"),
		.sender = ts->from, .recipient = ts->to, .orig_recipient = ts->orig_to,
		.host = ts->main ? run_environment_value(ts->main, "host") : NULL,
	};
}

/* ts_execute - carry out action INDEX of the result: 0, -1 (failed), -2
 * (failed, and said why) */
int
ts_execute(struct mfl_testsuite *ts, size_t index)
{
	const struct action_list *l = &ts->main->actions;
	const struct action *a = &l->v[index];
	struct buf data = BUF_INIT, subject = BUF_INIT;
	int rc;

	switch (a->kind) {
	case ACT_KEEP:
		return ts_store_flagged(ts, "INBOX", 5, a->flags);
	case ACT_FILEINTO:
		return fileinto(ts, a->target, a->target_len, a->flags);
	case ACT_REDIRECT:
		return redirect(ts, a);
	case ACT_REJECT:
		/* as mvmda: no notice to the null sender (the message is kept) */
		if (ts->from == NULL || !*ts->from)
			return store(ts, "INBOX", 5);
		buf_puts(&subject, "Rejected: ");
		header_of(ts, "Subject", &subject);
		buf_putc(&subject, 0);
		rc = compose(ts, "Postmaster <postmaster>",
			     "auto-replied (rejected)", subject.data, a->target, a->target_len);
		buf_free(&subject);
		return rc;
	case ACT_VACATION: {
		const char *to = ts->to ? ts->to : "";

		/* RFC 5230 4.5-5: as mvmda decides, and the same answer */
		if (mfl_vacation_skip(ts_msg(ts), ts->from, to, a->vacation) != NULL)
			return 0;
		mfl_vacation_reply(ts_msg(ts), ts->from, to, a, &data);
		if (fcc(ts, a->vacation->fcc, a->vacation->fcc_flags, data.data ? data.data : "", data.len) < 0) {
			buf_free(&data);
			return -1;
		}
		return send(ts, "", ts->from, data.data, data.len);
	}
	case ACT_NOTIFY: {
		struct mfl_report_env e = sending_env(ts, "mfl_notify_envelope_from");
		char from[512];
		const char *envfrom = mfl_notify_sender(a, &e, from, sizeof(from));
		char **rcpts;
		int sent = 0;

		if (mfl_notify_skip(ts_msg(ts)) != NULL)
			return 0;
		if (mfl_notify_compose(ts_msg(ts), ts->to ? ts->to : "", l, index, &data, &rcpts) < 0)
			return -1;
		if (rcpts[0] != NULL && fcc(ts, a->notify->fcc, a->notify->fcc_flags, data.data, data.len) < 0)
			sent = -1;
		/* handed over once per recipient, as mvmda does */
		for (size_t i = 0; rcpts[i] != NULL; i++) {
			char *copy = malloc(data.len + 1);

			if (copy == NULL || (memcpy(copy, data.data, data.len), 0)
			    || send(ts, envfrom, rcpts[i], copy, data.len) < 0)
				sent = -1;
			free(rcpts[i]);
		}
		buf_free(&data);
		free(rcpts);
		return sent;
	}
	case ACT_PIPE:
		return pipe_message(ts, a);
	case ACT_REPORT: {
		struct mfl_report_env e = sending_env(ts, "mfl_report_from");
		char to[1024];

		if (current(ts, &data) < 0)
			return -1;
		mfl_report_compose(&e, ts_msg(ts), data.data ? data.data : "", data.len, a,
				   &subject);
		buf_free(&data);
		snprintf(to, sizeof(to), "%.*s", (int) a->target_len, a->target);
		return subject.failed ? -1 : send(ts, "", to, subject.data, subject.len);
	}
	case ACT_DISCARD:
		return 0;
	}
	return 0;
}

