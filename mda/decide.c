/*
 * decide - mvmda's answer to mvmtr, in a child of the SMTP-time
 * service (service.c): the recipient's account found as Postfix's
 * local(8) finds it, the process made that user and confined, the rc
 * script and the user's scripts run as at a delivery but in decision
 * mode (mfl_env_set_decision: no program, no cache written; no
 * delivery, no mail sent, no state read or written), and what they
 * decided said in one line of mvmda(1)'s protocol.
 *
 * Before DATA there is no message: the run gets an empty one that
 * tells (msg_watch) when a script first reads it; the answer is then
 * "data", or the refusal the script had made by then.
 *
 * DIAGNOSTICS: a script's compile or runtime error is the answer
 * "error" with its file:line (the delivery will keep the message); an
 * account that is not there, or root, is "unknown". Becoming the user
 * can fail as for a delivery (the process exits; the service answers
 * "error").
 */
#include "config.h"

#include <ctype.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "mda.h"
#include "mfl.h"
#include "msg/msg.h"
#include "service.h"

/* one_line - TEXT (LEN bytes) as one printable line of at most 400
 * bytes on OUT: line breaks and tabs become spaces */
static void
one_line(struct buf *out, const char *text, size_t len)
{
	for (size_t i = 0; i < len && i < 400; i++) {
		unsigned char c = (unsigned char) text[i];

		buf_putc(out, c == '\r' || c == '\n' || c == '\t' ? ' ' : c < 0x20 || c == 0x7f ? '?' : c);
	}
}

/* refusal - the first reject (or ereject) in LIST as an answer line on
 * OUT; 0, or -1 when LIST has none */
static int
refusal(const struct action_list *list, struct buf *out)
{
	for (size_t i = 0; i < list->n; i++) {
		const struct action *a = &list->v[i];

		if (a->kind != ACT_REJECT)
			continue;
		buf_printf(out, "reject %s %s ", a->code && *a->code ? a->code : "550",
			   a->xcode && *a->xcode ? a->xcode : "5.7.1");
		if (a->target_len > 0)
			one_line(out, a->target, a->target_len);
		else
			buf_puts(out, "Message refused by the recipient's filter");
		buf_putc(out, '\n');
		return 0;
	}
	return -1;
}

/* first_read - before DATA, a script reads the message there is not:
 * the answer is "data", unless it had refused already (a refusal on
 * the envelope stands; what follows it cannot take the mail back) */
static void
first_read(void *ctx)
{
	struct mda *m = ctx;
	struct buf line = BUF_INIT;

	m->touched = 1;
	if (refusal(&m->actions, &line) == 0
	    || (m->user_run != NULL && refusal(mfl_run_actions(m->user_run), &line) == 0))
		snprintf(m->early, sizeof(m->early), "%s", buf_cstr(&line));
	buf_free(&line);
}

/* decision_answer - what the run decided, as the service's answer: a
 * refusal when a script rejected (RFC 5429: ereject and reject refuse
 * at the protocol level when they can), "data" when it read the message
 * before there was one, accept otherwise */
static void
decision_answer(struct mda *m, struct buf *answer)
{
	if (strcmp(m->decision, "rcpt") == 0 && m->touched) {
		buf_puts(answer, *m->early ? m->early : "data\n");
		return;
	}
	if (m->error_phase != NULL) {
		buf_printf(answer, "error %s error: ", m->error_phase);
		one_line(answer, m->error_message ? m->error_message : "",
			 m->error_message ? strlen(m->error_message) : 0);
		buf_putc(answer, '\n');
		return;
	}
	if (m->uncertain) {
		buf_puts(answer, "accept\n");	/* the delivery will tell */
		return;
	}
	if (refusal(&m->actions, answer) < 0)
		buf_puts(answer, "accept\n");
}

/* local_part - REQ's recipient's local part in lower case into LOCAL,
 * and where its extension (-x) starts in it (or NULL); -1 when empty or
 * too long */
static int
local_part(const struct mda *m, const char *rcpt, char *local, size_t size, char **ext_r)
{
	const char *at = strrchr(rcpt, '@');
	size_t len = at != NULL ? (size_t) (at - rcpt) : strlen(rcpt);

	if (len == 0 || len >= size)
		return -1;
	for (size_t i = 0; i < len; i++)
		local[i] = (char) tolower((unsigned char) rcpt[i]);
	local[len] = 0;
	*ext_r = *m->delimiter ? strpbrk(local, m->delimiter) : NULL;
	return 0;
}

/* Accounts the service found for local parts, kept a few seconds: a
 * getpwnam() per question would go through NSS each time; with their
 * supplementary groups, which a delivery forked from here takes rather
 * than asking NSS again (initgroups probes every group source: tens of
 * system calls) */
#define ROUTES_MAX	64
#define ROUTE_SECONDS	5
#define ROUTE_GROUPS	64

static struct route {
	char local[64], name[64];	/* name "": no such account here */
	time_t until;
	int ngroups;			/* -1: more than ROUTE_GROUPS */
	gid_t groups[ROUTE_GROUPS];
} routes[ROUTES_MAX];

/* decide_route - in the service: the account REQ's recipient is
 * delivered to, as Postfix's local(8) finds it (the local part in lower
 * case, without its extension), into NAME; -1 when there is none here
 * or it is root's (never asked about: aliases and virtual users are the
 * delivery's to resolve) */
int
decide_route(void *ctx, const struct service_request *req, char *name, size_t size)
{
	struct mda *m = ctx;
	struct passwd *pw;
	struct route *r = NULL;
	char local[256], *ext;
	time_t now = time(NULL);

	if (local_part(m, req->recipient, local, sizeof(local), &ext) < 0)
		return -1;
	if (ext != NULL)
		*ext = 0;
	for (int i = 0; i < ROUTES_MAX && r == NULL; i++)
		if (routes[i].until > now && strcmp(routes[i].local, local) == 0)
			r = &routes[i];
	if (r == NULL && strlen(local) < sizeof(r->local)) {
		r = &routes[0];
		for (int i = 1; i < ROUTES_MAX; i++)
			if (routes[i].until < r->until)
				r = &routes[i];
		pw = getpwnam(local);
		snprintf(r->local, sizeof(r->local), "%s", local);
		snprintf(r->name, sizeof(r->name), "%s",
			 pw != NULL && pw->pw_uid != 0 && strlen(pw->pw_name) < sizeof(r->name)
			 ? pw->pw_name : "");
		r->ngroups = ROUTE_GROUPS;
		if (!*r->name || getgrouplist(pw->pw_name, pw->pw_gid, r->groups, &r->ngroups) < 0)
			r->ngroups = -1;
		r->until = now + ROUTE_SECONDS;
	} else if (r == NULL) {
		return -1;	/* longer than any account name */
	}
	if (!*r->name || strlen(r->name) >= size)
		return -1;
	strcpy(name, r->name);
	return 0;
}

/* decide_groups - the supplementary groups decide_route found for the
 * account NAME a moment ago, into *GROUPS_R: their number, or -1 when it
 * has not (or found more than it keeps): setup_user then asks NSS */
int
decide_groups(const char *name, const gid_t **groups_r)
{
	time_t now = time(NULL);

	for (int i = 0; i < ROUTES_MAX; i++)
		if (routes[i].until > now && routes[i].ngroups >= 0
		    && strcmp(routes[i].name, name) == 0) {
			*groups_r = routes[i].groups;
			return routes[i].ngroups;
		}
	return -1;
}

/* decide_is_root - RCPT's local part names root's account (uid 0) */
int
decide_is_root(void *ctx, const char *rcpt)
{
	char local[256], *ext;
	struct passwd *pw;

	if (local_part(ctx, rcpt, local, sizeof(local), &ext) < 0)
		return 0;
	if (ext != NULL)
		*ext = 0;
	return (pw = getpwnam(local)) != NULL && pw->pw_uid == 0;
}

/* decide_prepare - in the service, before each question: the rc
 * script compiled (as root, its cache in the system's cache directory,
 * as mvmda -c makes it) when there is none yet, when it changed on disk
 * (path, inode, size, mtime), or on RELOAD (SIGHUP: an included file
 * changed); 1 when it was compiled again (the workers that started
 * from the old one are replaced), else 0 */
int
decide_prepare(void *ctx, int reload)
{
	static struct stat seen;
	struct mda *m = ctx;
	const char *path = setup_rc_file(), *rc_path;
	struct stat st;

	if (stat(path, &st) < 0)
		memset(&st, 0, sizeof(st));
	if (m->rc != NULL && !reload && st.st_ino == seen.st_ino && st.st_dev == seen.st_dev
	    && st.st_size == seen.st_size && st.st_mtim.tv_sec == seen.st_mtim.tv_sec
	    && st.st_mtim.tv_nsec == seen.st_mtim.tv_nsec)
		return 0;
	seen = st;
	if (m->rc != NULL)
		mfl_prog_free((struct mfl_prog *) m->rc);
	if ((m->rc = setup_rc_compile(m, &rc_path)) != NULL)
		mda_log(LOG_INFO, "rc script %s compiled", rc_path);
	else
		mda_log(LOG_ERR, "rc script %s does not compile: questions are answered "
			"\"error\" until it does", rc_path);
	return 1;
}

/* the worker's state between questions: as decide_become left it */
static struct mda fresh;

/* decide_become - in a new worker: become NAME (uid, gid, groups,
 * HOME), confined so that nothing can be written, with the account and
 * the environment its questions start from; exits as a delivery would
 * when NAME cannot be become */
void
decide_become(void *ctx, const char *name)
{
	struct mda *m = ctx;
	char why[256];
	const gid_t *groups;
	int n = decide_groups(name, &groups);

	setup_user(name, groups, n);
	if (service_confine(why, sizeof(why)) < 0)
		mda_log(LOG_DEBUG, "%s", why);
	setup_account(m);
	m->decision = "rcpt";
	setup_env_user(m);
	mfl_env_set_decision(m->env, &m->uncertain);
	fresh = *m;
}

/* question_env - the environment Postfix's local(8) sets for a
 * delivery of REQ (the rc script reads it with $getenv) */
static void
question_env(struct mda *m, const struct service_request *req)
{
	char local[256], *ext = NULL;
	const char *at = strrchr(req->recipient, '@');

	if (local_part(m, req->recipient, local, sizeof(local), &ext) < 0)
		local[0] = 0;
	setenv("SENDER", req->sender, 1);
	setenv("RECIPIENT", req->recipient, 1);
	setenv("ORIGINAL_RECIPIENT", req->recipient, 1);
	setenv("LOCAL", local, 1);
	setenv("DOMAIN", at != NULL ? at + 1 : "", 1);
	setenv("EXTENSION", ext != NULL ? ext + 1 : "", 1);
	setenv("CLIENT_ADDRESS", req->client, 1);
	setenv("CLIENT_HOSTNAME", req->client_name, 1);
	setenv("CLIENT_HELO", req->helo, 1);
	setenv("QUEUE_ID", req->queue_id, 1);
}

/* run_question - the rc script and the user's scripts on REQ; what
 * they decided is in M */
static void
run_question(struct mda *m, const struct service_request *req)
{
	struct mfl_run *run;

	if (m->msg == NULL || (m->msg = mda_lf_only(m->msg)) == NULL
	    || (run = mfl_run_new(m->rc)) == NULL) {
		mda_script_error(m, "runtime", "out of memory");
		return;
	}
	m->rc_run = run;
	if (rc_publish(m, run) < 0) {
		mda_script_error(m, "runtime", "out of memory");
		return;
	}
	if (req->message != NULL && mda_loop(m)) {
		m->uncertain = 1;	/* the delivery bounces the loop */
		return;
	}
	if (req->message == NULL)
		msg_watch(m->msg, first_read, m);
	if ((req->message != NULL && mfl_run_hook(run, "msg_read_after", NULL, 0, NULL) < 0)
	    || mfl_run_main(run) < 0)
		mda_script_error(m, "runtime", mfl_run_error(run));
	else if (mda_merge(m, mfl_run_actions(run), m->scripts_run == 0) < 0)
		mda_script_error(m, "runtime", "out of memory");
	msg_watch(m->msg, NULL, NULL);
}

/* decide - the answer to mvmtr's REQ, in the recipient's worker (CTX
 * is its struct mda, as decide_become left it): the rc script and the
 * recipient's scripts run as they will at delivery, with the envelope
 * (before DATA) or the message (after), in decision mode: nothing is
 * delivered, sent or written */
void
decide(const struct service_request *req, struct buf *answer, void *ctx)
{
	struct mda *m = ctx;

	*m = fresh;
	log_set_id(*req->queue_id ? req->queue_id : NULL);
	question_env(m, req);
	m->sender = strcmp(req->sender, "<>") == 0 ? "" : req->sender;
	m->recipient = req->recipient;
	m->mta = "postfix";	/* the environment is local(8)'s */
	m->decision = req->phase;
	if (mfl_env_set_environment(m->env, "remote-ip", req->client) < 0
	    || mfl_env_set_environment(m->env, "remote-host", req->client_name) < 0
	    || (m->arena = arena_create((size_t) 1 << 30)) == NULL) {
		buf_puts(answer, "error out of memory\n");
		return;
	}
	action_list_init(&m->actions);
	if (m->rc == NULL) {
		buf_puts(answer, "error the rc script does not compile\n");
		arena_free(m->arena);
		return;
	}
	m->msg = req->message != NULL ? msg_from_mem(req->message, req->message_len, (size_t) 256 << 20)
	    : msg_from_mem("", 0, 1 << 20);
	run_question(m, req);
	decision_answer(m, answer);
	mda_log(LOG_INFO, "to=<%s> decision %s: %.*s", req->recipient, req->phase,
		(int) (answer->len > 0 ? answer->len - 1 : 0), answer->data ? answer->data : "");
	mfl_run_free(m->rc_run);
	msg_free(m->msg);
	arena_free(m->arena);
	m->rc_run = NULL;
	m->msg = NULL;
	m->arena = NULL;
}
