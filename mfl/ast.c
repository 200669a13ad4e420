/*
 * ast - nodes of the syntax tree, allocated in the compiler's arena and
 * freed with it when code generation ends.
 *
 * DIAGNOSTICS: NULL or -1 when the arena is full.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ast.h"
#include "msg/arena.h"

/* ast_new - a zeroed node of KIND at FILE:LINE:COL */
struct ast *
ast_new(struct arena *arena, enum ast_kind kind, const char *file, int line,
	int col)
{
	struct ast *node = arena_zalloc(arena, sizeof(*node));

	if (node != NULL) {
		node->kind = kind;
		node->file = file;
		node->line = line;
		node->col = col;
	}
	return node;
}

/* ast_push - append ITEM to NODE's items */
int
ast_push(struct arena *arena, struct ast *node, struct ast *item)
{
	/* capacity doubles at powers of two: 1, 2, 4, 8 ... */
	if ((node->nitems & (node->nitems - 1)) == 0) {
		size_t cap = node->nitems ? node->nitems * 2 : 1;
		struct ast **items = arena_alloc(arena, cap * sizeof(*items));

		if (items == NULL)
			return -1;
		if (node->nitems)
			memcpy(items, node->items, node->nitems * sizeof(*items));
		node->items = items;
	}
	node->items[node->nitems++] = item;
	return 0;
}

/* type_name - "int", "string[]" ... into BUF */
const char *
type_name(int type, char *buf, size_t size)
{
	static const char *const base[] = { "void", "int", "string", "any" };
	int dims = type / 4;
	size_t n = (size_t) snprintf(buf, size, "%s", base[type % 4]);

	while (dims-- > 0 && n + 2 < size) {
		buf[n++] = '[';
		buf[n++] = ']';
		buf[n] = 0;
	}
	return buf;
}
