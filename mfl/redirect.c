/*
 * redirect - what a redirected copy carries, by Pigeonhole's rules, for
 * every host that sends one (mvmda, the testsuite): its envelope sender,
 * chosen by $mfl_redirect_envelope_from, and an X-Sieve-Redirected-From
 * field naming the user ($mfl_user_email, else the recipient), by which a
 * copy that comes back to the same user is known as a loop.
 *
 * DIAGNOSTICS: none; a policy that cannot be read keeps the sender.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mflapi.h"
#include "redirect.h"
#include "msg/msg.h"

/* mfl_redirect_user - who redirects: USER_EMAIL when set, else the
 * envelope recipient */
const char *
mfl_redirect_user(const char *user_email, const char *recipient)
{
	return user_email != NULL && *user_email ? user_email : recipient ? recipient : "";
}

/* policy_address - the address a Dovecot-style address policy picks
 * (redirect's, notify's and report's settings): "sender", "recipient",
 * "orig_recipient" (else the recipient), "user_email" (else the
 * recipient), "<address>" or "<>" (into BUF); NULL for any other policy
 * ("postmaster" among them) and for an address E does not know */
const char *
policy_address(const char *policy, const struct mfl_report_env *e, char *buf, size_t size)
{
	const char *p = policy ? policy : "";
	size_t len;

	while (*p == ' ' || *p == '\t')
		p++;
	len = strlen(p);
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len >= 2 && p[0] == '<' && p[len - 1] == '>') {
		snprintf(buf, size, "%.*s", (int) (len - 2), p + 1);
		return buf;
	}
	if (len == 6 && strncasecmp(p, "sender", 6) == 0)
		return e->sender && *e->sender ? e->sender : NULL;
	if (len == 9 && strncasecmp(p, "recipient", 9) == 0)
		return e->recipient;
	if (len == 14 && strncasecmp(p, "orig_recipient", 14) == 0)
		return e->orig_recipient && *e->orig_recipient ? e->orig_recipient : e->recipient;
	if (len == 10 && strncasecmp(p, "user_email", 10) == 0)
		return e->user_email && *e->user_email ? e->user_email : e->recipient;
	return NULL;
}

/* mfl_redirect_sender - the envelope sender of a redirected copy: the
 * null sender stays null (no bounce to anyone for a bounce); else as
 * POLICY says (policy_address), the sender by default */
const char *
mfl_redirect_sender(const char *policy, const char *user_email, const char *sender,
		    const char *recipient, const char *orig_recipient, char *buf, size_t size)
{
	struct mfl_report_env e = { .user_email = user_email, .sender = sender,
				    .recipient = recipient, .orig_recipient = orig_recipient };
	const char *p;

	if (sender == NULL || !*sender)
		return "";
	return (p = policy_address(policy, &e, buf, size)) != NULL ? p : sender;
}

/* names - one of MSG's X-Sieve-Redirected-From fields names USER (any
 * case) */
static int
names(struct msg *msg, const char *user)
{
	struct hdr_index *h = msg != NULL ? msg_headers(msg) : NULL;
	size_t ulen = user != NULL ? strlen(user) : 0;
	struct hdr_field *f;

	for (size_t i = 0; h != NULL && ulen > 0
	     && (f = hdr_find(h, "X-Sieve-Redirected-From", 23, i)) != NULL; i++) {
		const char *v = f->value;
		size_t n = f->value_len;

		while (n > 0 && (*v == ' ' || *v == '\t' || *v == '<'))
			v++, n--;
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\r' || v[n - 1] == '\n'
				 || v[n - 1] == '>'))
			n--;
		if (n == ulen && strncasecmp(v, user, n) == 0)
			return 1;
	}
	return 0;
}

/* mfl_redirect_loop - MSG already came through a redirect of this user:
 * an X-Sieve-Redirected-From field names USER_EMAIL or the RECIPIENT */
int
mfl_redirect_loop(struct msg *msg, const char *user_email, const char *recipient)
{
	return names(msg, user_email) || names(msg, recipient);
}
