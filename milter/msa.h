/* msa.h - outbound mail's policy over the store (msa.c) */
#ifndef MVMTR_MSA_H
#define MVMTR_MSA_H

#include <time.h>

struct buf;
struct store;
struct user_rec;

int msa_limits_valid(const char *spec);
int msa_sender_add(struct store *st, const char *user, const char *pattern, time_t now);
int msa_sender_delete(struct store *st, const char *user, const char *pattern);
int msa_sender_allowed(struct store *st, const char *user, const char *address);
int msa_user_get(struct store *st, const char *user, struct user_rec *r,
		 struct buf *reason_r, struct buf *messages_r, struct buf *recipients_r);
int msa_user_lock(struct store *st, const char *user, int lock, const char *reason,
		  time_t now);
int msa_user_limits(struct store *st, const char *user, const char *messages,
		    const char *recipients);
/* One kind of event in msa_events(). */
struct msa_kind {
	const char *kind;	/* "messages", "recipients", "failed" */
	const char *limits;	/* the limits unless the user has own */
	const char *brake;	/* "COUNT/SECONDS", NULL or "": none */
	const char *rcpt;	/* recipients: the recipient */
	int counted;		/* out: it passed and was counted */
};

#define MSA_KINDS_MAX	2	/* a recipient with its message */

int msa_events(struct store *st, const char *user, struct msa_kind *k, size_t n, int dry,
	       time_t now, struct buf *why);
int msa_event(struct store *st, const char *user, const char *kind, const char *defaults,
	      const char *brake, const char *rcpt, time_t now, struct buf *why);

#endif
