/*
 * session - one SMTP connection: the policy side of the milter. Each
 * milter callback (callbacks.c) hands its arguments to a session_*()
 * function here, which keeps the state the script can see (client,
 * HELO, envelope, the message so far), runs the matching $hook_ and
 * turns what the hook decided into the answer in s->reply.
 *
 * A connection has one run of the program: its globals last for the
 * whole connection. At the end of each message (eom or abort) the run
 * keeps its globals and controls and drops everything else
 * (mfl_run_end_message): the envelope, the message, the actions. The
 * message's text and views stay (retired) until another message starts,
 * when the run's values are copied out of them (mfl_run_compact): a
 * connection with one message, the usual case, pays for no copy.
 * MFL-mode scripts run their top level once, when the client connects;
 * Sieve-mode scripts have no hooks and run whole at end of message.
 *
 * What a hook decides: the first of accept, tempfail, reject, ereject,
 * discard it executes (quarantine and message changes are collected and
 * made at end of message). A hook that decides nothing lets the SMTP
 * dialogue continue.
 *
 * DIAGNOSTICS: a runtime error or a limit in a hook is logged with the
 * script's file:line and the queue id, and answered with
 * $mvmtr_default_action (tempfail unless the script says otherwise).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "assess.h"
#include "delivery.h"
#include "dns_state.h"
#include "msg/msg.h"
#include "mvmtr.h"
#include "dkim.h"
#include "msa.h"
#include "store.h"

/* Past this, body bytes are not kept for the script (tests see the
 * start of the body; $hook_body still sees every chunk). */
#define SESSION_TEXT_MAX	(64u << 20)

/* The hooks by the names a script gives them ($hook_connect, ...). */
const char *const hook_names[HOOK_COUNT] = {
	[HOOK_CONNECT] = "connect", [HOOK_HELO] = "helo",
	[HOOK_ENVFROM] = "envfrom", [HOOK_ENVRCPT] = "envrcpt",
	[HOOK_DATA] = "data", [HOOK_HEADER] = "header", [HOOK_EOH] = "eoh",
	[HOOK_BODY] = "body", [HOOK_EOM] = "eom", [HOOK_ABORT] = "abort",
	[HOOK_CLOSE] = "close", [HOOK_UNKNOWN] = "unknown",
};

/* session_new - connection ID starts with program PG, whose reference
 * the caller holds until session_free(), and STORE (NULL: none open) */
struct session *
session_new(struct program *pg, struct store *store, unsigned long id)
{
	struct session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->pg = pg;
	s->store = store;
	s->id = id;
	s->changes_tail = &s->changes;
	if ((s->run = mfl_run_new(pg->prog)) == NULL) {
		free(s);
		return NULL;
	}
	mfl_run_set_host_data(s->run, s);
	return s;
}

/* reply_clear - no decision yet */
static void
reply_clear(struct reply *r)
{
	free(r->text);
	memset(r, 0, sizeof(*r));
}

/* changes_free - drop the queued message changes */
static void
changes_free(struct session *s)
{
	change_list_free(s->changes);
	s->changes = NULL;
	s->changes_tail = &s->changes;
	s->nchanges = 0;
}

/* message_free - the message text and every view built over it */
static void
message_free(struct session *s)
{
	for (size_t i = 0; i < s->nold_msgs; i++)
		msg_free(s->old_msgs[i]);
	free(s->old_msgs);
	s->old_msgs = NULL;
	s->nold_msgs = 0;
	for (size_t i = 0; i < s->nold_texts; i++)
		free(s->old_texts[i]);
	free(s->old_texts);
	s->old_texts = NULL;
	s->nold_texts = 0;
	msg_free(s->msg);
	s->msg = NULL;
	buf_free(&s->text);
	s->header_len = 0;
	s->have_eoh = 0;
}

/* session_free - the connection is gone */
void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	message_free(s);
	changes_free(s);
	reply_clear(&s->reply);
	free(s->helo);
	free(s->sender);
	free(s->dkim_key);
	session_msa_pending(s, NULL, NULL, NULL);
	delivery_reset(s);
	dns_state_free(s->dns);
	mfl_run_free(s->run);
	free(s);
}

/* session_macro - the MTA's macro NAME in this callback, or NULL */
const char *
session_macro(struct session *s, const char *name)
{
	return s->getsymval != NULL ? s->getsymval(s->ctx, name) : NULL;
}

/* note_queue_id - the MTA's queue id, once it has one */
static void
note_queue_id(struct session *s)
{
	const char *id;
	struct value v;

	if (*s->queue_id || (id = session_macro(s, "i")) == NULL || *id == 0)
		return;
	snprintf(s->queue_id, sizeof(s->queue_id), "%s", id);
	if (run_str(s->run, s->queue_id, strlen(s->queue_id), &v) == 0)
		mfl_run_set_var(s->run, "queue_id", &v);
}

/* set_str_var - host variable NAME = TEXT for this run */
static void
set_str_var(struct session *s, const char *name, const char *text)
{
	struct value v;

	if (run_str(s->run, text, strlen(text), &v) == 0)
		mfl_run_set_var(s->run, name, &v);
}

/* keep_msg - retire the current message view: values the script holds
 * may point into it until the message ends */
static int
keep_msg(struct session *s)
{
	struct msg **v;

	if (s->msg == NULL)
		return 0;
	if ((v = realloc(s->old_msgs, (s->nold_msgs + 1) * sizeof(*v))) == NULL)
		return -1;
	s->old_msgs = v;
	s->old_msgs[s->nold_msgs++] = s->msg;
	s->msg = NULL;
	return 0;
}

/* text_append - more of the message; a buffer a view was built over
 * is never moved (values the script holds may point into it): it is
 * kept in old_texts until the message ends and a copy grows instead */
static int
text_append(struct session *s, const void *data, size_t len)
{
	if (s->text.len + len > SESSION_TEXT_MAX)
		return -1;
	if ((s->msg != NULL || s->nold_msgs > 0) && s->text.len + len + 1 > s->text.cap) {
		struct buf fresh = BUF_INIT;
		char **v = realloc(s->old_texts, (s->nold_texts + 1) * sizeof(*v));

		if (v == NULL)
			return -1;
		s->old_texts = v;
		if (buf_reserve(&fresh, 2 * (s->text.len + len) + 1) < 0)
			return -1;
		buf_append(&fresh, s->text.data, s->text.len);
		s->old_texts[s->nold_texts++] = s->text.data;
		s->text = fresh;
	}
	buf_append(&s->text, data, len);
	return s->text.failed ? -1 : 0;
}

/* message_view - the message so far, for the script's tests */
static void
message_view(struct session *s)
{
	if (!(s->pg->needs & NEED_HEADERS) || !s->in_message)
		return;
	if (s->msg != NULL && s->msg_len == s->text.len)
		return;
	if (keep_msg(s) < 0)
		return;
	s->msg = msg_from_mem(s->text.data ? s->text.data : "", s->text.len, 16u << 20);
	s->msg_len = s->text.len;
	mfl_run_set_message(s->run, s->msg);
}

/* set_decision - D with CODE, XCODE and TEXT, unless one was made */
int
session_set_reply(struct session *s, enum decision d, const char *code,
		  const char *xcode, const char *text, size_t len)
{
	if (s->reply.decision != DEC_CONTINUE)
		return 0;
	s->reply.decision = d;
	/* a text or an enhanced code needs a reply code too */
	if ((code == NULL || *code == 0) && ((text != NULL && len > 0) || (xcode && *xcode)))
		code = d == DEC_TEMPFAIL ? "451" : d == DEC_REJECT ? "550" : NULL;
	snprintf(s->reply.code, sizeof(s->reply.code), "%s", code ? code : "");
	snprintf(s->reply.xcode, sizeof(s->reply.xcode), "%s", xcode ? xcode : "");
	if (text != NULL && len > 0 && (s->reply.text = strndup(text, len)) == NULL)
		return -1;
	return 0;
}

/* take_actions - reject/ereject and discard the hook executed, when it
 * decided nothing before them */
static void
take_actions(struct session *s)
{
	const struct action_list *list = mfl_run_actions(s->run);

	for (size_t i = s->first_action; i < list->n && s->reply.decision == DEC_CONTINUE; i++) {
		const struct action *a = &list->v[i];

		if (a->kind == ACT_REJECT)
			session_set_reply(s, DEC_REJECT, a->code, a->xcode ? a->xcode
					  : a->extended || a->target_len == 0 ? NULL : "5.7.1",
					  a->target, a->target_len);
		else if (a->kind == ACT_DISCARD)
			session_set_reply(s, DEC_DISCARD, NULL, NULL, NULL, 0);
		else if (a->kind == ACT_VACATION || a->kind == ACT_NOTIFY || a->kind == ACT_REPORT)
			session_log(s, LOG_NOTICE, "%s:%d: %s is sent at delivery "
				    "(mvmda), not during SMTP: ignored", a->file ? a->file : "-",
				    a->line, a->kind == ACT_VACATION ? "vacation"
				    : a->kind == ACT_NOTIFY ? "notify" : "report");
	}
	s->first_action = list->n;
}

/* session_override - D replaces whatever was decided */
int
session_override(struct session *s, enum decision d, const char *code,
		 const char *xcode, const char *text, size_t len)
{
	reply_clear(&s->reply);
	return session_set_reply(s, d, code, xcode, text, len);
}

/* session_decide - a host command's decision D, unless the hook
 * decided before (an earlier reject or discard counts) */
int
session_decide(struct session *s, enum decision d, const char *code,
	       const char *xcode, const char *text, size_t len)
{
	take_actions(s);
	return session_set_reply(s, d, code, xcode, text, len);
}

/* default_action - after a runtime error: $mvmtr_default_action */
static enum decision
default_action(struct session *s)
{
	struct value v;
	const char *what = "tempfail";

	if (s->store_tempfail) {	/* $mvmtr_store_failure "tempfail" */
		s->store_tempfail = 0;
		reply_clear(&s->reply);
		session_set_reply(s, DEC_TEMPFAIL, "451", "4.3.0",
				  "Client assessment unavailable, try again later", 46);
		return s->reply.decision;
	}
	if (mfl_run_get_control(s->run, "mvmtr_default_action", &v) == 0 && v.type == V_STR)
		what = v.u.s.len == 6 && memcmp(v.u.s.ptr, "accept", 6) == 0 ? "accept"
		    : v.u.s.len == 6 && memcmp(v.u.s.ptr, "reject", 6) == 0 ? "reject" : "tempfail";
	reply_clear(&s->reply);
	if (strcmp(what, "accept") == 0)
		session_set_reply(s, DEC_ACCEPT, NULL, NULL, NULL, 0);
	else if (strcmp(what, "reject") == 0)
		session_set_reply(s, DEC_REJECT, "550", "5.7.1", "Message refused by the mail filter", 34);
	else
		session_set_reply(s, DEC_TEMPFAIL, "451", "4.3.0",
				  "Mail filter error, try again later", 34);
	return s->reply.decision;
}

/* run_error - log the run's error and answer with the default action */
static enum decision
run_error_answer(struct session *s, const char *where)
{
	const char *err = mfl_run_error(s->run);

	session_log(s, LOG_ERR, "%s%s%s; answering %s", err ? err : "runtime error",
		    where ? " in " : "", where ? where : "",
		    default_action(s) == DEC_ACCEPT ? "accept"
		    : s->reply.decision == DEC_REJECT ? "reject" : "tempfail");
	return s->reply.decision;
}

static time_t reject_failure_logged;	/* racy on purpose: only a log rate */

/* note_reject - count a reject against the client: too many within
 * $mvmtr_autoblock_window block it (mvmcas(8) lists and lifts blocks) */
static void
note_reject(struct session *s)
{
	struct value n, window, duration;
	struct store *st = s->store;
	int rc;

	if (st == NULL || !*s->client_addr
	    || mfl_run_get_control(s->run, "mvmtr_autoblock_rejects", &n) < 0 || n.u.i <= 0
	    || mfl_run_get_control(s->run, "mvmtr_autoblock_window", &window) < 0
	    || mfl_run_get_control(s->run, "mvmtr_autoblock_duration", &duration) < 0)
		return;
	rc = reject_note(st, s->client_addr, time(NULL), n.u.i, window.u.i, duration.u.i);
	if (rc < 0 && time(NULL) - reject_failure_logged >= 60) {
		/* once a minute: the store is failing for everyone */
		reject_failure_logged = time(NULL);
		char why[sizeof(st->error)];

		session_log(s, LOG_ERR, "store: %s; rejects are not counted for automatic "
			    "blocks (logged once a minute)", store_error(st, why, sizeof(why)));
	}
	else if (rc > 0)
		session_log(s, LOG_NOTICE, "blocked %s for %lld s: %lld rejects within %lld s",
			    s->client_addr, (long long) duration.u.i, (long long) n.u.i,
			    (long long) window.u.i);
}

/* start - the top level, once per connection (MFL mode): globals get
 * their initial values, controls their script settings */
static enum decision
start(struct session *s)
{
	s->started = 1;
	if (s->pg->sieve)
		return DEC_CONTINUE;
	/* the top level cannot decide; its implicit keep means nothing */
	if (mfl_run_main(s->run) < 0) {
		enum decision d = run_error_answer(s, "the top level");

		s->start_failed = 1;
		return d;
	}
	mfl_run_end_message(s->run);
	return DEC_CONTINUE;
}

/* run_hook - $hook_H with ARGS, if the script has it; its decision */
static enum decision
run_hook(struct session *s, enum hook h, const struct value *args, int nargs)
{
	reply_clear(&s->reply);
	/* the connection's top level failed: every step gets the default
	 * action (the connect step may not have been waited for) */
	if (s->start_failed)
		return default_action(s);
	if (!(s->pg->hooks & (1 << h)))
		return DEC_CONTINUE;
	message_view(s);
	/* each hook answers for itself: an earlier hook's reject is no
	 * conflict for this one's (RFC 5429 2.1 is about one delivery) */
	mfl_run_clear_actions(s->run);
	s->first_action = 0;
	if (mfl_run_hook(s->run, hook_names[h], args, nargs, NULL) < 0) {
		char where[32];

		snprintf(where, sizeof(where), "$hook_%s", hook_names[h]);
		return run_error_answer(s, where);
	}
	take_actions(s);
	if (s->reply.decision == DEC_REJECT)
		note_reject(s);
	return s->reply.decision;
}

/* strarr - ARGV (NULL-terminated) as a string[] of the run */
static struct value
strarr(struct session *s, char **argv)
{
	struct value v;
	size_t n = 0;

	while (argv != NULL && argv[n] != NULL)
		n++;
	if (mfl_run_strarr(s->run, (const char *const *) argv, n, &v) < 0)
		mfl_run_strarr(s->run, NULL, 0, &v);
	return v;
}

/* strip_brackets - "<a@b>" as "a@b", in place */
static char *
strip_brackets(char *addr)
{
	size_t len = strlen(addr);

	if (len >= 2 && addr[0] == '<' && addr[len - 1] == '>') {
		addr[len - 1] = 0;
		return addr + 1;
	}
	return addr;
}

/* session_connect - the client: host name and address */
enum decision
session_connect(struct session *s, const char *host, const struct sockaddr *sa)
{
	struct value args[3];
	enum decision d;

	snprintf(s->client_host, sizeof(s->client_host), "%s", host ? host : "");
	/* the MTA's name, sent at connect (j), for X-Greylist at the end */
	snprintf(s->mta_host, sizeof(s->mta_host), "%s",
		 session_macro(s, "j") ? session_macro(s, "j") : "");
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *) sa;

		memcpy(&s->client, in, sizeof(*in));
		ip4_format((const unsigned char *) &in->sin_addr, 0, s->client_addr);
		s->client_port = ntohs(in->sin_port);
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;

		memcpy(&s->client, in6, sizeof(*in6));
		inet_ntop(AF_INET6, &in6->sin6_addr, s->client_addr, sizeof(s->client_addr));
		s->client_port = ntohs(in6->sin6_port);
	}
	if ((d = start(s)) != DEC_CONTINUE)
		return d;
	set_str_var(s, "client_addr", s->client_addr);
	set_str_var(s, "client_host", s->client_host);
	/* RFC 5183: the connecting client, for the environment test */
	if ((*s->client_addr && mfl_run_set_environment(s->run, "remote-ip", s->client_addr) < 0)
	    || (*s->client_host && mfl_run_set_environment(s->run, "remote-host", s->client_host) < 0))
		return DEC_TEMPFAIL;
	args[0] = value_int(s->client_port);
	mfl_run_set_var(s->run, "client_port", &args[0]);
	args[0] = value_str(s->client_host, strlen(s->client_host));
	args[1] = value_str(s->client_addr, strlen(s->client_addr));
	args[2] = value_int(s->client_port);
	return run_hook(s, HOOK_CONNECT, args, 3);
}

/* session_helo - HELO or EHLO */
enum decision
session_helo(struct session *s, const char *helo)
{
	struct value arg;

	free(s->helo);
	s->helo = strdup(helo ? helo : "");
	set_str_var(s, "helo_name", s->helo ? s->helo : "");
	arg = value_str(s->helo ? s->helo : "", s->helo ? strlen(s->helo) : 0);
	return run_hook(s, HOOK_HELO, &arg, 1);
}

/* settle - before a message takes text: the retired message's memory
 * goes, once the run's values no longer point into it */
static void
settle(struct session *s)
{
	if (!s->retired)
		return;
	if (mfl_run_compact(s->run) < 0) {
		/* values may point into it: it stays to the end */
		session_log(s, LOG_ERR, "out of memory between messages");
		return;
	}
	message_free(s);
	s->retired = 0;
}

/* session_envfrom - MAIL FROM: a message starts */
enum decision
session_envfrom(struct session *s, char **argv)
{
	struct value args[2], v;
	const char *auth;
	char *addr;

	if (s->in_message)
		session_message_done(s);
	settle(s);
	s->in_message = 1;
	note_queue_id(s);
	free(s->sender);
	if ((addr = strdup(argv[0] ? argv[0] : "")) != NULL) {
		s->sender = strdup(strip_brackets(addr));
		free(addr);
	}
	if (s->sender == NULL)
		return default_action(s);
	addr = s->sender;
	set_str_var(s, "mail_from", addr);
	if (mfl_run_strarr(s->run, NULL, 0, &v) == 0)
		mfl_run_set_var(s->run, "recipients", &v);
	mfl_run_set_envelope(s->run, addr, NULL);
	/* who authenticated (SMTP AUTH), for the envelope test's "auth" */
	auth = session_macro(s, "{auth_authen}");
	mfl_run_set_auth(s->run, auth != NULL && *auth ? auth : NULL);
	args[0] = value_str(addr, strlen(addr));
	args[1] = strarr(s, argv + 1);
	return run_hook(s, HOOK_ENVFROM, args, 2);
}

/* recipient_scripts - RCPT's own scripts, asked through mvmda's
 * service before DATA: their refusal is this recipient's reply */
static enum decision
recipient_scripts(struct session *s, const char *rcpt, char **args)
{
	const struct delivery_answer *a = delivery_rcpt(s, rcpt, args, 1);

	if (a == NULL)
		return DEC_CONTINUE;
	if (a->verdict == DV_REJECT || a->verdict == DV_TEMPFAIL) {
		session_log(s, LOG_INFO, "to=<%s> refused by the recipient's script: %s %s %s",
			    rcpt, a->code, a->xcode, a->text);
		session_set_reply(s, a->verdict == DV_REJECT ? DEC_REJECT : DEC_TEMPFAIL, a->code,
				  a->xcode, a->text, strlen(a->text));
	} else if (a->verdict == DV_ERROR && delivery_failure_tempfails(s)) {
		session_set_reply(s, DEC_TEMPFAIL, "451", "4.3.0",
				  "The recipient's filter cannot answer now, try again later", 57);
	}
	return s->reply.decision;
}

/* session_msa_pending - the message $msa_message let by, for USER
 * under LIMITS and BRAKE, to be counted with its first recipient
 * (USER NULL: none); 0, -1 (out of memory) */
int
session_msa_pending(struct session *s, const char *user, const char *limits,
		    const char *brake)
{
	free(s->msa_user);
	free(s->msa_limits);
	free(s->msa_brake);
	s->msa_user = s->msa_limits = s->msa_brake = NULL;
	if (user == NULL)
		return 0;
	s->msa_user = strdup(user);
	s->msa_limits = strdup(limits);
	s->msa_brake = strdup(brake);
	if (s->msa_user == NULL || s->msa_limits == NULL || s->msa_brake == NULL) {
		session_msa_pending(s, NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

/* msa_flush - a recipient is let by and the message $msa_message let
 * by is not counted yet ($msa_recipient does that along with its own
 * count; a script without it gets it here): count it now */
static enum decision
msa_flush(struct session *s, enum decision d)
{
	struct msa_kind k = { "messages", s->msa_limits, s->msa_brake, NULL, 0 };
	struct buf why = BUF_INIT;
	int rc;

	if (s->msa_user == NULL || s->store == NULL || d == DEC_REJECT || d == DEC_TEMPFAIL)
		return d;
	rc = msa_events(s->store, s->msa_user, &k, 1, 0, time(NULL), &why);
	if (rc < 0) {
		char err[sizeof(s->store->error)];

		session_log(s, LOG_ERR, "msa: the message of %s not counted: %s", s->msa_user,
			    store_error(s->store, err, sizeof(err)));
		d = default_action(s);
	} else if (why.len > 0) {	/* others counted first, or the brake */
		struct buf text = BUF_INIT;

		session_log(s, LOG_NOTICE, "msa: user %s refused: %s", s->msa_user, why.data);
		buf_printf(&text, "Sending limit reached (%s), try again later", why.data);
		reply_clear(&s->reply);
		session_set_reply(s, DEC_TEMPFAIL, "451", "4.7.1", text.data, text.len);
		d = s->reply.decision;
		buf_free(&text);
	}
	if (rc > 0)
		session_log(s, LOG_WARNING, "msa: user %s locked: more messages than %s "
			    "(mvmcas unlock %s releases it)", s->msa_user, s->msa_brake, s->msa_user);
	if (rc < 0 || k.counted || why.len > 0)
		session_msa_pending(s, NULL, NULL, NULL);
	buf_free(&why);
	return d;
}

/* failed_recipient - the MTA refused ADDR (it does not reach the
 * hooks): counted for the authenticated user's failed-recipient brake */
static void
failed_recipient(struct session *s, const char *addr)
{
	const char *user = s->getsymval(s->ctx, "{auth_authen}");
	struct buf why = BUF_INIT;
	struct value v;
	char spec[64], err[sizeof(s->store->error)];
	int rc;

	if (user == NULL || *user == 0 || s->store == NULL
	    || mfl_run_get_control(s->run, "mvmtr_msa_brake_failed_recipients", &v) < 0
	    || v.type != V_STR || v.u.s.len == 0 || v.u.s.len >= sizeof(spec))
		return;
	snprintf(spec, sizeof(spec), "%.*s", (int) v.u.s.len, v.u.s.ptr);
	session_log(s, LOG_INFO, "msa: user %s: recipient <%s> refused by the MTA", user, addr);
	rc = msa_event(s->store, user, "failed", NULL, spec, NULL, time(NULL), &why);
	if (rc < 0)
		session_log(s, LOG_ERR, "msa: failed recipients of %s not counted: %s", user,
			    store_error(s->store, err, sizeof(err)));
	else if (rc == 1)
		session_log(s, LOG_WARNING, "msa: user %s locked: more failed recipients than %s "
			    "(mvmcas unlock %s releases it)", user, spec, user);
	buf_free(&why);
}

/* session_envrcpt - RCPT TO: the recipient joins the envelope unless
 * the hook refuses it */
enum decision
session_envrcpt(struct session *s, char **argv)
{
	struct value args[2], rcpts, copy;
	char *dup = strdup(argv[0] ? argv[0] : ""), *addr;
	const char *mailer;
	enum decision d;

	if (dup == NULL)
		return default_action(s);
	addr = strip_brackets(dup);
	note_queue_id(s);
	if (s->pg->rcpt_rej && s->getsymval != NULL
	    && (mailer = s->getsymval(s->ctx, "{rcpt_mailer}")) != NULL
	    && strcmp(mailer, "error") == 0) {
		failed_recipient(s, addr);	/* the MTA refused it */
		free(dup);
		return DEC_CONTINUE;
	}
	mfl_run_add_recipient(s->run, addr);
	args[0] = value_str(addr, strlen(addr));
	args[1] = strarr(s, argv + 1);
	s->cur_rcpt = addr;
	d = run_hook(s, HOOK_ENVRCPT, args, 2);
	s->cur_rcpt = NULL;
	if (d == DEC_CONTINUE && delivery_wanted(s, addr))
		d = recipient_scripts(s, addr, argv + 1);
	d = msa_flush(s, d);
	if (d == DEC_REJECT || d == DEC_TEMPFAIL) {
		/* the envelope is the recipients accepted so far */
		if (mfl_run_get_control(s->run, "recipients", &rcpts) == 0) {
			mfl_run_set_envelope(s->run, s->sender ? s->sender : "", NULL);
			for (size_t i = 0; i < rcpts.u.a->len; i++)
				mfl_run_add_recipient(s->run, rcpts.u.a->items[i].u.s.ptr);
		}
	} else if (mfl_run_get_control(s->run, "recipients", &rcpts) == 0
		   && run_str(s->run, addr, strlen(addr), &copy) == 0) {
		run_arr_push(s->run, rcpts.u.a, copy);
		s->nrcpt++;
		delivery_accepted(s, addr);
	}
	free(dup);
	return d;
}

/* session_data - DATA */
enum decision
session_data(struct session *s)
{
	note_queue_id(s);
	return run_hook(s, HOOK_DATA, NULL, 0);
}

/* session_header - one header field, kept for the tests */
enum decision
session_header(struct session *s, const char *name, const char *value)
{
	struct value args[2];

	settle(s);
	if (s->pg->needs & NEED_HEADERS) {
		/* as it was sent: "Name: value", value without its leading
		 * space (no SMFIP_HDR_LEADSPC) */
		text_append(s, name, strlen(name));
		text_append(s, ": ", 2);
		text_append(s, value, strlen(value));
		text_append(s, "\n", 1);
	}
	args[0] = value_str(name, strlen(name));
	args[1] = value_str(value, strlen(value));
	return run_hook(s, HOOK_HEADER, args, 2);
}

/* session_eoh - the end of the header */
enum decision
session_eoh(struct session *s)
{
	note_queue_id(s);
	settle(s);
	if (s->pg->needs & NEED_HEADERS) {
		text_append(s, "\n", 1);
		s->header_len = s->text.len;
		s->have_eoh = 1;
	}
	return run_hook(s, HOOK_EOH, NULL, 0);
}

/* session_body - a chunk of the body */
enum decision
session_body(struct session *s, const unsigned char *data, size_t len)
{
	struct value arg;

	settle(s);
	if ((s->pg->needs & NEED_HEADERS) && !s->have_eoh)
		session_eoh(s);		/* NOEOH negotiated */
	if (s->pg->needs & NEED_BODY)
		text_append(s, data, len);
	arg = value_str((const char *) data, len);
	return run_hook(s, HOOK_BODY, &arg, 1);
}

/* queue_edit - one editheader step as a milter header change */
static int
queue_edit(void *ctx, int op, const char *name, size_t name_len,
	   const char *value, size_t value_len, int index)
{
	struct session *s = ctx;
	char field[256];
	enum change_kind kind = op == MSG_EDIT_DELETE ? CHG_HEADER_CHANGE
	    : op == MSG_EDIT_INSERT ? CHG_HEADER_INSERT : CHG_HEADER_ADD;

	snprintf(field, sizeof(field), "%.*s", (int) name_len, name);
	/* a change to an empty value deletes (smfi_chgheader, NULL) */
	return session_change(s, kind, field, op == MSG_EDIT_DELETE ? "" : value,
			      op == MSG_EDIT_DELETE ? 0 : value_len, index);
}

/* session_eom_needed - the message's end has work (X-Greylist), so
 * DATA may not accept it early */
int
session_eom_needed(struct session *s)
{
	struct value v;

	return s->grey_noted && mfl_run_get_control(s->run, "mvmtr_greylist_header", &v) == 0
	    && v.u.i != 0;
}

/* greylist_field - X-Greylist, when $mvmtr_greylist_header asks for
 * it: how long greylisting delayed the message, and why */
static int
greylist_field(struct session *s)
{
	const char *host = *s->mta_host ? s->mta_host : NULL;
	char text[600];
	struct value v;

	if (!s->grey_noted || mfl_run_get_control(s->run, "mvmtr_greylist_header", &v) < 0
	    || v.u.i == 0)
		return 0;
	if (s->grey_delayed > 0)
		snprintf(text, sizeof(text), "delayed %lld seconds by mvmtr%s%s (%s)",
			 (long long) s->grey_delayed, host ? " on " : "", host ? host : "",
			 s->grey_why);
	else
		snprintf(text, sizeof(text), "not delayed by mvmtr%s%s (%s)", host ? " on " : "",
			 host ? host : "", s->grey_why);
	return session_change(s, CHG_HEADER_INSERT, "X-Greylist", text, strlen(text), 0);
}

/* field_list - the header fields as the MTA will have them, each
 * "Name: value" in FIELDS (NUL-separated, *N_R of them): the message's,
 * then the changes queued for the MTA applied in order */
static int
field_list(struct session *s, struct buf *fields, size_t *n_r)
{
	struct buf one = BUF_INIT;
	char **list = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;

	/* split the header (text_append: "Name: value\n", folds inside) */
	for (const char *p = s->text.data, *end = p + s->header_len; p && p < end;) {
		const char *nl = p;

		while (nl < end && !(*nl == '\n' && (nl + 1 >= end || (nl[1] != ' ' && nl[1] != '\t'))))
			nl++;
		if (nl > p) {
			if (n == cap && (list = realloc(list, (cap = cap ? cap * 2 : 32) * sizeof(*list))) == NULL)
				goto out;
			if ((list[n++] = strndup(p, (size_t) (nl - p))) == NULL)
				goto out;
		}
		p = nl + 1;
	}
	for (struct change *c = s->changes; c != NULL; c = c->next) {
		if (c->kind != CHG_HEADER_ADD && c->kind != CHG_HEADER_INSERT
		    && c->kind != CHG_HEADER_CHANGE)
			continue;
		buf_reset(&one);
		buf_printf(&one, "%s: %.*s", c->name, (int) c->value_len, c->value ? c->value : "");
		if (c->kind == CHG_HEADER_CHANGE) {
			/* the INDEXth field of that name (from 1): changed, or
			 * gone when the value is empty */
			int seen = 0;
			size_t nlen = strlen(c->name);

			for (size_t i = 0; i < n; i++) {
				if (strncasecmp(list[i], c->name, nlen) != 0 || list[i][nlen] != ':'
				    || ++seen != c->index)
					continue;
				free(list[i]);
				if (c->value_len == 0) {
					memmove(list + i, list + i + 1, (n - i - 1) * sizeof(*list));
					n--;
				} else if ((list[i] = strdup(buf_cstr(&one))) == NULL) {
					goto out;
				}
				break;
			}
			continue;
		}
		if (n == cap && (list = realloc(list, (cap = cap ? cap * 2 : 32) * sizeof(*list))) == NULL)
			goto out;
		/* added at the end; inserted at its index (0: on top) */
		size_t pos = c->kind == CHG_HEADER_INSERT && c->index >= 0 && (size_t) c->index < n
		    ? (size_t) c->index : n;
		char *field = strdup(buf_cstr(&one));

		if (field == NULL)
			goto out;
		memmove(list + pos + 1, list + pos, (n - pos) * sizeof(*list));
		list[pos] = field;
		n++;
	}
	for (size_t i = 0; i < n; i++)
		buf_append(fields, list[i], strlen(list[i]) + 1);
	*n_r = n;
	rc = fields->failed ? -1 : 0;
out:
	for (size_t i = 0; list != NULL && i < n; i++)
		free(list[i]);
	free(list);
	buf_free(&one);
	return rc;
}

/* dkim_field - DKIM-Signature on top, when $dkim_sign asked: over the
 * header as the MTA will have it and the body; a failure is logged and
 * the message goes unsigned (signing is no reason to hold mail) */
static void
dkim_field(struct session *s)
{
	struct buf fields = BUF_INIT, sig = BUF_INIT;
	const struct dkim_key *key = s->dkim_key;
	const char **ptrs = NULL;
	char err[512];
	size_t n = 0;

	if (key == NULL)
		return;
	if (field_list(s, &fields, &n) < 0 || (ptrs = calloc(n + 1, sizeof(*ptrs))) == NULL) {
		session_log(s, LOG_ERR, "dkim: not signed for %s: out of memory", key->domain);
		goto out;
	}
	for (size_t i = 0, off = 0; i < n; i++) {
		ptrs[i] = fields.data + off;
		off += strlen(ptrs[i]) + 1;
	}
	if (dkim_sign_message(key, *s->queue_id ? s->queue_id : "NOQUEUE", ptrs, n,
			      s->text.data + s->header_len, s->text.len - s->header_len, &sig,
			      err, sizeof(err)) < 0) {
		session_log(s, LOG_ERR, "dkim: not signed for %s: %s", key->domain, err);
		goto out;
	}
	if (session_change(s, CHG_HEADER_INSERT, "DKIM-Signature", sig.data, sig.len, 0) < 0)
		session_log(s, LOG_ERR, "dkim: out of memory");
	else
		session_log(s, LOG_INFO, "dkim: signed for %s, selector %s", key->domain, key->selector);
out:
	free(ptrs);
	buf_free(&fields);
	buf_free(&sig);
}

/* header_edits - what editheader did to the message, for the MTA */
static enum decision
header_edits(struct session *s, enum decision d)
{
	if (d == DEC_REJECT || d == DEC_TEMPFAIL || d == DEC_DISCARD)
		return d;
	if (greylist_field(s) < 0) {
		session_log(s, LOG_ERR, "out of memory adding X-Greylist");
		return DEC_TEMPFAIL;
	}
	if (s->msg == NULL)
		return d;
	if (msg_header_edits(s->msg, queue_edit, s) != 0) {
		session_log(s, LOG_ERR, "out of memory queueing header edits");
		return DEC_TEMPFAIL;
	}
	dkim_field(s);		/* last: it signs what the edits made */
	return d;
}

/* session_eom - the end of the message: $hook_eom, or the Sieve script;
 * then editheader's changes (RFC 5293) become milter header changes */
enum decision
session_eom(struct session *s)
{
	const struct delivery_answer *refusal;
	enum decision d;

	note_queue_id(s);
	s->at_eom = 1;
	if (s->ndlv > 0 && (refusal = delivery_eom(s)) != NULL) {
		session_log(s, LOG_INFO, "refused by every recipient's script: %s %s %s",
			    refusal->code, refusal->xcode, refusal->text);
		session_override(s, DEC_REJECT, refusal->code, refusal->xcode, refusal->text,
				 strlen(refusal->text));
		return DEC_REJECT;
	}
	if (!s->pg->sieve) {
		d = header_edits(s, run_hook(s, HOOK_EOM, NULL, 0));
		s->at_eom = 0;
		return d;
	}
	reply_clear(&s->reply);
	message_view(s);
	s->first_action = 0;
	if (mfl_run_main(s->run) < 0)
		return run_error_answer(s, NULL);
	take_actions(s);
	s->at_eom = 0;
	return header_edits(s, s->reply.decision);
}

/* session_message_done - the message is over (after eom's answer and
 * changes, or an abort): only the globals stay; the message's memory is
 * retired until the next one (settle) */
void
session_message_done(struct session *s)
{
	mfl_run_end_message(s->run);
	s->retired = 1;
	changes_free(s);
	delivery_reset(s);
	s->at_eom = 0;
	s->grey_noted = 0;
	s->grey_delayed = 0;
	free(s->dkim_key);
	s->dkim_key = NULL;
	session_msa_pending(s, NULL, NULL, NULL);	/* no recipient: no message */
	free(s->sender);
	s->sender = NULL;
	s->nrcpt = 0;
	s->in_message = 0;
	s->queue_id[0] = 0;
	s->first_action = 0;
	set_str_var(s, "queue_id", "");
	set_str_var(s, "mail_from", "");
}

/* session_abort - the message was given up (RSET, or the MTA's error) */
void
session_abort(struct session *s)
{
	run_hook(s, HOOK_ABORT, NULL, 0);
	session_message_done(s);
}

/* session_close - the connection ends */
void
session_close(struct session *s)
{
	if (s->in_message)
		session_message_done(s);
	run_hook(s, HOOK_CLOSE, NULL, 0);
}

/* session_unknown - a command the MTA does not know */
enum decision
session_unknown(struct session *s, const char *cmd)
{
	struct value arg = value_str(cmd, strlen(cmd));

	return run_hook(s, HOOK_UNKNOWN, &arg, 1);
}

/* session_change - queue a change for the end of the message */
int
session_change(struct session *s, enum change_kind kind, const char *name,
	       const char *value, size_t value_len, int index)
{
	if (s->nchanges >= 10000
	    || change_append(&s->changes_tail, kind, name, value, value_len, index) < 0)
		return -1;
	s->nchanges++;
	return 0;
}
