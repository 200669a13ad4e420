/*
 * compile_fep - code for foreverypart and break (RFC 5703 3): a loop
 * around the hidden intrinsics of intr_mime.c that step through the
 * MIME parts, and break as a jump to the end of the innermost loop, or
 * of the loop with that :name.
 *
 * DIAGNOSTICS: compile errors for a break outside foreverypart, for a
 * :name no enclosing loop has, and for loops nested deeper than
 * MIME_LOOPS_MAX (4, as Pigeonhole).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "msg/arena.h"
#include "prog.h"

extern const struct intrinsic intr_fep_begin, intr_fep_next, intr_fep_end;

struct fep {
	struct fep *outer;
	const char *file;	/* the script it is in */
	const char *name;	/* NULL: no :name */
	size_t len;
	size_t *breaks;		/* code indexes of JMPs to patch */
	size_t nbreaks, cap;
};

/* call - one call of the hidden intrinsic IN at N's place */
static int
call(struct compile *cc, struct ast *n, const struct intrinsic *in)
{
	struct ast *node = ast_new(cc->arena, A_SIEVE, n->file, n->line, n->col);

	if (node == NULL) {
		cerror(cc, n, "out of memory");
		return -1;
	}
	node->intr = in;
	node->str = in->name;
	return compile_site(cc, node) < 0 ? -1 : 0;
}

/* compile_foreverypart - N: A_FOREVERYPART (str: :name or NULL, a: the
 * block) */
int
compile_foreverypart(struct compile *cc, struct ast *n)
{
	struct fep loop = { .outer = cc->fep, .file = n->file, .name = n->str, .len = n->len };
	struct loop mfl_loop = { .outer = cc->loop };	/* MFL break/continue */
	size_t top, jz, depth = 1;
	int rc;

	/* each level walks every part again: parts to the power of the
	 * depth. In one script a compile error; across includes (each a
	 * script of its own) the run stops at the same depth */
	for (const struct fep *l = cc->fep; l != NULL; l = l->outer)
		depth += l->file == n->file || (l->file && n->file && strcmp(l->file, n->file) == 0);
	if (depth > MIME_LOOPS_MAX) {
		cerror(cc, n, "foreverypart nested deeper than %d", MIME_LOOPS_MAX);
		return -1;
	}
	if (call(cc, n, &intr_fep_begin) < 0)
		return -1;
	top = cc->ncode;
	if (call(cc, n, &intr_fep_next) < 0)
		return -1;
	cc->at = n;
	jz = emit(cc, OP_JZ, 0);
	cc->fep = &loop;
	cc->loop = n->sieve_mode ? cc->loop : &mfl_loop;
	rc = compile_stmt(cc, n->a);
	cc->fep = loop.outer;
	cc->loop = mfl_loop.outer;
	cc->at = n;
	patch(cc, emit(cc, OP_JMP, 0), top);
	patch(cc, jz, cc->ncode);
	for (size_t i = 0; i < loop.nbreaks; i++)
		patch(cc, loop.breaks[i], cc->ncode);
	for (size_t i = 0; i < mfl_loop.nbreaks; i++)
		patch(cc, mfl_loop.breaks[i], cc->ncode);
	for (size_t i = 0; i < mfl_loop.ncontinues; i++)
		patch(cc, mfl_loop.continues[i], top);
	free(mfl_loop.breaks);
	free(mfl_loop.continues);
	return call(cc, n, &intr_fep_end) < 0 ? -1 : rc;
}

/* compile_sieve_break - break [":name" name]: to the loop's end */
int
compile_sieve_break(struct compile *cc, struct ast *n)
{
	struct fep *l = cc->fep;

	while (l != NULL && n->str != NULL
	       && (l->name == NULL || l->len != n->len || memcmp(l->name, n->str, n->len) != 0))
		l = l->outer;
	if (l == NULL) {
		cerror(cc, n, n->str ? "break: no enclosing foreverypart is named \"%.*s\""
		       : "break outside foreverypart%.*s", n->str ? (int) n->len : 0,
		       n->str ? n->str : "");
		return -1;
	}
	if (l->nbreaks == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		size_t *v = arena_alloc(cc->arena, cap * sizeof(*v));

		if (v == NULL) {
			cerror(cc, n, "out of memory");
			return -1;
		}
		if (l->nbreaks)
			memcpy(v, l->breaks, l->nbreaks * sizeof(*v));
		l->breaks = v;
		l->cap = cap;
	}
	cc->at = n;
	l->breaks[l->nbreaks++] = emit(cc, OP_JMP, 0);
	return 0;
}
