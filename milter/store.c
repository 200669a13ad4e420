/*
 * store - what every backend shares: keys longer than a backend can
 * hold (LMDB: 511 bytes) are cut and given a hash of the whole key, so
 * any triplet fits; then the call goes to the backend (store_open.c
 * chose it). And a memo: facts a caller may take as known for a short
 * while without asking the store again (a passed triplet: greylist.c),
 * which spares a shared store's round trip for the same client's next
 * message.
 *
 * DIAGNOSTICS: -1 from the backend, with the reason in st->error
 * (store_fail, store_error: one thread's failure is written while
 * another logs its own, and snprintf() first empties what it writes
 * into, so the reader takes a copy under a lock).
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define MEMO_SLOTS	4096	/* direct-mapped by the key's hash */

/* Every store's error: failures are rare, one lock for all will do. */
static pthread_mutex_t error_lock = PTHREAD_MUTEX_INITIALIZER;

/* store_fail - FMT as ST's error, whole or not at all to a reader; -1 */
int
store_fail(struct store *st, const char *fmt, ...)
{
	char text[sizeof(st->error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&error_lock);
	memcpy(st->error, text, strlen(text) + 1);
	pthread_mutex_unlock(&error_lock);
	return -1;
}

/* store_error - a copy of ST's error in BUF (SIZE bytes): the last
 * failure of any thread, never one half written */
const char *
store_error(struct store *st, char *buf, size_t size)
{
	pthread_mutex_lock(&error_lock);
	snprintf(buf, size, "%s", st->error);
	pthread_mutex_unlock(&error_lock);
	return buf;
}

struct store_memo {
	pthread_mutex_t lock;
	struct {
		uint64_t hash;	/* of the key, 0 for an empty slot */
		int64_t from, until;	/* known in [from, until) */
	} slot[MEMO_SLOTS];
};

/* store_memo_new - an empty memo for a store; NULL without memory */
struct store_memo *
store_memo_new(void)
{
	struct store_memo *m = calloc(1, sizeof(*m));

	if (m != NULL)
		pthread_mutex_init(&m->lock, NULL);
	return m;
}

/* key_hash - FNV-1a of KEY, never 0 */
static uint64_t
key_hash(const char *key, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char) key[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ len ? h ^ len : 1;
}

/* store_memo_known - KEY was noted (store_memo_note) and NOW is within
 * the time it was noted for */
int
store_memo_known(struct store *st, const char *key, size_t len, int64_t now)
{
	struct store_memo *m = st->memo;
	uint64_t h = key_hash(key, len);
	size_t i = h % MEMO_SLOTS;
	int known;

	if (m == NULL)
		return 0;
	pthread_mutex_lock(&m->lock);
	known = m->slot[i].hash == h && now >= m->slot[i].from && now < m->slot[i].until;
	pthread_mutex_unlock(&m->lock);
	return known;
}

/* store_memo_note - KEY may be taken as known from NOW for SECONDS */
void
store_memo_note(struct store *st, const char *key, size_t len, int64_t now,
		int64_t seconds)
{
	struct store_memo *m = st->memo;
	uint64_t h = key_hash(key, len);
	size_t i = h % MEMO_SLOTS;

	if (m == NULL)
		return;		/* no memo: every call asks the store */
	pthread_mutex_lock(&m->lock);
	m->slot[i].hash = h;
	m->slot[i].from = now;
	m->slot[i].until = now + seconds;
	pthread_mutex_unlock(&m->lock);
}

/* store_key - KEY as the store keeps it, into OUT (STORE_KEY_MAX
 * bytes); its length */
size_t
store_key(const char *key, size_t len, char *out)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a, 64 bits */

	if (len <= STORE_KEY_MAX) {
		memcpy(out, key, len);
		return len;
	}
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char) key[i];
		h *= 0x100000001b3ULL;
	}
	memcpy(out, key, STORE_KEY_MAX - 17);
	snprintf(out + STORE_KEY_MAX - 17, 18, "#%016llx", (unsigned long long) h);
	return STORE_KEY_MAX;
}

/* store_get - the record under KEY into VAL_R: 1, 0 when absent, -1 */
int
store_get(struct store *st, const char *key, size_t len, struct buf *val_r)
{
	char k[STORE_KEY_MAX + 1];

	len = store_key(key, len, k);
	return st->ops->get(st, k, len, val_r);
}

/* store_update - read KEY, let FN decide, write: one atomic step */
int
store_update(struct store *st, const char *key, size_t len,
	     store_update_fn fn, void *arg)
{
	struct store_change ch = { key, len, fn, arg };

	return store_update_all(st, &ch, 1);
}

/* store_update_all - store_update() of N different keys in one atomic
 * step (one write, one fsync), in order: a change's function may use
 * what the earlier ones found. Keys must differ; N <= STORE_CHANGES_MAX */
int
store_update_all(struct store *st, const struct store_change *ch, size_t n)
{
	char k[STORE_CHANGES_MAX][STORE_KEY_MAX + 1];
	struct store_change c[STORE_CHANGES_MAX];

	if (n > STORE_CHANGES_MAX)
		return store_fail(st, "update: %zu changes at once (at most %d)", n,
				  STORE_CHANGES_MAX);
	for (size_t i = 0; i < n; i++) {
		c[i] = ch[i];
		c[i].len = store_key(ch[i].key, ch[i].len, k[i]);
		c[i].key = k[i];
	}
	return st->ops->update(st, c, n);
}

/* delete_update - remove the record, noting whether it was there */
static enum store_verdict
delete_update(void *arg, const void *old, size_t old_len, struct buf *new_r,
	      int64_t *ttl_r)
{
	int *found = arg;

	(void) old_len;
	(void) new_r;
	(void) ttl_r;
	*found = old != NULL;
	return STORE_DELETE;
}

/* store_delete - remove KEY: 1 if it was there, 0 if not, -1 */
int
store_delete(struct store *st, const char *key, size_t len)
{
	int found = 0;

	return store_update(st, key, len, delete_update, &found) < 0 ? -1 : found;
}

/* store_put_many - N records in one transaction (mvmcas load), each
 * of use for TTLS[i] seconds (0: for good; TTLS NULL: all) */
int
store_put_many(struct store *st, const char *const *keys,
	       const size_t *key_lens, const void *const *vals,
	       const size_t *val_lens, const int64_t *ttls, size_t n)
{
	return st->ops->put_many(st, keys, key_lens, vals, val_lens, ttls, n);
}

/* store_iter - every record whose key starts with PREFIX, in key order */
int
store_iter(struct store *st, const char *prefix, size_t len, store_iter_fn fn,
	   void *arg)
{
	return st->ops->iter(st, prefix, len, fn, arg);
}

/* store_close - done with the store */
void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->memo != NULL) {
		pthread_mutex_destroy(&st->memo->lock);
		free(st->memo);
	}
	st->ops->close(st);
}
