/*
 * greylist - greylisting (the idea of Evan Harris's 2003 paper): a new
 * (client, sender, recipient) triplet is told to come back after a
 * delay; a retry after the delay and within the retry window passes,
 * and the triplet stays passed while it keeps being seen within its
 * lifetime. A client whose retries passed N times is allow-listed
 * automatically for as long as it keeps coming. The client is its
 * network (/24, /64), or, chosen by the caller (intr_assess.c), the
 * sender's domain when SPF passed, so a big sender retrying from
 * another address of its pool is the same client.
 *
 * Each check is one atomic update of the triplet (store_update), so
 * concurrent connections for the same triplet cannot both create it.
 * A passed triplet (or allow-listed network) seen again within ten
 * minutes is only read, so the common case costs read transactions;
 * and once read as passed, it is taken as passed for conf->memo seconds
 * without asking again (the store's memo), which spares a shared
 * store's round trip for a client's next messages. Nothing un-passes a
 * triplet that soon but mvmcas delete, which the memo may then hide for
 * that long.
 *
 * DIAGNOSTICS: -1 when the store fails (st->error); the caller decides
 * (mvmtr answers with the default action).
 */
#include "config.h"

#include <string.h>

#include "assess.h"
#include "msg/msg.h"
#include "store.h"

/* A passed triplet's last-seen time is refreshed at most this often. */
#define REFRESH_SECONDS	600

struct check {
	time_t now;
	const struct greylist_conf *conf;
	struct greylist_result *res;	/* out */
};

/* triplet_update - the greylisting rules, on the triplet's record */
static enum store_verdict
triplet_update(void *arg, const void *old, size_t old_len, struct buf *new_r,
	       int64_t *ttl_r)
{
	struct check *ck = arg;
	struct triplet_rec r;
	int64_t age;

	memset(ck->res, 0, sizeof(*ck->res));	/* Redis may call again */
	if (old != NULL && old_len == sizeof(r)) {
		memcpy(&r, old, sizeof(r));
	} else {
		memset(&r, 0, sizeof(r));
		r.version = 1;
		r.first = ck->now;
	}
	age = ck->now - r.first;
	if (r.passed && ck->now - r.last > ck->conf->lifetime) {
		/* passed long ago and not seen since: start again */
		memset(&r, 0, sizeof(r));
		r.version = 1;
		r.first = ck->now;
		age = 0;
	} else if (!r.passed && r.attempts > 0 && age > ck->conf->retry_window) {
		r.first = ck->now;	/* never retried in time */
		r.attempts = 0;
		age = 0;
	}
	if (r.passed) {
		ck->res->why = GREY_PASSED;
		if (ck->now - r.last < REFRESH_SECONDS)
			return STORE_KEEP;
	} else if (r.attempts > 0 && age >= ck->conf->delay) {
		r.passed = 1;
		r.passed_at = ck->now;
		ck->res->why = GREY_PASSED_NOW;
		ck->res->delayed = age;
	} else {
		ck->res->why = r.attempts > 0 ? GREY_EARLY : GREY_NEW;
		ck->res->wait = ck->conf->delay - age;
		if (ck->res->wait <= 0)
			ck->res->wait = 1;
	}
	r.attempts++;
	r.last = ck->now;
	buf_append(new_r, &r, sizeof(r));
	*ttl_r = assess_ttl("g", 1, &r, sizeof(r), ck->now, ck->conf);
	return STORE_PUT;
}

struct net_check {
	time_t now;
	const struct greylist_conf *conf;
	int add;		/* a retry of this network passed */
	int allowed;		/* out */
};

/* net_update - count passed retries of a client network */
static enum store_verdict
net_update(void *arg, const void *old, size_t old_len, struct buf *new_r,
	   int64_t *ttl_r)
{
	struct net_check *nc = arg;
	struct net_rec r;

	if (old != NULL && old_len == sizeof(r)) {
		memcpy(&r, old, sizeof(r));
		if (nc->now - r.last > nc->conf->lifetime)
			r.passes = 0;	/* gone too long: earn it again */
	} else {
		if (!nc->add)
			return STORE_KEEP;
		memset(&r, 0, sizeof(r));
		r.version = 1;
	}
	if (nc->add)
		r.passes++;
	nc->allowed = nc->conf->autoallow > 0 && r.passes >= (uint64_t) nc->conf->autoallow;
	if (!nc->add && (!nc->allowed || nc->now - r.last < REFRESH_SECONDS))
		return STORE_KEEP;
	r.last = nc->now;
	buf_append(new_r, &r, sizeof(r));
	*ttl_r = assess_ttl("n", 1, &r, sizeof(r), nc->now, nc->conf);
	return STORE_PUT;
}

/* pass_state - what KEY's record says: 2 passed and seen lately (no
 * write needed), 1 passed but not seen lately, 0 not passed or absent */
static int
pass_state(struct store *st, const struct buf *key, time_t now,
	   const struct greylist_conf *conf)
{
	struct buf val = BUF_INIT;
	int64_t last = 0;
	int passed = 0;

	if (store_get(st, key->data, key->len, &val) == 1) {
		if (key->data[0] == REC_TRIPLET && val.len == sizeof(struct triplet_rec)) {
			struct triplet_rec r;

			memcpy(&r, val.data, sizeof(r));
			passed = r.passed;
			last = r.last;
		} else if (key->data[0] == REC_NET && val.len == sizeof(struct net_rec)) {
			struct net_rec r;

			memcpy(&r, val.data, sizeof(r));
			passed = r.passes >= (uint64_t) conf->autoallow;
			last = r.last;
		}
	}
	buf_free(&val);
	if (!passed || now - last > conf->lifetime)
		return 0;
	if (now - last < REFRESH_SECONDS && now >= last) {
		if (conf->memo > 0)
			store_memo_note(st, key->data, key->len, now, conf->memo);
		return 2;
	}
	return 1;
}

/* greylist_check - may the triplet pass now? RES says: its wait is 0
 * when it may, else the seconds until a retry will; 0 or -1 */
int
greylist_check(struct store *st, const char *client, const char *sender,
	       const char *recipient, time_t now,
	       const struct greylist_conf *conf, struct greylist_result *res)
{
	struct net_check nc = { now, conf, 0, 0 };
	struct check ck = { now, conf, res };
	struct buf key = BUF_INIT;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	buf_putc(&key, REC_NET);
	buf_puts(&key, client);
	if (conf->autoallow > 0) {
		int state = conf->memo > 0 && store_memo_known(st, key.data, key.len, now) ? 2
		    : pass_state(st, &key, now, conf);

		if (state == 1 && store_update(st, key.data, key.len, net_update, &nc) < 0)
			goto out;
		if (state > 0) {
			res->why = GREY_ALLOWED;
			rc = 0;
			goto out;
		}
	}
	buf_reset(&key);
	buf_putc(&key, REC_TRIPLET);
	buf_puts(&key, client);
	buf_append(&key, "", 1);
	buf_puts(&key, sender);
	buf_append(&key, "", 1);
	buf_puts(&key, recipient);
	if (key.failed)
		goto out;
	if ((conf->memo > 0 && store_memo_known(st, key.data, key.len, now))
	    || pass_state(st, &key, now, conf) == 2) {
		res->why = GREY_PASSED;
		rc = 0;
		goto out;
	}
	if (store_update(st, key.data, key.len, triplet_update, &ck) < 0)
		goto out;
	rc = 0;
	if (res->why == GREY_PASSED_NOW && conf->autoallow > 0) {
		buf_reset(&key);
		buf_putc(&key, REC_NET);
		buf_puts(&key, client);
		nc.add = 1;
		rc = store_update(st, key.data, key.len, net_update, &nc);
	}
out:
	buf_free(&key);
	return rc;
}
