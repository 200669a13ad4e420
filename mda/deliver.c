/*
 * deliver - carrying out what the scripts decided. Their actions are
 * merged into one list (RFC 5228's duplicate rules apply across
 * scripts), then done in order: keep and fileinto through the
 * namespaces into Maildir or mbox, redirect and reject through
 * sendmail, discard by doing nothing. One syslog line per action.
 *
 * A folder name that would leave its namespace is the script's error,
 * not a delivery: it is logged and the message goes to the default
 * mailbox instead. Every other failure stops at once with EX_TEMPFAIL
 * so the MTA keeps the message and retries (copies already delivered
 * may then be delivered twice; a lost message is worse).
 *
 * DIAGNOSTICS: the exit code; the reason in the log.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "maildir.h"
#include "mbox.h"
#include "mda.h"
#include "mfl.h"
#include "msg/msg.h"
#include "enotify.h"
#include "sendmail.h"
#include "state.h"
#include "vacation.h"

/* mda_merge - LIST's actions into the delivery, strings copied; its
 * implicit keep too when IMPLICIT */
int
mda_merge(struct mda *mda, const struct action_list *list, int implicit)
{
	for (size_t i = 0; i < list->n; i++) {
		struct action a;

		if (list->v[i].implicit && !implicit)
			continue;
		if (action_copy(mda->arena, &list->v[i], &a) < 0
		    || action_add(mda->arena, &mda->actions, &a) < 0)
			return -1;
	}
	return 0;
}

/* mda_keep_default - an implicit keep into the default mailbox */
int
mda_keep_default(struct mda *mda)
{
	struct action keep = { .kind = ACT_KEEP, .implicit = 1 };

	return action_add(mda->arena, &mda->actions, &keep);
}

/* same_address - Delivered-To value V names RCPT (case-insensitive;
 * a RCPT without '@' compares with the local part) */
static int
same_address(const char *v, size_t len, const char *rcpt)
{
	size_t rlen = strlen(rcpt);

	while (len > 0 && (*v == ' ' || *v == '\t' || *v == '<'))
		v++, len--;
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r'
			   || v[len - 1] == '\n' || v[len - 1] == '>'))
		len--;
	if (strchr(rcpt, '@') == NULL) {
		const char *at = memchr(v, '@', len);

		if (at != NULL)
			len = (size_t) (at - v);
	}
	return len == rlen && strncasecmp(v, rcpt, len) == 0;
}

/* mda_loop - the message already carries Delivered-To: for this
 * recipient. Postfix's local(8) has just prepended one itself (above
 * its Return-Path and X-Original-To, after its own loop check), so
 * under Postfix the topmost Delivered-To is skipped. */
int
mda_loop(struct mda *mda)
{
	struct hdr_index *index;
	int skip;

	if (mda->recipient == NULL || !*mda->recipient || mda->msg == NULL
	    || (index = msg_headers(mda->msg)) == NULL)
		return 0;
	skip = mda->mta && strcmp(mda->mta, "postfix") == 0;
	for (size_t i = 0; i < index->count; i++) {
		const struct hdr_field *f = &index->fields[i];

		if (f->name_len != 12 || strncasecmp(f->name, "Delivered-To", 12) != 0)
			continue;
		if (skip) {
			skip = 0;
			continue;
		}
		if (same_address(f->value, f->value_len, mda->recipient))
			return 1;
	}
	return 0;
}

/* message_id - the Message-ID field's value for the log, or "-" */
static void
message_id(struct mda *mda, char *out, size_t size)
{
	struct hdr_index *index = mda->msg ? msg_headers(mda->msg) : NULL;
	struct hdr_field *f = index ? hdr_find(index, "Message-ID", 10, 0) : NULL;
	size_t n = 0;

	snprintf(out, size, "-");
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->value_len && n + 1 < size; i++)
		if (f->value[i] != ' ' && f->value[i] != '\t' && f->value[i] != '\r' && f->value[i] != '\n')
			out[n++] = f->value[i];
	out[n ? n : 1] = 0;
}

/* folder_name - the mailbox an action stores into */
static void
folder_name(struct mda *mda, const struct action *a, const char **name, size_t *len)
{
	if (a->kind == ACT_FILEINTO) {
		*name = a->target;
		*len = a->target_len;
		/* RFC 8579 4: the folder with the special-use flag, if any */
		for (int i = 0; a->specialuse != NULL && i < mda->nspecialuse; i++)
			if (strcasecmp(mda->specialuse[i].flag, a->specialuse) == 0) {
				*name = mda->specialuse[i].folder;
				*len = strlen(*name);
				break;
			}
	} else {
		*name = mda->default_mailbox;
		*len = strlen(mda->default_mailbox);
	}
}

static int store(struct mda *mda, const char *name, size_t len, const char *const *flags,
		 int fallback);

/* permanent - errno E says the folder can never take the message as it
 * is: a name that leaves the root (EINVAL), a symlink or a FIFO planted
 * where a mailbox, its lock or its tmp/ should be (ELOOP, EINVAL), a
 * mailbox with other hard links (EMLINK); a retry would fail the same */
static int
permanent(int e)
{
	return e == EINVAL || e == ELOOP || e == EMLINK;
}

/* is_default - NAME is the default mailbox */
static int
is_default(const struct mda *mda, const char *name, size_t len)
{
	return strlen(mda->default_mailbox) == len && memcmp(mda->default_mailbox, name, len) == 0;
}

/* refused - folder NAME cannot take the message (ERR says why): the
 * default mailbox instead, or, when that is the one refused, a
 * permanent failure (mvmda(1) EXIT STATUS) */
static int
refused(struct mda *mda, const char *name, size_t len, const char *err,
	const char *const *flags, int fallback)
{
	if (!fallback && !is_default(mda, name, len)) {
		mda_log(LOG_ERR, "to=<%s> folder=\"%.*s\": %s; delivering to %s instead",
			mda->recipient, (int) len, name, err, mda->default_mailbox);
		return store(mda, mda->default_mailbox, strlen(mda->default_mailbox), flags, 1);
	}
	mda_log(LOG_ERR, "to=<%s> folder=\"%.*s\" result=bounced: %s (a retry cannot help)",
		mda->recipient, (int) len, name, err);
	return EX_CANTCREAT;
}

/* maildir_store - MAIL into FOLDER, the maildir FD (maildir_deliver):
 * when its tmp, new or cur is missing, made and tried once more */
static int
maildir_store(int fd, const struct folder *folder, const struct mail *mail,
	      const char *const *flags, char *file, size_t filesize, char *err, size_t errsize)
{
	int ret = maildir_deliver(fd, mail, flags, file, filesize, err, errsize);

	if (ret < 0 && errno == ENOENT) {
		if (folder_maildir_dirs(fd, folder, err, errsize) < 0)
			return -1;
		ret = maildir_deliver(fd, mail, flags, file, filesize, err, errsize);
	}
	return ret;
}

/* store - the message into folder NAME; 0, or an exit code */
static int
store(struct mda *mda, const char *name, size_t len, const char *const *flags,
      int fallback)
{
	char err[512], leaf[NAME_MAX + 1], file[1024], msgid[256];
	struct folder folder;
	int fd, ret;

	message_id(mda, msgid, sizeof(msgid));
	if (ns_resolve(&mda->ns, name, len, &folder, err, sizeof(err)) < 0) {
		if (errno == EINVAL && !fallback && !is_default(mda, name, len))
			return refused(mda, name, len, err, flags, fallback);
		/* the admin's setting, not the message: kept until it is fixed */
		mda_log(LOG_ERR, "to=<%s> folder=\"%.*s\" msgid=%s result=deferred: %s%s",
			mda->recipient, (int) len, name, msgid, err, errno == EINVAL
			? " (the default mailbox: fix -m or $mvmda_default_mailbox)" : "");
		return EX_TEMPFAIL;
	}
	if ((fd = folder_open(&folder, 1, leaf, err, sizeof(err))) < 0) {
		if (permanent(errno))
			return refused(mda, name, len, err, flags, fallback);
		mda_log(LOG_ERR, "to=<%s> folder=\"%.*s\" path=%s msgid=%s result=deferred: %s",
			mda->recipient, (int) len, name, folder.path, msgid, err);
		return EX_TEMPFAIL;
	}
	if (folder.type == STORE_MAILDIR)
		ret = maildir_store(fd, &folder, &mda->mail, flags, file, sizeof(file), err, sizeof(err));
	else
		ret = mbox_deliver(fd, leaf, &mda->mail, &mda->locking, err, sizeof(err));
	close(fd);
	if (ret < 0 && permanent(errno))
		return refused(mda, name, len, err, flags, fallback);
	if (ret < 0) {
		mda_log(LOG_ERR, "to=<%s> folder=\"%.*s\" path=%s msgid=%s result=deferred: %s",
			mda->recipient, (int) len, name, folder.path, msgid, err);
		return EX_TEMPFAIL;
	}
	mda_log(LOG_INFO, "to=<%s> folder=\"%.*s\" path=%s%s%s size=%zu msgid=%s result=delivered",
		mda->recipient, (int) len, name, folder.path,
		folder.type == STORE_MAILDIR ? "/" : "", folder.type == STORE_MAILDIR ? file : "",
		mda->mail.head.len + mda->mail.len, msgid);
	return 0;
}

/* mda_store_copy - TEXT (LEN bytes), a message mvmda sent (a vacation
 * reply, a notification), into FOLDER (or the one with the special-use
 * flag SPECIALUSE) with the IMAP FLAGS (NULL-ended, or NULL) for the
 * user's own record (RFC 8580 :fcc); 0, or -1 after a logged failure
 * (never a reason to retry the delivery) */
int
mda_store_copy(struct mda *mda, const char *name, const char *const *flags, const char *specialuse,
	       const char *text, size_t len)
{
	struct mail copy = { .head = BUF_INIT, .data = text, .len = len, .sender = "",
			     .recipient = mda->recipient, .arrived = time(NULL) };
	char err[512], leaf[NAME_MAX + 1], file[1024];
	struct folder folder;
	int fd, ret;

	/* RFC 8580 4 (and 8579 4): the folder with that flag, when one has it */
	for (int i = 0; specialuse != NULL && i < mda->nspecialuse; i++)
		if (strcasecmp(mda->specialuse[i].flag, specialuse) == 0) {
			name = mda->specialuse[i].folder;
			break;
		}
	if (ns_resolve(&mda->ns, name, strlen(name), &folder, err, sizeof(err)) < 0
	    || (fd = folder_open(&folder, 1, leaf, err, sizeof(err))) < 0) {
		mda_log(LOG_ERR, "to=<%s> fcc folder=\"%s\" result=failed: %s", mda->recipient,
			name, err);
		return -1;
	}
	if (folder.type == STORE_MAILDIR)
		ret = maildir_store(fd, &folder, &copy, flags, file, sizeof(file), err, sizeof(err));
	else
		ret = mbox_deliver(fd, leaf, &copy, &mda->locking, err, sizeof(err));
	close(fd);
	if (ret < 0) {
		mda_log(LOG_ERR, "to=<%s> fcc folder=\"%s\" path=%s result=failed: %s",
			mda->recipient, name, folder.path, err);
		return -1;
	}
	mda_log(LOG_INFO, "to=<%s> fcc folder=\"%s\" path=%s size=%zu result=stored",
		mda->recipient, name, folder.path, len);
	return 0;
}

/* mda_state_path - the user's state file: $mvmda_state, or
 * ~/.mvmda.state */
void
mda_state_path(struct mda *mda, char *path, size_t size)
{
	struct value v;

	if (mda->rc_run && mfl_run_get_control(mda->rc_run, "mvmda_state", &v) == 0
	    && v.type == V_STR && v.u.s.len > 0)
		snprintf(path, size, "%.*s", (int) v.u.s.len, v.u.s.ptr);
	else
		snprintf(path, size, "%s/.mvmda.state", mda->home ? mda->home : ".");
}

/* mda_hand_over - MAIL's head and body, or TEXT, to sendmail */
int
mda_hand_over(struct mda *mda, const char *what, const char *from, const char *to,
	  const char *head, size_t hlen, const char *data, size_t len)
{
	const char *program = mfl_env_get_string(mda->env, "mvmda_sendmail");
	struct value v;
	char err[512];

	/* string values are counted, not NUL-terminated */
	if (mda->rc_run && mfl_run_get_control(mda->rc_run, "mvmda_sendmail", &v) == 0
	    && memchr(v.u.s.ptr, 0, v.u.s.len) == NULL)
		program = arena_memdup(mda->arena, v.u.s.ptr, v.u.s.len);
	if (sendmail_send(program, from, to, head, hlen, data, len, err, sizeof(err)) < 0) {
		mda_log(LOG_ERR, "to=<%s> %s=<%s> result=deferred: %s", mda->recipient, what, to, err);
		return EX_TEMPFAIL;
	}
	mda_log(LOG_INFO, "to=<%s> %s=<%s> size=%zu result=sent", mda->recipient, what, to,
		hlen + len);
	return 0;
}

/* rc_string - the rc script's value of string control NAME (a copy in
 * the arena), else the env's: what a user's script assigns to it does
 * not count */
static const char *
rc_string(struct mda *mda, const char *name)
{
	struct value v;

	if (mda->rc_run && mfl_run_get_control(mda->rc_run, name, &v) == 0 && v.type == V_STR
	    && memchr(v.u.s.ptr, 0, v.u.s.len) == NULL)
		return arena_memdup(mda->arena, v.u.s.ptr, v.u.s.len);
	return mfl_env_get_string(mda->env, name);
}

/* redirect - the message to A's address, from the envelope sender
 * $mfl_redirect_envelope_from picks, with X-Sieve-Redirected-From on
 * top (Pigeonhole's field): a message that already came through this
 * user's redirect is a loop, kept rather than sent round again */
static int
redirect(struct mda *mda, const struct action *a)
{
	const char *email = rc_string(mda, "mfl_user_email");
	const char *user = mfl_redirect_user(email, mda->recipient), *from;
	struct buf head = BUF_INIT;
	char explicit[1024];
	int ret;

	if (mfl_redirect_loop(mda->msg, email, mda->recipient)) {
		mda_log(LOG_WARNING, "to=<%s> redirect=<%s> result=skipped: mail loop (the message "
			"came through this user's redirect: X-Sieve-Redirected-From); keeping it",
			mda->recipient, a->target);
		return store(mda, mda->default_mailbox, strlen(mda->default_mailbox), NULL, 0);
	}
	from = mfl_redirect_sender(rc_string(mda, "mfl_redirect_envelope_from"), email, mda->sender,
				   mda->recipient, getenv("ORIGINAL_RECIPIENT"), explicit,
				   sizeof(explicit));
	buf_printf(&head, "X-Sieve-Redirected-From: %s\n", user);
	if (mda->mail.head.len > 0)
		buf_append(&head, mda->mail.head.data, mda->mail.head.len);
	if (head.failed) {
		buf_free(&head);
		mda_log(LOG_ERR, "out of memory");
		return EX_TEMPFAIL;
	}
	ret = mda_hand_over(mda, "redirect", from, a->target, head.data, head.len, mda->mail.data,
			    mda->mail.len);
	buf_free(&head);
	return ret;
}

/* whole_mail - mvmda's lines and the message, as one text a copy
 * carries (in the arena; its length in *LEN_R); NULL, logged, when
 * memory runs out */
static char *
whole_mail(struct mda *mda, size_t *len_r)
{
	size_t len = mda->mail.head.len + mda->mail.len;
	char *text = arena_alloc(mda->arena, len + 1);

	if (text == NULL) {
		mda_log(LOG_ERR, "out of memory");
		return NULL;
	}
	if (mda->mail.head.len > 0)
		memcpy(text, mda->mail.head.data, mda->mail.head.len);
	memcpy(text + mda->mail.head.len, mda->mail.data, mda->mail.len);
	*len_r = len;
	return text;
}

/* report - vnd.dovecot.report: an RFC 5965 report about the message to
 * the action's address, from <> (From: as $mfl_report_from says) */
static int
report(struct mda *mda, const struct action *a)
{
	char host[256] = "localhost", *text;
	struct mfl_report_env e = {
		.policy = rc_string(mda, "mfl_report_from"),
		.user_email = rc_string(mda, "mfl_user_email"),
		.sender = mda->sender, .recipient = mda->recipient,
		.orig_recipient = getenv("ORIGINAL_RECIPIENT"), .host = host,
	};
	struct buf out = BUF_INIT;
	size_t len;
	int ret;

	gethostname(host, sizeof(host) - 1);
	if ((text = whole_mail(mda, &len)) == NULL)
		return EX_TEMPFAIL;
	mfl_report_compose(&e, mda->msg, text, len, a, &out);
	if (out.failed) {
		buf_free(&out);
		mda_log(LOG_ERR, "out of memory");
		return EX_TEMPFAIL;
	}
	ret = mda_hand_over(mda, "report", "", a->target, "", 0, out.data, out.len);
	buf_free(&out);
	return ret;
}

/* notify_action - the notify action A, from the sender the rc script's
 * $mfl_notify_envelope_from picks (else :from, else postmaster) */
static void
notify_action(struct mda *mda, const struct action *a)
{
	char host[256] = "localhost";
	struct mfl_report_env env = {
		.policy = rc_string(mda, "mfl_notify_envelope_from"),
		.user_email = rc_string(mda, "mfl_user_email"),
		.sender = mda->sender, .recipient = mda->recipient,
		.orig_recipient = getenv("ORIGINAL_RECIPIENT"), .host = host,
	};

	gethostname(host, sizeof(host) - 1);
	notify(mda, (size_t) (a - mda->actions.v), &env, mda_hand_over, mda_store_copy);
}

/* reject - RFC 5429: a notice to the sender; never to <> */
static int
reject(struct mda *mda, const struct action *a)
{
	struct buf notice = BUF_INIT;
	char host[256] = "localhost";
	int ret;

	if (!*mda->sender) {
		mda_log(LOG_NOTICE, "to=<%s> reject refused: the envelope sender is empty; "
			"keeping the message", mda->recipient);
		return store(mda, mda->default_mailbox, strlen(mda->default_mailbox), NULL, 0);
	}
	gethostname(host, sizeof(host) - 1);
	reject_notice(&mda->mail, a->target, a->target_len, host, &notice);
	ret = mda_hand_over(mda, "reject", "", mda->sender, "", 0, notice.data, notice.len);
	buf_free(&notice);
	return ret;
}

/* pipe_message - vnd.dovecot.pipe: the message to the admin's program.
 * One that fails keeps the message in the default mailbox (Pigeonhole's
 * implicit keep after a failed action), unless :try said to go on */
static int
pipe_message(struct mda *mda, const struct action *a)
{
	char host[256] = "localhost", err[512], *input;
	struct mfl_program p = {
		.kind = "pipe", .name = a->target, .args = a->args, .sender = mda->sender,
		.recipient = mda->recipient, .orig_recipient = getenv("ORIGINAL_RECIPIENT"),
		.host = host,
	};
	struct buf out = BUF_INIT;
	size_t len;
	int rc;

	gethostname(host, sizeof(host) - 1);
	if ((input = whole_mail(mda, &len)) == NULL)
		return EX_TEMPFAIL;
	p.input = input;
	p.input_len = len;
	rc = mfl_program_run(mda->env, &p, &out, err, sizeof(err));
	buf_free(&out);
	if (rc == 0) {
		mda_log(LOG_INFO, "to=<%s> pipe=%s size=%zu result=sent", mda->recipient,
			a->target, len);
		return 0;
	}
	if (a->pipe_try) {
		mda_log(LOG_WARNING, "to=<%s> pipe=%s result=failed (:try, going on): %s",
			mda->recipient, a->target, err);
		return 0;
	}
	mda_log(LOG_ERR, "to=<%s> pipe=%s result=failed: %s; keeping the message",
		mda->recipient, a->target, err);
	return a->copy ? 0 : store(mda, mda->default_mailbox, strlen(mda->default_mailbox),
				   NULL, 0);
}

/* deliver_one - action A; 0 or an exit code, *SKIPPED_R for -p's continue */
static int
deliver_one(struct mda *mda, const struct action *a, int *skipped_r)
{
	const char *name;
	size_t len;

	switch (a->kind) {
	case ACT_KEEP:
		if (a->implicit && mda->pass) {
			*skipped_r = 1;	/* -p: the MTA goes on instead */
			return 0;
		}
		/* FALLTHROUGH */
	case ACT_FILEINTO:
		folder_name(mda, a, &name, &len);
		return store(mda, name, len, a->flags, 0);
	case ACT_REDIRECT:
		return redirect(mda, a);
	case ACT_REJECT:
		return reject(mda, a);
	case ACT_VACATION: {
		char state[4096];

		mda_state_path(mda, state, sizeof(state));
		/* a reply that fails is no reason to retry */
		vacation(mda, a, state, mda_hand_over, mda_store_copy);
		return 0;
	}
	case ACT_NOTIFY:
		/* a notification that fails is no reason to retry */
		notify_action(mda, a);
		return 0;
	case ACT_PIPE:
		return pipe_message(mda, a);
	case ACT_REPORT:
		return report(mda, a);
	case ACT_DISCARD:
		mda_log(LOG_INFO, "to=<%s> result=discarded (%s:%d)", mda->recipient,
			a->file ? a->file : "-", a->line);
		return 0;
	}
	return 0;
}

/* leaves_a_trace - A stores a copy or sends mail (vacation remembers
 * its own replies; a discard does nothing) */
static int
leaves_a_trace(const struct action *a)
{
	return a->kind == ACT_KEEP || a->kind == ACT_FILEINTO || a->kind == ACT_REDIRECT
	    || a->kind == ACT_REJECT || a->kind == ACT_PIPE || a->kind == ACT_REPORT;
}

/* done_prefix - "c", then this message for this recipient: two 64-bit
 * hashes (FNV-1a from two bases) of the message as it came and of the
 * recipient, as the key prefix of its delivery's done actions */
static void
done_prefix(const struct mda *mda, struct buf *key)
{
	uint64_t h[2] = { 0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL };
	const char *parts[2] = { mda->mail.came, mda->recipient };
	size_t lens[2] = { mda->mail.came_len, strlen(mda->recipient) + 1 };

	for (int k = 0; k < 2; k++)
		for (int p = 0; p < 2; p++)
			for (size_t i = 0; i < lens[p]; i++)
				h[k] = (h[k] ^ (unsigned char) parts[p][i]) * 0x100000001b3ULL;
	buf_putc(key, 'c');
	buf_append(key, h, sizeof(h));
}

/* done_key - the key of action I, A, of this delivery: its prefix, the
 * action's place, kind and target */
static void
done_key(const struct mda *mda, size_t i, const struct action *a, struct buf *key)
{
	buf_reset(key);
	done_prefix(mda, key);
	buf_printf(key, "%zu/%d/", i, (int) a->kind);
	if (a->target != NULL)
		buf_append(key, a->target, a->target_len);
}

#define DONE_KEPT	(7 * 86400)	/* past any MTA's queue lifetime */

/* deliver_all - every action; 0, MDA_EX_CONTINUE, or an exit code. Of
 * two or more actions that leave a trace, each done is remembered in the
 * state file (fsync'd with it) until all are: when a later one fails
 * with a temporary error, the MTA's retry does not store or send the
 * earlier ones again (mvmda(1) DELIVERY). A crash between an action and
 * its record can still repeat that one action: a copy too many, never
 * one too few. */
int
deliver_all(struct mda *mda)
{
	int skipped = 0, ret = 0, traces = 0, remember;
	char state[4096], err[512];
	struct buf key = BUF_INIT;

	for (size_t i = 0; i < mda->actions.n; i++)
		traces += leaves_a_trace(&mda->actions.v[i]);
	if ((remember = traces > 1))
		mda_state_path(mda, state, sizeof(state));
	for (size_t i = 0; i < mda->actions.n && ret == 0; i++) {
		const struct action *a = &mda->actions.v[i];

		if (remember && leaves_a_trace(a)) {
			done_key(mda, i, a, &key);
			if (state_seen(state, key.data, key.len, err, sizeof(err)) == 1) {
				mda_log(LOG_INFO, "to=<%s> action %zu (%s) was done on an earlier "
					"try: not again", mda->recipient, i + 1,
					a->target ? a->target : "keep");
				continue;
			}
		}
		ret = deliver_one(mda, a, &skipped);
		if (ret == 0 && remember && leaves_a_trace(a)
		    && state_mark(state, key.data, key.len, DONE_KEPT, err, sizeof(err)) < 0)
			mda_log(LOG_WARNING, "to=<%s> cannot remember action %zu as done (%s): "
				"a retry would repeat it", mda->recipient, i + 1, err);
	}
	if (remember && ret == 0) {	/* whole: nothing left to retry */
		buf_reset(&key);
		done_prefix(mda, &key);
		state_drop(state, key.data, key.len);
	}
	buf_free(&key);
	return ret ? ret : skipped ? MDA_EX_CONTINUE : 0;
}

/* mda_script_error - a script did not compile or failed at run time:
 * the first such error is what -n's status line reports */
void
mda_script_error(struct mda *mda, const char *phase, const char *message)
{
	size_t len = strlen(message);

	if (mda->error_phase != NULL)
		return;
	while (len > 0 && message[len - 1] == '\n')
		len--;
	mda->error_phase = phase;
	mda->error_message = arena_memdup(mda->arena, message, len);
}

/* deliver_status - -n's status line (mfl(7) JSON): ok, or the first
 * script error, whose message ended the script's part in the delivery */
void
deliver_status(const struct mda *mda, struct buf *out)
{
	if (mda->error_phase == NULL || mda->error_message == NULL) {
		buf_puts(out, "{\"status\":\"ok\"}\n");
		return;
	}
	buf_printf(out, "{\"status\":\"error\",\"phase\":\"%s\",\"message\":", mda->error_phase);
	json_string(out, mda->error_message, strlen(mda->error_message));
	buf_puts(out, "}\n");
}

/* deliver_print - -n: the actions as JSON lines with where they would
 * store (mfl(7) JSON, plus "path" and "storage") */
void
deliver_print(struct mda *mda, struct buf *out)
{
	for (size_t i = 0; i < mda->actions.n; i++) {
		const struct action *a = &mda->actions.v[i];
		struct folder folder;
		char err[256];
		const char *name;
		size_t len;

		action_json(a, out);
		if (a->kind == ACT_KEEP || a->kind == ACT_FILEINTO) {
			folder_name(mda, a, &name, &len);
			out->len--;	/* reopen the object */
			if (ns_resolve(&mda->ns, name, len, &folder, err, sizeof(err)) < 0) {
				buf_puts(out, ",\"error\":");
				json_string(out, err, strlen(err));
			} else {
				buf_puts(out, ",\"path\":");
				json_string(out, folder.path, strlen(folder.path));
				buf_printf(out, ",\"storage\":\"%s\"", store_type_name(folder.type));
			}
			if (a->implicit && mda->pass)
				buf_puts(out, ",\"continue\":true");
			buf_putc(out, '}');
		}
		buf_putc(out, '\n');
	}
}
