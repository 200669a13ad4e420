/* mapfault.h - LMDB files cut short on disk: found when opened, and a
 * SIGBUS while reading one made an error (mapfault.c) */
#ifndef MVMTR_MAPFAULT_H
#define MVMTR_MAPFAULT_H

#include <lmdb.h>
#include <setjmp.h>
#include <stddef.h>

int mapfault_check(MDB_env *env, char *why, size_t size);
void mapfault_arm(sigjmp_buf *jb);
void mapfault_disarm(void);

#endif
