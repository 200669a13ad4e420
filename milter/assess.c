/*
 * assess - what the store knows about clients besides greylisting:
 * administrative allow and block lists by network (CIDR), automatic
 * blocks for clients that earn too many rejects, and rate counters per
 * key (a client, an authenticated user, anything the script names).
 *
 * A list lookup tries the client's address at each prefix length that
 * some entry of that list uses (the lengths are kept in one "mlens"
 * record), longest first, so a lookup is a few reads whatever the
 * list's size. Rates are sliding-window estimates: the count of the
 * current window plus the previous one's, weighted by how much of it
 * still overlaps (as in Cloudflare's and nginx's limiters).
 *
 * DIAGNOSTICS: -1 when the store fails (st->error) or for a CIDR that
 * is not one.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "assess.h"
#include "msg/msg.h"
#include "store.h"

/* Prefix lengths the lists use: bit L of v4[which] / v6[which]. */
struct lens_rec {
	uint8_t version;
	uint8_t unused[7];
	uint64_t v4[2];
	uint8_t v6[2][17];
};

struct lens_add {
	int which, family, len;
};

/* assess_ttl - how long the record (KEY, VAL) is still of use at NOW:
 * seconds, 0 for good, -1 when it has expired (CONF: the greylist's
 * lifetimes; only triplets and client records need it) */
int64_t
assess_ttl(const char *key, size_t key_len, const void *val, size_t val_len,
	   time_t now, const struct greylist_conf *conf)
{
	int64_t end;

	if (key_len == 0)
		return -1;
	switch (key[0]) {
	case REC_TRIPLET: {
		struct triplet_rec r;

		if (val_len != sizeof(r))
			return -1;
		memcpy(&r, val, sizeof(r));	/* LMDB data is not aligned */
		end = r.passed ? r.last + conf->lifetime : r.first + conf->retry_window;
		break;
	}
	case REC_NET: {
		struct net_rec r;

		if (val_len != sizeof(r))
			return -1;
		memcpy(&r, val, sizeof(r));
		end = r.last + conf->lifetime;
		break;
	}
	case REC_ALLOW:
	case REC_BLOCK: {
		struct list_rec r;

		if (val_len < sizeof(r))
			return -1;
		memcpy(&r, val, sizeof(r));
		if (r.until == 0)
			return 0;
		end = r.until - 1;	/* a block ends at its until */
		break;
	}
	case REC_RATE:
	case REC_REJECTS: {
		struct rate_rec r;

		if (val_len != sizeof(r))
			return -1;
		memcpy(&r, val, sizeof(r));
		end = r.start + 2 * r.window - 1;
		break;
	}
	case REC_KNOWN: {
		struct sender_rec r;

		if (val_len != sizeof(r))
			return -1;
		memcpy(&r, val, sizeof(r));
		end = r.added + KNOWN_RCPT_SECONDS - 1;
		break;
	}
	case REC_LIMITS: {
		struct limit_window w;

		if (val_len == 0 || val_len % sizeof(w) != 0)
			return -1;
		end = 0;
		for (size_t i = 0; i < val_len / sizeof(w); i++) {
			memcpy(&w, (const char *) val + i * sizeof(w), sizeof(w));
			if (w.start + 2 * w.window - 1 > end)
				end = w.start + 2 * w.window - 1;
		}
		break;
	}
	default:
		return 0;	/* "mlens", senders, users, what a later version adds */
	}
	/* the policies test "older than", so the last second still counts */
	return end < now ? -1 : end - now + 1;
}

/* lens_update - note one more prefix length in use */
static enum store_verdict
lens_update(void *arg, const void *old, size_t old_len, struct buf *new_r,
	    int64_t *ttl_r)
{
	struct lens_add *la = arg;
	struct lens_rec r;
	int w = la->which == REC_ALLOW ? 0 : 1;

	*ttl_r = 0;		/* for good: lookups need it while entries last */
	memset(&r, 0, sizeof(r));
	if (old != NULL && old_len == sizeof(r))
		memcpy(&r, old, sizeof(r));
	r.version = 1;
	if (la->family == AF_INET) {
		if (r.v4[w] & (1ULL << la->len))
			return STORE_KEEP;
		r.v4[w] |= 1ULL << la->len;
	} else {
		if (r.v6[w][la->len / 8] & (1u << (la->len % 8)))
			return STORE_KEEP;
		r.v6[w][la->len / 8] |= (uint8_t) (1u << (la->len % 8));
	}
	buf_append(new_r, &r, sizeof(r));
	return STORE_PUT;
}

/* lens_merge_update - OR another store's prefix lengths into ours */
static enum store_verdict
lens_merge_update(void *arg, const void *old, size_t old_len, struct buf *new_r,
		  int64_t *ttl_r)
{
	struct lens_rec r, add;

	memcpy(&add, arg, sizeof(add));
	memset(&r, 0, sizeof(r));
	if (old != NULL && old_len == sizeof(r))
		memcpy(&r, old, sizeof(r));
	r.version = 1;
	for (int w = 0; w < 2; w++) {
		r.v4[w] |= add.v4[w];
		for (int i = 0; i < 17; i++)
			r.v6[w][i] |= add.v6[w][i];
	}
	buf_append(new_r, &r, sizeof(r));
	*ttl_r = 0;
	return STORE_PUT;
}

/* list_lens_merge - the prefix lengths record VAL of another store
 * joins this one's (mvmcas copy) */
int
list_lens_merge(struct store *st, const void *val, size_t len)
{
	struct lens_rec add;

	if (len != sizeof(add))
		return 0;	/* not one this version wrote: lookups add their own */
	memcpy(&add, val, sizeof(add));
	return store_update(st, "mlens", 5, lens_merge_update, &add);
}

struct list_put {
	struct list_rec rec;
	const char *reason;
	time_t now;
};

/* list_put_update - write the entry (a newer one replaces the old) */
static enum store_verdict
list_put_update(void *arg, const void *old, size_t old_len, struct buf *new_r,
		int64_t *ttl_r)
{
	struct list_put *lp = arg;

	(void) old;
	(void) old_len;
	buf_append(new_r, &lp->rec, sizeof(lp->rec));
	buf_puts(new_r, lp->reason ? lp->reason : "");
	/* one already over is kept a second: the caller asked for it */
	if ((*ttl_r = assess_ttl("b", 1, new_r->data, new_r->len, lp->now, NULL)) < 0)
		*ttl_r = 1;
	return STORE_PUT;
}

/* list_key - "b192.0.2.0/24" */
static void
list_key(struct buf *key, int which, const struct cidr *c)
{
	char net[INET6_ADDRSTRLEN + 8];

	cidr_format(c, net, sizeof(net));
	buf_putc(key, which);
	buf_puts(key, net);
}

/* list_add - C onto the allow (REC_ALLOW) or block (REC_BLOCK) list
 * until UNTIL (0: for good) */
int
list_add(struct store *st, int which, const struct cidr *c, time_t now,
	 int64_t until, int automatic, const char *reason)
{
	struct lens_add la = { which, c->family, c->len };
	struct list_put lp;
	struct buf key = BUF_INIT;
	int rc;

	memset(&lp, 0, sizeof(lp));
	lp.rec.version = 1;
	lp.rec.automatic = (uint8_t) automatic;
	lp.rec.added = now;
	lp.rec.until = until;
	lp.reason = reason;
	lp.now = now;
	list_key(&key, which, c);
	rc = store_update(st, "mlens", 5, lens_update, &la) < 0
	    || store_update(st, key.data, key.len, list_put_update, &lp) < 0 ? -1 : 0;
	buf_free(&key);
	return rc;
}

/* list_delete - C off the list; 1 if it was there, 0 if not, -1 */
int
list_delete(struct store *st, int which, const struct cidr *c)
{
	struct buf key = BUF_INIT;
	int rc;

	list_key(&key, which, c);
	rc = store_delete(st, key.data, key.len);
	buf_free(&key);
	return rc;
}

/* list_match - is ADDR on the list (an entry not expired)? 1 with the
 * entry's reason in REASON_R (if given), 0, or -1 */
int
list_match(struct store *st, int which, const char *addr, time_t now,
	   struct buf *reason_r)
{
	struct buf val = BUF_INIT, key = BUF_INIT;
	struct lens_rec lens;
	struct cidr c;
	int w = which == REC_ALLOW ? 0 : 1, rc = 0, max;

	if (cidr_parse(addr, &c) < 0)
		return 0;	/* a local client: no address */
	if ((rc = store_get(st, "mlens", 5, &val)) <= 0 || val.len != sizeof(lens)) {
		buf_free(&val);
		return rc < 0 ? -1 : 0;
	}
	memcpy(&lens, val.data, sizeof(lens));
	max = c.len;
	rc = 0;
	for (int len = max; len >= 0 && rc == 0; len--) {
		struct cidr net = c;
		struct list_rec r;

		if (c.family == AF_INET ? !(lens.v4[w] & (1ULL << len))
		    : !(lens.v6[w][len / 8] & (1u << (len % 8))))
			continue;
		net.len = len;
		cidr_mask(&net);
		buf_reset(&key);
		list_key(&key, which, &net);
		if ((rc = store_get(st, key.data, key.len, &val)) < 0)
			break;
		if (rc == 0 || val.len < sizeof(r)) {
			rc = 0;
			continue;
		}
		memcpy(&r, val.data, sizeof(r));
		if (r.until != 0 && r.until <= now) {
			rc = 0;		/* expired; mvmcas expire removes it */
			continue;
		}
		if (reason_r != NULL) {
			buf_reset(reason_r);
			buf_append(reason_r, val.data + sizeof(r), val.len - sizeof(r));
			buf_putc(reason_r, 0);
			reason_r->len--;
		}
	}
	buf_free(&key);
	buf_free(&val);
	return rc;
}

/* rate_update - count ADD more events in the sliding window (ARG is a
 * struct rate_arg) */
enum store_verdict
rate_update(void *arg, const void *old, size_t old_len, struct buf *new_r,
	    int64_t *ttl_r)
{
	struct rate_arg *ra = arg;
	struct rate_rec r;
	int64_t elapsed;

	if (old != NULL && old_len == sizeof(r)) {
		memcpy(&r, old, sizeof(r));
	} else {
		memset(&r, 0, sizeof(r));
		r.version = 1;
		r.start = ra->now;
	}
	if (r.window != ra->window) {
		/* a new window length starts the count over */
		memset(&r, 0, sizeof(r));
		r.version = 1;
		r.start = ra->now;
		r.window = ra->window;
	}
	elapsed = ra->now - r.start;
	if (elapsed >= 2 * r.window) {
		r.previous = 0;
		r.current = 0;
		r.start = ra->now;
		elapsed = 0;
	} else if (elapsed >= r.window) {
		r.previous = r.current;
		r.current = 0;
		r.start += r.window;
		elapsed -= r.window;
	}
	r.current += (uint64_t) ra->add;
	ra->count = (int64_t) r.current
	    + (int64_t) (r.previous * (uint64_t) (r.window - elapsed) / (uint64_t) r.window);
	if (ra->add == 0 && old != NULL)
		return STORE_KEEP;
	buf_append(new_r, &r, sizeof(r));
	*ttl_r = assess_ttl("r", 1, &r, sizeof(r), ra->now, NULL);
	return STORE_PUT;
}

/* rate_hit - ADD events for KEY now; *COUNT_R is the events in the
 * last WINDOW seconds, these included */
int
rate_hit(struct store *st, int kind, const char *key, int64_t window,
	 time_t now, int64_t add, int64_t *count_r)
{
	struct rate_arg ra = { now, window > 0 ? window : 1, add, 0 };
	struct buf k = BUF_INIT;
	int rc;

	buf_putc(&k, kind);
	buf_puts(&k, key);
	rc = k.failed ? -1 : store_update(st, k.data, k.len, rate_update, &ra);
	buf_free(&k);
	*count_r = ra.count;
	return rc;
}

/* reject_note - ADDR was refused once more; past REJECTS in WINDOW it
 * is blocked for DURATION. A client on the block list already is not
 * counted: its retries neither extend the block nor cost a write and a
 * log line each. 1 when this blocked it, 0, or -1 */
int
reject_note(struct store *st, const char *addr, time_t now, int64_t rejects,
	    int64_t window, int64_t duration)
{
	struct cidr c;
	int64_t count;
	char reason[128];
	int blocked;

	if (rejects <= 0 || cidr_parse(addr, &c) < 0)
		return 0;
	if ((blocked = list_match(st, REC_BLOCK, addr, now, NULL)) != 0)
		return blocked < 0 ? -1 : 0;
	if (rate_hit(st, REC_REJECTS, addr, window, now, 1, &count) < 0)
		return -1;
	if (count < rejects)
		return 0;
	snprintf(reason, sizeof(reason), "automatic: %lld rejects in %lld s",
		 (long long) count, (long long) window);
	return list_add(st, REC_BLOCK, &c, now, now + duration, 1, reason) < 0 ? -1 : 1;
}
