/* cache.h - compiled programs kept beside their scripts (libmfl inside) */
#ifndef MFL_CACHE_H
#define MFL_CACHE_H

#include <stddef.h>

struct buf;
struct mfl_prog;
struct compile;
struct mfl_env;

int cache_save(const struct mfl_prog *prog, const char *path, const char *dir);
struct mfl_prog *cache_load(const struct mfl_env *env, const char *path,
			    const char *dir, int sieve);
struct mfl_prog *cache_parse(const struct mfl_env *env, const void *body, size_t len,
			     int sieve);

#endif
