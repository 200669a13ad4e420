/*
 * callbacks - libmilter's callbacks, each a short translator: the MTA's
 * arguments into a session_*() call (session.c), its decision back as
 * an SMFIS_ code and an SMTP reply. At end of message the changes the
 * hooks queued are made here, the only place besides main.c that
 * speaks libmilter.
 *
 * Negotiation asks the MTA for what the program uses and no more: the
 * callbacks without a hook are switched off (SMFIP_NO*) or, when the
 * session needs their data, made reply-less (SMFIP_NR_*); the macros
 * the script names are requested with smfi_setsymlist.
 *
 * DIAGNOSTICS: a message change the MTA refuses is logged and the
 * message is answered with a temporary failure, so it is not passed
 * on without the change.
 */
#include "config.h"

#include <libmilter/mfapi.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "mvmtr.h"

#define MAX_REPLY_LINES	32	/* smfi_setmlreply's limit */

static atomic_ulong connections;

/* Per connection: the session and which callbacks must not reply. */
struct conn {
	struct session *s;
	unsigned long noreply;	/* SMFIP_NR_ bits negotiated */
};

/* getsymval - smfi_getsymval for session.c, which does not see libmilter */
static const char *
getsymval(void *ctx, const char *name)
{
	return smfi_getsymval(ctx, (char *) name);
}

/* conn_of - the connection state, with the macro access ready */
static struct conn *
conn_of(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		c->s->ctx = ctx;
	return c;
}

/* reply_line - LINE made safe for smfi_setreply: '%' doubled, control
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
set_reply(SMFICTX *ctx, const struct reply *r)
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
	if (n <= 1)
		smfi_setreply(ctx, (char *) code, (char *) xcode, lines[0]);
	else
		smfi_setmlreply(ctx, code, xcode, lines[0], lines[1], lines[2], lines[3],
				lines[4], lines[5], lines[6], lines[7], lines[8], lines[9],
				lines[10], lines[11], lines[12], lines[13], lines[14],
				lines[15], lines[16], lines[17], lines[18], lines[19],
				lines[20], lines[21], lines[22], lines[23], lines[24],
				lines[25], lines[26], lines[27], lines[28], lines[29],
				lines[30], lines[31], (char *) NULL);
	for (int i = 0; i < n; i++)
		free(lines[i]);
}

/* answer - decision D at STAGE (NR: that callback must not reply) */
static sfsistat
answer(SMFICTX *ctx, struct conn *c, enum decision d, const char *stage,
       unsigned long nr, const char *rcpt)
{
	static const char *const names[] = {
		[DEC_CONTINUE] = "continue", [DEC_ACCEPT] = "accept",
		[DEC_REJECT] = "reject", [DEC_TEMPFAIL] = "tempfail",
		[DEC_DISCARD] = "discard",
	};
	struct session *s = c->s;

	if (d == DEC_CONTINUE)
		return (c->noreply & nr) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
	if (c->noreply & nr) {
		session_log(s, LOG_WARNING, "%s at %s ignored: the MTA was told not to wait "
			    "for a reply there", names[d], stage);
		return SMFIS_NOREPLY;
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
		return SMFIS_ACCEPT;
	case DEC_REJECT:
		return SMFIS_REJECT;
	case DEC_DISCARD:
		return SMFIS_DISCARD;
	default:
		return SMFIS_TEMPFAIL;
	}
}

/* cb_negotiate - a connection starts: take the program, say what we need */
static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	     unsigned long f2, unsigned long f3, unsigned long *pf0,
	     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct program *pg = program_get();
	struct conn *c = calloc(1, sizeof(*c));
	unsigned long want = 0, nr = 0;
	int hooks;

	(void) f2;
	(void) f3;
	if (pg == NULL || c == NULL
	    || (c->s = session_new(pg, atomic_fetch_add(&connections, 1) + 1)) == NULL) {
		mtr_log(LOG_ERR, "out of memory for a new connection");
		program_put(pg);
		free(c);
		return SMFIS_TEMPFAIL;
	}
	hooks = pg->hooks;
	c->s->getsymval = getsymval;
	c->s->ctx = ctx;
	smfi_setpriv(ctx, c);
#define OFF(need, flag)		if (!(need)) want |= (flag)
#define QUIET(hook, flag)	if (!(hooks & (1 << (hook)))) nr |= (flag)
	OFF(pg->needs & NEED_HELO || hooks & (1 << HOOK_HELO), SMFIP_NOHELO);
	OFF(pg->needs & NEED_DATA, SMFIP_NODATA);
	OFF(pg->needs & NEED_HEADERS, SMFIP_NOHDRS);
	OFF(pg->needs & (NEED_EOH | NEED_HEADERS), SMFIP_NOEOH);
	OFF(pg->needs & NEED_BODY, SMFIP_NOBODY);
	OFF(pg->needs & NEED_UNKNOWN, SMFIP_NOUNKNOWN);
	QUIET(HOOK_CONNECT, SMFIP_NR_CONN);
	QUIET(HOOK_HELO, SMFIP_NR_HELO);
	QUIET(HOOK_ENVFROM, SMFIP_NR_MAIL);
	QUIET(HOOK_ENVRCPT, SMFIP_NR_RCPT);
	QUIET(HOOK_DATA, SMFIP_NR_DATA);
	QUIET(HOOK_HEADER, SMFIP_NR_HDR);
	QUIET(HOOK_EOH, SMFIP_NR_EOH);
	QUIET(HOOK_BODY, SMFIP_NR_BODY);
	QUIET(HOOK_UNKNOWN, SMFIP_NR_UNKN);
#undef OFF
#undef QUIET
	/* the top level runs at connect, in MFL mode: it may fail there */
	if (!pg->sieve)
		nr &= ~SMFIP_NR_CONN;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT
		     | SMFIF_ADDRCPT_PAR | SMFIF_DELRCPT | SMFIF_QUARANTINE
		     | SMFIF_CHGFROM | SMFIF_SETSYMLIST);
	*pf1 = f1 & (want | nr);
	c->noreply = *pf1 & nr;
	*pf2 = 0;
	*pf3 = 0;
	if (pg->macros != NULL && (f0 & SMFIF_SETSYMLIST)) {
		char list[2048];

		snprintf(list, sizeof(list), "i %s", pg->macros);
		for (int stage = SMFIM_CONNECT; stage <= SMFIM_EOH; stage++)
			smfi_setsymlist(ctx, stage, list);
	}
	return SMFIS_CONTINUE;
}

/* cb_connect - the client */
static sfsistat
cb_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct conn *c = conn_of(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	return answer(ctx, c, session_connect(c->s, host, sa), "CONNECT", SMFIP_NR_CONN, NULL);
}

/* cb_helo - HELO/EHLO */
static sfsistat
cb_helo(SMFICTX *ctx, char *helo)
{
	struct conn *c = conn_of(ctx);

	return answer(ctx, c, session_helo(c->s, helo), "HELO", SMFIP_NR_HELO, NULL);
}

/* cb_envfrom - MAIL FROM with its ESMTP arguments */
static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_of(ctx);

	return answer(ctx, c, session_envfrom(c->s, argv), "MAIL", SMFIP_NR_MAIL, NULL);
}

/* cb_envrcpt - RCPT TO with its ESMTP arguments */
static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_of(ctx);

	enum decision d = session_envrcpt(c->s, argv);
	char rcpt[512];
	size_t len;

	snprintf(rcpt, sizeof(rcpt), "%s", argv[0] && argv[0][0] == '<' ? argv[0] + 1 : argv[0] ? argv[0] : "");
	if ((len = strlen(rcpt)) > 0 && rcpt[len - 1] == '>')
		rcpt[len - 1] = 0;
	return answer(ctx, c, d, "RCPT", SMFIP_NR_RCPT, rcpt);
}

/* cb_data - DATA */
static sfsistat
cb_data(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);

	return answer(ctx, c, session_data(c->s), "DATA", SMFIP_NR_DATA, NULL);
}

/* cb_header - one header field */
static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = conn_of(ctx);

	return answer(ctx, c, session_header(c->s, name, value), "HEADER", SMFIP_NR_HDR, NULL);
}

/* cb_eoh - end of header */
static sfsistat
cb_eoh(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);

	return answer(ctx, c, session_eoh(c->s), "EOH", SMFIP_NR_EOH, NULL);
}

/* cb_body - a body chunk */
static sfsistat
cb_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct conn *c = conn_of(ctx);

	return answer(ctx, c, session_body(c->s, data, len), "BODY", SMFIP_NR_BODY, NULL);
}

/* apply - one queued change; MI_SUCCESS or MI_FAILURE */
static int
apply(SMFICTX *ctx, const struct change *ch)
{
	switch (ch->kind) {
	case CHG_HEADER_ADD:
		return smfi_addheader(ctx, ch->name, ch->value);
	case CHG_HEADER_INSERT:
		return smfi_insheader(ctx, ch->index, ch->name, ch->value);
	case CHG_HEADER_CHANGE:
		return smfi_chgheader(ctx, ch->name, ch->index,
				      ch->value_len ? ch->value : NULL);
	case CHG_RCPT_ADD:
		return ch->value ? smfi_addrcpt_par(ctx, ch->name, ch->value)
		    : smfi_addrcpt(ctx, ch->name);
	case CHG_RCPT_DELETE:
		return smfi_delrcpt(ctx, ch->name);
	case CHG_SENDER:
		return smfi_chgfrom(ctx, ch->name, ch->value);
	case CHG_BODY:
		return smfi_replacebody(ctx, (unsigned char *) ch->value, (int) ch->value_len);
	case CHG_QUARANTINE:
		return smfi_quarantine(ctx, ch->name);
	}
	return MI_FAILURE;
}

/* cb_eom - end of message: the last decision, then the changes */
static sfsistat
cb_eom(SMFICTX *ctx)
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
	sfsistat rc;

	if (d == DEC_CONTINUE || d == DEC_ACCEPT) {
		for (const struct change *ch = s->changes; ch != NULL; ch = ch->next) {
			if (apply(ctx, ch) == MI_SUCCESS) {
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
static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);

	if (c != NULL)
		session_abort(c->s);
	return SMFIS_CONTINUE;
}

/* cb_close - the connection ends */
static sfsistat
cb_close(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	session_close(c->s);
	session_free(c->s);
	free(c);
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

/* cb_unknown - an SMTP command the MTA does not know */
static sfsistat
cb_unknown(SMFICTX *ctx, const char *cmd)
{
	struct conn *c = conn_of(ctx);

	return answer(ctx, c, session_unknown(c->s, cmd), "UNKNOWN", SMFIP_NR_UNKN, NULL);
}

struct smfiDesc mvmtr_desc = {
	.xxfi_name = "mvmtr",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT
	    | SMFIF_ADDRCPT_PAR | SMFIF_DELRCPT | SMFIF_QUARANTINE | SMFIF_CHGFROM
	    | SMFIF_SETSYMLIST,
	.xxfi_connect = cb_connect,
	.xxfi_helo = cb_helo,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eoh = cb_eoh,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_unknown = cb_unknown,
	.xxfi_data = cb_data,
	.xxfi_negotiate = cb_negotiate,
};
