/* store.h - the client-assessment store: keys to small records, with an
 * atomic read-modify-write; LMDB embedded (store_lmdb.c), and any other
 * backend (Redis) behind the same operations */
#ifndef MVMTR_STORE_H
#define MVMTR_STORE_H

#include <stddef.h>

struct buf;
struct store;

/* What an update function tells the store to do with the key. */
enum store_verdict { STORE_KEEP, STORE_PUT, STORE_DELETE };

/* update: OLD is the record (NULL when there is none); put the new one
 * in NEW_R and return STORE_PUT, or STORE_KEEP / STORE_DELETE */
typedef enum store_verdict (*store_update_fn)(void *arg, const void *old,
					       size_t old_len,
					       struct buf *new_r);
/* iteration: return nonzero to stop */
typedef int (*store_iter_fn)(void *arg, const char *key, size_t key_len,
			     const void *val, size_t val_len);

struct store_ops {
	int (*get)(struct store *st, const char *key, size_t len,
		   struct buf *val_r);
	int (*update)(struct store *st, const char *key, size_t len,
		      store_update_fn fn, void *arg);
	int (*put_many)(struct store *st, const char *const *keys,
			const size_t *key_lens, const void *const *vals,
			const size_t *val_lens, size_t n);
	int (*iter)(struct store *st, const char *prefix, size_t len,
		    store_iter_fn fn, void *arg);
	void (*close)(struct store *st);
};

struct store {
	const struct store_ops *ops;
	char error[256];	/* the last failure, for the log */
	int damaged;		/* its data is damaged: every operation fails,
				 * and error says why (mvmcas check) */
};

#define STORE_KEY_MAX	480	/* longer keys are shortened with a hash */

struct store *store_open_lmdb(const char *dir, size_t map_size, int readonly,
			      char *err, size_t errsize);
int store_get(struct store *st, const char *key, size_t len, struct buf *val_r);
int store_update(struct store *st, const char *key, size_t len,
		 store_update_fn fn, void *arg);
int store_delete(struct store *st, const char *key, size_t len);
int store_put_many(struct store *st, const char *const *keys,
		   const size_t *key_lens, const void *const *vals,
		   const size_t *val_lens, size_t n);
int store_iter(struct store *st, const char *prefix, size_t len,
	       store_iter_fn fn, void *arg);
void store_close(struct store *st);
size_t store_key(const char *key, size_t len, char *out);

#endif
