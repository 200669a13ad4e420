/* arena_test - allocation, alignment, big blocks, the limit */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "msg/msg.h"
#include "tap.h"

int
main(void)
{
	struct arena *arena = arena_create(0), *small;
	char *a, *b, *big;
	int aligned = 1;

	for (int i = 1; i < 100; i++)
		aligned &= ((uintptr_t) arena_alloc(arena, (size_t) i) % 16) == 0;
	tap_ok(aligned, "every allocation 16-byte aligned");
	a = arena_memdup(arena, "hello", 5);
	tap_is_str(a, "hello", "memdup copies and terminates");
	big = arena_alloc(arena, 1 << 20);
	tap_ok(big != NULL, "1 MB allocation");
	memset(big, 'x', 1 << 20);
	b = arena_memdup(arena, "after", 5);
	tap_is_str(a, "hello", "earlier data intact after a big block");
	tap_is_str(b, "after", "allocation after a big block");
	tap_ok(arena_zalloc(arena, 64) != NULL, "zalloc");
	arena_free(arena);

	small = arena_create(100 * 1024);
	tap_ok(arena_alloc(small, 10) != NULL, "under the limit");
	tap_ok(arena_alloc(small, 200 * 1024) == NULL, "over the limit fails");
	tap_ok(arena_alloc(small, 10) != NULL, "usable after a refusal");
	tap_ok(arena_used(small) <= 100 * 1024, "used within the limit");
	arena_free(small);
	return tap_done();
}
