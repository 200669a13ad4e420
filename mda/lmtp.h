/* lmtp.h - mvmda -L: the LMTP delivery service (lmtp.c) */
#ifndef MDA_LMTP_H
#define MDA_LMTP_H

/* ROUTE, in the service: the account RCPT is delivered to into NAME;
 * 0, -1 none here, -2 root's. DELIVER, in a child whose standard input
 * is the message (Return-Path on top) and whose output is the reply's
 * text: the delivery to USER's RCPT from SENDER; does not return (its
 * exit code is the result). */
typedef int lmtp_route_fn(void *ctx, const char *rcpt, char *name, size_t size);
/* PREPARE, in the service before each message's deliveries: what they
 * start from brought up to date (the rc script compiled again when it
 * changed) */
typedef void lmtp_prepare_fn(void *ctx);
typedef void lmtp_deliver_fn(void *ctx, const char *user, const char *sender,
			     const char *rcpt);

struct lmtp_opts {
	const char *spec;	/* "unix:/path" or "inet:[host:]port" */
	const char *group;	/* unix: who may connect (mode 0660) */
	int max_conns;		/* connections served at once */
	int timeout;		/* seconds a read, or a delivery, may take */
	lmtp_route_fn *route;
	lmtp_prepare_fn *prepare;
	lmtp_deliver_fn *deliver;
	void *ctx;
};

int lmtp_main(const struct lmtp_opts *o);

#endif
