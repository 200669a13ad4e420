/*
 * mvmcas - the client-assessment store from the command line, live
 * beside a running mvmtr (LMDB and Redis let both in): list, show,
 * dump, load, allow, block, unblock, expire, delete, stats, check, and
 * copy from one store (backend) to another.
 *
 * dump writes one record a line, tab-separated, fields escaped (\\ \t
 * \n \0), first the kind; load reads the same, in batches of 10,000
 * records a transaction, so a dump moves a store between hosts and
 * versions (the records on disk are the host's binary layout).
 *
 * DIAGNOSTICS: exit 0, 1 for a failure (the reason on stderr), 2 for
 * usage errors; show and unblock exit 1 when there is nothing to show
 * or lift.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "assess.h"
#include "msa.h"
#include "msg/msg.h"
#include "store.h"

#define LOAD_BATCH	10000

static char expire_key[1];	/* the kind of the record expire_update sees */

static struct greylist_conf conf = { 300, 2 * 86400, 35 * 86400, 5, 0 };
static int conf_prefix4 = 24, conf_prefix6 = 64;

/* usage - how to call it, on OUT; exits with CODE */
static void
usage(FILE *out, int code)
{
	fprintf(out,
		"usage: mvmcas [-s store] [-S size] [-p prefix] [-T ms] [-w retry-window]\n"
		"              [-L lifetime] [-4 len] [-6 len] command\n"
		"  list [greylist|clients|allow|block|rates|senders|users|known]\n"
		"  show ADDRESS\n"
		"  dump\n"
		"  load [FILE]\n"
		"  allow CIDR [-t seconds] [-r reason]\n"
		"  block CIDR [-t seconds] [-r reason]\n"
		"  unblock CIDR\n"
		"  disallow CIDR\n"
		"  expire\n"
		"  delete greylist NET SENDER RECIPIENT | delete KIND KEY\n"
		"  stats\n"
		"  check\n"
		"  copy STORE\n"
		"  sender USER PATTERN... | unsender USER PATTERN...   (address, @domain, *)\n"
		"  senders [USER]\n"
		"  sender-map [FILE]   (lines: USER PATTERN...; replaces those users' lists)\n"
		"  users\n"
		"  lock USER [-r reason] | unlock USER\n"
		"  limit USER messages|recipients COUNT/SECONDS...|default\n"
		"store: a directory (LMDB) or redis://[user:password@]host[:port][/db],\n"
		"redis+unix://[user:password@]/path[?db=N]\n"
		"store defaults to %s\n", MVMTR_STORE_DEFAULT);
	exit(code);
}

/* die - a failure; exits 1 */
static void
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "mvmcas: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

/* put_escaped - S (LEN bytes) with \\ \t \n \0 escaped */
static void
put_escaped(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		switch (s[i]) {
		case '\\': fputs("\\\\", f); break;
		case '\t': fputs("\\t", f); break;
		case '\n': fputs("\\n", f); break;
		case 0: fputs("\\0", f); break;
		default: fputc(s[i], f);
		}
	}
}

/* unescape - undo put_escaped in place; the new length */
static size_t
unescape(char *s)
{
	char *out = s;

	for (char *p = s; *p; p++) {
		if (*p != '\\' || p[1] == 0) {
			*out++ = *p;
			continue;
		}
		p++;
		*out++ = *p == 't' ? '\t' : *p == 'n' ? '\n' : *p == '0' ? 0 : *p;
	}
	*out = 0;
	return (size_t) (out - s);
}

struct walk {
	FILE *out;
	int kind;		/* 0: all */
	int human;
	time_t now;
	size_t counts[256];
	size_t waiting, passed, expired;
	struct store *st;
	struct buf doomed;	/* expire: keys to delete, NUL-separated */
	size_t ndoomed;
};

/* field - the next NUL-separated part of a triplet key */
static const char *
field(const char **p, const char *end, size_t *len_r)
{
	const char *start = *p, *nul = memchr(start, 0, (size_t) (end - start));

	*len_r = (size_t) ((nul ? nul : end) - start);
	*p = nul ? nul + 1 : end;
	return start;
}

/* print_record - one record as a dump line */
static void
print_record(FILE *f, const char *key, size_t klen, const void *val, size_t vlen)
{
	const char *p = key + 1, *end = key + klen;
	size_t n;

	switch (key[0]) {
	case REC_TRIPLET: {
		struct triplet_rec r;

		if (vlen != sizeof(r))
			return;
		memcpy(&r, val, sizeof(r));
		fputs("greylist", f);
		for (int i = 0; i < 3; i++) {
			const char *s = field(&p, end, &n);

			fputc('\t', f);
			put_escaped(f, s, n);
		}
		fprintf(f, "\t%d\t%u\t%lld\t%lld\t%lld\n", r.passed, r.attempts,
			(long long) r.first, (long long) r.last, (long long) r.passed_at);
		break;
	}
	case REC_NET: {
		struct net_rec r;

		if (vlen != sizeof(r))
			return;
		memcpy(&r, val, sizeof(r));
		fprintf(f, "client\t%.*s\t%u\t%lld\n", (int) (klen - 1), p, r.passes,
			(long long) r.last);
		break;
	}
	case REC_ALLOW:
	case REC_BLOCK: {
		struct list_rec r;

		if (vlen < sizeof(r))
			return;
		memcpy(&r, val, sizeof(r));
		fprintf(f, "%s\t%.*s\t%lld\t%lld\t%d\t", key[0] == REC_ALLOW ? "allow" : "block",
			(int) (klen - 1), p, (long long) r.added, (long long) r.until, r.automatic);
		put_escaped(f, (const char *) val + sizeof(r), vlen - sizeof(r));
		fputc('\n', f);
		break;
	}
	case REC_SENDER:
	case REC_KNOWN: {
		struct sender_rec r;

		if (vlen != sizeof(r))
			return;
		memcpy(&r, val, sizeof(r));
		fputs(key[0] == REC_SENDER ? "sender" : "known", f);
		for (int i = 0; i < 2; i++) {
			const char *part = field(&p, end, &n);

			fputc('\t', f);
			put_escaped(f, part, n);
		}
		fprintf(f, "\t%lld\n", (long long) r.added);
		break;
	}
	case REC_USER: {
		struct user_rec r;
		const char *v = (const char *) val + sizeof(r), *vend = (const char *) val + vlen;

		if (vlen < sizeof(r))
			return;
		memcpy(&r, val, sizeof(r));
		fputs("user\t", f);
		put_escaped(f, p, klen - 1);
		fprintf(f, "\t%d\t%lld", r.locked, (long long) r.locked_at);
		for (int i = 0; i < 3; i++) {
			const char *part = field(&v, vend, &n);

			fputc('\t', f);
			put_escaped(f, part, n);
		}
		fputc('\n', f);
		break;
	}
	case REC_RATE:
	case REC_REJECTS: {
		struct rate_rec r;

		if (vlen != sizeof(r))
			return;
		memcpy(&r, val, sizeof(r));
		fprintf(f, "%s\t", key[0] == REC_RATE ? "rate" : "rejects");
		put_escaped(f, p, klen - 1);
		fprintf(f, "\t%lld\t%lld\t%llu\t%llu\n", (long long) r.start, (long long) r.window,
			(unsigned long long) r.current, (unsigned long long) r.previous);
		break;
	}
	}
}

/* expired - the record is past its use */
static int
expired(const char *key, size_t klen, const void *val, size_t vlen, time_t now)
{
	return assess_ttl(key, klen, val, vlen, now, &conf) < 0;
}

/* walk_one - a record seen by list, dump, stats or expire */
static int
walk_one(void *arg, const char *key, size_t klen, const void *val, size_t vlen)
{
	struct walk *w = arg;

	if (klen == 0 || (w->kind && key[0] != w->kind))
		return 0;
	w->counts[(unsigned char) key[0]]++;
	if (key[0] == REC_TRIPLET && vlen == sizeof(struct triplet_rec)) {
		struct triplet_rec r;

		memcpy(&r, val, sizeof(r));	/* LMDB data is not aligned */
		if (r.passed)
			w->passed++;
		else
			w->waiting++;
	}
	if (key[0] != REC_META && expired(key, klen, val, vlen, w->now)) {
		w->expired++;
		if (w->st != NULL) {
			/* its length, then the key (keys may hold NULs) */
			buf_append(&w->doomed, &klen, sizeof(klen));
			buf_append(&w->doomed, key, klen);
			w->ndoomed++;
		}
	}
	if (w->out != NULL)
		print_record(w->out, key, klen, val, vlen);
	return 0;
}

/* kind_of - "greylist" as REC_TRIPLET; 0 for unknown */
static int
kind_of(const char *name)
{
	static const struct {
		const char *name;
		int kind;
	} kinds[] = {
		{ "greylist", REC_TRIPLET }, { "clients", REC_NET }, { "client", REC_NET },
		{ "allow", REC_ALLOW }, { "block", REC_BLOCK }, { "rates", REC_RATE },
		{ "rate", REC_RATE }, { "rejects", REC_REJECTS }, { "senders", REC_SENDER },
		{ "sender", REC_SENDER }, { "users", REC_USER }, { "user", REC_USER },
		{ "known", REC_KNOWN },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(name, kinds[i].name) == 0)
			return kinds[i].kind;
	return 0;
}

/* cmd_walk - list, dump, stats */
static int
cmd_walk(struct store *st, int kind, int stats)
{
	struct walk w;
	char prefix[1] = { (char) kind };

	memset(&w, 0, sizeof(w));
	w.out = stats ? NULL : stdout;
	w.kind = kind;
	w.now = time(NULL);
	if (store_iter(st, prefix, kind ? 1 : 0, walk_one, &w) < 0)
		die("%s", st->error);
	if (stats) {
		printf("greylist\t%zu\t(waiting %zu, passed %zu)\n", w.counts[REC_TRIPLET],
		       w.waiting, w.passed);
		printf("clients\t%zu\nallow\t%zu\nblock\t%zu\nrates\t%zu\nrejects\t%zu\n",
		       w.counts[REC_NET], w.counts[REC_ALLOW], w.counts[REC_BLOCK],
		       w.counts[REC_RATE], w.counts[REC_REJECTS]);
		printf("expired\t%zu\n", w.expired);
	}
	return 0;
}

/* expire_update - delete the record if it is (still) expired */
static enum store_verdict
expire_update(void *arg, const void *old, size_t old_len, struct buf *new_r,
	      int64_t *ttl_r)
{
	int *found = arg;

	(void) new_r;
	(void) ttl_r;
	*found = 0;
	if (old == NULL)
		return STORE_KEEP;
	/* the kind is the key's first byte: expire_key set it */
	if (!expired(expire_key, 1, old, old_len, time(NULL)))
		return STORE_KEEP;
	*found = 1;
	return STORE_DELETE;
}

/* cmd_expire - delete what has expired */
static int
cmd_expire(struct store *st)
{
	struct walk w;
	const char *p;
	size_t deleted = 0;

	if (st->expires) {
		printf("expired 0 records: the store drops them itself (Redis TTLs)\n");
		return 0;
	}
	memset(&w, 0, sizeof(w));
	w.now = time(NULL);
	w.st = st;
	if (store_iter(st, "", 0, walk_one, &w) < 0)
		die("%s", st->error);
	p = w.doomed.data;
	for (size_t i = 0; i < w.ndoomed; i++) {
		size_t klen;
		int found = 0;

		memcpy(&klen, p, sizeof(klen));
		p += sizeof(klen);
		/* deleted only if still expired: mvmtr may have renewed it */
		expire_key[0] = p[0];
		if (store_update(st, p, klen, expire_update, &found) < 0)
			die("%s", st->error);
		deleted += found;
		p += klen;
	}
	buf_free(&w.doomed);
	printf("expired %zu records\n", deleted);
	return 0;
}

/* struct batch - records being loaded */
struct batch {
	char *keys[LOAD_BATCH];
	size_t key_lens[LOAD_BATCH];
	void *vals[LOAD_BATCH];
	size_t val_lens[LOAD_BATCH];
	int64_t ttls[LOAD_BATCH];
	size_t n;
	size_t added, expired;	/* records put, records left out */
	time_t now;
};

/* batch_flush - write and forget the batch */
static void
batch_flush(struct store *st, struct batch *b)
{
	if (b->n > 0 && store_put_many(st, (const char *const *) b->keys, b->key_lens,
				       (const void *const *) b->vals, b->val_lens, b->ttls,
				       b->n) < 0)
		die("load: %s", st->error);
	for (size_t i = 0; i < b->n; i++) {
		free(b->keys[i]);
		free(b->vals[i]);
	}
	b->n = 0;
}

/* batch_add - one record; the batch takes KEY; one that has expired
 * is left out */
static void
batch_add(struct store *st, struct batch *b, struct buf *key, const void *val,
	  size_t vlen)
{
	int64_t ttl = assess_ttl(key->data, key->len, val, vlen, b->now, &conf);
	void *v = malloc(vlen);

	if (v == NULL || key->failed)
		die("%s", "out of memory");
	if (ttl < 0) {
		b->expired++;
		buf_free(key);
		free(v);
		return;
	}
	memcpy(v, val, vlen);
	b->ttls[b->n] = ttl;
	b->added++;
	b->keys[b->n] = key->data;
	b->key_lens[b->n] = key->len;
	b->vals[b->n] = v;
	b->val_lens[b->n] = vlen;
	b->n++;
	buf_init(key);
	if (b->n == LOAD_BATCH)
		batch_flush(st, b);
}

/* load_line - one dump line into the batch (allow/block go through
 * list_add, which keeps the prefix lengths); -1 if malformed */
static int
load_line(struct store *st, struct batch *b, char *line)
{
	char *f[10];
	int n = 0;
	struct buf key = BUF_INIT;

	for (char *p = line; n < 10; n++) {
		f[n] = p;
		if ((p = strchr(p, '\t')) == NULL) {
			n++;
			break;
		}
		*p++ = 0;
	}
	if (strcmp(f[0], "greylist") == 0 && n == 9) {
		struct triplet_rec r = { .version = 1 };

		buf_putc(&key, REC_TRIPLET);
		for (int i = 1; i <= 3; i++) {
			size_t len = unescape(f[i]);

			buf_append(&key, f[i], len);
			if (i < 3)
				buf_append(&key, "", 1);
		}
		r.passed = (uint8_t) atoi(f[4]);
		r.attempts = (uint32_t) strtoul(f[5], NULL, 10);
		r.first = strtoll(f[6], NULL, 10);
		r.last = strtoll(f[7], NULL, 10);
		r.passed_at = strtoll(f[8], NULL, 10);
		batch_add(st, b, &key, &r, sizeof(r));
		return 0;
	}
	if (strcmp(f[0], "client") == 0 && n == 4) {
		struct net_rec r = { .version = 1 };

		buf_putc(&key, REC_NET);
		buf_puts(&key, f[1]);
		r.passes = (uint32_t) strtoul(f[2], NULL, 10);
		r.last = strtoll(f[3], NULL, 10);
		batch_add(st, b, &key, &r, sizeof(r));
		return 0;
	}
	if ((strcmp(f[0], "allow") == 0 || strcmp(f[0], "block") == 0) && n == 6) {
		struct cidr c;

		if (cidr_parse(f[1], &c) < 0)
			return -1;
		unescape(f[5]);
		return list_add(st, f[0][0] == 'a' ? REC_ALLOW : REC_BLOCK, &c, strtoll(f[2], NULL, 10),
				strtoll(f[3], NULL, 10), atoi(f[4]), f[5]) < 0 ? -1 : 0;
	}
	if ((strcmp(f[0], "rate") == 0 || strcmp(f[0], "rejects") == 0) && n == 6) {
		struct rate_rec r = { .version = 1 };
		size_t len = unescape(f[1]);

		buf_putc(&key, f[0][1] == 'a' ? REC_RATE : REC_REJECTS);
		buf_append(&key, f[1], len);
		r.start = strtoll(f[2], NULL, 10);
		r.window = strtoll(f[3], NULL, 10);
		r.current = strtoull(f[4], NULL, 10);
		r.previous = strtoull(f[5], NULL, 10);
		batch_add(st, b, &key, &r, sizeof(r));
		return 0;
	}
	if ((strcmp(f[0], "sender") == 0 || strcmp(f[0], "known") == 0) && n == 4) {
		struct sender_rec r = { .version = 1 };

		buf_putc(&key, f[0][0] == 's' ? REC_SENDER : REC_KNOWN);
		buf_append(&key, f[1], unescape(f[1]));
		buf_append(&key, "", 1);
		buf_append(&key, f[2], unescape(f[2]));
		r.added = strtoll(f[3], NULL, 10);
		batch_add(st, b, &key, &r, sizeof(r));
		return 0;
	}
	if (strcmp(f[0], "user") == 0 && n == 7) {
		struct user_rec r = { .version = 1 };
		struct buf val = BUF_INIT;

		buf_putc(&key, REC_USER);
		buf_append(&key, f[1], unescape(f[1]));
		r.locked = (uint8_t) atoi(f[2]);
		r.locked_at = strtoll(f[3], NULL, 10);
		buf_append(&val, &r, sizeof(r));
		for (int i = 4; i < 7; i++) {
			buf_append(&val, f[i], unescape(f[i]));
			if (i < 6)
				buf_append(&val, "", 1);
		}
		batch_add(st, b, &key, val.data, val.len);
		buf_free(&val);
		return 0;
	}
	buf_free(&key);
	return -1;
}

/* cmd_load - dump lines from PATH ("-": stdin) */
static int
cmd_load(struct store *st, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	struct batch *b = calloc(1, sizeof(*b));
	char *line = NULL;
	size_t cap = 0, lineno = 0, loaded = 0;
	ssize_t len;

	if (f == NULL)
		die("%s", strerror(errno));
	if (b == NULL)
		die("%s", "out of memory");
	b->now = time(NULL);
	while ((len = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[len - 1] == '\n')
			line[--len] = 0;
		if (len == 0 || line[0] == '#')
			continue;
		if (load_line(st, b, line) < 0) {
			fprintf(stderr, "mvmcas: load: line %zu is not a record\n", lineno);
			batch_flush(st, b);
			return 1;
		}
		loaded++;
	}
	batch_flush(st, b);
	if (b->expired > 0)
		printf("loaded %zu records, left out %zu that had expired\n",
		       loaded - b->expired, b->expired);
	else
		printf("loaded %zu records\n", loaded);
	free(b);
	free(line);
	return 0;
}

struct copy {
	struct store *to;
	struct batch *b;
	int failed;
};

/* copy_one - store_iter: one record into the other store's batch */
static int
copy_one(void *arg, const char *key, size_t klen, const void *val, size_t vlen)
{
	struct copy *c = arg;
	struct buf k = BUF_INIT;

	if (klen == 5 && memcmp(key, "mlens", 5) == 0) {
		/* the lists' prefix lengths join those already there */
		if (list_lens_merge(c->to, val, vlen) < 0)
			c->failed = 1;
		return c->failed;
	}
	buf_append(&k, key, klen);
	batch_add(c->to, c->b, &k, val, vlen);
	return 0;
}

/* cmd_copy - every record still of use from ST into the store TO
 * names: LMDB to Redis and back */
static int
cmd_copy(struct store *st, const char *to, const struct store_conf *sc)
{
	struct copy c = { NULL, calloc(1, sizeof(struct batch)), 0 };
	char err[512];

	if (c.b == NULL)
		die("%s", "out of memory");
	if ((c.to = store_open(to, sc, 0, err, sizeof(err))) == NULL)
		die("%s", err);
	c.b->now = time(NULL);
	if (store_iter(st, "", 0, copy_one, &c) < 0)
		die("%s", st->error);
	if (c.failed)
		die("%s", c.to->error);
	batch_flush(c.to, c.b);
	printf("copied %zu records to %s", c.b->added, to);
	if (c.b->expired > 0)
		printf(", left out %zu that had expired", c.b->expired);
	putchar('\n');
	store_close(c.to);
	free(c.b);
	return 0;
}

/* cmd_list_entry - allow/block CIDR [-t seconds] [-r reason] */
static int
cmd_list_entry(struct store *st, int which, int argc, char **argv)
{
	const char *reason = "";
	time_t now = time(NULL);
	int64_t until = 0;
	struct cidr c;
	char net[80];

	if (argc < 1 || cidr_parse(argv[0], &c) < 0)
		usage(stderr, 2);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
			until = now + strtoll(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
			reason = argv[++i];
		else
			usage(stderr, 2);
	}
	if (list_add(st, which, &c, now, until, 0, reason) < 0)
		die("%s", st->error);
	cidr_format(&c, net, sizeof(net));
	printf("%s %s\n", which == REC_ALLOW ? "allowed" : "blocked", net);
	return 0;
}

/* cmd_unlist - unblock / disallow CIDR */
static int
cmd_unlist(struct store *st, int which, int argc, char **argv)
{
	struct cidr c;
	int rc;

	if (argc != 1 || cidr_parse(argv[0], &c) < 0)
		usage(stderr, 2);
	if ((rc = list_delete(st, which, &c)) < 0)
		die("%s", st->error);
	if (rc == 0) {
		fprintf(stderr, "mvmcas: %s is not %s\n", argv[0],
			which == REC_ALLOW ? "allowed" : "blocked");
		return 1;
	}
	return 0;
}

/* show_prefix - print records under KIND + TEXT */
static size_t
show_prefix(struct store *st, int kind, const char *text)
{
	struct walk w;
	struct buf prefix = BUF_INIT;
	size_t n;

	memset(&w, 0, sizeof(w));
	w.out = stdout;
	w.now = time(NULL);
	buf_putc(&prefix, kind);
	buf_puts(&prefix, text);
	if (kind == REC_TRIPLET || kind == REC_SENDER || kind == REC_KNOWN)
		buf_append(&prefix, "", 1);	/* the network ends there */
	if (store_iter(st, prefix.data, prefix.len, walk_one, &w) < 0)
		die("%s", st->error);
	buf_free(&prefix);
	n = 0;
	for (int i = 0; i < 256; i++)
		n += w.counts[i];
	return n;
}

/* count_one - store_iter: one more record */
static int
count_one(void *arg, const char *key, size_t key_len, const void *val, size_t val_len)
{
	(void) key;
	(void) key_len;
	(void) val;
	(void) val_len;
	(*(size_t *) arg)++;
	return 0;
}

/* cmd_check - read every record: ok, or what is damaged and how to
 * recover (mvmcas(8) RECOVERY) */
static int
cmd_check(struct store *st, const char *path)
{
	size_t n = 0;

	if (!st->damaged && store_iter(st, "", 0, count_one, &n) == 0) {
		printf("%s: ok, %zu records read\n", path, n);
		return 0;
	}
	printf("%s\n", st->error);
	if (store_is_redis(path))
		return 1;	/* Redis: no file of ours to recover */
	printf("To recover: stop mvmtr; mv %s %s.damaged; start mvmtr (it makes a new,\n"
	       "empty store); then keep what can still be read:\n"
	       "  mvmcas -s %s.damaged dump >saved; mvmcas -s %s load saved\n",
	       path, path, path, path);
	return 1;
}

/* collect_key - store_iter: the key into ARG (its length, then it) */
static int
collect_key(void *arg, const char *key, size_t klen, const void *val, size_t vlen)
{
	(void) val;
	(void) vlen;
	buf_append(arg, &klen, sizeof(klen));
	buf_append(arg, key, klen);
	return 0;
}

/* cmd_sender - sender USER PATTERN... / unsender USER PATTERN... */
static int
cmd_sender(struct store *st, int add, int argc, char **argv)
{
	int rc = 0;

	if (argc < 2)
		usage(stderr, 2);
	for (int i = 1; i < argc; i++) {
		char pattern[512];
		size_t n = 0;
		int r;

		for (; argv[i][n] && n + 1 < sizeof(pattern); n++)
			pattern[n] = (char) tolower((unsigned char) argv[i][n]);
		pattern[n] = 0;
		if (strcmp(pattern, "*") != 0 && strchr(pattern, '@') == NULL)
			die("%s: not a sender: an address, @domain or *", argv[i]);
		r = add ? msa_sender_add(st, argv[0], pattern, time(NULL))
		    : msa_sender_delete(st, argv[0], pattern);
		if (r < 0)
			die("%s", st->error);
		if (!add && r == 0) {
			fprintf(stderr, "mvmcas: %s may not send as %s anyway\n", argv[0], pattern);
			rc = 1;
		}
	}
	return rc;
}

/* cmd_sender_map - senders USER PATTERN... a line from PATH ("-":
 * stdin), # comments; each user's list is replaced by the file's */
static int
cmd_sender_map(struct store *st, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	struct buf doomed = BUF_INIT, prefix = BUF_INIT;
	char *line = NULL;
	size_t cap = 0, lineno = 0, users = 0, patterns = 0;

	if (f == NULL)
		die("%s", strerror(errno));
	while (getline(&line, &cap, f) > 0) {
		char *argv[64], *save = NULL;
		int argc = 0;

		lineno++;
		for (char *w = strtok_r(line, " \t\r\n", &save); w != NULL && argc < 64;
		     w = strtok_r(NULL, " \t\r\n", &save)) {
			if (*w == '#')
				break;
			argv[argc++] = w;
		}
		if (argc == 0)
			continue;
		if (argc < 2) {
			fprintf(stderr, "mvmcas: %s:%zu: not USER PATTERN...\n", path, lineno);
			return 1;
		}
		/* the user's old list goes: the file is the whole truth */
		buf_reset(&prefix);
		buf_putc(&prefix, REC_SENDER);
		buf_puts(&prefix, argv[0]);
		buf_append(&prefix, "", 1);
		buf_reset(&doomed);
		if (store_iter(st, prefix.data, prefix.len, collect_key, &doomed) < 0)
			die("%s", st->error);
		for (size_t off = 0; off < doomed.len;) {
			size_t klen;

			memcpy(&klen, doomed.data + off, sizeof(klen));
			if (store_delete(st, doomed.data + off + sizeof(klen), klen) < 0)
				die("%s", st->error);
			off += sizeof(klen) + klen;
		}
		if (cmd_sender(st, 1, argc, argv) != 0)
			return 1;
		users++;
		patterns += (size_t) argc - 1;
	}
	if (f != stdin)
		fclose(f);
	free(line);
	buf_free(&doomed);
	buf_free(&prefix);
	printf("senders of %zu users: %zu patterns\n", users, patterns);
	return 0;
}

/* cmd_lock - lock USER [-r reason] / unlock USER */
static int
cmd_lock(struct store *st, int lock, int argc, char **argv)
{
	const char *reason = "by the admin";
	int rc;

	if (argc == 3 && lock && strcmp(argv[1], "-r") == 0)
		reason = argv[2];
	else if (argc != 1)
		usage(stderr, 2);
	if ((rc = msa_user_lock(st, argv[0], lock, reason, time(NULL))) < 0)
		die("%s", st->error);
	if (rc == 0) {
		fprintf(stderr, "mvmcas: %s is %s already\n", argv[0], lock ? "locked" : "not locked");
		return 1;
	}
	printf("%s %s\n", lock ? "locked" : "unlocked", argv[0]);
	return 0;
}

/* cmd_limit - limit USER messages|recipients SPEC ("default": none) */
static int
cmd_limit(struct store *st, int argc, char **argv)
{
	const char *spec;

	if (argc != 3 || (strcmp(argv[1], "messages") != 0 && strcmp(argv[1], "recipients") != 0))
		usage(stderr, 2);
	spec = strcmp(argv[2], "default") == 0 ? "" : argv[2];
	if (!msa_limits_valid(spec))
		die("%s: not limits: COUNT/SECONDS ..., e.g. \"30/60 500/86400\"", argv[2]);
	if (msa_user_limits(st, argv[0], argv[1][0] == 'm' ? spec : NULL,
			    argv[1][0] == 'r' ? spec : NULL) < 0)
		die("%s", st->error);
	return 0;
}

/* cmd_show - what the store says about ADDRESS */
static int
cmd_show(struct store *st, const char *addr)
{
	struct buf reason = BUF_INIT;
	struct cidr c;
	char net[80];
	size_t found = 0;
	int rc;

	if (cidr_parse(addr, &c) < 0 || strchr(addr, '/') != NULL)
		die("show: %s is not an address", addr);
	if ((rc = list_match(st, REC_ALLOW, addr, time(NULL), &reason)) < 0)
		die("%s", st->error);
	if (rc)
		printf("allowed\t%s\n", reason.data ? reason.data : "");
	found += rc;
	if ((rc = list_match(st, REC_BLOCK, addr, time(NULL), &reason)) < 0)
		die("%s", st->error);
	if (rc)
		printf("blocked\t%s\n", reason.data ? reason.data : "");
	found += rc;
	buf_free(&reason);
	cidr_of(addr, conf_prefix4, conf_prefix6, &c);
	cidr_format(&c, net, sizeof(net));
	found += show_prefix(st, REC_NET, net);
	found += show_prefix(st, REC_TRIPLET, net);
	found += show_prefix(st, REC_REJECTS, addr);
	if (found == 0) {
		fprintf(stderr, "mvmcas: nothing about %s\n", addr);
		return 1;
	}
	return 0;
}

/* cmd_delete - greylist NET SENDER RECIPIENT, or KIND KEY */
static int
cmd_delete(struct store *st, int argc, char **argv)
{
	struct buf key = BUF_INIT;
	int kind = argc > 0 ? kind_of(argv[0]) : 0, rc;

	if (kind == 0 || (kind == REC_TRIPLET ? argc != 4 : argc != 2))
		usage(stderr, 2);
	if (kind == REC_ALLOW || kind == REC_BLOCK)
		return cmd_unlist(st, kind, 1, argv + 1);
	buf_putc(&key, kind);
	for (int i = 1; i < argc; i++) {
		buf_puts(&key, argv[i]);
		if (i + 1 < argc)
			buf_append(&key, "", 1);
	}
	rc = store_delete(st, key.data, key.len);
	buf_free(&key);
	if (rc < 0)
		die("%s", st->error);
	if (rc == 0) {
		fprintf(stderr, "mvmcas: no such record\n");
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *path = MVMTR_STORE_DEFAULT, *cmd;
	struct store_conf sc = { (size_t) 4 << 30, "mvmf:", 2000, 2000 };
	char err[512];
	struct store *st;
	int ch, rc, readonly;

	signal(SIGPIPE, SIG_IGN);	/* a Redis that went away: an error, not death */
	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		usage(stdout, 0);
	if (argc > 1 && strcmp(argv[1], "--version") == 0)
		return printf("mvmcas %s\n", PACKAGE_VERSION) < 0;
	while ((ch = getopt(argc, argv, "+s:S:p:T:w:L:4:6:")) != -1) {
		switch (ch) {
		case 's': path = optarg; break;
		case 'S': sc.map_size = strtoull(optarg, NULL, 10); break;
		case 'p': sc.prefix = optarg; break;
		case 'T': sc.connect_ms = sc.timeout_ms = atoi(optarg); break;
		case 'w': conf.retry_window = strtoll(optarg, NULL, 10); break;
		case 'L': conf.lifetime = strtoll(optarg, NULL, 10); break;
		case '4': conf_prefix4 = atoi(optarg); break;
		case '6': conf_prefix6 = atoi(optarg); break;
		default: usage(stderr, 2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || conf_prefix4 < 0 || conf_prefix4 > 32 || conf_prefix6 < 0
	    || conf_prefix6 > 128)
		usage(stderr, 2);
	cmd = argv[0];
	readonly = strcmp(cmd, "list") == 0 || strcmp(cmd, "show") == 0
	    || strcmp(cmd, "dump") == 0 || strcmp(cmd, "stats") == 0
	    || strcmp(cmd, "check") == 0 || strcmp(cmd, "copy") == 0
	    || strcmp(cmd, "users") == 0 || strcmp(cmd, "senders") == 0;
	if (sc.connect_ms <= 0)
		usage(stderr, 2);
	if ((st = store_open(path, &sc, readonly, err, sizeof(err))) == NULL)
		die("%s", err);
	if (strcmp(cmd, "list") == 0 && argc <= 2) {
		int kind = argc == 2 ? kind_of(argv[1]) : 0;

		if (argc == 2 && kind == 0)
			usage(stderr, 2);
		rc = cmd_walk(st, kind, 0);
	} else if (strcmp(cmd, "dump") == 0 && argc == 1) {
		rc = cmd_walk(st, 0, 0);
	} else if (strcmp(cmd, "stats") == 0 && argc == 1) {
		rc = cmd_walk(st, 0, 1);
	} else if (strcmp(cmd, "check") == 0 && argc == 1) {
		rc = cmd_check(st, path);
	} else if (strcmp(cmd, "show") == 0 && argc == 2) {
		rc = cmd_show(st, argv[1]);
	} else if (strcmp(cmd, "load") == 0 && argc <= 2) {
		rc = cmd_load(st, argc == 2 ? argv[1] : "-");
	} else if (strcmp(cmd, "allow") == 0) {
		rc = cmd_list_entry(st, REC_ALLOW, argc - 1, argv + 1);
	} else if (strcmp(cmd, "block") == 0) {
		rc = cmd_list_entry(st, REC_BLOCK, argc - 1, argv + 1);
	} else if (strcmp(cmd, "unblock") == 0) {
		rc = cmd_unlist(st, REC_BLOCK, argc - 1, argv + 1);
	} else if (strcmp(cmd, "disallow") == 0) {
		rc = cmd_unlist(st, REC_ALLOW, argc - 1, argv + 1);
	} else if (strcmp(cmd, "expire") == 0 && argc == 1) {
		rc = cmd_expire(st);
	} else if (strcmp(cmd, "delete") == 0) {
		rc = cmd_delete(st, argc - 1, argv + 1);
	} else if (strcmp(cmd, "sender") == 0) {
		rc = cmd_sender(st, 1, argc - 1, argv + 1);
	} else if (strcmp(cmd, "sender-map") == 0 && argc <= 2) {
		rc = cmd_sender_map(st, argc == 2 ? argv[1] : "-");
	} else if (strcmp(cmd, "unsender") == 0) {
		rc = cmd_sender(st, 0, argc - 1, argv + 1);
	} else if (strcmp(cmd, "lock") == 0) {
		rc = cmd_lock(st, 1, argc - 1, argv + 1);
	} else if (strcmp(cmd, "unlock") == 0) {
		rc = cmd_lock(st, 0, argc - 1, argv + 1);
	} else if (strcmp(cmd, "limit") == 0) {
		rc = cmd_limit(st, argc - 1, argv + 1);
	} else if (strcmp(cmd, "users") == 0 && argc == 1) {
		rc = cmd_walk(st, REC_USER, 0);
	} else if (strcmp(cmd, "senders") == 0 && argc <= 2) {
		rc = argc == 2 ? show_prefix(st, REC_SENDER, argv[1]) == 0 : cmd_walk(st, REC_SENDER, 0);
	} else if (strcmp(cmd, "copy") == 0 && argc == 2) {
		rc = cmd_copy(st, argv[1], &sc);
	} else {
		usage(stderr, 2);
	}
	store_close(st);
	return rc;
}
