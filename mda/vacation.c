/*
 * vacation - carry out a Sieve vacation action (RFC 5230, RFC 6131) in
 * mvmda: whether the message deserves an answer and the answer's text
 * are libmfl's (mfl/vacation.c, which mflc -T uses too); here it is
 * sent through the local sendmail from the null sender, at most once per
 * sender and handle within the period (remembered in the user's state
 * file, state.c, and claimed before the reply goes out, so two
 * deliveries at once answer once).
 *
 * DIAGNOSTICS: every decision is logged with the recipient; a reply
 * that cannot be sent or remembered is logged and the delivery goes on.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mda.h"
#include "mfl.h"
#include "msg/msg.h"
#include "state.h"
#include "vacation.h"

/* vacation - answer the sender if RFC 5230 lets us, remembering whom in
 * the state file at PATH, replying through SEND (a copy through COPY when
 * it has :fcc); 0 always (a reply
 * that does not go out is logged, never a reason to retry the delivery) */
int
vacation(struct mda *mda, const struct action *a, const char *path, mda_send_fn *send,
	 mda_copy_fn *copy)
{
	const struct vacation *v = a->vacation;
	char err[512];
	struct buf key = BUF_INIT, text = BUF_INIT;
	const char *why = mfl_vacation_skip(mda->msg, mda->sender, mda->recipient, v);
	int r;

	if (why != NULL) {
		mda_log(LOG_INFO, "to=<%s> vacation to=<%s> result=skipped: %s", mda->recipient,
			mda->sender, why);
		return 0;
	}
	buf_putc(&key, 'v');
	buf_puts(&key, v->handle ? v->handle : "");
	buf_putc(&key, 0);
	for (const char *s = mda->sender; *s; s++)
		buf_putc(&key, *s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
	/* claimed before sending: of two deliveries at once only one answers */
	if ((r = state_claim(path, key.data, key.len, v->seconds, err, sizeof(err))) != 0) {
		if (r < 0)
			mda_log(LOG_ERR, "to=<%s> vacation to=<%s> result=skipped: %s",
				mda->recipient, mda->sender, err);
		else
			mda_log(LOG_INFO, "to=<%s> vacation to=<%s> result=skipped: answered "
				"within %lld s", mda->recipient, mda->sender, (long long) v->seconds);
		buf_free(&key);
		return 0;
	}
	mfl_vacation_reply(mda->msg, mda->sender, mda->recipient, a, &text);
	if (send(mda, "vacation", "", mda->sender, "", 0, text.data, text.len) != 0)
		state_forget(path, key.data, key.len);	/* not sent: a later one may */
	else if (v->fcc != NULL)			/* RFC 8580: a copy kept */
		copy(mda, v->fcc, v->fcc_flags, v->fcc_specialuse, text.data, text.len);
	buf_free(&key);
	buf_free(&text);
	return 0;
}
