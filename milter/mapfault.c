/*
 * mapfault - an LMDB file cut short on disk (a copy taken while it was
 * written, a bad restore, a failing disk) is an error, not the death of
 * the process. LMDB reads its pages through a map of the file; a page
 * past the file's end is a SIGBUS when touched.
 *
 * At open, mapfault_check() compares the last page the file's meta page
 * names with the file's size: a file cut short is found before any page
 * is read. During use, a read is armed: the caller takes a sigsetjmp()
 * point and hands it to mapfault_arm(); a SIGBUS in that thread before
 * mapfault_disarm() returns there, and the caller fails the operation
 * and never touches that environment again (a transaction may have been
 * left half-way). A SIGBUS anywhere else kills the process as before.
 * Used by mvmtr's store (store_lmdb.c), mvmcas, and mvmda's state file.
 *
 * DIAGNOSTICS: mapfault_check() returns -1 with the sizes in WHY.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "mapfault.h"

static _Thread_local sigjmp_buf *armed;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* on_sigbus - back to the armed point, or die of it as before */
static void
on_sigbus(int sig)
{
	sigjmp_buf *jb = armed;

	if (jb != NULL) {
		armed = NULL;
		siglongjmp(*jb, 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* install - the handler, once per process; SA_NODEFER, as the armed
 * point is left by siglongjmp without restoring the signal mask */
static void
install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sa.sa_flags = SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

/* mapfault_arm - a SIGBUS in this thread returns to JB (1) until
 * mapfault_disarm() */
void
mapfault_arm(sigjmp_buf *jb)
{
	pthread_once(&once, install);
	armed = jb;
}

/* mapfault_disarm - the read is over */
void
mapfault_disarm(void)
{
	armed = NULL;
}

/* mapfault_check - ENV's file holds every page its meta page names; -1
 * with the sizes in WHY when it is cut short */
int
mapfault_check(MDB_env *env, char *why, size_t size)
{
	MDB_envinfo info;
	MDB_stat stat;
	mdb_filehandle_t fd;
	struct stat st;
	uint64_t need;

	if (mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &stat) != 0
	    || mdb_env_get_fd(env, &fd) != 0 || fstat(fd, &st) != 0)
		return 0;	/* nothing to compare: LMDB says the rest */
	need = ((uint64_t) info.me_last_pgno + 1) * stat.ms_psize;
	if ((uint64_t) st.st_size >= need)
		return 0;
	snprintf(why, size, "damaged: the file is %llu bytes, its pages reach %llu "
		 "(cut short on disk)", (unsigned long long) st.st_size,
		 (unsigned long long) need);
	return -1;
}
