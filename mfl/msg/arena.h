/* arena.h - lifetime-owned memory: allocate often, free once */
#ifndef MFL_ARENA_H
#define MFL_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena_create(size_t limit);
void arena_free(struct arena *arena);
void *arena_alloc(struct arena *arena, size_t size);
void *arena_zalloc(struct arena *arena, size_t size);
char *arena_memdup(struct arena *arena, const void *src, size_t len);
size_t arena_used(const struct arena *arena);

#endif
