/* store.h - the client-assessment store: keys to small records, with an
 * atomic read-modify-write; LMDB embedded (store_lmdb.c), Redis shared
 * by several hosts (store_redis.c), behind the same operations */
#ifndef MVMTR_STORE_H
#define MVMTR_STORE_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct store;

/* What an update function tells the store to do with the key. */
enum store_verdict { STORE_KEEP, STORE_PUT, STORE_DELETE };

/* update: OLD is the record (NULL when there is none); put the new one
 * in NEW_R and return STORE_PUT, or STORE_KEEP / STORE_DELETE. *TTL_R
 * (0 when called) may say how many seconds the new record is of use:
 * a backend with expiry (Redis) drops it then; LMDB keeps it until
 * mvmcas expire */
typedef enum store_verdict (*store_update_fn)(void *arg, const void *old,
					       size_t old_len,
					       struct buf *new_r,
					       int64_t *ttl_r);
/* One key's change in store_update_all(): FN(ARG, ...) on KEY's record. */
struct store_change {
	const char *key;
	size_t len;
	store_update_fn fn;
	void *arg;
};

#define STORE_CHANGES_MAX	8	/* changes one store_update_all() takes */

/* iteration: return nonzero to stop */
typedef int (*store_iter_fn)(void *arg, const char *key, size_t key_len,
			     const void *val, size_t val_len);

struct store_ops {
	int (*get)(struct store *st, const char *key, size_t len,
		   struct buf *val_r);
	int (*update)(struct store *st, const struct store_change *ch, size_t n);
	int (*put_many)(struct store *st, const char *const *keys,
			const size_t *key_lens, const void *const *vals,
			const size_t *val_lens, const int64_t *ttls, size_t n);
	int (*iter)(struct store *st, const char *prefix, size_t len,
		    store_iter_fn fn, void *arg);
	void (*close)(struct store *st);
};

struct store {
	const struct store_ops *ops;
	char error[512];	/* the last failure, for the log: threads share
				 * a store, so it is written by store_fail()
				 * and read by store_error() alone (a copy)
				 * where threads run */
	int damaged;		/* its data is damaged: every operation fails,
				 * and error says why (mvmcas check) */
	int expires;		/* records expire by themselves (Redis TTLs) */
	struct store_memo *memo;	/* what callers may take as known for a
					 * while without asking (store.c) */
};

/* How to reach a shared store (Redis); LMDB takes only map_size. */
struct store_conf {
	size_t map_size;	/* LMDB: largest size the file may grow to */
	const char *prefix;	/* Redis: the keys' prefix ("mvmf:") */
	int connect_ms;		/* Redis: connect timeout */
	int timeout_ms;		/* Redis: command timeout */
};

#define STORE_KEY_MAX	480	/* longer keys are shortened with a hash */

struct store *store_open(const char *where, const struct store_conf *conf,
			 int readonly, char *err, size_t errsize);
int store_is_redis(const char *where);
struct store *store_open_lmdb(const char *dir, size_t map_size, int readonly,
			      char *err, size_t errsize);
struct store *store_open_redis(const char *url, const struct store_conf *conf,
			       char *err, size_t errsize);
int store_get(struct store *st, const char *key, size_t len, struct buf *val_r);
int store_update(struct store *st, const char *key, size_t len,
		 store_update_fn fn, void *arg);
int store_update_all(struct store *st, const struct store_change *ch, size_t n);
int store_delete(struct store *st, const char *key, size_t len);
int store_put_many(struct store *st, const char *const *keys,
		   const size_t *key_lens, const void *const *vals,
		   const size_t *val_lens, const int64_t *ttls, size_t n);
int store_iter(struct store *st, const char *prefix, size_t len,
	       store_iter_fn fn, void *arg);
void store_close(struct store *st);
int store_fail(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *store_error(struct store *st, char *buf, size_t size);
struct store_memo *store_memo_new(void);
int store_memo_known(struct store *st, const char *key, size_t len, int64_t now);
void store_memo_note(struct store *st, const char *key, size_t len, int64_t now,
		     int64_t seconds);
size_t store_key(const char *key, size_t len, char *out);

#endif
