/* delivery.h - asking mvmda's service what a local recipient's own
 * scripts decide, during the SMTP session (delivery.c) */
#ifndef MILTER_DELIVERY_H
#define MILTER_DELIVERY_H

#include <stddef.h>

struct session;

/* what the recipient's scripts said (mvmda(1) SMTP-TIME DECISIONS) */
enum delivery_verdict {
	DV_NONE,	/* not asked: no service, or not a local recipient */
	DV_ACCEPT, DV_REJECT, DV_TEMPFAIL,
	DV_DATA,	/* cannot tell before DATA: ask again with the message */
	DV_UNKNOWN,	/* no account of that name: delivery decides */
	DV_ERROR	/* no answer (down, slow, a script error) */
};

struct delivery_answer {
	enum delivery_verdict verdict;
	char code[4], xcode[16];
	char text[512];		/* the refusal's reason, or the error */
	char line[600];		/* the answer as $delivery_check gives it */
};

/* one recipient asked about, per message */
struct delivery_rcpt {
	char *rcpt;
	int automatic;		/* asked because its domain is listed */
	int accepted;		/* RCPT was accepted: counts at end of message */
	int asked_data;
	struct delivery_answer at_rcpt, at_data;
};

const struct delivery_answer *delivery_rcpt(struct session *s, const char *rcpt,
					    char **args, int automatic);
const struct delivery_answer *delivery_data(struct session *s, const char *rcpt);
int delivery_wanted(struct session *s, const char *rcpt);
void delivery_accepted(struct session *s, const char *rcpt);
const struct delivery_answer *delivery_eom(struct session *s);
int delivery_pending(struct session *s);
int delivery_failure_tempfails(struct session *s);
void delivery_reset(struct session *s);

#endif
