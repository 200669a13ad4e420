/* service.h - mvmda -D: the SMTP-time decision service (service.c) */
#ifndef MDA_SERVICE_H
#define MDA_SERVICE_H

#include <stddef.h>

#include "msg/msg.h"	/* struct buf */

#define SERVICE_ARGS_MAX	16
#define SERVICE_MESSAGE_MAX	((size_t) 64 << 20)

/* One question from mvmtr (mvmda(1) SMTP-TIME DECISIONS, the protocol):
 * every string is NUL-ended and "" when the request left it out. */
struct service_request {
	const char *phase;		/* "rcpt" or "data" */
	const char *recipient, *sender, *client, *client_name, *helo, *queue_id;
	const char *args[SERVICE_ARGS_MAX];	/* RCPT's ESMTP arguments */
	size_t nargs;
	const char *message;		/* "data": the message, else NULL */
	size_t message_len;
};

struct service_opts {
	const char *socket_path;	/* "unix:/run/mvmf/mvmda.sock" or a path */
	const char *group;		/* who may connect: the milter's group */
	int timeout;			/* seconds one request may take */
	int max_children;		/* requests answered at once */
	size_t memory;			/* bytes of address space per request */
};

/* the answer to REQ, one line into ANSWER; called in a child of the
 * service, still root, which exits after it; CTX is service_main's */
typedef void service_decide_fn(const struct service_request *req, struct buf *answer,
			       void *ctx);

/* before each question, in the service: RELOAD after SIGHUP */
typedef void service_prepare_fn(void *ctx, int reload);

int service_main(const struct service_opts *opts, service_prepare_fn *prepare,
		 service_decide_fn *fn, void *ctx);
/* decide.c: mvmda's, CTX its struct mda */
service_prepare_fn decide_prepare;
service_decide_fn decide;
int service_confine(char *err, size_t errsize);

#endif
