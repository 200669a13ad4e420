/* service.h - mvmda -D: the SMTP-time decision service (service.c) */
#ifndef MDA_SERVICE_H
#define MDA_SERVICE_H

#include <stddef.h>
#include <sys/types.h>

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
	int timeout;			/* seconds one question may take */
	int max_children;		/* workers (users answered at once) */
	size_t memory;			/* bytes of address space per worker */
};

/* The service's callbacks, CTX service_main's: ROUTE, in the service,
 * names the account REQ is for (-1: none, answered "unknown");
 * PREPARE, before each question, gives 1 when the workers must be
 * replaced (what they started from changed; RELOAD after SIGHUP);
 * BECOME, in a new worker, makes it that account; DECIDE, in the
 * worker, writes the one-line answer to REQ into ANSWER. */
typedef int service_route_fn(void *ctx, const struct service_request *req, char *name,
			     size_t size);
typedef int service_prepare_fn(void *ctx, int reload);
typedef void service_become_fn(void *ctx, const char *name);
typedef void service_decide_fn(const struct service_request *req, struct buf *answer,
			       void *ctx);

struct service_calls {
	service_route_fn *route;
	service_prepare_fn *prepare;
	service_become_fn *become;
	service_decide_fn *decide;
	void *ctx;
};

int service_main(const struct service_opts *opts, const struct service_calls *calls);
int service_listen_unix(const char *spec, const char *group, const char *option);
int service_confine(char *err, size_t errsize);
int service_parse(char *data, size_t len, struct service_request *req, size_t *size_r,
		  size_t *head_len_r, const char **err);

/* decide.c: mvmda's, CTX its struct mda */
service_route_fn decide_route;
service_prepare_fn decide_prepare;
service_become_fn decide_become;
service_decide_fn decide;
int decide_is_root(void *ctx, const char *rcpt);
int decide_groups(const char *name, const gid_t **groups_r);

#endif
