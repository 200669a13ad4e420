/*
 * store_redis - the store in a Redis server that several MX hosts
 * share: every record one string key, under a prefix ("mvmf:") so one
 * server can hold several clusters' stores. A read is one GET; an
 * update is optimistic: WATCH and GET, the policy decides, then MULTI,
 * SET (with the record's TTL) or DEL, EXEC; when another host changed
 * the key in between, EXEC does nothing and the update starts over, so
 * no concurrent update is lost, as with LMDB's write transaction.
 * Records expire by their TTLs: mvmcas expire has nothing to do.
 *
 * Connections are pooled: an operation takes an idle one or opens one
 * (connect timeout, AUTH, SELECT), and gives it back when it is sound.
 * A connection that fails is dropped; when a new one cannot be made,
 * the server is taken for down and operations fail at once for a
 * back-off that doubles from 50 ms to 2 s, then a new connection is
 * tried: the caller's failure policy answers meanwhile, and the store
 * recovers by itself when Redis is back.
 *
 * DIAGNOSTICS: -1 with st->error naming the server and Redis's or the
 * socket's reason ("OOM command not allowed...", "READONLY ...",
 * "timed out after 50 ms", "Connection refused").
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg/msg.h"
#include "store.h"

#ifndef HAVE_REDIS

/* store_open_redis - this build has no Redis backend */
struct store *
store_open_redis(const char *url, const struct store_conf *conf, char *err,
		 size_t errsize)
{
	(void) conf;
	snprintf(err, errsize, "%s: this mvmf was built without Redis (hiredis: "
		 "./configure --with-redis)", url);
	return NULL;
}

#else

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#define POOL_MAX	64	/* idle connections kept */
#define UPDATE_TRIES	100	/* optimistic updates before giving up */
#define BACKOFF_FIRST	50	/* ms */
#define BACKOFF_MAX	2000
#define BATCH		1000	/* records a MULTI of put_many, keys a SCAN */

struct store_redis {
	struct store st;
	char *host, *path;	/* TCP host, or unix socket path */
	int port, db;
	char *user, *password;
	char *prefix;
	size_t prefix_len;
	char where[160];	/* "redis 127.0.0.1:6379", for messages */
	struct timeval connect_tv, command_tv;
	int timeout_ms;
	pthread_mutex_t lock;	/* the pool and the back-off */
	redisContext *idle[POOL_MAX];
	size_t nidle;
	long long retry_at;	/* down: no new connection before (ms) */
	int backoff;		/* ms, 0 while up */
	char down[200];		/* why it is down */
};

/* now_ms - a monotonic clock */
static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* io_reason - why C failed, as an admin reads it */
static const char *
io_reason(const struct store_redis *r, const redisContext *c, char *out, size_t size)
{
	if (c == NULL)
		return "out of memory";
	if (c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK
				       || strstr(c->errstr, "temporarily unavailable"))) {
		snprintf(out, size, "timed out after %d ms", r->timeout_ms);
		return out;
	}
	if (c->err == REDIS_ERR_EOF)
		return "the server closed the connection";
	return c->errstr[0] ? c->errstr : "connection failed";
}

/* failed - note WHAT failed for REASON as the store's error; -1 */
static int
failed(struct store_redis *r, const char *what, const char *reason)
{
	return store_fail(&r->st, "%s: %s: %s", r->where, what, reason);
}

/* hello - AUTH and SELECT on a new connection: 0, or -1 and WHY */
static int
hello(struct store_redis *r, redisContext *c, char *why, size_t size)
{
	redisReply *rep;
	char db[16], io[100];

	if (r->password != NULL) {
		rep = r->user != NULL
		    ? redisCommand(c, "AUTH %s %s", r->user, r->password)
		    : redisCommand(c, "AUTH %s", r->password);
		if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
			snprintf(why, size, "AUTH: %s", rep ? rep->str : io_reason(r, c, io, sizeof(io)));
			freeReplyObject(rep);
			return -1;
		}
		freeReplyObject(rep);
	}
	/* a server that wants a password says so to PING */
	rep = redisCommand(c, "PING");
	if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
		snprintf(why, size, "%s", rep ? rep->str : io_reason(r, c, io, sizeof(io)));
		if (rep != NULL && strncmp(rep->str, "NOAUTH", 6) == 0)
			snprintf(why, size, "AUTH: the server wants a password "
				 "(redis://user:password@host/)");
		freeReplyObject(rep);
		return -1;
	}
	freeReplyObject(rep);
	if (r->db != 0) {
		snprintf(db, sizeof(db), "%d", r->db);
		rep = redisCommand(c, "SELECT %s", db);
		if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
			snprintf(why, size, "SELECT %d: %s", r->db,
				 rep ? rep->str : io_reason(r, c, io, sizeof(io)));
			freeReplyObject(rep);
			return -1;
		}
		freeReplyObject(rep);
	}
	return 0;
}

/* conn_open - a new connection, ready; NULL and WHY */
static redisContext *
conn_open(struct store_redis *r, char *why, size_t size)
{
	redisContext *c = r->path != NULL
	    ? redisConnectUnixWithTimeout(r->path, r->connect_tv)
	    : redisConnectWithTimeout(r->host, r->port, r->connect_tv);

	if (c == NULL || c->err) {
		if (c != NULL && c->err == REDIS_ERR_IO && errno == EINPROGRESS)
			snprintf(why, size, "connect timed out after %ld ms",
				 (long) (r->connect_tv.tv_sec * 1000 + r->connect_tv.tv_usec / 1000));
		else
			snprintf(why, size, "connect: %s", c ? c->errstr : "out of memory");
		redisFree(c);
		return NULL;
	}
	if (redisSetTimeout(c, r->command_tv) != REDIS_OK
	    || (r->path == NULL && redisEnableKeepAlive(c) != REDIS_OK)
	    || hello(r, c, why, size) < 0) {
		char io[100];

		if (!*why)
			snprintf(why, size, "%s", io_reason(r, c, io, sizeof(io)));
		redisFree(c);
		return NULL;
	}
	return c;
}

/* conn_get - a connection: an idle one (*REUSED_R set) or a new one;
 * NULL (st->error) while the server is down */
static redisContext *
conn_get(struct store_redis *r, int *reused_r)
{
	redisContext *c;
	char why[200] = "";
	long long now;

	pthread_mutex_lock(&r->lock);
	if (r->nidle > 0) {
		c = r->idle[--r->nidle];
		pthread_mutex_unlock(&r->lock);
		*reused_r = 1;
		return c;
	}
	now = now_ms();
	if (r->backoff > 0 && now < r->retry_at) {
		store_fail(&r->st, "%s: %s (next try in %lld ms)", r->where, r->down,
			   r->retry_at - now);
		pthread_mutex_unlock(&r->lock);
		return NULL;
	}
	pthread_mutex_unlock(&r->lock);
	*reused_r = 0;
	c = conn_open(r, why, sizeof(why));
	pthread_mutex_lock(&r->lock);
	if (c == NULL) {
		r->backoff = r->backoff == 0 ? BACKOFF_FIRST
		    : r->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : r->backoff * 2;
		r->retry_at = now_ms() + r->backoff;
		snprintf(r->down, sizeof(r->down), "%s", why);
		store_fail(&r->st, "%s: %s", r->where, why);
	} else {
		r->backoff = 0;
	}
	pthread_mutex_unlock(&r->lock);
	return c;
}

/* conn_put - done with C: kept when sound, else closed; a broken one
 * also closes the idle ones, likely broken the same way */
static void
conn_put(struct store_redis *r, redisContext *c)
{
	redisContext *drop[POOL_MAX];
	size_t ndrop = 0;

	if (c == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	if (c->err == 0 && r->nidle < POOL_MAX) {
		r->idle[r->nidle++] = c;
		c = NULL;
	} else if (c->err != 0) {
		memcpy(drop, r->idle, r->nidle * sizeof(drop[0]));
		ndrop = r->nidle;
		r->nidle = 0;
	}
	pthread_mutex_unlock(&r->lock);
	redisFree(c);
	for (size_t i = 0; i < ndrop; i++)
		redisFree(drop[i]);
}

/* full_key - the prefix and KEY into OUT */
static void
full_key(const struct store_redis *r, const char *key, size_t len, struct buf *out)
{
	buf_reset(out);
	buf_append(out, r->prefix, r->prefix_len);
	buf_append(out, key, len);
}

/* reply_error - the first error among N replies, or NULL */
static const char *
reply_error(redisReply **rep, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rep[i] != NULL && rep[i]->type == REDIS_REPLY_ERROR)
			return rep[i]->str;
	return NULL;
}

/* replies - read N replies of pipelined commands into REP: 0, or -1
 * when the connection failed (the replies read are freed) */
static int
replies(redisContext *c, redisReply **rep, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		void *p = NULL;

		if (redisGetReply(c, &p) != REDIS_OK) {
			for (size_t j = 0; j < i; j++)
				freeReplyObject(rep[j]);
			return -1;
		}
		rep[i] = p;
	}
	return 0;
}

/* The operations' arguments, through with_conn(). */
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
	const int64_t *ttls;
	size_t n;
};

/* An operation: 0 done, -1 failed (st->error), -2 the connection
 * failed (it may be retried once on a new one). */
typedef int (*op_fn)(struct store_redis *, redisContext *, struct op *);

/* with_conn - FN on a connection; one that was idle and turns out
 * broken (Redis restarted, an idle timeout) earns one retry on a new
 * connection */
static int
with_conn(struct store_redis *r, const char *what, op_fn fn, struct op *op)
{
	char why[200];

	for (int tries = 0; tries < 2; tries++) {
		int reused = 0, rc;
		redisContext *c = conn_get(r, &reused);

		if (c == NULL)
			return -1;
		rc = fn(r, c, op);
		if (rc == -2) {
			failed(r, what, io_reason(r, c, why, sizeof(why)));
			if (c->err == 0)
				c->err = REDIS_ERR_IO;	/* out of step: not reused */
		}
		conn_put(r, c);
		if (rc != -2 || !reused)
			return rc == -2 ? -1 : rc;
	}
	return -1;
}

/* get_op - see store_get() */
static int
get_op(struct store_redis *r, redisContext *c, struct op *op)
{
	struct buf k = BUF_INIT;
	const char *argv[2] = { "GET", NULL };
	size_t lens[2] = { 3, 0 };
	redisReply *rep;
	int rc;

	full_key(r, op->key, op->len, &k);
	argv[1] = k.data;
	lens[1] = k.len;
	rep = redisCommandArgv(c, 2, argv, lens);
	buf_free(&k);
	if (rep == NULL)
		return -2;
	if (rep->type == REDIS_REPLY_STRING) {
		buf_reset(op->val);
		buf_append(op->val, rep->str, rep->len);
		rc = op->val->failed ? failed(r, "read", "out of memory") : 1;
	} else if (rep->type == REDIS_REPLY_NIL) {
		rc = 0;
	} else {
		rc = failed(r, "read", rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
	}
	freeReplyObject(rep);
	return rc;
}

/* append_set - SET KEY VAL [EX TTL] onto C's pipeline */
static void
append_set(redisContext *c, const char *key, size_t klen, const void *val,
	   size_t vlen, int64_t ttl)
{
	char ex[24];
	const char *argv[5] = { "SET", key, val, "EX", ex };
	size_t lens[5] = { 3, klen, vlen, 2, 0 };

	lens[4] = (size_t) snprintf(ex, sizeof(ex), "%lld", (long long) ttl);
	redisAppendCommandArgv(c, ttl > 0 ? 5 : 3, argv, lens);
}

/* unwatch - end a round that writes nothing: 0, or -2 */
static int
unwatch(redisContext *c)
{
	redisReply *rep = redisCommand(c, "UNWATCH");

	if (rep == NULL)
		return -2;
	freeReplyObject(rep);
	return 0;
}

/* try_update - one optimistic round over the N keys K of OP's changes:
 * WATCH them, GET each, let the functions decide in order, then MULTI,
 * the writes, EXEC. 1 done, 0 someone else changed a key (start over),
 * -1, -2 */
static int
try_update(struct store_redis *r, redisContext *c, struct op *op, const struct buf *k)
{
	const char *argv[STORE_CHANGES_MAX + 1] = { "WATCH" };
	size_t lens[STORE_CHANGES_MAX + 1] = { 5 };
	redisReply *rep[STORE_CHANGES_MAX + 2];
	struct buf next[STORE_CHANGES_MAX];
	enum store_verdict verdict[STORE_CHANGES_MAX];
	int64_t ttl[STORE_CHANGES_MAX];
	size_t n = op->n, writes = 0;
	const char *err;
	int rc = 1;

	for (size_t i = 0; i < n; i++) {
		argv[i + 1] = k[i].data;
		lens[i + 1] = k[i].len;
	}
	redisAppendCommandArgv(c, (int) n + 1, argv, lens);
	for (size_t i = 0; i < n; i++) {
		const char *get[2] = { "GET", k[i].data };
		size_t glens[2] = { 3, k[i].len };

		redisAppendCommandArgv(c, 2, get, glens);
	}
	if (replies(c, rep, n + 1) < 0)
		return -2;
	err = reply_error(rep, n + 1);
	for (size_t i = 1; err == NULL && i <= n; i++)
		if (rep[i]->type != REDIS_REPLY_STRING && rep[i]->type != REDIS_REPLY_NIL)
			err = "unexpected reply";
	if (err != NULL)
		failed(r, "update", err);	/* then err stays set: no change */
	for (size_t i = 0; i < n; i++) {
		const struct store_change *ch = &op->changes[i];
		const redisReply *old = rep[i + 1];

		next[i] = (struct buf) BUF_INIT;
		ttl[i] = 0;
		if (err != NULL)
			continue;
		verdict[i] = old->type == REDIS_REPLY_STRING
		    ? ch->fn(ch->arg, old->str, old->len, &next[i], &ttl[i])
		    : ch->fn(ch->arg, NULL, 0, &next[i], &ttl[i]);
		if (verdict[i] == STORE_DELETE && old->type != REDIS_REPLY_STRING)
			verdict[i] = STORE_KEEP;
		if (verdict[i] != STORE_KEEP)
			writes++;
		if (next[i].failed)
			err = failed(r, "update", "out of memory") < 0 ? "out of memory" : NULL;
	}
	for (size_t i = 0; i <= n; i++)
		freeReplyObject(rep[i]);
	if (err != NULL || writes == 0) {
		for (size_t i = 0; i < n; i++)
			buf_free(&next[i]);
		if (unwatch(c) < 0)
			return -2;
		return err != NULL ? -1 : 1;
	}
	redisAppendCommand(c, "MULTI");
	for (size_t i = 0; i < n; i++) {
		if (verdict[i] == STORE_PUT) {
			append_set(c, k[i].data, k[i].len, next[i].data, next[i].len, ttl[i]);
		} else if (verdict[i] == STORE_DELETE) {
			const char *del[2] = { "DEL", k[i].data };
			size_t dlens[2] = { 3, k[i].len };

			redisAppendCommandArgv(c, 2, del, dlens);
		}
		buf_free(&next[i]);
	}
	redisAppendCommand(c, "EXEC");
	if (replies(c, rep, writes + 2) < 0)
		return -2;
	if ((err = reply_error(rep, writes + 2)) != NULL)
		rc = failed(r, "update", err);	/* OOM, READONLY: EXEC aborted */
	else
		rc = rep[writes + 1]->type == REDIS_REPLY_ARRAY ? 1 : 0;	/* nil: changed */
	for (size_t i = 0; i < writes + 2; i++)
		freeReplyObject(rep[i]);
	return rc;
}

/* update_op - see store_update_all() */
static int
update_op(struct store_redis *r, redisContext *c, struct op *op)
{
	struct buf k[STORE_CHANGES_MAX];
	unsigned seed = (unsigned) (uintptr_t) &k ^ (unsigned) now_ms();
	int rc = 0;

	for (size_t i = 0; i < op->n; i++) {
		k[i] = (struct buf) BUF_INIT;
		full_key(r, op->changes[i].key, op->changes[i].len, &k[i]);
	}
	for (int tries = 0; rc == 0 && tries < UPDATE_TRIES; tries++) {
		if (tries > 0)	/* others write the keys too: let one finish */
			usleep((useconds_t) (20 + rand_r(&seed) % (50u * (unsigned) tries)));
		rc = try_update(r, c, op, k);
	}
	for (size_t i = 0; i < op->n; i++)
		buf_free(&k[i]);
	if (rc == 0)
		return failed(r, "update", "the key kept changing under it");
	return rc < 0 ? rc : 0;
}

/* put_many_op - see store_put_many(): MULTI ... EXEC per BATCH */
static int
put_many_op(struct store_redis *r, redisContext *c, struct op *op)
{
	struct buf k = BUF_INIT;
	const char *err;
	int rc = 0;

	for (size_t at = 0; at < op->n && rc == 0; at += BATCH) {
		size_t n = op->n - at < BATCH ? op->n - at : BATCH;
		redisReply *rep;

		redisAppendCommand(c, "MULTI");
		for (size_t i = at; i < at + n; i++) {
			char kb[STORE_KEY_MAX + 1];
			size_t klen = store_key(op->keys[i], op->key_lens[i], kb);

			full_key(r, kb, klen, &k);
			append_set(c, k.data, k.len, op->vals[i], op->val_lens[i],
				   op->ttls ? op->ttls[i] : 0);
		}
		redisAppendCommand(c, "EXEC");
		for (size_t i = 0; i < n + 2; i++) {
			void *p = NULL;

			if (redisGetReply(c, &p) != REDIS_OK) {
				buf_free(&k);
				return -2;
			}
			rep = p;
			if (rc == 0 && (err = reply_error(&rep, 1)) != NULL)
				rc = failed(r, "load", err);
			freeReplyObject(rep);
		}
	}
	buf_free(&k);
	return rc;
}

/* One record found by iter_op. */
struct rec {
	char *key, *val;
	size_t klen, vlen;
};

/* rec_cmp - keys in byte order, shorter first, as LMDB has them */
static int
rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int d = memcmp(x->key, y->key, n);

	return d != 0 ? d : x->klen < y->klen ? -1 : x->klen > y->klen;
}

/* glob_escape - S as a literal SCAN MATCH pattern, with "*" after */
static void
glob_escape(const char *s, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (strchr("*?[]\\", s[i]) != NULL && s[i] != 0)
			buf_putc(out, '\\');
		buf_putc(out, s[i]);
	}
	buf_putc(out, '*');
}

struct found {
	struct rec *recs;
	size_t n, cap;
};

/* fetch_values - MGET the keys of one SCAN page into F */
static int
fetch_values(struct store_redis *r, redisContext *c, const redisReply *keys,
	     struct found *f)
{
	const char **argv = malloc((keys->elements + 1) * sizeof(*argv));
	size_t *lens = malloc((keys->elements + 1) * sizeof(*lens));
	redisReply *rep;
	int rc = 0;

	if (argv == NULL || lens == NULL) {
		free(argv);
		free(lens);
		return failed(r, "iterate", "out of memory");
	}
	argv[0] = "MGET";
	lens[0] = 4;
	for (size_t i = 0; i < keys->elements; i++) {
		argv[i + 1] = keys->element[i]->str;
		lens[i + 1] = keys->element[i]->len;
	}
	rep = redisCommandArgv(c, (int) keys->elements + 1, argv, lens);
	free(argv);
	free(lens);
	if (rep == NULL)
		return -2;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != keys->elements)
		rc = failed(r, "iterate", rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
	for (size_t i = 0; rc == 0 && i < rep->elements; i++) {
		const redisReply *k = keys->element[i], *v = rep->element[i];
		struct rec *rec;

		if (v->type != REDIS_REPLY_STRING)
			continue;	/* gone since SCAN saw it */
		if (f->n == f->cap) {
			size_t cap = f->cap ? f->cap * 2 : 256;
			struct rec *more = realloc(f->recs, cap * sizeof(*more));

			if (more == NULL) {
				rc = failed(r, "iterate", "out of memory");
				break;
			}
			f->recs = more;
			f->cap = cap;
		}
		rec = &f->recs[f->n];
		rec->klen = k->len - r->prefix_len;
		rec->vlen = v->len;
		if ((rec->key = malloc(rec->klen + 1)) == NULL
		    || (rec->val = malloc(rec->vlen + 1)) == NULL) {
			free(rec->key);
			rc = failed(r, "iterate", "out of memory");
			break;
		}
		memcpy(rec->key, k->str + r->prefix_len, rec->klen);
		memcpy(rec->val, v->str, rec->vlen);
		f->n++;
	}
	freeReplyObject(rep);
	return rc;
}

/* iter_op - see store_iter(): SCAN the prefix, then in key order */
static int
iter_op(struct store_redis *r, redisContext *c, struct op *op)
{
	struct found f = { NULL, 0, 0 };
	struct buf pattern = BUF_INIT, full = BUF_INIT;
	char cursor[32] = "0";
	int rc = 0;

	full_key(r, op->key, op->len, &full);
	glob_escape(full.data, full.len, &pattern);
	do {
		const char *argv[6] = { "SCAN", cursor, "MATCH", pattern.data, "COUNT", "1000" };
		size_t lens[6] = { 4, strlen(cursor), 5, pattern.len, 5, 4 };
		redisReply *rep = redisCommandArgv(c, 6, argv, lens);

		if (rep == NULL) {
			rc = -2;
			break;
		}
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2
		    || rep->element[0]->type != REDIS_REPLY_STRING
		    || rep->element[1]->type != REDIS_REPLY_ARRAY) {
			rc = failed(r, "iterate", rep->type == REDIS_REPLY_ERROR ? rep->str
				    : "unexpected reply");
		} else {
			snprintf(cursor, sizeof(cursor), "%.*s", (int) rep->element[0]->len,
				 rep->element[0]->str);
			if (rep->element[1]->elements > 0)
				rc = fetch_values(r, c, rep->element[1], &f);
		}
		freeReplyObject(rep);
	} while (rc == 0 && strcmp(cursor, "0") != 0);
	if (rc == 0 && f.n > 1)
		qsort(f.recs, f.n, sizeof(f.recs[0]), rec_cmp);
	for (size_t i = 0; rc == 0 && i < f.n; i++)
		if (op->iter(op->arg, f.recs[i].key, f.recs[i].klen, f.recs[i].val, f.recs[i].vlen))
			break;
	for (size_t i = 0; i < f.n; i++) {
		free(f.recs[i].key);
		free(f.recs[i].val);
	}
	free(f.recs);
	buf_free(&pattern);
	buf_free(&full);
	return rc;
}

/* redis_get, redis_update, redis_put_many, redis_iter - the operations */
static int
redis_get(struct store *st, const char *key, size_t len, struct buf *val_r)
{
	struct op op = { .key = key, .len = len, .val = val_r };

	return with_conn((struct store_redis *) st, "read", get_op, &op);
}

static int
redis_update(struct store *st, const struct store_change *ch, size_t n)
{
	struct op op = { .changes = ch, .n = n };

	return with_conn((struct store_redis *) st, "update", update_op, &op);
}

static int
redis_put_many(struct store *st, const char *const *keys, const size_t *key_lens,
	       const void *const *vals, const size_t *val_lens, const int64_t *ttls,
	       size_t n)
{
	struct op op = { .keys = keys, .key_lens = key_lens, .vals = vals,
			 .val_lens = val_lens, .ttls = ttls, .n = n };

	return with_conn((struct store_redis *) st, "load", put_many_op, &op);
}

static int
redis_iter(struct store *st, const char *prefix, size_t len, store_iter_fn fn,
	   void *arg)
{
	struct op op = { .key = prefix, .len = len, .iter = fn, .arg = arg };

	return with_conn((struct store_redis *) st, "iterate", iter_op, &op);
}

/* redis_close - see store_close() */
static void
redis_close(struct store *st)
{
	struct store_redis *r = (struct store_redis *) st;

	for (size_t i = 0; i < r->nidle; i++)
		redisFree(r->idle[i]);
	pthread_mutex_destroy(&r->lock);
	free(r->host);
	free(r->path);
	free(r->user);
	free(r->password);
	free(r->prefix);
	free(r);
}

static const struct store_ops redis_ops = {
	.get = redis_get, .update = redis_update, .put_many = redis_put_many,
	.iter = redis_iter, .close = redis_close,
};

/* decoded - S's first LEN bytes with %XX decoded, malloc'd */
static char *
decoded(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;

	for (size_t i = 0; out != NULL && i < len; i++) {
		unsigned v;

		if (s[i] == '%' && i + 2 < len && sscanf(s + i + 1, "%2x", &v) == 1) {
			*o++ = (char) v;
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	if (out != NULL)
		*o = 0;
	return out;
}

/* parse_url - URL into R's server, credentials and database: 0, or -1
 * and ERR */
static int
parse_url(struct store_redis *r, const char *url, char *err, size_t errsize)
{
	int unix_socket = strncmp(url, "redis+unix://", 13) == 0;
	const char *p = url + (unix_socket ? 13 : 8), *at, *end, *q;

	r->port = 6379;
	if ((at = strchr(p, '@')) != NULL && (unix_socket || at < p + strcspn(p, "/"))) {
		const char *colon = memchr(p, ':', (size_t) (at - p));

		if (colon != NULL) {
			if (colon > p)
				r->user = decoded(p, (size_t) (colon - p));
			r->password = decoded(colon + 1, (size_t) (at - colon - 1));
		} else {
			r->password = decoded(p, (size_t) (at - p));	/* redis://secret@host */
		}
		p = at + 1;
	}
	if (unix_socket) {
		end = p + strcspn(p, "?");
		if (*p != '/' || end == p + 1)
			goto bad;
		r->path = strndup(p, (size_t) (end - p));
		if ((q = strstr(end, "db=")) != NULL)
			r->db = atoi(q + 3);
		snprintf(r->where, sizeof(r->where), "redis %.140s", r->path);
		return r->path == NULL ? -1 : 0;
	}
	if (*p == '[') {		/* [2001:db8::1]:6379 */
		if ((end = strchr(p, ']')) == NULL)
			goto bad;
		r->host = strndup(p + 1, (size_t) (end - p - 1));
		p = end + 1;
	} else {
		end = p + strcspn(p, ":/");
		r->host = strndup(p, (size_t) (end - p));
		p = end;
	}
	if (r->host == NULL || !*r->host)
		goto bad;
	if (*p == ':') {
		char *stop;
		long port = strtol(p + 1, &stop, 10);

		if (port <= 0 || port > 65535 || (*stop && *stop != '/'))
			goto bad;
		r->port = (int) port;
		p = stop;
	}
	if (*p == '/' && p[1]) {
		char *stop;

		r->db = (int) strtol(p + 1, &stop, 10);
		if (*stop || r->db < 0)
			goto bad;
	}
	snprintf(r->where, sizeof(r->where), "redis %.130s:%d", r->host, r->port);
	return 0;
bad:
	snprintf(err, errsize, "%s: not a Redis URL: redis://[user:password@]host[:port][/db] "
		 "or redis+unix://[user:password@]/path[?db=N]", url);
	return -1;
}

/* store_open_redis - the store on the Redis server URL names; NULL and
 * ERR when the URL is wrong. The server need not be up: until it is,
 * operations fail and the failure policy answers. */
struct store *
store_open_redis(const char *url, const struct store_conf *conf, char *err,
		 size_t errsize)
{
	struct store_redis *r = calloc(1, sizeof(*r));
	int reused;
	redisContext *c;

	if (r == NULL) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	r->st.ops = &redis_ops;
	r->st.expires = 1;
	pthread_mutex_init(&r->lock, NULL);
	r->prefix = strdup(conf->prefix ? conf->prefix : "mvmf:");
	if (r->prefix == NULL || parse_url(r, url, err, errsize) < 0) {
		redis_close(&r->st);
		return NULL;
	}
	r->prefix_len = strlen(r->prefix);
	r->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : 50;
	r->connect_tv.tv_sec = (conf->connect_ms > 0 ? conf->connect_ms : 50) / 1000;
	r->connect_tv.tv_usec = (conf->connect_ms > 0 ? conf->connect_ms : 50) % 1000 * 1000;
	r->command_tv.tv_sec = r->timeout_ms / 1000;
	r->command_tv.tv_usec = r->timeout_ms % 1000 * 1000;
	/* a first connection, so a wrong password shows at start */
	if ((c = conn_get(r, &reused)) != NULL)
		conn_put(r, c);
	else if (strstr(r->st.error, "AUTH") || strstr(r->st.error, "SELECT")) {
		snprintf(err, errsize, "%s", r->st.error);
		redis_close(&r->st);
		return NULL;
	}
	return &r->st;
}

#endif /* HAVE_REDIS */
