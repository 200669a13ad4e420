/*
 * msa - outbound mail's policy over the store: which senders an
 * authenticated user may use, how much a user may send (messages and
 * recipients in several windows at once, with per-user overrides), and
 * the brakes on a compromised account (a burst of messages, or of
 * recipients never written to before, locks it until an admin unlocks
 * it with mvmcas).
 *
 * Records: "s" USER \0 PATTERN (a sender the user may use: an address,
 * "@domain" for any address of the domain, or "*"); "u" USER (the
 * lock and the user's own limits); "k" USER \0 RECIPIENT (recipients
 * written to, for "new"); "q" KIND \0 USER (the counts of every window
 * of a limit, one record so that an event costs one write); the brakes
 * are the store's rates (assess.c) under "msa:brake:" keys. All in the
 * store, so shared across hosts on Redis.
 *
 * Limits read "COUNT/SECONDS COUNT/SECONDS ...": e.g. "30/60 500/86400".
 * An event over a limit is refused and not counted.
 *
 * DIAGNOSTICS: -1 when the store fails (st->error); limit strings that
 * do not parse are skipped word by word (msa_limits_valid says so).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "assess.h"
#include "msa.h"
#include "msg/msg.h"
#include "store.h"

/* user_key - "u" USER */
static void
user_key(struct buf *key, const char *user)
{
	buf_putc(key, REC_USER);
	buf_puts(key, user);
}

/* msa_limits_valid - SPEC is a list of COUNT/SECONDS words */
int
msa_limits_valid(const char *spec)
{
	for (const char *p = spec; *p;) {
		char *end;
		long n, w;

		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		n = strtol(p, &end, 10);
		if (end == p || *end != '/' || n < 0)
			return 0;
		w = strtol(end + 1, &end, 10);
		if (w <= 0 || (*end && *end != ' ' && *end != ','))
			return 0;
		p = end;
	}
	return 1;
}

/* sender_key - "s" USER \0 PATTERN */
static void
sender_key(struct buf *key, const char *user, const char *pattern)
{
	buf_putc(key, REC_SENDER);
	buf_puts(key, user);
	buf_append(key, "", 1);
	buf_puts(key, pattern);
}

/* put_update - write ARG (a struct buf) as the record */
static enum store_verdict
put_update(void *arg, const void *old, size_t old_len, struct buf *new_r, int64_t *ttl_r)
{
	const struct buf *val = arg;

	(void) old;
	(void) old_len;
	(void) ttl_r;		/* for good */
	buf_append(new_r, val->data, val->len);
	return STORE_PUT;
}

/* msa_sender_add - USER may use PATTERN as sender */
int
msa_sender_add(struct store *st, const char *user, const char *pattern, time_t now)
{
	struct buf key = BUF_INIT, val = BUF_INIT;
	struct sender_rec r = { .version = 1, .added = now };
	int rc;

	sender_key(&key, user, pattern);
	buf_append(&val, &r, sizeof(r));
	rc = key.failed || val.failed ? -1 : store_update(st, key.data, key.len, put_update, &val);
	buf_free(&key);
	buf_free(&val);
	return rc;
}

/* msa_sender_delete - USER may no longer use PATTERN: 1, 0 if it was
 * not there, -1 */
int
msa_sender_delete(struct store *st, const char *user, const char *pattern)
{
	struct buf key = BUF_INIT;
	int rc;

	sender_key(&key, user, pattern);
	rc = store_delete(st, key.data, key.len);
	buf_free(&key);
	return rc;
}

/* has_sender - is PATTERN on USER's list: 1, 0, -1 */
static int
has_sender(struct store *st, const char *user, const char *pattern, size_t len)
{
	struct buf key = BUF_INIT, val = BUF_INIT;
	int rc;

	buf_putc(&key, REC_SENDER);
	buf_puts(&key, user);
	buf_append(&key, "", 1);
	buf_append(&key, pattern, len);
	rc = store_get(st, key.data, key.len, &val);
	buf_free(&key);
	buf_free(&val);
	return rc;
}

/* msa_sender_allowed - may USER send as ADDRESS? The address itself,
 * without its +detail, its "@domain", or "*" on the user's list (case
 * folded: patterns are kept in lower case): 1, 0, -1 */
int
msa_sender_allowed(struct store *st, const char *user, const char *address)
{
	char a[512], base[512];
	const char *at, *plus;
	size_t n = 0;
	int rc;

	for (; address[n] && n + 1 < sizeof(a); n++)
		a[n] = (char) tolower((unsigned char) address[n]);
	a[n] = 0;
	if ((at = strrchr(a, '@')) == NULL)
		return has_sender(st, user, "*", 1);
	if ((rc = has_sender(st, user, a, n)) != 0)
		return rc;
	plus = memchr(a, '+', (size_t) (at - a));
	if (plus != NULL) {
		snprintf(base, sizeof(base), "%.*s%s", (int) (plus - a), a, at);
		if ((rc = has_sender(st, user, base, strlen(base))) != 0)
			return rc;
	}
	if ((rc = has_sender(st, user, at, strlen(at))) != 0)
		return rc;
	return has_sender(st, user, "*", 1);
}

/* msa_user_get - USER's record into R (zeroed when there is none) and
 * its limits for messages and recipients into the buffers; 1, 0, -1 */
int
msa_user_get(struct store *st, const char *user, struct user_rec *r,
	     struct buf *reason_r, struct buf *messages_r, struct buf *recipients_r)
{
	struct buf key = BUF_INIT, val = BUF_INIT;
	int rc;

	memset(r, 0, sizeof(*r));
	user_key(&key, user);
	rc = store_get(st, key.data, key.len, &val);
	if (rc == 1 && val.len >= sizeof(*r)) {
		/* then reason \0 messages \0 recipients */
		const char *p = val.data + sizeof(*r), *end = val.data + val.len;
		struct buf *out[3] = { reason_r, messages_r, recipients_r };

		memcpy(r, val.data, sizeof(*r));
		for (int i = 0; i < 3; i++) {
			const char *nul = memchr(p, 0, (size_t) (end - p));
			size_t len = (size_t) ((nul ? nul : end) - p);

			if (out[i] != NULL) {
				buf_reset(out[i]);
				buf_append(out[i], p, len);
				buf_putc(out[i], 0);
				out[i]->len--;
			}
			p = nul ? nul + 1 : end;
		}
	}
	buf_free(&key);
	buf_free(&val);
	return rc;
}

struct user_change {
	int lock;		/* 1 lock, 0 unlock, -1 leave */
	const char *reason;	/* with lock */
	const char *messages, *recipients;	/* NULL: leave; "": default */
	time_t now;
	int changed;		/* out: the lock state changed */
};

/* user_update - change the user's record as UC says */
static enum store_verdict
user_update(void *arg, const void *old, size_t old_len, struct buf *new_r, int64_t *ttl_r)
{
	struct user_change *uc = arg;
	struct user_rec r = { .version = 1 };
	const char *part[3] = { "", "", "" };
	size_t plen[3] = { 0, 0, 0 };

	(void) ttl_r;
	if (old != NULL && old_len >= sizeof(r)) {
		const char *p = (const char *) old + sizeof(r), *end = (const char *) old + old_len;

		memcpy(&r, old, sizeof(r));
		for (int i = 0; i < 3; i++) {
			const char *nul = memchr(p, 0, (size_t) (end - p));

			part[i] = p;
			plen[i] = (size_t) ((nul ? nul : end) - p);
			p = nul ? nul + 1 : end;
		}
	}
	if (uc->lock >= 0 && r.locked != uc->lock) {
		uc->changed = 1;
		r.locked = (uint8_t) uc->lock;
		r.locked_at = uc->lock ? uc->now : 0;
		part[0] = uc->lock && uc->reason ? uc->reason : "";
		plen[0] = strlen(part[0]);
	}
	if (uc->messages != NULL) {
		part[1] = uc->messages;
		plen[1] = strlen(part[1]);
	}
	if (uc->recipients != NULL) {
		part[2] = uc->recipients;
		plen[2] = strlen(part[2]);
	}
	if (!r.locked && plen[1] == 0 && plen[2] == 0)
		return old != NULL ? STORE_DELETE : STORE_KEEP;	/* nothing to keep */
	buf_append(new_r, &r, sizeof(r));
	for (int i = 0; i < 3; i++) {
		buf_append(new_r, part[i], plen[i]);
		if (i < 2)
			buf_append(new_r, "", 1);
	}
	return STORE_PUT;
}

/* msa_user_lock - lock (LOCK 1, with REASON) or unlock USER: 1 when
 * that changed its state, 0 when it was so already, -1 */
int
msa_user_lock(struct store *st, const char *user, int lock, const char *reason, time_t now)
{
	struct user_change uc = { lock, reason, NULL, NULL, now, 0 };
	struct buf key = BUF_INIT;
	int rc;

	user_key(&key, user);
	rc = store_update(st, key.data, key.len, user_update, &uc);
	/* unlocked, the brakes count afresh (else the next message locks
	 * again at once) */
	for (int i = 0; rc == 0 && !lock && i < 2; i++) {
		buf_reset(&key);
		buf_putc(&key, REC_RATE);
		buf_printf(&key, "msa:brake:%s:%s", i ? "recipients" : "messages", user);
		rc = store_delete(st, key.data, key.len) < 0 ? -1 : 0;
	}
	buf_free(&key);
	return rc < 0 ? -1 : uc.changed;
}

/* msa_user_limits - USER's own limits (NULL: leave as is, "": the
 * defaults) */
int
msa_user_limits(struct store *st, const char *user, const char *messages,
		const char *recipients)
{
	struct user_change uc = { -1, NULL, messages, recipients, 0, 0 };
	struct buf key = BUF_INIT;
	int rc;

	user_key(&key, user);
	rc = store_update(st, key.data, key.len, user_update, &uc);
	buf_free(&key);
	return rc;
}

#define LIMITS_MAX	8	/* windows a limit may have */

struct limits {
	time_t now;
	size_t n;
	long max[LIMITS_MAX], window[LIMITS_MAX];
	const char *kind;
	struct buf *why;	/* out: the limit it breaks, or empty */
};

/* slide - W moved to NOW; the events in its last WINDOW seconds */
static int64_t
slide(struct limit_window *w, time_t now)
{
	int64_t elapsed = now - w->start;

	if (elapsed < 0 || elapsed >= 2 * w->window) {
		w->previous = w->current = 0;
		w->start = now;
		elapsed = 0;
	} else if (elapsed >= w->window) {
		w->previous = w->current;
		w->current = 0;
		w->start += w->window;
		elapsed -= w->window;
	}
	return (int64_t) w->current
	    + (int64_t) (w->previous * (uint64_t) (w->window - elapsed) / (uint64_t) w->window);
}

/* limits_update - every window of the user's record: one more event if
 * none would break its limit (then counted in all), else none counted
 * and WHY says which. One record, one write, however many windows. */
static enum store_verdict
limits_update(void *arg, const void *old, size_t old_len, struct buf *new_r, int64_t *ttl_r)
{
	struct limits *l = arg;
	struct limit_window w[LIMITS_MAX];
	int64_t longest = 0;

	buf_reset(l->why);
	for (size_t i = 0; i < l->n; i++) {
		int64_t count;

		/* the old record's window of that length, else a new one */
		memset(&w[i], 0, sizeof(w[i]));
		w[i].window = l->window[i];
		w[i].start = l->now;
		for (size_t j = 0; old != NULL && (j + 1) * sizeof(w[0]) <= old_len; j++) {
			struct limit_window o;

			memcpy(&o, (const char *) old + j * sizeof(o), sizeof(o));
			if (o.window == l->window[i]) {
				w[i] = o;
				break;
			}
		}
		count = slide(&w[i], l->now);
		if (count + 1 > l->max[i] && l->why->len == 0)
			buf_printf(l->why, "%s %lld of %ld in %ld s", l->kind, (long long) count,
				   l->max[i], l->window[i]);
		if (2 * l->window[i] > longest)
			longest = 2 * l->window[i];
	}
	if (l->why->len > 0)
		return STORE_KEEP;	/* refused: not counted */
	for (size_t i = 0; i < l->n; i++) {
		w[i].current++;
		buf_append(new_r, &w[i], sizeof(w[i]));
	}
	*ttl_r = longest;
	return STORE_PUT;
}

/* over_limits - would one more event for KIND of USER pass every
 * COUNT/SECONDS of SPEC? "" into WHY when it would (and it is counted
 * in every window, in one write), else the limit it breaks; -1 */
static int
over_limits(struct store *st, const char *kind, const char *user, const char *spec,
	    time_t now, struct buf *why)
{
	struct limits l = { .now = now, .kind = kind, .why = why };
	struct buf key = BUF_INIT;
	int rc;

	buf_reset(why);
	for (const char *p = spec; *p && l.n < LIMITS_MAX;) {
		char *end;
		long max, window;

		while (*p == ' ' || *p == ',')
			p++;
		max = strtol(p, &end, 10);
		if (end == p || *end != '/')
			break;
		window = strtol(end + 1, &end, 10);
		p = end;
		if (window <= 0)
			continue;
		l.max[l.n] = max;
		l.window[l.n++] = window;
	}
	if (l.n == 0)
		return 0;
	buf_putc(&key, REC_LIMITS);
	buf_puts(&key, kind);
	buf_append(&key, "", 1);
	buf_puts(&key, user);
	rc = key.failed ? -1 : store_update(st, key.data, key.len, limits_update, &l);
	buf_free(&key);
	return rc;
}

/* msa_count - one more KIND ("messages", "recipients") for USER, under
 * LIMITS (the user's own when set, else DEFAULTS): "" in WHY, or why
 * not (a lock, a limit); -1 */
int
msa_count(struct store *st, const char *user, const char *kind, const char *defaults,
	  time_t now, struct buf *why)
{
	struct buf reason = BUF_INIT, messages = BUF_INIT, recipients = BUF_INIT;
	struct user_rec r;
	const char *spec;
	int rc;

	buf_reset(why);
	if ((rc = msa_user_get(st, user, &r, &reason, &messages, &recipients)) < 0)
		goto out;
	rc = 0;
	if (r.locked) {
		buf_printf(why, "locked: %s", reason.len ? reason.data : "by the admin");
		goto out;
	}
	spec = strcmp(kind, "messages") == 0 ? (messages.len ? messages.data : defaults)
	    : (recipients.len ? recipients.data : defaults);
	if (spec != NULL)
		rc = over_limits(st, kind, user, spec, now, why);
out:
	buf_free(&reason);
	buf_free(&messages);
	buf_free(&recipients);
	return rc;
}

/* msa_brake - the brakes: KIND's count in WINDOW (from "COUNT/SECONDS"
 * BURST) for USER, counted now; over it, USER is locked. 1 when this
 * locked it, 0, -1 */
int
msa_brake(struct store *st, const char *user, const char *kind, const char *burst,
	  time_t now)
{
	struct buf key = BUF_INIT;
	char reason[160];
	long max, window;
	int64_t count;
	char *end;
	int rc;

	if (burst == NULL || (max = strtol(burst, &end, 10)) <= 0 || *end != '/'
	    || (window = strtol(end + 1, NULL, 10)) <= 0)
		return 0;
	buf_printf(&key, "msa:brake:%s:%s", kind, user);
	rc = rate_hit(st, REC_RATE, key.data, window, now, 1, &count);
	buf_free(&key);
	if (rc < 0)
		return -1;
	if (count <= max)
		return 0;
	snprintf(reason, sizeof(reason), "automatic: %lld %s in %ld s (brake %ld)",
		 (long long) count, kind, window, max);
	return msa_user_lock(st, user, 1, reason, now);
}

/* known_update - note the recipient; tell whether it was known */
static enum store_verdict
known_update(void *arg, const void *old, size_t old_len, struct buf *new_r, int64_t *ttl_r)
{
	int64_t *now_known = arg;	/* in: now; out: 1 if it was known */
	struct sender_rec r = { .version = 1, .added = now_known[0] };

	(void) old_len;
	now_known[1] = old != NULL;
	buf_append(new_r, &r, sizeof(r));
	*ttl_r = KNOWN_RCPT_SECONDS;
	return STORE_PUT;
}

/* msa_new_recipient - has USER written to RCPT before (in half a
 * year)? Noted now either way: 1 new, 0 known, -1 */
int
msa_new_recipient(struct store *st, const char *user, const char *rcpt, time_t now)
{
	struct buf key = BUF_INIT;
	int64_t now_known[2] = { now, 0 };
	int rc;

	buf_putc(&key, REC_KNOWN);
	buf_puts(&key, user);
	buf_append(&key, "", 1);
	for (const char *p = rcpt; *p; p++)
		buf_putc(&key, tolower((unsigned char) *p));
	rc = store_update(st, key.data, key.len, known_update, now_known);
	buf_free(&key);
	return rc < 0 ? -1 : !now_known[1];
}
