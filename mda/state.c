/*
 * state - what mvmda remembers for a user between deliveries, in one
 * LMDB file (default ~/.mvmda.state, see $mvmda_state): the ids the
 * duplicate test has seen (RFC 7352), whom vacation answered when (RFC
 * 5230), and the actions of a delivery that were done before a later
 * one failed (deliver.c), under keys that start "d", "v" and "c".
 *
 * The check and the record are one LMDB write transaction, and LMDB
 * lets one writer in at a time across processes: of two deliveries of
 * one message at once, the second sees the first's record. A record
 * starts "pending" (the delivering process's pid); state_finish() makes
 * it final when the delivery succeeded and removes it when it did not,
 * so a temporary failure does not make the MTA's retry a "duplicate".
 * A pending record whose process is gone, or older than an hour, is a
 * crashed delivery's and does not count.
 *
 * DIAGNOSTICS: -1 with a reason in ERR when the file cannot be opened
 * or written; the caller makes that a runtime error (keep).
 */
#include "config.h"

#include <errno.h>
#include <lmdb.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../milter/mapfault.h"
#include "state.h"

#define STATE_MAP	(64u << 20)	/* plenty for ids and replies */
#define STATE_PENDING	64		/* ids one delivery may mark */
#define STALE_PENDING	3600

struct record {
	int64_t expires;	/* seconds since 1970 */
	int64_t pid;		/* the delivery that marked it; 0 = final */
	int64_t since;		/* when it was marked */
};

static MDB_env *env;
static MDB_dbi dbi;
static int damaged;	/* the file is cut short: left alone from then on */
static MDB_txn *in_flight;	/* kept, with ENV, after a fault */
static struct {
	char *key;
	size_t len;
} pending[STATE_PENDING];
static size_t npending;

/* fault - the error of a call on a damaged state file; -1 */
static int
fault(const char *path, char *err, size_t errsize)
{
	snprintf(err, errsize, "%s: damaged: a page past the end of the file (cut short "
		 "on disk); move it aside, it only remembers duplicate ids and vacation "
		 "replies", path);
	return -1;
}

/* state_open - the LMDB file at PATH, once per process */
static int
state_open(const char *path, char *err, size_t errsize)
{
	char why[200];
	MDB_txn *txn;
	int rc;

	if (env != NULL)
		return 0;
	if ((rc = mdb_env_create(&env)) != 0
	    || (rc = mdb_env_set_mapsize(env, STATE_MAP)) != 0
	    || (rc = mdb_env_open(env, path, MDB_NOSUBDIR, 0600)) != 0
	    || (rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0) {
		snprintf(err, errsize, "%s: %s", path, mdb_strerror(rc));
		if (env != NULL)
			mdb_env_close(env);
		env = NULL;
		return -1;
	}
	if (mapfault_check(env, why, sizeof(why)) < 0) {
		mdb_txn_abort(txn);
		mdb_env_close(env);
		env = NULL;
		snprintf(err, errsize, "%s: %s; move it aside, it only remembers duplicate "
			 "ids and vacation replies", path, why);
		return -1;
	}
	if ((rc = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0 || (rc = mdb_txn_commit(txn)) != 0) {
		snprintf(err, errsize, "%s: %s", path, mdb_strerror(rc));
		mdb_env_close(env);
		env = NULL;
		return -1;
	}
	return 0;
}

/* record_get - KEY's record in TXN: 0, MDB_NOTFOUND (also for a value
 * of another size), or LMDB's error */
static int
record_get(MDB_txn *txn, MDB_val *k, struct record *r)
{
	MDB_val v;
	int rc = mdb_get(txn, dbi, k, &v);

	if (rc == 0 && v.mv_size != sizeof(*r))
		return MDB_NOTFOUND;
	if (rc == 0)
		memcpy(r, v.mv_data, sizeof(*r));
	return rc;
}

/* record_put - KEY's record is R (in TXN); LMDB's answer */
static int
record_put(MDB_txn *txn, MDB_val *k, struct record *r)
{
	MDB_val v = { sizeof(*r), r };

	return mdb_put(txn, dbi, k, &v, 0);
}

/* counts - a record that says "seen": final and not expired, or
 * pending for a delivery that is still running */
static int
counts(const struct record *r, time_t now)
{
	if (r->pid == 0)
		return r->expires > now;
	if (r->pid == (int64_t) getpid())
		return 0;	/* this delivery's own mark: not yet seen */
	if (now - r->since > STALE_PENDING)
		return 0;
	return kill((pid_t) r->pid, 0) == 0 || errno != ESRCH;
}

/* duplicate - state_duplicate() inside the fault guard */
static int
duplicate(const char *path, const char *key, size_t len, int64_t seconds,
	  int last, char *err, size_t errsize)
{
	MDB_txn *txn;
	MDB_val k = { len, (void *) key };
	struct record r;
	time_t now = time(NULL);
	int rc, seen = 0;

	if (state_open(path, err, errsize) < 0)
		return -1;
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		goto fail;
	in_flight = txn;
	rc = record_get(txn, &k, &r);
	if (rc == 0) {
		seen = counts(&r, now);
	} else if (rc != MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if (seen) {
		if (last && r.pid == 0) {	/* RFC 7352 3.4: from the last one */
			r.expires = (int64_t) now + seconds;
			if ((rc = record_put(txn, &k, &r)) != 0) {
				mdb_txn_abort(txn);
				goto fail;
			}
		}
	} else {
		if (npending == STATE_PENDING) {
			mdb_txn_abort(txn);
			snprintf(err, errsize, "more than %d duplicate ids in one delivery",
				 STATE_PENDING);
			return -1;
		}
		r.expires = (int64_t) now + seconds;
		r.pid = (int64_t) getpid();
		r.since = (int64_t) now;
		if ((rc = record_put(txn, &k, &r)) != 0) {
			mdb_txn_abort(txn);
			goto fail;
		}
		if ((pending[npending].key = malloc(len)) == NULL) {
			mdb_txn_abort(txn);
			snprintf(err, errsize, "out of memory");
			return -1;
		}
		memcpy(pending[npending].key, key, len);
		pending[npending++].len = len;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	return seen;
fail:
	snprintf(err, errsize, "%s: %s", path, mdb_strerror(rc));
	return -1;
}

/* claim - state_claim() inside the fault guard */
static int
claim(const char *path, const char *key, size_t len, int64_t seconds,
      char *err, size_t errsize)
{
	MDB_txn *txn;
	MDB_val k = { len, (void *) key };
	struct record r;
	time_t now = time(NULL);
	int rc;

	if (state_open(path, err, errsize) < 0)
		return -1;
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		goto fail;
	in_flight = txn;
	if (record_get(txn, &k, &r) == 0 && r.pid == 0 && r.expires > now) {
		mdb_txn_abort(txn);
		return 1;
	}
	r.expires = (int64_t) now + seconds;
	r.pid = 0;
	r.since = (int64_t) now;
	if ((rc = record_put(txn, &k, &r)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errsize, "%s: %s", path, mdb_strerror(rc));
	return -1;
}

/* seen - state_seen() inside the fault guard */
static int
seen(const char *path, const char *key, size_t len, char *err, size_t errsize)
{
	MDB_txn *txn;
	MDB_val k = { len, (void *) key };
	struct record r;
	int rc;

	if (state_open(path, err, errsize) < 0)
		return -1;
	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0) {
		snprintf(err, errsize, "%s: %s", path, mdb_strerror(rc));
		return -1;
	}
	in_flight = txn;
	rc = record_get(txn, &k, &r) == 0 && r.pid == 0 && r.expires > time(NULL);
	mdb_txn_abort(txn);
	return rc;
}

/* mark - state_mark() inside the fault guard */
static int
mark(const char *path, const char *key, size_t len, int64_t seconds, char *err,
     size_t errsize)
{
	MDB_txn *txn;
	MDB_val k = { len, (void *) key };
	time_t now = time(NULL);
	struct record r = { (int64_t) now + seconds, 0, (int64_t) now };
	int rc;

	if (state_open(path, err, errsize) < 0)
		return -1;
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		goto fail;
	in_flight = txn;
	if ((rc = record_put(txn, &k, &r)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errsize, "%s: %s", path, mdb_strerror(rc));
	return -1;
}

/* drop - state_drop() inside the fault guard */
static void
drop(const char *path, const char *prefix, size_t len)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k = { len, (void *) prefix }, v;
	char err[256];
	int rc;

	if (state_open(path, err, sizeof(err)) < 0 || mdb_txn_begin(env, NULL, 0, &txn) != 0)
		return;
	in_flight = txn;
	if (mdb_cursor_open(txn, dbi, &cur) != 0) {
		mdb_txn_abort(txn);
		return;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size >= len && memcmp(k.mv_data, prefix, len) == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		mdb_cursor_del(cur, 0);
	mdb_cursor_close(cur);
	mdb_txn_commit(txn);
}

/* forget - state_forget() inside the fault guard */
static void
forget(const char *path, const char *key, size_t len)
{
	MDB_txn *txn;
	MDB_val k = { len, (void *) key };
	char err[256];

	if (state_open(path, err, sizeof(err)) < 0 || mdb_txn_begin(env, NULL, 0, &txn) != 0)
		return;
	in_flight = txn;
	mdb_del(txn, dbi, &k, NULL);
	mdb_txn_commit(txn);
}

/* expire - drop records that no longer count (in TXN) */
static void
expire(MDB_txn *txn, time_t now)
{
	MDB_cursor *cur;
	MDB_val k, v;
	struct record r;

	if (mdb_cursor_open(txn, dbi, &cur) != 0)
		return;
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		if (v.mv_size != sizeof(r))
			continue;
		memcpy(&r, v.mv_data, sizeof(r));
		if ((r.pid == 0 && r.expires <= now)
		    || (r.pid != 0 && now - r.since > STALE_PENDING))
			mdb_cursor_del(cur, 0);
	}
	mdb_cursor_close(cur);
}

/* finish - state_finish() inside the fault guard */
static void
finish(int delivered)
{
	MDB_txn *txn;
	time_t now = time(NULL);

	if (env == NULL)
		return;
	if (mdb_txn_begin(env, NULL, 0, &txn) == 0) {
		in_flight = txn;
		for (size_t i = 0; i < npending; i++) {
			MDB_val k = { pending[i].len, pending[i].key };
			struct record r;

			if (record_get(txn, &k, &r) != 0 || r.pid != (int64_t) getpid())
				continue;
			if (!delivered) {
				mdb_del(txn, dbi, &k, NULL);
				continue;
			}
			r.pid = 0;
			record_put(txn, &k, &r);
		}
		expire(txn, now);
		mdb_txn_commit(txn);
	}
	for (size_t i = 0; i < npending; i++)
		free(pending[i].key);
	npending = 0;
	mdb_env_close(env);
	env = NULL;
}

/* The public calls: each inside the fault guard (mapfault.c), so a state
 * file cut short after it was opened is an error of that call, and the
 * file is left alone for the rest of the delivery. */
#define GUARD(on_fault)							\
	sigjmp_buf jb;							\
									\
	if (damaged) {							\
		on_fault;						\
	}								\
	mapfault_arm(&jb);						\
	if (sigsetjmp(jb, 0) != 0) {					\
		damaged = 1;	/* ENV and in_flight left as they are */	\
		on_fault;						\
	}

/* state_duplicate - 1 when KEY was seen (within its time), else 0 and
 * KEY is marked pending for this delivery; -1 with ERR */
int
state_duplicate(const char *path, const char *key, size_t len, int64_t seconds,
		int last, char *err, size_t errsize)
{
	int rc;

	GUARD(return fault(path, err, errsize))
	rc = duplicate(path, key, len, seconds, last, err, errsize);
	mapfault_disarm();
	return rc;
}

/* state_claim - 1 when KEY holds a final record that has not expired
 * (vacation: this sender was answered within the period); else KEY is
 * recorded for SECONDS from now, in the same write transaction, and 0:
 * of two deliveries at once only one claims; -1 with ERR */
int
state_claim(const char *path, const char *key, size_t len, int64_t seconds,
	    char *err, size_t errsize)
{
	int rc;

	GUARD(return fault(path, err, errsize))
	rc = claim(path, key, len, seconds, err, errsize);
	mapfault_disarm();
	return rc;
}

/* state_forget - KEY no longer holds a record (a claimed reply that
 * could not be sent) */
void
state_forget(const char *path, const char *key, size_t len)
{
	GUARD(return)
	forget(path, key, len);
	mapfault_disarm();
}

/* state_finish - the delivery is over: this delivery's marks become
 * final when DELIVERED, else they go; expired records are dropped */
void
state_finish(int delivered)
{
	if (env == NULL)
		return;	/* no state file used: nothing to guard */
	GUARD(return)
	finish(delivered);
	mapfault_disarm();
}

/* state_seen - 1 when KEY holds a final record that has not expired, 0
 * when not, -1 with ERR */
int
state_seen(const char *path, const char *key, size_t len, char *err, size_t errsize)
{
	int rc;

	GUARD(return fault(path, err, errsize))
	rc = seen(path, key, len, err, errsize);
	mapfault_disarm();
	return rc;
}

/* state_mark - KEY holds a final record for SECONDS from now; 0, or -1
 * with ERR */
int
state_mark(const char *path, const char *key, size_t len, int64_t seconds, char *err,
	   size_t errsize)
{
	int rc;

	GUARD(return fault(path, err, errsize))
	rc = mark(path, key, len, seconds, err, errsize);
	mapfault_disarm();
	return rc;
}

/* state_drop - every record whose key starts with PREFIX goes */
void
state_drop(const char *path, const char *prefix, size_t len)
{
	GUARD(return)
	drop(path, prefix, len);
	mapfault_disarm();
}
