/*
 * store_lmdb - the store in one LMDB environment: one file, crash-safe
 * (copy-on-write B-tree), shared by every mvmtr thread and by mvmcas in
 * other processes. Reads are lock-free read transactions; an update is
 * one write transaction (LMDB lets one writer in at a time, across
 * processes), so a read-modify-write never loses a concurrent update.
 *
 * Durability: data pages are fsync'd at every commit; the meta page is
 * not (MDB_NOMETASYNC), so a system crash can lose the last commit but
 * never the database. Reader slots belong to transactions, not threads
 * (MDB_NOTLS), as mvmtr's connection threads come and go.
 *
 * DIAGNOSTICS: -1 with st->error set (mdb_strerror, and "the store is
 * full: raise $mvmtr_store_size" for MDB_MAP_FULL).
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <lmdb.h>
#include <pwd.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mapfault.h"
#include "msg/msg.h"
#include "store.h"

struct store_lmdb {
	struct store st;
	MDB_env *env;
	MDB_dbi dbi;
	int readonly;
	int faulted;		/* a fault left a transaction half-way */
	int salvage;		/* read-only and damaged: read what can be */
};

/* failed - note RC as the store's error; -1 */
static int
failed(struct store_lmdb *s, const char *what, int rc)
{
	return store_fail(&s->st, "%s: %s", what,
			  rc == MDB_MAP_FULL ? "the store is full: raise $mvmtr_store_size"
			  : mdb_strerror(rc));
}

/* The operations' arguments, through guarded(). */
struct op {
	const char *key;
	size_t len;
	struct buf *val;
	const struct store_change *changes;	/* update: N of them */
	store_iter_fn iter;
	void *arg;
	const char *const *keys;
	const size_t *key_lens;
	const void *const *vals;
	const size_t *val_lens;
	size_t n;
	MDB_txn *txn;		/* the one under way, kept after a fault */
};

/* What faults left half-way: LMDB is not called again to end them, and
 * they stay reachable here, so they are not taken for leaks. */
static void *left[64];
static size_t nleft;
static pthread_mutex_t left_lock = PTHREAD_MUTEX_INITIALIZER;

/* keep - P (a transaction, an environment) left by a fault */
static void
keep(void *p)
{
	pthread_mutex_lock(&left_lock);
	if (p != NULL && nleft < sizeof(left) / sizeof(left[0]))
		left[nleft++] = p;
	pthread_mutex_unlock(&left_lock);
}

/* guarded - FN(S, ARGS), with a SIGBUS from the map made an error: the
 * store is damaged for good then (a transaction may be left half-way,
 * so LMDB is not touched again) */
static int
guarded(struct store_lmdb *s, const char *what, int (*fn)(struct store_lmdb *, struct op *),
	struct op *op)
{
	sigjmp_buf jb;
	int rc;

	if (s->st.damaged && !s->salvage)
		return -1;	/* st.error still says why */
	mapfault_arm(&jb);
	if (sigsetjmp(jb, 0) != 0) {
		s->st.damaged = s->faulted = 1;
		s->salvage = 0;
		keep(op->txn);
		return store_fail(&s->st, "%s: damaged: a page past the end of the store's "
				  "file (cut short on disk); see mvmcas(8) RECOVERY", what);
	}
	rc = fn(s, op);
	mapfault_disarm();
	return rc;
}

/* get_txn - see store_get() */
static int
get_txn(struct store_lmdb *s, struct op *op)
{
	const char *key = op->key;
	size_t len = op->len;
	struct buf *val_r = op->val;
	MDB_val k = { len, (void *) key }, v;
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
		return failed(s, "read", rc);
	op->txn = txn;
	rc = mdb_get(txn, s->dbi, &k, &v);
	if (rc == 0) {
		buf_reset(val_r);
		buf_append(val_r, v.mv_data, v.mv_size);
	}
	mdb_txn_abort(txn);
	if (rc == MDB_NOTFOUND)
		return 0;
	return rc == 0 ? (val_r->failed ? -1 : 1) : failed(s, "read", rc);
}

/* update_txn - see store_update_all(): one write transaction for all
 * the changes, not committed (no write, no fsync) when none changes */
static int
update_txn(struct store_lmdb *s, struct op *op)
{
	struct buf next = BUF_INIT;
	int changed = 0;
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return failed(s, "update", rc);
	op->txn = txn;
	for (size_t i = 0; i < op->n; i++) {
		const struct store_change *ch = &op->changes[i];
		MDB_val k = { ch->len, (void *) ch->key }, v;
		enum store_verdict verdict;
		int64_t ttl = 0;	/* LMDB keeps records until mvmcas expire */

		rc = mdb_get(txn, s->dbi, &k, &v);
		if (rc != 0 && rc != MDB_NOTFOUND)
			break;
		buf_reset(&next);
		verdict = ch->fn(ch->arg, rc == 0 ? v.mv_data : NULL, rc == 0 ? v.mv_size : 0,
				 &next, &ttl);
		if (verdict == STORE_KEEP || (verdict == STORE_DELETE && rc == MDB_NOTFOUND)) {
			rc = 0;
			continue;
		}
		if (verdict == STORE_PUT) {
			MDB_val nv = { next.len, next.data };

			rc = next.failed ? ENOMEM : mdb_put(txn, s->dbi, &k, &nv, 0);
		} else {
			rc = mdb_del(txn, s->dbi, &k, NULL);
		}
		if (rc != 0)
			break;
		changed = 1;
	}
	buf_free(&next);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return failed(s, "update", rc);
	}
	if (!changed) {
		mdb_txn_abort(txn);
		return 0;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return failed(s, "commit", rc);
	return 0;
}

/* put_many_txn - see store_put_many() */
static int
put_many_txn(struct store_lmdb *s, struct op *op)
{
	const char *const *keys = op->keys;
	const size_t *key_lens = op->key_lens;
	const void *const *vals = op->vals;
	const size_t *val_lens = op->val_lens;
	size_t n = op->n;
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return failed(s, "load", rc);
	op->txn = txn;
	for (size_t i = 0; i < n; i++) {
		char kb[STORE_KEY_MAX + 1];
		MDB_val k, v = { val_lens[i], (void *) vals[i] };

		k.mv_size = store_key(keys[i], key_lens[i], kb);
		k.mv_data = kb;
		if ((rc = mdb_put(txn, s->dbi, &k, &v, 0)) != 0) {
			mdb_txn_abort(txn);
			return failed(s, "load", rc);
		}
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return failed(s, "commit", rc);
	return 0;
}

/* iter_txn - see store_iter() */
static int
iter_txn(struct store_lmdb *s, struct op *op)
{
	const char *prefix = op->key;
	size_t len = op->len;
	store_iter_fn fn = op->iter;
	void *arg = op->arg;
	MDB_val k = { len, (void *) prefix }, v;
	MDB_cursor *cur;
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
		return failed(s, "iterate", rc);
	op->txn = txn;
	if ((rc = mdb_cursor_open(txn, s->dbi, &cur)) != 0) {
		mdb_txn_abort(txn);
		return failed(s, "iterate", rc);
	}
	rc = mdb_cursor_get(cur, &k, &v, len ? MDB_SET_RANGE : MDB_FIRST);
	while (rc == 0 && k.mv_size >= len && memcmp(k.mv_data, prefix, len) == 0) {
		if (fn(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size))
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : failed(s, "iterate", rc);
}

/* lmdb_get, lmdb_update, lmdb_put_many, lmdb_iter - the operations,
 * each one guarded() transaction */
static int
lmdb_get(struct store *st, const char *key, size_t len, struct buf *val_r)
{
	struct op op = { .key = key, .len = len, .val = val_r };

	return guarded((struct store_lmdb *) st, "read", get_txn, &op);
}

static int
lmdb_update(struct store *st, const struct store_change *ch, size_t n)
{
	struct op op = { .changes = ch, .n = n };

	return guarded((struct store_lmdb *) st, "update", update_txn, &op);
}

static int
lmdb_put_many(struct store *st, const char *const *keys, const size_t *key_lens,
	      const void *const *vals, const size_t *val_lens, const int64_t *ttls,
	      size_t n)
{
	struct op op = { .keys = keys, .key_lens = key_lens, .vals = vals,
			 .val_lens = val_lens, .n = n };

	(void) ttls;		/* mvmcas expire drops what is of no use */

	return guarded((struct store_lmdb *) st, "load", put_many_txn, &op);
}

static int
lmdb_iter(struct store *st, const char *prefix, size_t len, store_iter_fn fn,
	  void *arg)
{
	struct op op = { .key = prefix, .len = len, .iter = fn, .arg = arg };

	return guarded((struct store_lmdb *) st, "iterate", iter_txn, &op);
}

/* lmdb_close - see store_close() */
static void
lmdb_close(struct store *st)
{
	struct store_lmdb *s = (struct store_lmdb *) st;

	if (!s->faulted)
		mdb_env_close(s->env);
	else
		keep(s->env);	/* not closed after a fault left a transaction */
	free(s);
}

static const struct store_ops lmdb_ops = {
	.get = lmdb_get, .update = lmdb_update, .put_many = lmdb_put_many,
	.iter = lmdb_iter, .close = lmdb_close,
};

/* owner - "user:group" of UID and GID, by name when they have one */
static void
owner(uid_t uid, gid_t gid, char *out, size_t size)
{
	struct passwd *pw = getpwuid(uid);
	struct group *gr = getgrgid(gid);

	if (pw != NULL && gr != NULL)
		snprintf(out, size, "%s:%s", pw->pw_name, gr->gr_name);
	else
		snprintf(out, size, "%ld:%ld", (long) uid, (long) gid);
}

/* dir_problem - why the store directory DIR cannot be made or used
 * (errno E), as an admin needs it: the path, the owner and mode it has,
 * and whom mvmtr runs as */
static void
dir_problem(const char *dir, int e, int readonly, char *err, size_t errsize)
{
	char parent[4096], have[128], me[128];
	const char *slash = strrchr(dir, '/'), *who;
	struct stat st;

	owner(geteuid(), getegid(), me, sizeof(me));
	snprintf(parent, sizeof(parent), "%.*s", slash == NULL ? 1 : slash == dir ? 1
		 : (int) (slash - dir), slash == NULL ? "." : dir);
	if (e == ENOENT && readonly && stat(dir, &st) < 0) {
		/* mvmcas reads: it makes nothing */
		snprintf(err, errsize, "%s: there is no store here (mvmtr makes it "
			 "when it starts; -s names another)", dir);
	} else if (e == ENOENT && stat(dir, &st) < 0 && stat(parent, &st) < 0) {
		snprintf(err, errsize, "%s cannot be made: %s does not exist (make it, "
			 "writable by %s)", dir, parent, me);
	} else if ((e == EACCES || e == EPERM)
		   && (who = stat(dir, &st) == 0 ? dir : stat(parent, &st) == 0 ? parent : NULL)) {
		owner(st.st_uid, st.st_gid, have, sizeof(have));
		snprintf(err, errsize, "%s: permission denied: %s is owned by %s, mode %03o; "
			 "mvmtr runs as %s", dir, who, have, (unsigned) (st.st_mode & 0777), me);
	} else {
		snprintf(err, errsize, "%s: %s", dir, strerror(e));
	}
}

/* store_open_lmdb - the store in directory DIR (made if missing), up
 * to MAP_SIZE bytes; NULL and ERR when it cannot be opened */
struct store *
store_open_lmdb(const char *dir, size_t map_size, int readonly, char *err,
		size_t errsize)
{
	struct store_lmdb *s = calloc(1, sizeof(*s));
	char why[200];
	MDB_txn *txn;
	int rc, dead;

	if (s == NULL) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	s->st.ops = &lmdb_ops;
	s->readonly = readonly;
	if (!readonly && mkdir(dir, 0750) < 0 && errno != EEXIST) {
		dir_problem(dir, errno, readonly, err, errsize);
		free(s);
		return NULL;
	}
	if ((rc = mdb_env_create(&s->env)) != 0
	    || (rc = mdb_env_set_mapsize(s->env, map_size)) != 0
	    || (rc = mdb_env_set_maxreaders(s->env, 1024)) != 0
	    || (rc = mdb_env_open(s->env, dir, MDB_NOTLS | MDB_NOMETASYNC
				  | (readonly ? MDB_RDONLY : 0), 0640)) != 0) {
		if (rc == EACCES || rc == EPERM || rc == ENOENT)
			dir_problem(dir, rc, readonly, err, errsize);
		else
			snprintf(err, errsize, "%s: %s", dir, mdb_strerror(rc));
		if (s->env != NULL)
			mdb_env_close(s->env);
		free(s);
		return NULL;
	}
	if (mapfault_check(s->env, why, sizeof(why)) < 0) {
		/* open, but every operation fails: the store-failure policy
		 * answers, and mvmcas check says how to recover */
		s->st.damaged = 1;
		s->salvage = readonly;	/* mvmcas dump: the pages before the cut */
		store_fail(&s->st, "%s: %s; see mvmcas(8) RECOVERY", dir, why);
		if (readonly && (rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) == 0) {
			if (mdb_dbi_open(txn, NULL, 0, &s->dbi) != 0)
				s->salvage = 0;
			mdb_txn_abort(txn);
		}
		return &s->st;
	}
	if ((rc = mdb_reader_check(s->env, &dead)) != 0
	    || (rc = mdb_txn_begin(s->env, NULL, readonly ? MDB_RDONLY : 0, &txn)) != 0) {
		snprintf(err, errsize, "%s: %s", dir, mdb_strerror(rc));
		if (s->env != NULL)
			mdb_env_close(s->env);
		free(s);
		return NULL;
	}
	if ((rc = mdb_dbi_open(txn, NULL, 0, &s->dbi)) != 0 || (rc = mdb_txn_commit(txn)) != 0) {
		if (s->dbi == 0)
			mdb_txn_abort(txn);
		snprintf(err, errsize, "%s: %s", dir, mdb_strerror(rc));
		mdb_env_close(s->env);
		free(s);
		return NULL;
	}
	return &s->st;
}
