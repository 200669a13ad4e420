/*
 * store - what every backend shares: which one a setting names (a
 * directory is LMDB, a redis:// or redis+unix:// URL Redis); keys
 * longer than a backend can hold (LMDB: 511 bytes) are cut and given a
 * hash of the whole key, so any triplet fits; then the call goes to
 * the backend.
 *
 * DIAGNOSTICS: -1 from the backend, with the reason in st->error.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store.h"

/* store_is_redis - WHERE names a Redis server, not a directory */
int
store_is_redis(const char *where)
{
	return strncmp(where, "redis://", 8) == 0 || strncmp(where, "redis+unix://", 13) == 0;
}

/* store_open - the store WHERE names, with CONF's settings; NULL and
 * ERR when it cannot be opened */
struct store *
store_open(const char *where, const struct store_conf *conf, int readonly,
	   char *err, size_t errsize)
{
	if (store_is_redis(where))
		return store_open_redis(where, conf, err, errsize);
	return store_open_lmdb(where, conf->map_size, readonly, err, errsize);
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
	char k[STORE_KEY_MAX + 1];

	len = store_key(key, len, k);
	return st->ops->update(st, k, len, fn, arg);
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
	if (st != NULL)
		st->ops->close(st);
}
