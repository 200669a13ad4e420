/*
 * smtpd_session - the SMTP server's policy in the server's own process:
 * mvmtr's session (session.c) on a compiled program, each step of
 * struct smtpd_policy one session_*() call. t/fuzz/smtpd_fuzz.c drives
 * the server with it, so a fuzzed dialogue runs real hooks without a
 * daemon; mvmtr-smtpd itself asks a running mvmtr (milter_client.c).
 * The content steps it wants are the ones the milter would negotiate:
 * the header, end of header and body when the script reads them or has
 * their hook.
 *
 * DIAGNOSTICS: as session.c's (runtime errors logged with the script's
 * file:line, answered with $mvmtr_default_action).
 */
#include "config.h"

#include <stdlib.h>

#include "smtpd.h"

struct session_policy {
	struct smtpd_policy p;		/* first: the receiver's view */
	struct session *s;
};

#define S(p) (((struct session_policy *) (p))->s)

static const char *
macro(void *ctx, const char *name)
{
	struct smtpd_policy *p = ctx;

	return p->macro != NULL ? p->macro(p->macro_ctx, name) : NULL;
}

static enum decision
connect_(struct smtpd_policy *p, const char *host, const struct sockaddr *sa)
{
	return session_connect(S(p), host, sa);
}

static enum decision
helo(struct smtpd_policy *p, const char *name)
{
	return session_helo(S(p), name);
}

static enum decision
envfrom(struct smtpd_policy *p, char **argv)
{
	return session_envfrom(S(p), argv);
}

static enum decision
envrcpt(struct smtpd_policy *p, char **argv)
{
	return session_envrcpt(S(p), argv);
}

static enum decision
data(struct smtpd_policy *p)
{
	return session_data(S(p));
}

static enum decision
header(struct smtpd_policy *p, const char *name, const char *value)
{
	return session_header(S(p), name, value);
}

static enum decision
eoh(struct smtpd_policy *p)
{
	return session_eoh(S(p));
}

static enum decision
body(struct smtpd_policy *p, const unsigned char *chunk, size_t len)
{
	return session_body(S(p), chunk, len);
}

static enum decision
eom(struct smtpd_policy *p)
{
	return session_eom(S(p));
}

static enum decision
unknown(struct smtpd_policy *p, const char *cmd)
{
	return session_unknown(S(p), cmd);
}

static void
abort_(struct smtpd_policy *p)
{
	if (S(p)->in_message)
		session_abort(S(p));
}

static void
message_done(struct smtpd_policy *p)
{
	if (S(p)->in_message)
		session_message_done(S(p));
}

static void
close_(struct smtpd_policy *p)
{
	session_close(S(p));
}

static void
free_(struct smtpd_policy *p)
{
	session_free(S(p));
	free(p);
}

static const struct reply *
reply(struct smtpd_policy *p)
{
	return &S(p)->reply;
}

static const struct change *
changes(struct smtpd_policy *p)
{
	return S(p)->changes;
}

static unsigned
wants(struct smtpd_policy *p)
{
	const struct program *pg = S(p)->pg;
	unsigned w = 0;

	if ((pg->needs & (NEED_HEADERS | NEED_EOH)) || (pg->hooks & (1 << HOOK_HEADER)))
		w |= SMTPD_WANT_HEADERS;
	if ((pg->needs & (NEED_HEADERS | NEED_EOH)) || (pg->hooks & (1 << HOOK_EOH)))
		w |= SMTPD_WANT_EOH;
	if ((pg->needs & NEED_BODY) || (pg->hooks & (1 << HOOK_BODY)))
		w |= SMTPD_WANT_BODY;
	return w;
}

struct smtpd_policy *
smtpd_session_policy(struct program *pg, struct store *store)
{
	static unsigned long connections;
	struct session_policy *sp = calloc(1, sizeof(*sp));

	if (sp == NULL || (sp->s = session_new(pg, store, ++connections)) == NULL) {
		free(sp);
		return NULL;
	}
	sp->s->getsymval = macro;
	sp->s->ctx = &sp->p;
	sp->p = (struct smtpd_policy) {
		.connect = connect_, .helo = helo, .envfrom = envfrom, .envrcpt = envrcpt,
		.data = data, .header = header, .eoh = eoh, .body = body, .eom = eom,
		.unknown = unknown, .abort = abort_, .message_done = message_done,
		.close = close_, .free = free_, .reply = reply, .changes = changes,
		.wants = wants,
	};
	return &sp->p;
}
