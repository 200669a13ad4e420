/*
 * progcache - the compiled scripts an SMTP-time worker (mvmda -D, one
 * process per user answering many questions) keeps between questions.
 * An entry is good while every file it was compiled from (the script
 * and what it includes) has the size, mtime and inode it had: the key
 * the on-disk cache (mfl/cache.c) checks, so a script the user edits
 * is read again at the next question, as a delivery would.
 *
 * Only a worker uses it (one thread, one user); a delivery compiles or
 * loads its scripts once and ends.
 *
 * DIAGNOSTICS: none; a file that cannot be stat()ed makes a miss, and
 * a full cache drops its oldest entry.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mfl.h"
#include "progcache.h"

#define PROGCACHE_MAX	16
#define PROGCACHE_FILES	32

struct stamp {
	off_t size;
	struct timespec mtime;
	ino_t ino;
	dev_t dev;
};

static struct entry {
	char *path;
	int sieve;
	struct mfl_prog *prog;
	struct stamp stamps[PROGCACHE_FILES];
	size_t nfiles;
	unsigned long used;
} cache[PROGCACHE_MAX];
static unsigned long clock_hand;
static int nkept;	/* entries in use: a delivery, which keeps none,
			 * never reads the table's pages */

/* stamp_of - FILE's stamp into S; -1 when it cannot be stat()ed */
static int
stamp_of(const char *file, struct stamp *s)
{
	struct stat st;

	if (stat(file, &st) < 0)
		return -1;
	*s = (struct stamp) { st.st_size, st.st_mtim, st.st_ino, st.st_dev };
	return 0;
}

/* fresh - E's files are as they were when it was compiled */
static int
fresh(const struct entry *e)
{
	const char *const *files;
	size_t n = mfl_prog_files(e->prog, &files);
	struct stamp now;

	if (n != e->nfiles)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (stamp_of(files[i], &now) < 0 || now.size != e->stamps[i].size
		    || now.mtime.tv_sec != e->stamps[i].mtime.tv_sec
		    || now.mtime.tv_nsec != e->stamps[i].mtime.tv_nsec
		    || now.ino != e->stamps[i].ino || now.dev != e->stamps[i].dev)
			return 0;
	return 1;
}

/* drop - forget E */
static void
drop(struct entry *e)
{
	free(e->path);
	mfl_prog_free(e->prog);
	memset(e, 0, sizeof(*e));
	nkept--;
}

/* progcache_get - PATH's program compiled in mode SIEVE when it is kept
 * and still good, else NULL (a stale one is dropped) */
struct mfl_prog *
progcache_get(const char *path, int sieve)
{
	for (int i = 0; nkept > 0 && i < PROGCACHE_MAX; i++) {
		struct entry *e = &cache[i];

		if (e->path == NULL || e->sieve != sieve || strcmp(e->path, path) != 0)
			continue;
		if (!fresh(e)) {
			drop(e);
			return NULL;
		}
		e->used = ++clock_hand;
		return e->prog;
	}
	return NULL;
}

/* progcache_put - keep PROG, PATH's in mode SIEVE; 0, or -1 when it is
 * not kept (the caller still owns it) */
int
progcache_put(const char *path, int sieve, struct mfl_prog *prog)
{
	const char *const *files;
	size_t n = mfl_prog_files(prog, &files);
	struct entry *e = &cache[0], fresh_entry = { .sieve = sieve, .prog = prog };

	if (n > PROGCACHE_FILES)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (stamp_of(files[i], &fresh_entry.stamps[i]) < 0)
			return -1;
	if ((fresh_entry.path = strdup(path)) == NULL)
		return -1;
	fresh_entry.nfiles = n;
	fresh_entry.used = ++clock_hand;
	for (int i = 1; i < PROGCACHE_MAX && e->path != NULL; i++)
		if (cache[i].path == NULL || cache[i].used < e->used)
			e = &cache[i];
	if (e->path != NULL)
		drop(e);
	*e = fresh_entry;
	nkept++;
	return 0;
}

/* progcache_owns - PROG is kept here: not the caller's to free */
int
progcache_owns(const struct mfl_prog *prog)
{
	for (int i = 0; nkept > 0 && i < PROGCACHE_MAX; i++)
		if (cache[i].prog == prog)
			return 1;
	return 0;
}
