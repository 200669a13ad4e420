/* assess.h - the client-assessment policy over the store: greylisting
 * (greylist.c), allow and block lists, automatic blocks and rate
 * counters (assess.c), and the records they keep */
#ifndef MVMTR_ASSESS_H
#define MVMTR_ASSESS_H

#include <stdint.h>
#include <time.h>

#include "cidr.h"
#include "store.h"

struct buf;
struct store;


/* Records: the first key byte says which. */
#define REC_TRIPLET	'g'	/* "g" net \0 sender \0 recipient */
#define REC_NET		'n'	/* "n" net: passes for auto-allowing */
#define REC_ALLOW	'a'	/* "a" cidr */
#define REC_BLOCK	'b'	/* "b" cidr */
#define REC_RATE	'r'	/* "r" key */
#define REC_REJECTS	'j'	/* "j" address: rejects for auto-blocking */
#define REC_META	'm'	/* "mlens": prefix lengths in use by the lists */
#define REC_SENDER	's'	/* "s" user \0 pattern: a sender the user may use */
#define REC_USER	'u'	/* "u" user: lock, own limits (msa.c) */
#define REC_KNOWN	'k'	/* "k" user \0 recipient: written to before */
#define REC_LIMITS	'q'	/* "q" kind \0 user: a limit's windows (msa.c) */

struct triplet_rec {
	uint8_t version, passed;
	uint16_t unused;
	uint32_t attempts;
	int64_t first, last, passed_at;
};

struct net_rec {
	uint8_t version;
	uint8_t unused[3];
	uint32_t passes;
	int64_t last;
};

struct list_rec {		/* followed by the reason */
	uint8_t version, automatic;
	uint16_t unused;
	uint32_t unused2;
	int64_t added, until;	/* until 0: no end */
};

struct rate_rec {
	uint8_t version;
	uint8_t unused[7];
	int64_t start, window;	/* the current window */
	uint64_t current, previous;
};

struct sender_rec {		/* REC_SENDER, REC_KNOWN */
	uint8_t version;
	uint8_t unused[7];
	int64_t added;
};

struct user_rec {		/* then reason \0 messages \0 recipients */
	uint8_t version, locked;
	uint8_t unused[6];
	int64_t locked_at;
};

/* REC_LIMITS: one of these per window of the limit, a sliding window
 * as struct rate_rec */
struct limit_window {
	int64_t window, start;
	uint64_t current, previous;
};

/* A recipient is known (not new) this long after it was last written to. */
#define KNOWN_RCPT_SECONDS	(180 * 86400)

struct greylist_conf {
	int64_t delay, retry_window, lifetime;
	int64_t autoallow;	/* passes; 0 = never */
	int64_t memo;		/* seconds a pass is taken as known without
				 * asking the store again; 0 = always ask */
};

/* What a greylist check found, and why. */
enum greylist_why {
	GREY_NEW,		/* a new triplet: told to come back */
	GREY_EARLY,		/* retried before the delay ended */
	GREY_PASSED_NOW,	/* this retry passed it, after DELAYED s */
	GREY_PASSED,		/* passed before, still within its lifetime */
	GREY_ALLOWED,		/* the client (network or SPF domain) is proven */
};

struct greylist_result {
	int64_t wait;		/* 0: pass; else seconds until a retry may */
	int64_t delayed;	/* GREY_PASSED_NOW: seconds since the first try */
	enum greylist_why why;
};

/* greylist.c */
int greylist_check(struct store *st, const char *client, const char *sender,
		   const char *recipient, time_t now,
		   const struct greylist_conf *conf, struct greylist_result *res);

/* assess.c */
int64_t assess_ttl(const char *key, size_t key_len, const void *val,
		   size_t val_len, time_t now, const struct greylist_conf *conf);
int list_add(struct store *st, int which, const struct cidr *c, time_t now,
	     int64_t until, int automatic, const char *reason);
int list_lens_merge(struct store *st, const void *val, size_t len);
int list_delete(struct store *st, int which, const struct cidr *c);
int list_match(struct store *st, int which, const char *addr, time_t now,
	       struct buf *reason_r);
struct rate_arg {
	time_t now;
	int64_t window, add;
	int64_t count;		/* out */
};
enum store_verdict rate_update(void *arg, const void *old, size_t old_len,
			       struct buf *new_r, int64_t *ttl_r);
int rate_hit(struct store *st, int kind, const char *key, int64_t window,
	     time_t now, int64_t add, int64_t *count_r);
int reject_note(struct store *st, const char *addr, time_t now,
		int64_t rejects, int64_t window, int64_t duration);

#endif
