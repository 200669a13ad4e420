/*
 * arena - lifetime-owned memory
 *
 * An arena hands out memory from large blocks and frees all of it in one
 * call: the compiler's AST, a message's index and a run's values each live
 * in one. A limit (0 = none) caps the bytes an arena may take, so that a
 * hostile message or script meets a clean error instead of the OOM killer.
 *
 * DIAGNOSTICS: arena_alloc() returns NULL with errno ENOMEM when malloc
 * fails or the limit would be passed; nothing is logged.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define ARENA_FIRST	(4 * 1024)	/* the first block; each next doubles */
#define ARENA_BLOCK	(64 * 1024)	/* up to this */
#define ARENA_ALIGN	16

struct arena_block {
	struct arena_block *next;
	size_t size;
	size_t used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena {
	struct arena_block *blocks;
	size_t limit;
	size_t total;
};

/* arena_create - new empty arena that may take at most LIMIT bytes */
struct arena *
arena_create(size_t limit)
{
	struct arena *arena = calloc(1, sizeof(*arena));

	if (arena != NULL)
		arena->limit = limit;
	return arena;
}

/* arena_free - release the arena and everything allocated from it */
void
arena_free(struct arena *arena)
{
	struct arena_block *block, *next;

	if (arena == NULL)
		return;
	for (block = arena->blocks; block != NULL; block = next) {
		next = block->next;
		free(block);
	}
	free(arena);
}

/* arena_grow - add a block with room for at least SIZE bytes */
static struct arena_block *
arena_grow(struct arena *arena, size_t size)
{
	struct arena_block *block;
	/* small first: most arenas (a milter connection's run, a short
	 * message) never need 64 KB, and a fresh thread pays a page fault
	 * for each page it touches */
	size_t step = arena->total < ARENA_FIRST ? ARENA_FIRST
	    : arena->total < ARENA_BLOCK ? arena->total : ARENA_BLOCK;
	size_t want = size > step ? size : step;

	if (want > SIZE_MAX - sizeof(*block)
	    || (arena->limit && arena->total + want > arena->limit)) {
		errno = ENOMEM;
		return NULL;
	}
	if ((block = malloc(sizeof(*block) + want)) == NULL)
		return NULL;
	block->size = want;
	block->used = 0;
	arena->total += want;
	/* A big request gets its own block behind the current one, so the
	 * current block's free tail is not wasted. */
	if (size > ARENA_BLOCK / 4 && arena->blocks != NULL) {
		block->next = arena->blocks->next;
		arena->blocks->next = block;
	} else {
		block->next = arena->blocks;
		arena->blocks = block;
	}
	return block;
}

/* arena_alloc - SIZE bytes aligned for any type, or NULL */
void *
arena_alloc(struct arena *arena, size_t size)
{
	struct arena_block *block = arena->blocks;
	void *ptr;

	if (size > SIZE_MAX - ARENA_ALIGN) {
		errno = ENOMEM;
		return NULL;
	}
	size = (size + ARENA_ALIGN - 1) & ~(size_t) (ARENA_ALIGN - 1);
	if (block == NULL || block->size - block->used < size) {
		if ((block = arena_grow(arena, size)) == NULL)
			return NULL;
	}
	ptr = block->data + block->used;
	block->used += size;
	return ptr;
}

/* arena_zalloc - SIZE zeroed bytes, or NULL */
void *
arena_zalloc(struct arena *arena, size_t size)
{
	void *ptr = arena_alloc(arena, size);

	if (ptr != NULL)
		memset(ptr, 0, size);
	return ptr;
}

/* arena_memdup - NUL-terminated copy of LEN bytes, or NULL */
char *
arena_memdup(struct arena *arena, const void *src, size_t len)
{
	char *copy;

	if (len == SIZE_MAX || (copy = arena_alloc(arena, len + 1)) == NULL)
		return NULL;
	if (len > 0)
		memcpy(copy, src, len);
	copy[len] = 0;
	return copy;
}

/* arena_used - bytes the arena has taken from the system */
size_t
arena_used(const struct arena *arena)
{
	return arena->total;
}
