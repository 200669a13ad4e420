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

/* user_parse - a "u" record VAL into R (zeroed when it is short) and
 * its reason, messages and recipients into OUT (NULLs skipped) */
static void
user_parse(const void *val, size_t len, struct user_rec *r, struct buf *const out[3])
{
	const char *p = (const char *) val + sizeof(*r), *end = (const char *) val + len;

	memset(r, 0, sizeof(*r));
	if (val == NULL || len < sizeof(*r))
		return;
	/* then reason \0 messages \0 recipients */
	memcpy(r, val, sizeof(*r));
	for (int i = 0; i < 3; i++) {
		const char *nul = memchr(p, 0, (size_t) (end - p));
		size_t plen = (size_t) ((nul ? nul : end) - p);

		if (out[i] != NULL) {
			buf_reset(out[i]);
			buf_append(out[i], p, plen);
			buf_putc(out[i], 0);
			out[i]->len--;
		}
		p = nul ? nul + 1 : end;
	}
}

/* msa_user_get - USER's record into R (zeroed when there is none) and
 * its limits for messages and recipients into the buffers; 1, 0, -1 */
int
msa_user_get(struct store *st, const char *user, struct user_rec *r,
	     struct buf *reason_r, struct buf *messages_r, struct buf *recipients_r)
{
	struct buf key = BUF_INIT, val = BUF_INIT;
	struct buf *const out[3] = { reason_r, messages_r, recipients_r };
	int rc;

	user_key(&key, user);
	rc = store_get(st, key.data, key.len, &val);
	user_parse(rc == 1 ? val.data : NULL, val.len, r, out);
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
	for (int i = 0; rc == 0 && !lock && i < 3; i++) {
		static const char *const kinds[3] = { "messages", "recipients", "failed" };

		buf_reset(&key);
		buf_putc(&key, REC_RATE);
		buf_printf(&key, "msa:brake:%s:%s", kinds[i], user);
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

/* limits_parse - SPEC's "COUNT/SECONDS" words into L */
static void
limits_parse(struct limits *l, const char *spec)
{
	l->n = 0;
	for (const char *p = spec; p != NULL && *p && l->n < LIMITS_MAX;) {
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
		l->max[l->n] = max;
		l->window[l->n++] = window;
	}
}

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

/* The events of one step (a recipient, with the message it is the first
 * of; a failed recipient) of a user, one store transaction: the user's
 * record (lock, own limits), then for each kind the limits' counts, the
 * recipient noted as known, the brake's count. WHY is shared: once an
 * event is refused, the later ones are neither counted nor noted. */
struct event {
	const char *kind;	/* "messages", "recipients", "failed" */
	const char *defaults;	/* the limits unless the user has own */
	const char *rcpt;	/* recipients: the recipient */
	int dry;		/* only whether it would pass: nothing written */
	long brake_max;		/* the brake: over BRAKE_MAX in RATE.window */
	struct limits limits;
	struct rate_arg rate;
	int64_t known[2];	/* in: now; out: the recipient was known */
	int counts;		/* out: it counts for the brake */
	int counted;		/* out: it passed and was counted */
	struct buf *why;	/* out: "" or why it may not go */
	struct event *next;	/* the step's next kind */
};

/* event_user - the user's lock and limits (read, not written), for
 * every kind of the step */
static enum store_verdict
event_user(void *arg, const void *old, size_t old_len, struct buf *new_r, int64_t *ttl_r)
{
	struct event *ev = arg;
	struct buf reason = BUF_INIT, messages = BUF_INIT, recipients = BUF_INIT;
	struct buf *const out[3] = { &reason, &messages, &recipients };
	struct user_rec r;

	(void) new_r;
	(void) ttl_r;
	buf_reset(ev->why);
	user_parse(old, old_len, &r, out);
	if (r.locked)
		buf_printf(ev->why, "locked: %s", reason.len ? reason.data : "by the admin");
	for (struct event *e = ev; e != NULL; e = e->next) {
		const struct buf *own = strcmp(e->kind, "messages") == 0 ? &messages
		    : strcmp(e->kind, "recipients") == 0 ? &recipients : NULL;

		e->counted = 0;
		limits_parse(&e->limits, own != NULL && own->len ? own->data
			     : own != NULL ? e->defaults : NULL);
	}
	buf_free(&reason);
	buf_free(&messages);
	buf_free(&recipients);
	return STORE_KEEP;
}

/* event_limits - counted in the limits' windows, unless refused */
static enum store_verdict
event_limits(void *arg, const void *old, size_t old_len, struct buf *new_r, int64_t *ttl_r)
{
	struct event *ev = arg;
	enum store_verdict v;

	if (ev->why->len > 0)
		return STORE_KEEP;
	v = ev->limits.n > 0 ? limits_update(&ev->limits, old, old_len, new_r, ttl_r) : STORE_KEEP;
	ev->counted = ev->why->len == 0 && !ev->dry;
	return ev->dry ? STORE_KEEP : v;
}

/* event_known - a recipient let through is noted as known */
static enum store_verdict
event_known(void *arg, const void *old, size_t old_len, struct buf *new_r, int64_t *ttl_r)
{
	struct event *ev = arg;
	struct sender_rec r = { .version = 1, .added = ev->known[0] }, o;

	ev->known[1] = old != NULL;
	if (ev->why->len > 0 || ev->dry)
		return STORE_KEEP;
	if (old != NULL && old_len == sizeof(o)) {
		memcpy(&o, old, sizeof(o));
		if (o.added <= r.added && r.added - o.added < 86400)
			return STORE_KEEP;	/* noted today: no write for it */
	}
	buf_append(new_r, &r, sizeof(r));
	*ttl_r = KNOWN_RCPT_SECONDS;
	return STORE_PUT;
}

/* event_brake - the brake counts every message let through, every new
 * recipient let through, every failed recipient */
static enum store_verdict
event_brake(void *arg, const void *old, size_t old_len, struct buf *new_r, int64_t *ttl_r)
{
	struct event *ev = arg;

	ev->counts = ev->brake_max > 0 && ev->why->len == 0 && !ev->dry
	    && (strcmp(ev->kind, "recipients") != 0 || !ev->known[1]);
	ev->rate.count = 0;
	if (!ev->counts)
		return STORE_KEEP;
	return rate_update(&ev->rate, old, old_len, new_r, ttl_r);
}

/* event_keys - EV's changes (and their keys, in KEY) onto CH[*N] */
static void
event_keys(struct event *ev, const char *user, struct buf key[3], struct store_change *ch,
	   size_t *n)
{
	buf_putc(&key[0], REC_LIMITS);
	buf_puts(&key[0], ev->kind);
	buf_append(&key[0], "", 1);
	buf_puts(&key[0], user);
	ch[(*n)++] = (struct store_change) { key[0].data, key[0].len, event_limits, ev };
	if (strcmp(ev->kind, "recipients") == 0 && ev->rcpt != NULL) {
		buf_putc(&key[1], REC_KNOWN);
		buf_puts(&key[1], user);
		buf_append(&key[1], "", 1);
		for (const char *p = ev->rcpt; *p; p++)
			buf_putc(&key[1], tolower((unsigned char) *p));
		ch[(*n)++] = (struct store_change) { key[1].data, key[1].len, event_known, ev };
	}
	buf_putc(&key[2], REC_RATE);
	buf_printf(&key[2], "msa:brake:%s:%s", ev->kind, user);
	ch[(*n)++] = (struct store_change) { key[2].data, key[2].len, event_brake, ev };
}

/* msa_events - the N events K of one step of USER (at most
 * MSA_KINDS_MAX, kinds different): each one more of K[i].kind
 * ("messages", "recipients" with K[i].rcpt, "failed") under the user's
 * own limits or K[i].limits, and the brake K[i].brake ("COUNT/SECONDS":
 * messages in it, new recipients in it, failed recipients in it; NULL
 * or "" none). "" into WHY when they may go, else why not (a lock, a
 * limit); a refused event is not counted, nor the later ones; a
 * recipient let through is known from then on. K[i].counted says which
 * were counted. DRY: only whether they would pass, nothing counted or
 * written. One store write. 1 + i when K[i]'s brake locked USER now,
 * 0, -1 */
int
msa_events(struct store *st, const char *user, struct msa_kind *k, size_t n, int dry,
	   time_t now, struct buf *why)
{
	struct event ev[MSA_KINDS_MAX];
	struct buf key[1 + 3 * MSA_KINDS_MAX];
	struct store_change ch[1 + 3 * MSA_KINDS_MAX];
	size_t nch = 0, nkeys = 1 + 3 * n;
	int rc = 0, failed = 0;

	if (n == 0 || n > MSA_KINDS_MAX)
		return -1;
	buf_reset(why);
	for (size_t i = 0; i < nkeys; i++)
		key[i] = (struct buf) BUF_INIT;
	user_key(&key[0], user);
	ch[nch++] = (struct store_change) { key[0].data, key[0].len, event_user, &ev[0] };
	for (size_t i = 0; i < n; i++) {
		char *end;

		ev[i] = (struct event) { .kind = k[i].kind, .defaults = k[i].limits,
					 .rcpt = k[i].rcpt, .dry = dry, .known = { now, 1 },
					 .why = why, .next = i + 1 < n ? &ev[i + 1] : NULL };
		ev[i].limits.now = now;
		ev[i].limits.kind = k[i].kind;
		ev[i].limits.why = why;
		ev[i].rate.now = now;
		ev[i].rate.add = 1;
		if (k[i].brake != NULL && (ev[i].brake_max = strtol(k[i].brake, &end, 10)) > 0
		    && *end == '/')
			ev[i].rate.window = strtol(end + 1, NULL, 10);
		if (ev[i].rate.window <= 0)
			ev[i].brake_max = 0;
		event_keys(&ev[i], user, &key[1 + 3 * i], ch, &nch);
	}
	for (size_t i = 0; i < nkeys; i++)
		failed |= key[i].failed;
	if (failed || why->failed || store_update_all(st, ch, nch) < 0)
		rc = -1;
	for (size_t i = 0; i < nkeys; i++)
		buf_free(&key[i]);
	for (size_t i = 0; i < n; i++)
		k[i].counted = ev[i].counted;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char reason[160];

		if (!ev[i].counts || ev[i].rate.count <= ev[i].brake_max)
			continue;
		snprintf(reason, sizeof(reason), "automatic: %lld %s%s in %lld s (brake %ld)",
			 (long long) ev[i].rate.count, strcmp(ev[i].kind, "recipients") == 0 ? "new " : "",
			 strcmp(ev[i].kind, "failed") == 0 ? "failed recipients" : ev[i].kind,
			 (long long) ev[i].rate.window, ev[i].brake_max);
		if ((rc = msa_user_lock(st, user, 1, reason, now)) == 1) {
			buf_reset(why);
			buf_printf(why, "locked: %s", reason);
			rc = 1 + (int) i;
		}
		break;
	}
	return rc;
}

/* msa_event - one event of one KIND: see msa_events(); 1 when its
 * brake locked USER now, 0, -1 */
int
msa_event(struct store *st, const char *user, const char *kind, const char *defaults,
	  const char *brake, const char *rcpt, time_t now, struct buf *why)
{
	struct msa_kind k = { kind, defaults, brake, rcpt, 0 };

	return msa_events(st, user, &k, 1, 0, now, why);
}
