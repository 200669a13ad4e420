/*
 * callbacks - the milter engine's callbacks (engine.c), each a short
 * translator: the MTA's arguments into a session_*() call (session.c),
 * its decision back as an ENG_ status and an SMTP reply. At end of
 * message the changes the hooks queued are made here.
 *
 * Negotiation asks the MTA for what the program uses and no more: the
 * steps without a hook are switched off (NO*) or, when the session
 * needs their data, made reply-less (NR_*); the macros the script
 * names (with i, and j for SPF) are requested with eng_setsymlist, so
 * the MTA sends no others. A script with nothing to do
 * past DATA accepts the message there (NEED_DATA_ACCEPT), which spares
 * the MTA the rest of the message's steps.
 *
 * DIAGNOSTICS: a message change the MTA refuses is logged and the
 * message is answered with a temporary failure, so it is not passed
 * on without the change.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "delivery.h"
#include "engine.h"
#include "mvmtr.h"

#define MAX_REPLY_LINES	32	/* as libmilter's smfi_setmlreply */

static atomic_ulong connections;

/* Per connection: the session and which callbacks must not reply. */
struct conn {
	struct session *s;
	uint32_t noreply;	/* ENG_NR_ bits negotiated */
};

/* getsymval - eng_getsymval for session.c, which does not see the engine */
static const char *
getsymval(void *ctx, const char *name)
{
	return eng_getsymval(ctx, name);
}

/* conn_of - the connection state, with the macro access ready */
static struct conn *
conn_of(struct eng_ctx *ctx)
{
	struct conn *c = eng_getpriv(ctx);

	if (c != NULL)
		c->s->ctx = ctx;
	return c;
}

/* reply_line - LINE made safe for a reply: '%' doubled (Sendmail and
 * Postfix read "%%" as "%", as libmilter's users write it), control
 * characters dropped */
static char *
reply_line(const char *line, size_t len)
{
	char *out = malloc(2 * len + 1), *p = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char) line[i];

		if (ch == '%')
			*p++ = '%';
		if (ch >= 32 && ch != 127)
			*p++ = (char) ch;
	}
	*p = 0;
	return out;
}

/* set_reply - the SMTP reply of R (one line, or several) */
static void
set_reply(struct eng_ctx *ctx, const struct reply *r)
{
	/* session_set_reply() gave a code to any reply with a text */
	const char *code = r->code;
	const char *xcode = *r->xcode ? r->xcode : NULL;
	char *lines[MAX_REPLY_LINES + 1] = { NULL };
	const char *p = r->text, *nl;
	int n = 0;

	if (!*r->code)
		return;		/* the MTA's own reply */
	if (p == NULL)
		p = r->decision == DEC_TEMPFAIL ? "Try again later" : "Rejected";
	for (; n < MAX_REPLY_LINES; p = nl + 1) {
		nl = strchr(p, '\n');
		if ((lines[n] = reply_line(p, nl ? (size_t) (nl - p) : strlen(p))) == NULL)
			break;
		n++;
		if (nl == NULL || nl[1] == 0)
			break;
	}
	if (n > 0 && eng_setreply(ctx, code, xcode, (const char *const *) lines, (size_t) n) < 0)
		mtr_log(LOG_WARNING, "reply %s %s not usable; the MTA's own is given", code,
			xcode ? xcode : "");
	for (int i = 0; i < n; i++)
		free(lines[i]);
}

/* answer - decision D at STAGE (NR: that callback must not reply) */
static enum eng_status
answer(struct eng_ctx *ctx, struct conn *c, enum decision d, const char *stage,
       uint32_t nr, const char *rcpt)
{
	static const char *const names[] = {
		[DEC_CONTINUE] = "continue", [DEC_ACCEPT] = "accept",
		[DEC_REJECT] = "reject", [DEC_TEMPFAIL] = "tempfail",
		[DEC_DISCARD] = "discard",
	};
	struct session *s = c->s;

	if (d == DEC_CONTINUE)
		return (c->noreply & nr) ? ENG_NOREPLY : ENG_CONTINUE;
	if (c->noreply & nr) {
		/* after a failed top level the next step waited for answers */
		if (!s->start_failed)
			session_log(s, LOG_WARNING, "%s at %s ignored: the MTA was told not "
				    "to wait for a reply there", names[d], stage);
		return ENG_NOREPLY;
	}
	session_log(s, LOG_INFO, "%s: %s from %s[%s]%s%s%s%s%s%s; from=<%s>%s%s%s", names[d],
		    stage, s->client_host, s->client_addr,
		    *s->reply.code || *s->reply.xcode || s->reply.text ? ": " : "", s->reply.code,
		    *s->reply.code ? " " : "", s->reply.xcode, *s->reply.xcode ? " " : "",
		    s->reply.text ? s->reply.text : "", s->sender ? s->sender : "",
		    rcpt ? " to=<" : "", rcpt ? rcpt : "", rcpt ? ">" : "");
	if (d == DEC_REJECT || d == DEC_TEMPFAIL)
		set_reply(ctx, &s->reply);
	switch (d) {
	case DEC_ACCEPT:
		return ENG_ACCEPT;
	case DEC_REJECT:
		return ENG_REJECT;
	case DEC_DISCARD:
		return ENG_DISCARD;
	default:
		return ENG_TEMPFAIL;
	}
}

/* cb_negotiate - a connection starts: take the program, say what we need */
static enum eng_status
cb_negotiate(struct eng_ctx *ctx, uint32_t actions, uint32_t steps,
	     uint32_t *actions_r, uint32_t *steps_r)
{
	struct program *pg = program_get();
	struct conn *c = calloc(1, sizeof(*c));
	uint32_t want = 0, nr = 0;
	int hooks;

	if (pg == NULL || c == NULL
	    || (c->s = session_new(pg, program_store(),
				   atomic_fetch_add(&connections, 1) + 1)) == NULL) {
		mtr_log(LOG_ERR, "out of memory for a new connection");
		program_put(pg);
		free(c);
		return ENG_TEMPFAIL;
	}
	hooks = pg->hooks;
	c->s->getsymval = getsymval;
	c->s->ctx = ctx;
	eng_setpriv(ctx, c);
#define OFF(need, flag)		if (!(need)) want |= (flag)
#define QUIET(hook, flag)	if (!(hooks & (1 << (hook)))) nr |= (flag)
	OFF(pg->needs & NEED_HELO || hooks & (1 << HOOK_HELO), ENG_NOHELO);
	OFF(pg->needs & NEED_DATA, ENG_NODATA);
	OFF(pg->needs & NEED_HEADERS, ENG_NOHDRS);
	OFF(pg->needs & (NEED_EOH | NEED_HEADERS), ENG_NOEOH);
	OFF(pg->needs & NEED_BODY, ENG_NOBODY);
	OFF(pg->needs & NEED_UNKNOWN, ENG_NOUNKNOWN);
	if (pg->rcpt_rej)
		want |= ENG_RCPT_REJ;
	QUIET(HOOK_CONNECT, ENG_NR_CONN);
	QUIET(HOOK_HELO, ENG_NR_HELO);
	QUIET(HOOK_ENVFROM, ENG_NR_MAIL);
	if (!pg->delivery_check)	/* mvmda's service may refuse a recipient */
		QUIET(HOOK_ENVRCPT, ENG_NR_RCPT);
	if (!(pg->needs & (NEED_DATA_ACCEPT | NEED_DATA_UNLESS_ASKED)))
		QUIET(HOOK_DATA, ENG_NR_DATA);
	QUIET(HOOK_HEADER, ENG_NR_HDR);
	QUIET(HOOK_EOH, ENG_NR_EOH);
	QUIET(HOOK_BODY, ENG_NR_BODY);
	QUIET(HOOK_UNKNOWN, ENG_NR_UNKN);
#undef OFF
#undef QUIET
	*actions_r = actions & (ENG_ADDHDRS | ENG_CHGHDRS | ENG_CHGBODY | ENG_ADDRCPT
				| ENG_ADDRCPT_PAR | ENG_DELRCPT | ENG_QUARANTINE
				| ENG_CHGFROM | ENG_SETSYMLIST);
	*steps_r = steps & (want | nr);
	c->noreply = *steps_r & nr;
	if (pg->symlist != NULL && pg->symlist_connect != NULL && (actions & ENG_SETSYMLIST))
		for (int stage = 0; stage < ENG_STAGES; stage++)
			eng_setsymlist(ctx, stage, stage == ENG_AT_CONNECT ? pg->symlist_connect
				       : pg->symlist);
	return ENG_CONTINUE;
}

/* cb_connect - the client */
static enum eng_status
cb_connect(struct eng_ctx *ctx, const char *host, const struct sockaddr *sa)
{
	struct conn *c = conn_of(ctx);

	if (c == NULL)
		return ENG_TEMPFAIL;
	return answer(ctx, c, session_connect(c->s, host, sa), "CONNECT", ENG_NR_CONN, NULL);
}

/* cb_helo - HELO/EHLO */
static enum eng_status
cb_helo(struct eng_ctx *ctx, const char *helo)
{
	struct conn *c = conn_of(ctx);

	return answer(ctx, c, session_helo(c->s, helo), "HELO", ENG_NR_HELO, NULL);
}

/* cb_envfrom - MAIL FROM with its ESMTP arguments */
static enum eng_status
cb_envfrom(struct eng_ctx *ctx, char **argv)
{
	struct conn *c = conn_of(ctx);

	return answer(ctx, c, session_envfrom(c->s, argv), "MAIL", ENG_NR_MAIL, NULL);
}

/* cb_envrcpt - RCPT TO with its ESMTP arguments */
static enum eng_status
cb_envrcpt(struct eng_ctx *ctx, char **argv)
{
	struct conn *c = conn_of(ctx);

	enum decision d = session_envrcpt(c->s, argv);
	char rcpt[512];
	size_t len;

	snprintf(rcpt, sizeof(rcpt), "%s", argv[0] && argv[0][0] == '<' ? argv[0] + 1 : argv[0] ? argv[0] : "");
	if ((len = strlen(rcpt)) > 0 && rcpt[len - 1] == '>')
		rcpt[len - 1] = 0;
	return answer(ctx, c, d, "RCPT", ENG_NR_RCPT, rcpt);
}

/* cb_data - DATA; with nothing left to do for the message (no content
 * hook or test, no change queued) it is accepted here */
static enum eng_status
cb_data(struct eng_ctx *ctx)
{
	struct conn *c = conn_of(ctx);
	enum decision d = session_data(c->s);

	/* (negotiation gave such a script a DATA step that replies) */
	if (d == DEC_CONTINUE && (c->s->pg->needs & NEED_DATA_ACCEPT) && c->s->changes == NULL
	    && !session_eom_needed(c->s)) {
		session_log(c->s, LOG_DEBUG, "nothing to do past DATA: the message is accepted");
		return ENG_ACCEPT;
	}
	/* the same with mvmda's service asked, when every recipient's
	 * scripts have decided on the envelope */
	if (d == DEC_CONTINUE && (c->s->pg->needs & NEED_DATA_UNLESS_ASKED) && c->s->changes == NULL
	    && !delivery_pending(c->s) && !session_eom_needed(c->s)) {
		session_log(c->s, LOG_DEBUG, "nothing to do past DATA: no recipient's script "
			    "needs the message; it is accepted");
		return ENG_ACCEPT;
	}
	return answer(ctx, c, d, "DATA", ENG_NR_DATA, NULL);
}

/* cb_header - one header field */
static enum eng_status
cb_header(struct eng_ctx *ctx, const char *name, const char *value)
{
	struct conn *c = conn_of(ctx);

	return answer(ctx, c, session_header(c->s, name, value), "HEADER", ENG_NR_HDR, NULL);
}

/* cb_eoh - end of header */
static enum eng_status
cb_eoh(struct eng_ctx *ctx)
{
	struct conn *c = conn_of(ctx);

	return answer(ctx, c, session_eoh(c->s), "EOH", ENG_NR_EOH, NULL);
}

/* cb_body - a body chunk */
static enum eng_status
cb_body(struct eng_ctx *ctx, const unsigned char *data, size_t len)
{
	struct conn *c = conn_of(ctx);

	return answer(ctx, c, session_body(c->s, data, len), "BODY", ENG_NR_BODY, NULL);
}

/* apply - one queued change; 0, or -1 when the MTA cannot take it */
static int
apply(struct eng_ctx *ctx, const struct change *ch)
{
	switch (ch->kind) {
	case CHG_HEADER_ADD:
		return eng_addheader(ctx, ch->name, ch->value);
	case CHG_HEADER_INSERT:
		return eng_insheader(ctx, ch->index, ch->name, ch->value);
	case CHG_HEADER_CHANGE:
		return eng_chgheader(ctx, ch->name, ch->index, ch->value_len ? ch->value : NULL);
	case CHG_RCPT_ADD:
		return eng_addrcpt(ctx, ch->name, ch->value);
	case CHG_RCPT_DELETE:
		return eng_delrcpt(ctx, ch->name);
	case CHG_SENDER:
		return eng_chgfrom(ctx, ch->name, ch->value);
	case CHG_BODY:
		return eng_replacebody(ctx, (const unsigned char *) ch->value, ch->value_len);
	case CHG_QUARANTINE:
		return eng_quarantine(ctx, ch->name);
	}
	return -1;
}

/* cb_eom - end of message: the last decision, then the changes */
static enum eng_status
cb_eom(struct eng_ctx *ctx)
{
	static const char *const what[] = {
		[CHG_HEADER_ADD] = "add header", [CHG_HEADER_INSERT] = "insert header",
		[CHG_HEADER_CHANGE] = "change header", [CHG_RCPT_ADD] = "add recipient",
		[CHG_RCPT_DELETE] = "delete recipient", [CHG_SENDER] = "change sender",
		[CHG_BODY] = "replace body", [CHG_QUARANTINE] = "quarantine",
	};
	struct conn *c = conn_of(ctx);
	struct session *s = c->s;
	enum decision d = session_eom(s);
	enum eng_status rc;

	if (d == DEC_CONTINUE || d == DEC_ACCEPT) {
		for (const struct change *ch = s->changes; ch != NULL; ch = ch->next) {
			if (apply(ctx, ch) == 0) {
				session_log(s, LOG_DEBUG, "%s: %s", what[ch->kind], ch->name ? ch->name : "");
				continue;
			}
			session_log(s, LOG_ERR, "the MTA refused to %s %s (not negotiated?); "
				    "answering tempfail", what[ch->kind], ch->name ? ch->name : "");
			session_override(s, DEC_TEMPFAIL, "451", "4.3.0",
					 "Mail filter could not change the message", 40);
			d = DEC_TEMPFAIL;
			break;
		}
	}
	rc = answer(ctx, c, d, "END-OF-MESSAGE", 0, NULL);
	session_message_done(s);
	return rc;
}

/* cb_abort - the message is given up */
static void
cb_abort(struct eng_ctx *ctx)
{
	struct conn *c = conn_of(ctx);

	if (c != NULL)
		session_abort(c->s);
}

/* cb_close - the connection ends */
static void
cb_close(struct eng_ctx *ctx)
{
	struct conn *c = conn_of(ctx);
	struct program *pg;

	if (c == NULL)
		return;
	pg = c->s->pg;
	session_close(c->s);
	session_free(c->s);
	program_put(pg);	/* taken in cb_negotiate */
	free(c);
	eng_setpriv(ctx, NULL);
}

/* cb_unknown - an SMTP command the MTA does not know */
static enum eng_status
cb_unknown(struct eng_ctx *ctx, const char *cmd)
{
	struct conn *c = conn_of(ctx);

	return answer(ctx, c, session_unknown(c->s, cmd), "UNKNOWN", ENG_NR_UNKN, NULL);
}

const struct eng_filter mvmtr_filter = {
	.negotiate = cb_negotiate,
	.connect = cb_connect,
	.helo = cb_helo,
	.envfrom = cb_envfrom,
	.envrcpt = cb_envrcpt,
	.data = cb_data,
	.header = cb_header,
	.eoh = cb_eoh,
	.body = cb_body,
	.eom = cb_eom,
	.abort = cb_abort,
	.close = cb_close,
	.unknown = cb_unknown,
};
