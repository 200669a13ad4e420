/*
 * compile_include - code for a Sieve include (RFC 6609): the included
 * script, parsed in place by the parser's include hook, is compiled
 * where it is included, with its own variables (named with its path as
 * a prefix, but for those it declares global), its return statements
 * jumping to its end, and for :once a guard that runs it at most once
 * per run. A return in the main script ends it, as stop does.
 *
 * DIAGNOSTICS: the parser reports scripts that are missing, invalid or
 * include themselves; errors inside them carry their own file:line.
 */
#include "config.h"

#include <string.h>

#include "compile.h"
#include "msg/arena.h"

struct jumps_list {
	size_t *v;
	size_t n, cap;
};

/* once_slot - the hidden variable that says the script at PATH ran */
static int
once_slot(struct compile *cc, struct ast *n)
{
	char *name = arena_alloc(cc->arena, n->len + 8);
	const char *saved = cc->var_prefix;
	int slot;

	if (name == NULL) {
		cerror(cc, n, "out of memory");
		return -1;
	}
	/* not an identifier, so no script can name it */
	memcpy(name, "\001once:", 6);
	memcpy(name + 6, n->str, n->len);
	cc->var_prefix = NULL;
	slot = sieve_var_global(cc, n, name, n->len + 6);
	cc->var_prefix = saved;
	return slot;
}

/* compile_include - N, an A_INCLUDE; 0 or -1 */
int
compile_include(struct compile *cc, struct ast *n)
{
	struct jumps_list returns = { 0 }, *saved_returns = cc->include_returns;
	const char *saved_prefix = cc->var_prefix;
	const char **saved_globals = cc->scope_globals;
	size_t saved_nglobals = cc->nscope_globals, skip = 0;
	char *prefix;
	int slot = -1, rc;

	if (n->a == NULL)
		return 0;	/* reported by the parser */
	/* every include marks the script as run, so a later include :once
	 * of it does nothing (RFC 6609 3.2); :once also tests the mark */
	if ((slot = once_slot(cc, n)) < 0)
		return -1;
	cc->at = n;
	if (n->num) {		/* :once */
		emit(cc, OP_GETG, slot);
		emit(cc, OP_PUSHK, const_str(cc, "", 0));
		emit(cc, OP_SEQ, 0);
		skip = emit(cc, OP_JZ, 0);
	}
	emit(cc, OP_PUSHK, const_str(cc, "1", 1));
	emit(cc, OP_SETG, slot);
	if ((prefix = arena_alloc(cc->arena, n->len + 2)) == NULL) {
		cerror(cc, n, "out of memory");
		return -1;
	}
	memcpy(prefix, n->str, n->len);
	memcpy(prefix + n->len, ":", 2);
	cc->var_prefix = prefix;
	cc->scope_globals = NULL;
	cc->nscope_globals = 0;
	cc->include_returns = &returns;
	rc = compile_stmt(cc, n->a);
	for (size_t i = 0; i < returns.n; i++)
		patch(cc, returns.v[i], cc->ncode);
	if (n->num)
		patch(cc, skip, cc->ncode);
	cc->var_prefix = saved_prefix;
	cc->scope_globals = saved_globals;
	cc->nscope_globals = saved_nglobals;
	cc->include_returns = saved_returns;
	return rc;
}

/* compile_sieve_return - return: to the end of the included script, or
 * the end of the run in the main one */
int
compile_sieve_return(struct compile *cc, struct ast *n)
{
	struct jumps_list *r = cc->include_returns;

	cc->at = n;
	if (r == NULL) {
		emit(cc, OP_STOP, 0);
		return 0;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		size_t *v = arena_alloc(cc->arena, cap * sizeof(*v));

		if (v == NULL) {
			cerror(cc, n, "out of memory");
			return -1;
		}
		if (r->n)
			memcpy(v, r->v, r->n * sizeof(*v));
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = emit(cc, OP_JMP, 0);
	return 0;
}
