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
#include "msg/msg.h"

/* mfl_redirect_user - who redirects: USER_EMAIL when set, else the
 * envelope recipient */
const char *
mfl_redirect_user(const char *user_email, const char *recipient)
{
	return user_email != NULL && *user_email ? user_email : recipient ? recipient : "";
}

/* mfl_redirect_sender - the envelope sender of a redirected copy: the
 * null sender stays null (no bounce to anyone for a bounce); else as
 * POLICY says: "sender" (the default), "recipient", "orig_recipient",
 * "user_email", "<address>" or "<>"; BUF holds an explicit address */
const char *
mfl_redirect_sender(const char *policy, const char *user_email, const char *sender,
		    const char *recipient, const char *orig_recipient, char *buf, size_t size)
{
	size_t len;

	if (sender == NULL || !*sender || policy == NULL)
		return sender ? sender : "";
	while (*policy == ' ' || *policy == '\t')
		policy++;
	len = strlen(policy);
	while (len > 0 && (policy[len - 1] == ' ' || policy[len - 1] == '\t'))
		len--;
	if (len >= 2 && policy[0] == '<' && policy[len - 1] == '>') {
		snprintf(buf, size, "%.*s", (int) (len - 2), policy + 1);
		return buf;
	}
	if (len == 9 && strncasecmp(policy, "recipient", 9) == 0)
		return recipient ? recipient : sender;
	if (len == 14 && strncasecmp(policy, "orig_recipient", 14) == 0)
		return orig_recipient && *orig_recipient ? orig_recipient
		    : recipient ? recipient : sender;
	if (len == 10 && strncasecmp(policy, "user_email", 10) == 0)
		return mfl_redirect_user(user_email, recipient ? recipient : sender);
	return sender;
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
