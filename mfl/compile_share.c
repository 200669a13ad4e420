/*
 * compile_share - equal constants and equal intrinsic call sites become
 * one each, their PUSHK and OP_INTR operands renumbered, when code
 * generation ends. A script of many rules of a few kinds (a webmail
 * filter editor's) names the same headers and calls the same tests with
 * the same tags over and over: 10,000 rules had 30,000 constants and
 * 20,000 sites, each one loaded (and paid for in fresh pages) by every
 * delivery that reads the compiled program from its cache; shared, the
 * sites are a handful and the constants two thirds.
 *
 * Sharing is sound because both are immutable once compiled: a constant
 * list is one no script can change (const_strlist), and a site is read
 * only, its compiled data (a regex) made from its other fields alone
 * (intr_site_compile makes it again from them for a cached program).
 * Where a call is in the script is no longer the site's: run_where()
 * takes it from the OP_INTR's line.
 *
 * DIAGNOSTICS: none; out of memory, a table is left as it is (sharing
 * only saves).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"

/* mix - HASH with N more bytes at P (FNV-1a) */
static uint64_t
mix(uint64_t hash, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		hash = (hash ^ b[i]) * 1099511628211ull;
	return hash;
}

/* const_hash - a constant's hash */
static uint64_t
const_hash(const void *item)
{
	const struct value *v = item;
	uint64_t h = mix(14695981039346656037ull, &v->type, sizeof(v->type));

	if (v->type == V_INT)
		return mix(h, &v->u.i, sizeof(v->u.i));
	if (v->type == V_STR)
		return mix(h, v->u.s.ptr, v->u.s.len);
	for (size_t i = 0; i < v->u.a->len; i++) {
		h = mix(h, &v->u.a->items[i].u.s.len, sizeof(size_t));
		h = mix(h, v->u.a->items[i].u.s.ptr, v->u.a->items[i].u.s.len);
	}
	return h;
}

/* str_same - two string values are equal */
static int
str_same(const struct value *a, const struct value *b)
{
	return a->u.s.len == b->u.s.len && memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) == 0;
}

/* const_same - two constants are equal */
static int
const_same(const void *x, const void *y)
{
	const struct value *a = x, *b = y;

	if (a->type != b->type)
		return 0;
	if (a->type == V_INT)
		return a->u.i == b->u.i;
	if (a->type == V_STR)
		return str_same(a, b);
	if (a->u.a->len != b->u.a->len)
		return 0;
	for (size_t i = 0; i < a->u.a->len; i++)
		if (!str_same(&a->u.a->items[i], &b->u.a->items[i]))
			return 0;
	return 1;
}

/* site_hash - a site's hash: its intrinsic and its match type (the
 * rest is left to site_same) */
static uint64_t
site_hash(const void *item)
{
	const struct site *s = item;
	uint64_t h = mix(14695981039346656037ull, &s->intr, sizeof(s->intr));

	h = mix(h, &s->match, sizeof(s->match));
	h = mix(h, &s->tags, sizeof(s->tags));
	return s->pattern ? mix(h, s->pattern, s->pattern_len) : h;
}

/* site_same - two sites call the same intrinsic the same way */
static int
site_same(const void *x, const void *y)
{
	const struct site *a = x, *b = y;

	return a->intr == b->intr && a->match == b->match && a->relop == b->relop
	    && a->aux == b->aux && a->comparator == b->comparator && a->addrpart == b->addrpart
	    && a->tags == b->tags && memcmp(a->tag_arg, b->tag_arg, sizeof(a->tag_arg)) == 0
	    && a->npos == b->npos && a->nargs == b->nargs && a->pattern_list == b->pattern_list
	    && (a->pattern == NULL) == (b->pattern == NULL) && a->pattern_len == b->pattern_len
	    && (a->pattern == NULL || memcmp(a->pattern, b->pattern, a->pattern_len) == 0);
}

/* share - ITEMS (N of SIZE bytes) with each one equal to an earlier
 * one left out, in place; MAP gets each old index's new one; the count
 * kept, or 0 when out of memory (nothing changed) */
static size_t
share(void *items, size_t n, size_t size, uint64_t (*hash)(const void *),
      int (*same)(const void *, const void *), uint32_t *map)
{
	char *base = items;
	size_t cap = 16, kept = 0;
	uint32_t *slot;		/* a kept item's index + 1, or 0 */

	while (cap < 2 * n)
		cap *= 2;
	if ((slot = calloc(cap, sizeof(*slot))) == NULL)
		return 0;
	for (size_t i = 0; i < n; i++) {
		size_t h = (size_t) hash(base + i * size) & (cap - 1);

		while (slot[h] != 0 && !same(base + (slot[h] - 1) * size, base + i * size))
			h = (h + 1) & (cap - 1);
		if (slot[h] == 0) {
			if (kept != i)	/* kept <= i: an item not yet looked at stays */
				memcpy(base + kept * size, base + i * size, size);
			slot[h] = (uint32_t) ++kept;
		}
		map[i] = slot[h] - 1;
	}
	free(slot);
	return kept;
}

/* renumber - every OP operand through MAP */
static void
renumber(struct compile *cc, enum opcode op, const uint32_t *map)
{
	for (size_t pc = 0; pc < cc->ncode; pc++)
		if (INSN_OP(cc->code[pc]) == op)
			cc->code[pc] = INSN(op, (int32_t) map[INSN_ARG(cc->code[pc])]);
}

/* compile_share - equal constants and sites of CC's code shared */
void
compile_share(struct compile *cc)
{
	size_t most = cc->nconsts > cc->nsites ? cc->nconsts : cc->nsites, n;
	uint32_t *map = malloc((most + 1) * sizeof(*map));

	if (map == NULL)
		return;
	if (cc->nconsts > 1 && (n = share(cc->consts, cc->nconsts, sizeof(*cc->consts),
					  const_hash, const_same, map)) > 0) {
		renumber(cc, OP_PUSHK, map);
		cc->nconsts = n;
	}
	if (cc->nsites > 1 && (n = share(cc->sites, cc->nsites, sizeof(*cc->sites),
					 site_hash, site_same, map)) > 0) {
		renumber(cc, OP_INTR, map);
		cc->nsites = n;
	}
	free(map);
}
