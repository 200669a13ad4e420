/*
 * store_open - which backend a setting names: a directory is LMDB
 * (store_lmdb.c), a redis:// or redis+unix:// URL Redis
 * (store_redis.c); the store opened there, with a memo (store.c).
 *
 * DIAGNOSTICS: the backend's, in ERR.
 */
#include "config.h"

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
	struct store *st = store_is_redis(where) ? store_open_redis(where, conf, err, errsize)
	    : store_open_lmdb(where, conf->map_size, readonly, err, errsize);

	/* without memory for it, there is no memo: calls ask the store */
	if (st != NULL)
		st->memo = store_memo_new();
	return st;
}
