/*
 * enotify - carry out an enotify notify action (RFC 5435) with the
 * mailto method (RFC 5436) in mvmda: the notification's text and its
 * recipients are libmfl's (mfl/notify.c, which mflc -T uses too); here
 * it is sent through the local sendmail from the null sender, so that
 * a notification that bounces cannot start a loop. No notification is
 * sent about an automatic message (RFC 5436 2.7).
 *
 * DIAGNOSTICS: every notification sent or skipped is logged with the
 * recipient; one that cannot be sent is logged and the delivery goes on
 * (a notification is never a reason to retry the message).
 */
#include "config.h"

#include <stdlib.h>
#include <syslog.h>

#include "log.h"
#include "mda.h"
#include "mfl.h"
#include "msg/msg.h"
#include "enotify.h"

/* notify - send what notify action INDEX of the delivery's actions
 * asks for, through SEND (one message, handed over once per recipient,
 * from the envelope sender ENV's policy gives: RFC 5436 2.3), a copy
 * through COPY when it has :fcc; 0 always */
int
notify(struct mda *mda, size_t index, const struct mfl_report_env *env, mda_send_fn *send,
       mda_copy_fn *copy)
{
	const struct action *a = &mda->actions.v[index];
	const char *why = mfl_notify_skip(mda->msg);
	char buf[512];
	const char *from = mfl_notify_sender(a, env, buf, sizeof(buf));
	struct buf text = BUF_INIT;
	char **rcpts;
	int any;

	if (why != NULL) {
		mda_log(LOG_INFO, "to=<%s> notify %.*s result=skipped: %s", mda->recipient,
			(int) a->target_len, a->target, why);
		return 0;
	}
	if (mfl_notify_compose(mda->msg, mda->recipient, &mda->actions, index, &text, &rcpts) < 0) {
		mda_log(LOG_ERR, "to=<%s> notify %.*s result=failed: cannot compose it",
			mda->recipient, (int) a->target_len, a->target);
		buf_free(&text);
		return 0;
	}
	any = rcpts[0] != NULL;
	for (size_t i = 0; rcpts[i] != NULL; i++) {
		if (send(mda, "notify", from, rcpts[i], "", 0, text.data, text.len) == 0)
			mda_log(LOG_INFO, "to=<%s> notify to=<%s> result=sent", mda->recipient,
				rcpts[i]);
		free(rcpts[i]);
	}
	/* RFC 8580: a copy kept (once, whoever it went to) */
	if (a->notify->fcc != NULL && any)
		copy(mda, a->notify->fcc, a->notify->fcc_flags, a->notify->fcc_specialuse, text.data,
		     text.len);
	free(rcpts);
	buf_free(&text);
	return 0;
}
