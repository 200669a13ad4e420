/* lmtp.h - mvmda -L: the LMTP delivery service (lmtp.c) */
#ifndef MDA_LMTP_H
#define MDA_LMTP_H

/* ROUTE, in the service: the account RCPT is delivered to into NAME;
 * 0, -1 none here, -2 root's. BECOME, in a keeper (a connection's
 * process for one account, which forks that account's deliveries):
 * become USER, or exit. DELIVER, in a child of USER's keeper whose
 * standard input is the message (Return-Path on top) and whose output
 * is the reply's text: the delivery to RCPT from SENDER, naming on
 * LEARN_FD each script it had to compile or load ("SIEVE CACHED
 * PATH\n"); does not return (its exit code is the result). LEARN, in
 * the keeper after a delivery: one such line, so the next deliveries
 * find that script compiled already. */
typedef int lmtp_route_fn(void *ctx, const char *rcpt, char *name, size_t size);
/* PREPARE, in the service before each message's deliveries: what they
 * start from brought up to date (the rc script compiled again when it
 * changed); 1 when it changed (the keepers, which forked from the old
 * one, are replaced) */
typedef int lmtp_prepare_fn(void *ctx);
typedef void lmtp_become_fn(void *ctx, const char *user);
typedef void lmtp_deliver_fn(void *ctx, const char *user, const char *sender,
			     const char *rcpt, int learn_fd);
typedef void lmtp_learn_fn(void *ctx, const char *line);

struct lmtp_opts {
	const char *spec;	/* "unix:/path" or "inet:[host:]port" */
	const char *group;	/* unix: who may connect (mode 0660) */
	int max_conns;		/* connections served at once */
	int timeout;		/* seconds a read, or a delivery, may take */
	lmtp_route_fn *route;
	lmtp_prepare_fn *prepare;
	lmtp_become_fn *become;
	lmtp_deliver_fn *deliver;
	lmtp_learn_fn *learn;
	void *ctx;
};

int lmtp_main(const struct lmtp_opts *o);

#endif
