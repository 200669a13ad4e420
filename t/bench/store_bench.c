/*
 * store_bench - lookups in a loaded greylist store (milter_bench.sh
 * and redis_bench.sh load it with mvmcas): random passed triplets
 * checked the way $greylist checks them (greylist_check: read-only when
 * seen lately), fetched with store_get, and, for LMDB, fetched with
 * bare LMDB calls on the same environment (the limit; Redis's is
 * redis-benchmark's GET, which redis_bench.sh prints). Prints the
 * latency percentiles of each.
 *
 *   store_bench STORE ENTRIES LOOKUPS
 *
 * STORE is a directory (LMDB) or a Redis URL (keys under "mvmf:").
 *
 * The triplets are those milter_bench.sh generates: net 10.A.B.0/24,
 * sender sI@dJ.example, recipient rI@example.org for I < ENTRIES.
 */
#include "config.h"

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assess.h"
#include "msg/msg.h"
#include "store.h"

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;

	return x < y ? -1 : x > y;
}

/* triplet - the parts of triplet I */
static void
triplet(long i, char *net, char *from, char *to)
{
	sprintf(net, "10.%ld.%ld.0/24", (i >> 8) & 255, i & 255);
	sprintf(from, "s%ld@d%ld.example", i, i % 1000);
	sprintf(to, "r%ld@example.org", i);
}

static void
report(const char *what, double *ns, long n)
{
	double sum = 0;

	for (long i = 0; i < n; i++)
		sum += ns[i];
	qsort(ns, (size_t) n, sizeof(*ns), cmp);
	printf("%-34s mean %7.2f us  p50 %7.2f us  p99 %7.2f us  max %8.2f us\n", what,
	       sum / n / 1e3, ns[n / 2] / 1e3, ns[(long) (n * 0.99)] / 1e3, ns[n - 1] / 1e3);
}

int
main(int argc, char **argv)
{
	static const struct greylist_conf conf = { 300, 2 * 86400, 35 * 86400, 0, 0 };
	struct store_conf sconf = { (size_t) 16 << 30, "mvmf:", 1000, 1000 };
	char err[512], net[64], from[64], to[64];
	struct buf key = BUF_INIT, val = BUF_INIT;
	long entries, lookups, missing = 0;
	struct store *st;
	double *ns;
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *txn;

	if (argc != 4) {
		fprintf(stderr, "usage: store_bench STORE ENTRIES LOOKUPS\n");
		return 2;
	}
	entries = atol(argv[2]);
	lookups = atol(argv[3]);
	if (entries < 1 || lookups < 1 || (ns = calloc((size_t) lookups, sizeof(*ns))) == NULL)
		return 2;
	if ((st = store_open(argv[1], &sconf, 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store_bench: %s\n", err);
		return 1;
	}
	srandom(1);
	for (long n = 0; n < lookups; n++) {
		struct greylist_result res;
		double t0;

		triplet(random() % entries, net, from, to);
		t0 = now_ns();
		if (greylist_check(st, net, from, to, time(NULL), &conf, &res) < 0 || res.wait != 0)
			missing++;
		ns[n] = now_ns() - t0;
	}
	report("greylist_check (as $greylist)", ns, lookups);
	for (long n = 0; n < lookups; n++) {
		double t0;

		triplet(random() % entries, net, from, to);
		buf_reset(&key);
		buf_putc(&key, REC_TRIPLET);
		buf_printf(&key, "%s%c%s%c%s", net, 0, from, 0, to);
		t0 = now_ns();
		if (store_get(st, key.data, key.len, &val) != 1)
			missing++;
		ns[n] = now_ns() - t0;
	}
	report("store_get", ns, lookups);
	store_close(st);
	if (store_is_redis(argv[1])) {
		printf("lookups that missed or were not passed: %ld\n", missing);
		free(ns);
		return missing ? 1 : 0;
	}
	/* the limit: LMDB itself, a read transaction per lookup */
	if (mdb_env_create(&env) || mdb_env_set_maxreaders(env, 1024)
	    || mdb_env_open(env, argv[1], MDB_RDONLY | MDB_NOTLS, 0644)
	    || mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) || mdb_dbi_open(txn, NULL, 0, &dbi)) {
		fprintf(stderr, "store_bench: cannot open %s with LMDB\n", argv[1]);
		return 1;
	}
	mdb_txn_abort(txn);
	for (long n = 0; n < lookups; n++) {
		MDB_val k, v;
		double t0;

		triplet(random() % entries, net, from, to);
		buf_reset(&key);
		buf_putc(&key, REC_TRIPLET);
		buf_printf(&key, "%s%c%s%c%s", net, 0, from, 0, to);
		k.mv_data = key.data;
		k.mv_size = key.len;
		t0 = now_ns();
		if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0) {
			if (mdb_get(txn, dbi, &k, &v) != 0)
				missing++;
			mdb_txn_abort(txn);
		}
		ns[n] = now_ns() - t0;
	}
	report("bare LMDB (the limit)", ns, lookups);
	mdb_env_close(env);
	printf("lookups that missed or were not passed: %ld\n", missing);
	buf_free(&key);
	buf_free(&val);
	free(ns);
	return missing ? 1 : 0;
}
