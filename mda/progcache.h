/* progcache.h - compiled scripts an SMTP-time worker keeps (progcache.c) */
#ifndef MDA_PROGCACHE_H
#define MDA_PROGCACHE_H

struct mfl_prog;

struct mfl_prog *progcache_get(const char *path, int sieve);
int progcache_put(const char *path, int sieve, struct mfl_prog *prog);
int progcache_owns(const struct mfl_prog *prog);

#endif
