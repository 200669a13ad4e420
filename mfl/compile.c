/*
 * compile - MFL and Sieve source to a program: the driver, statements,
 * scopes, functions and includes. Expressions are compile_expr.c's,
 * intrinsic calls compile_site.c's.
 *
 * A file is parsed whole (its includes parsed in place, each in its own
 * mode, cycles refused), every function's signature is collected, then
 * the top level is compiled as function 0 followed by each function.
 * Top-level declarations are globals; declarations inside blocks and
 * functions are locals with C's block scope. The compiled program is
 * verified, copied into its own arena and is immutable from then on:
 * mvmtr shares one between all its threads.
 *
 * DIAGNOSTICS: every error of every file as "file:line:col: error: ..."
 * lines in the caller's buffer; NULL is returned when there was any.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compile.h"
#include "testsuite.h"
#include "env.h"
#include "msg/arena.h"
#include "parse.h"


/* cerror - a compile error at node AT */
void
cerror(struct compile *cc, const struct ast *at, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_error(&cc->diag, at->file, at->line, at->col, "%s", msg);
}

/* grow - make room for one more item in a compiler table */
static int
grow(struct compile *cc, void **v, size_t n, size_t *cap, size_t size)
{
	void *nv;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	if ((nv = arena_alloc(cc->arena, ncap * size)) == NULL)
		return -1;
	if (n)
		memcpy(nv, *v, n * size);
	*v = nv;
	*cap = ncap;
	return 0;
}

/* file_index - index of FILE in the program's file table */
static int
file_index(struct compile *cc, const char *file)
{
	for (size_t i = 0; i < cc->nfiles; i++)
		if (cc->files[i] == file)
			return (int) i;
	return 0;
}

/* emit - append one instruction; its code index */
size_t
emit(struct compile *cc, enum opcode op, int32_t arg)
{
	if (cc->ncode == cc->code_cap) {
		size_t cap = cc->code_cap ? cc->code_cap * 2 : 1024;
		uint32_t *code = realloc(cc->code, cap * sizeof(*code));
		uint32_t *lines = realloc(cc->lines, cap * sizeof(*lines));
		uint16_t *files = realloc(cc->file_of, cap * sizeof(*files));

		if (code) cc->code = code;
		if (lines) cc->lines = lines;
		if (files) cc->file_of = files;
		if (code == NULL || lines == NULL || files == NULL) {
			diag_error(&cc->diag, "mfl", 0, 0, "out of memory");
			return 0;
		}
		cc->code_cap = cap;
	}
	cc->code[cc->ncode] = INSN(op, arg);
	cc->lines[cc->ncode] = cc->at ? (uint32_t) cc->at->line : 0;
	cc->file_of[cc->ncode] = cc->at ? (uint16_t) file_index(cc, cc->at->file) : 0;
	return cc->ncode++;
}

/* patch - point the jump at AT to TARGET */
void
patch(struct compile *cc, size_t at, size_t target)
{
	cc->code[at] = INSN(INSN_OP(cc->code[at]), (int32_t) target);
}

/* const_add - a new constant's index (equal ones are shared when the
 * code is done: compile_share) */
static int
const_add(struct compile *cc, struct value v)
{
	if (grow(cc, (void **) &cc->consts, cc->nconsts, &cc->consts_cap, sizeof(v)) < 0)
		return 0;
	cc->consts[cc->nconsts] = v;
	return (int) cc->nconsts++;
}

/* const_value - index of a constant made by the caller (an array) */
int
const_value(struct compile *cc, struct value v)
{
	return const_add(cc, v);
}

/* const_int - index of the int constant V */
int
const_int(struct compile *cc, int64_t v)
{
	return const_add(cc, value_int(v));
}

/* const_str - index of a string constant, copied into the program */
int
const_str(struct compile *cc, const char *s, size_t len)
{
	/* copied: the program outlives the source the string points into */
	char *copy = arena_memdup(cc->prog->arena, s, len);

	return copy ? const_add(cc, value_str(copy, len)) : 0;
}

/* control_type - the MFL type of a control of type T */
static int
control_type(int t)
{
	return t == MFL_CONTROL_INT ? TYPE_INT
	    : t == MFL_CONTROL_STRING ? TYPE_STRING : TYPE_ARRAY(TYPE_STRING);
}

/* compile_grow - room for one more item in a growing table */
int
compile_grow(struct compile *cc, void **v, size_t n, size_t *cap, size_t size)
{
	return grow(cc, v, n, cap, size);
}

/* sym_lookup - the innermost variable NAME, or a control, or NULL */
struct sym *
sym_lookup(struct compile *cc, const char *name, size_t len)
{
	int c;

	for (size_t i = cc->nsyms; i-- > 0;)
		if (cc->syms[i].len == len && memcmp(cc->syms[i].name, name, len) == 0)
			return &cc->syms[i];
	if ((c = env_control_find(cc->env, name, len)) >= 0) {
		struct sym *s = arena_alloc(cc->arena, sizeof(*s));

		if (s == NULL)
			return NULL;
		s->name = name;
		s->len = len;
		s->scope = SCOPE_CONTROL;
		s->slot = c;
		s->type = control_type(cc->env->controls[c].type);
		return s;
	}
	for (size_t i = 0; i < cc->nsvars; i++)
		if (cc->svars[i].len == len && memcmp(cc->svars[i].name, name, len) == 0)
			return &cc->svars[i];
	return NULL;
}

/* func_lookup - index of the script's function NAME, or -1 */
int
func_lookup(struct compile *cc, const char *name, size_t len)
{
	for (size_t i = 1; i < cc->nfuncs; i++)
		if (strlen(cc->funcs[i].name) == len && memcmp(cc->funcs[i].name, name, len) == 0)
			return (int) i;
	return -1;
}

/* declare - a new variable in the current scope; its symbol or NULL */
static struct sym *
declare(struct compile *cc, struct ast *n, int global)
{
	struct sym *s;

	for (size_t i = cc->nsyms; i-- > 0 && cc->syms[i].depth == cc->depth;)
		if (cc->syms[i].len == n->len && memcmp(cc->syms[i].name, n->str, n->len) == 0) {
			cerror(cc, n, "'$%.*s' is already declared here", (int) n->len, n->str);
			return NULL;
		}
	if (env_control_find(cc->env, n->str, n->len) >= 0) {
		cerror(cc, n, "'$%.*s' is a control; it cannot be declared", (int) n->len, n->str);
		return NULL;
	}
	if (grow(cc, (void **) &cc->syms, cc->nsyms, &cc->syms_cap, sizeof(*s)) < 0)
		return NULL;
	s = &cc->syms[cc->nsyms++];
	s->name = n->str;
	s->len = n->len;
	s->type = n->type;
	s->depth = cc->depth;
	if (global) {
		if (grow(cc, (void **) &cc->global_types, cc->nglobals, &cc->globals_cap, sizeof(int)) < 0)
			return NULL;
		cc->global_types[cc->nglobals] = n->type;
		s->scope = SCOPE_GLOBAL;
		s->slot = (int) cc->nglobals++;
	} else {
		s->scope = SCOPE_LOCAL;
		s->slot = cc->nlocals++;
		if (cc->nlocals > cc->fn->nlocals)
			cc->fn->nlocals = cc->nlocals;
	}
	return s;
}

/* scope_end - forget the variables of the block being left */
static void
scope_end(struct compile *cc)
{
	while (cc->nsyms > 0 && cc->syms[cc->nsyms - 1].depth == cc->depth) {
		if (cc->syms[cc->nsyms - 1].scope == SCOPE_LOCAL)
			cc->nlocals--;
		cc->nsyms--;
	}
	cc->depth--;
}

/* decl - "type $v [= e]": globals at the top level, else locals */
static int
decl(struct compile *cc, struct ast *n)
{
	int global = cc->fn == &cc->funcs[0] && cc->depth == 0;
	struct sym *s;
	int t;
	char b1[32], b2[32];

	if (n->a != NULL) {
		if ((t = compile_expr(cc, n->a, 1)) < 0)
			return -1;
		if (!type_assignable(n->type, t)) {
			cerror(cc, n, "cannot initialise %s '$%.*s' with %s",
			       type_name(n->type, b1, sizeof(b1)), (int) n->len, n->str,
			       type_name(t, b2, sizeof(b2)));
			return -1;
		}
	} else if (!global) {
		compile_zero(cc, n->type);
	}
	if ((s = declare(cc, n, global)) == NULL)
		return -1;
	cc->at = n;
	if (n->a != NULL || !global)
		emit(cc, global ? OP_SETG : OP_SETL, s->slot);
	return 0;
}

/* A list of jumps to patch to one target. */
struct jumps {
	size_t *v;
	size_t n;
};

/* jumps_add - remember the jump at code index AT */
static int
jumps_add(struct jumps *j, size_t at)
{
	size_t *v = realloc(j->v, (j->n + 1) * sizeof(*v));

	if (v == NULL)
		return -1;
	v[j->n++] = at;
	j->v = v;
	return 0;
}

/* jumps_patch - point every remembered jump here; forget them */
static void
jumps_patch(struct compile *cc, struct jumps *j)
{
	for (size_t i = 0; i < j->n; i++)
		patch(cc, j->v[i], cc->ncode);
	free(j->v);
	j->v = NULL;
	j->n = 0;
}

/* branch - code that jumps (into OUT) when N's truth is WHEN and falls
 * through otherwise: allof, anyof, not, && and || become jumps instead
 * of 0/1 values, so a rule costs a test and a jump */
static int
branch(struct compile *cc, struct ast *n, int when, struct jumps *out)
{
	struct jumps skip = { NULL, 0 };
	int t, all = n->kind == A_AND;

	switch (n->kind) {
	case A_NOT:
		return branch(cc, n->a, !when, out);
	case A_INT:
		cc->at = n;
		if ((n->num != 0) == when)
			return jumps_add(out, emit(cc, OP_JMP, 0));
		return 0;
	case A_AND:
	case A_OR:
		/* allof jumping on false, anyof jumping on true: any item
		 * decides; otherwise every item but the last decides by
		 * skipping past the last, which then decides alone */
		for (size_t i = 0; i < n->nitems; i++) {
			int last = i + 1 == n->nitems;
			int rc = all != when || last ? branch(cc, n->items[i], when, out)
			    : branch(cc, n->items[i], !when, &skip);

			if (rc < 0) {
				free(skip.v);
				return -1;
			}
		}
		jumps_patch(cc, &skip);
		return 0;
	default:
		if ((t = compile_expr(cc, n, 1)) < 0)
			return -1;
		if (t != TYPE_INT) {
			cerror(cc, n, "a condition must be an int or a test");
			return -1;
		}
		cc->at = n;
		return jumps_add(out, emit(cc, when ? OP_JNZ : OP_JZ, 0));
	}
}

/* if_stmt: if (a) b [else c] */
static int
if_stmt(struct compile *cc, struct ast *n)
{
	struct jumps jelse = { NULL, 0 };
	size_t jend;

	if (branch(cc, n->a, 0, &jelse) < 0) {
		free(jelse.v);
		return -1;
	}
	compile_stmt(cc, n->b);
	if (n->c == NULL) {
		jumps_patch(cc, &jelse);
		return 0;
	}
	cc->at = n;
	jend = emit(cc, OP_JMP, 0);
	jumps_patch(cc, &jelse);
	compile_stmt(cc, n->c);
	patch(cc, jend, cc->ncode);
	return 0;
}

/* loop_end - patch the loop's breaks and continues, leave it */
static void
loop_end(struct compile *cc, struct loop *loop, size_t cont, size_t brk)
{
	for (size_t i = 0; i < loop->nbreaks; i++)
		patch(cc, loop->breaks[i], brk);
	for (size_t i = 0; i < loop->ncontinues; i++)
		patch(cc, loop->continues[i], cont);
	free(loop->breaks);
	free(loop->continues);
	cc->loop = loop->outer;
}

/* while_stmt / for_stmt: test at the top, step before the jump back */
static int
loop_stmt(struct compile *cc, struct ast *n)
{
	struct loop loop = { cc->loop, NULL, 0, NULL, 0 };
	struct ast *init = n->kind == A_FOR ? n->a : NULL;
	struct ast *test = n->kind == A_FOR ? n->b : n->a;
	struct ast *step = n->kind == A_FOR ? n->c : NULL;
	struct ast *body = n->kind == A_FOR ? n->d : n->b;
	struct jumps jend = { NULL, 0 };
	size_t top, cont;

	cc->depth++;
	if (init != NULL)
		compile_stmt(cc, init);
	top = cc->ncode;
	if (test != NULL && branch(cc, test, 0, &jend) < 0) {
		free(jend.v);
		scope_end(cc);
		return -1;
	}
	cc->loop = &loop;
	compile_stmt(cc, body);
	cont = cc->ncode;
	if (step != NULL) {
		int t = compile_expr(cc, step, 0);

		if (t > 0 && step->kind != A_ASSIGN && step->kind != A_INCDEC)
			emit(cc, OP_POP, 0);
	}
	cc->at = n;
	emit(cc, OP_JMP, (int32_t) top);
	jumps_patch(cc, &jend);
	loop_end(cc, &loop, cont, cc->ncode);
	scope_end(cc);
	return 0;
}

/* jump_stmt - break or continue: a JMP patched at the loop's end */
static int
jump_stmt(struct compile *cc, struct ast *n)
{
	struct loop *l = cc->loop;
	size_t **list;
	size_t *count, *nv;

	if (l == NULL) {
		cerror(cc, n, "%s outside a loop", n->kind == A_BREAK ? "break" : "continue");
		return -1;
	}
	list = n->kind == A_BREAK ? &l->breaks : &l->continues;
	count = n->kind == A_BREAK ? &l->nbreaks : &l->ncontinues;
	if ((nv = realloc(*list, (*count + 1) * sizeof(**list))) == NULL)
		return -1;
	*list = nv;
	nv[(*count)++] = emit(cc, OP_JMP, 0);
	return 0;
}

/* return_stmt - return [e]; from a function */
static int
return_stmt(struct compile *cc, struct ast *n)
{
	int t;
	char b1[32], b2[32];

	if (cc->fn == &cc->funcs[0]) {
		cerror(cc, n, "return outside a function (stop ends the script)");
		return -1;
	}
	if (n->a == NULL) {
		if (cc->fn->ret != TYPE_VOID) {
			cerror(cc, n, "'$%s' must return %s", cc->fn->name,
			       type_name(cc->fn->ret, b1, sizeof(b1)));
			return -1;
		}
		emit(cc, OP_RET, 0);
		return 0;
	}
	if ((t = compile_expr(cc, n->a, 1)) < 0)
		return -1;
	if (cc->fn->ret == TYPE_VOID || !type_assignable(cc->fn->ret, t)) {
		cerror(cc, n, "'$%s' returns %s, not %s", cc->fn->name,
		       type_name(cc->fn->ret, b1, sizeof(b1)), type_name(t, b2, sizeof(b2)));
		return -1;
	}
	cc->at = n;
	emit(cc, OP_RETV, 0);
	return 0;
}

/* compile_stmt - code for statement N */
int
compile_stmt(struct compile *cc, struct ast *n)
{
	int t;

	cc->at = n;
	switch (n->kind) {
	case A_BLOCK:
		if (!n->num)
			cc->depth++;
		for (size_t i = 0; i < n->nitems; i++)
			compile_stmt(cc, n->items[i]);
		if (!n->num)
			scope_end(cc);
		return 0;
	case A_DECL:
		return decl(cc, n);
	case A_IF:
		return if_stmt(cc, n);
	case A_WHILE:
	case A_FOR:
		return loop_stmt(cc, n);
	case A_BREAK:
		if (n->sieve_mode)
			return compile_sieve_break(cc, n);
		return jump_stmt(cc, n);
	case A_CONTINUE:
		return jump_stmt(cc, n);
	case A_RETURN:
		if (n->sieve_mode)
			return compile_sieve_return(cc, n);
		return return_stmt(cc, n);
	case A_STOP:
		emit(cc, OP_STOP, 0);
		return 0;
	case A_INCLUDE:
		return compile_include(cc, n);
	case A_FOREVERYPART:
		return compile_foreverypart(cc, n);
	case A_TESTBLOCK:
		return compile_testblock(cc, n);
	case A_FUNC:
		if (cc->fn != &cc->funcs[0] || cc->depth != 0) {
			cerror(cc, n, "functions are defined at the top level only");
			return -1;
		}
		return 0;		/* compiled on its own */
	case A_NOP:
		return 0;
	case A_EXPR:
		n = n->a;
		/* fall through */
	default:
		if ((t = compile_expr(cc, n, 0)) < 0)
			return -1;
		if (t != TYPE_VOID && n->kind != A_ASSIGN && n->kind != A_INCDEC)
			emit(cc, OP_POP, 0);
		return 0;
	}
}

/* hook_params - a hook's parameters as mfl_env_add_hook() spells them */
static void
hook_params(const struct func *f, char *out, size_t size)
{
	size_t k = 0;

	for (int i = 0; i < f->nparams && k + 1 < size; i++)
		out[k++] = f->param_types[i] == TYPE_INT ? 'i'
		    : f->param_types[i] == TYPE_STRING ? 's'
		    : f->param_types[i] == TYPE_ARRAY(TYPE_STRING) ? 'S' : '?';
	out[k] = 0;
}

/* check_hook - a $hook_ function of a host that declares its hooks
 * must be one of them and take what the host passes */
static void
check_hook(struct compile *cc, const struct ast *n, const struct func *f)
{
	const struct mfl_env *env = cc->env;
	static const char *const names[] = { ['i'] = "int", ['s'] = "string",
					     ['S'] = "string[]" };
	char have[64];
	struct buf want = BUF_INIT;
	int h;

	if (env == NULL || env->nhooks == 0 || strncmp(f->name, "hook_", 5) != 0
	    || f->param_types == NULL)
		return;
	if ((h = env_hook_find(env, f->name + 5, strlen(f->name + 5))) < 0) {
		for (size_t i = 0; i < env->nhooks; i++)
			buf_printf(&want, "%s$hook_%s", i ? ", " : "", env->hooks[i].name);
		cerror(cc, n, "unknown hook '$%s' (this host calls %s)", f->name,
		       buf_cstr(&want));
		buf_free(&want);
		return;
	}
	hook_params(f, have, sizeof(have));
	if (strcmp(have, env->hooks[h].params) == 0)
		return;
	for (const char *p = env->hooks[h].params; *p; p++)
		buf_printf(&want, "%s%s", p == env->hooks[h].params ? "" : ", ",
			   names[(unsigned char) *p]);
	cerror(cc, n, "'$%s' takes (%s)", f->name, buf_cstr(&want));
	buf_free(&want);
}

/* collect_funcs - every function's signature, before any code */
static void
collect_funcs(struct compile *cc, struct ast *block)
{
	for (size_t i = 0; i < block->nitems; i++) {
		struct ast *n = block->items[i];
		struct func *f;

		if (n->kind == A_BLOCK && n->num) {
			collect_funcs(cc, n);	/* an include or a declaration */
			continue;
		}
		if (n->kind != A_FUNC)
			continue;
		if (func_lookup(cc, n->str, n->len) >= 0) {
			cerror(cc, n, "function '$%.*s' is defined twice", (int) n->len, n->str);
			continue;
		}
		if (grow(cc, (void **) &cc->func_nodes, cc->nfuncs, &cc->func_nodes_cap,
			 sizeof(struct ast *)) < 0
		    || grow(cc, (void **) &cc->funcs, cc->nfuncs, &cc->funcs_cap, sizeof(*f)) < 0)
			return;
		f = &cc->funcs[cc->nfuncs];
		memset(f, 0, sizeof(*f));
		f->name = arena_memdup(cc->prog->arena, n->str, n->len);
		f->ret = n->type;
		f->nparams = (int) n->a->nitems;
		f->param_types = arena_alloc(cc->prog->arena, (n->a->nitems + 1) * sizeof(int));
		for (size_t k = 0; f->param_types && k < n->a->nitems; k++)
			f->param_types[k] = n->a->items[k]->type;
		f->file = n->file;
		f->line = n->line;
		cc->func_nodes[cc->nfuncs++] = n;
		check_hook(cc, n, f);
	}
}

/* compile_func - the body of function F */
static void
compile_func(struct compile *cc, size_t f)
{
	struct ast *n = cc->func_nodes[f];

	cc->fn = &cc->funcs[f];
	cc->fn->entry = (uint32_t) cc->ncode;
	cc->nlocals = 0;
	cc->depth = 1;
	for (size_t i = 0; i < n->a->nitems; i++)
		declare(cc, n->a->items[i], 0);
	compile_stmt(cc, n->b);
	cc->at = n;
	/* falling off the end returns the zero value */
	if (cc->fn->ret == TYPE_VOID) {
		emit(cc, OP_RET, 0);
	} else {
		compile_zero(cc, cc->fn->ret);
		emit(cc, OP_RETV, 0);
	}
	scope_end(cc);
}

/* read_file - the whole of PATH, at most MAX bytes, NUL-terminated; a
 * FIFO or device is refused (EINVAL) without waiting on it */
static char *
read_file(const char *path, size_t max, size_t *len_r, int *err_r)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	char *data;
	size_t len = 0;

	if (fd < 0 || fstat(fd, &st) < 0) {
		*err_r = errno;
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || (size_t) st.st_size > max) {
		*err_r = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		close(fd);
		return NULL;
	}
	if ((data = malloc((size_t) st.st_size + 1)) == NULL) {
		*err_r = ENOMEM;
		close(fd);
		return NULL;
	}
	while (len < (size_t) st.st_size) {
		ssize_t n = read(fd, data + len, (size_t) st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*err_r = n < 0 ? errno : EIO;
			free(data);
			close(fd);
			return NULL;
		}
		len += (size_t) n;
	}
	close(fd);
	data[len] = 0;
	*len_r = len;
	return data;
}

/* read_error - what read_file()'s ERR means for a script */
static const char *
read_error(int err)
{
	return err == EFBIG ? "larger than mfl_limit_script_size"
	    : err == EINVAL ? "not a regular file" : strerror(err);
}

/* mode_comment - 1 for a first line "# mfl: sieve", 0 for "# mfl: mfl",
 * -1 when there is no mode comment */
static int
mode_comment(const char *src, size_t len)
{
	const char *nl;
	size_t line;

	if (src == NULL || len < 6 || memcmp(src, "# mfl:", 6) != 0)
		return -1;
	nl = memchr(src, '\n', len);
	line = nl ? (size_t) (nl - src) : len;
	while (line > 0 && (src[line - 1] == '\r' || src[line - 1] == ' '
			    || src[line - 1] == '\t'))
		line--;
	if (line >= 6) {
		const char *mode = src + 6;
		size_t mlen = line - 6;

		while (mlen > 0 && (*mode == ' ' || *mode == '\t'))
			mode++, mlen--;
		if (mlen == 5 && memcmp(mode, "sieve", 5) == 0)
			return 1;
		if (mlen == 3 && memcmp(mode, "mfl", 3) == 0)
			return 0;
	}
	return -1;
}

/* include_mode - the mode of included file PATH: its mode comment, else
 * MFL for a name in .mfl (the rc script's include/ under mvmda -S), else
 * Sieve by name or by $mfl_mode_sieve */
static int
include_mode(const struct mfl_env *env, const char *path, const char *src, size_t len)
{
	size_t plen = strlen(path);
	int comment = mode_comment(src, len);

	if (comment >= 0)
		return comment;
	if (plen > 4 && strcmp(path + plen - 4, ".mfl") == 0)
		return 0;
	return mfl_env_get_int(env, "mfl_mode_sieve") || mfl_file_is_sieve(path, src, len);
}

/* mfl_file_is_sieve - Sieve mode by name (.sieve, .siv) or mode comment */
int
mfl_file_is_sieve(const char *path, const char *src, size_t len)
{
	size_t plen = path ? strlen(path) : 0;
	int comment = mode_comment(src, len);

	if (comment >= 0)
		return comment;
	return (plen > 6 && strcmp(path + plen - 6, ".sieve") == 0)
	    || (plen > 4 && strcmp(path + plen - 4, ".siv") == 0);
}

/* add_file - remember a file name for the program's line table */
static const char *
add_file(struct compile *cc, const char *name, size_t len)
{
	char *copy = arena_memdup(cc->prog->arena, name, len);
	const char **v;

	if (copy == NULL || cc->nfiles >= 65535)
		return NULL;
	if ((v = arena_alloc(cc->arena, (cc->nfiles + 1) * sizeof(*v))) == NULL)
		return NULL;
	if (cc->nfiles)
		memcpy(v, cc->files, cc->nfiles * sizeof(*v));
	v[cc->nfiles++] = copy;
	cc->files = v;
	return copy;
}

static struct ast *parse_source(struct compile *cc, const char *file,
				const char *src, size_t len, int sieve);

/* include_file - the include hook: PATH parsed in its own mode, in place */
static struct ast *
include_file(void *ctx, struct parser *from, const char *path, size_t len,
	     int line, int col)
{
	struct compile *cc = ctx;
	struct buf full = BUF_INIT;
	const char *slash = strrchr(from->file, '/');
	struct ast *block = NULL;
	char *src;
	size_t slen;
	int err, sieve, errors;

	if (memchr(path, 0, len) != NULL || len == 0) {
		diag_error(&cc->diag, from->file, line, col, "bad include file name");
		return NULL;
	}
	if (*path != '/' && slash != NULL)
		buf_append(&full, from->file, (size_t) (slash - from->file + 1));
	buf_append(&full, path, len);
	buf_cstr(&full);
	for (int i = 0; i < cc->include_depth; i++)
		if (strcmp(cc->include_stack[i], full.data) == 0) {
			/* RFC 6609 3.2: with :once, a script that comes back
			 * to itself is no error: it has run already when this
			 * include is reached, so the include does nothing */
			if (from->include_once) {
				block = ast_new(cc->arena, A_BLOCK, from->file, line, col);
				if (block == NULL)
					diag_error(&cc->diag, from->file, line, col, "out of memory");
				else
					block->num = 1;
				goto out;
			}
			diag_error(&cc->diag, from->file, line, col,
				   "include cycle: %s includes itself", full.data);
			goto out;
		}
	if (cc->include_depth > cc->limits.include_depth
	    || cc->include_depth >= (int) (sizeof(cc->include_stack) / sizeof(cc->include_stack[0]))) {
		diag_error(&cc->diag, from->file, line, col,
			   "includes nested deeper than %d", cc->limits.include_depth);
		goto out;
	}
	if ((src = read_file(full.data, cc->limits.script_size, &slen, &err)) == NULL
	    && err == ENOENT && *path != '/' && cc->env->include_dir != NULL) {
		/* a script copied out of the package still finds the
		 * package's include/ */
		struct buf next = BUF_INIT;
		int err2;

		buf_printf(&next, "%s/%.*s", cc->env->include_dir, (int) len, path);
		buf_cstr(&next);
		if (!next.failed
		    && (src = read_file(next.data, cc->limits.script_size, &slen, &err2)) != NULL) {
			buf_free(&full);
			full = next;
		} else {
			buf_free(&next);
		}
	}
	if (src == NULL) {
		diag_error(&cc->diag, from->file, line, col, "cannot include %s: %s",
			   full.data, read_error(err));
		goto out;
	}
	sieve = include_mode(cc->env, full.data, src, slen);
	errors = cc->diag.errors;
	block = parse_source(cc, full.data, src, slen, sieve);
	free(src);			/* parse_source keeps its own copy */
	if (block != NULL)
		block->num = 1;		/* its top level is the includer's */
	/* each include on the way to an error says so, as a C compiler's
	 * "included from" (and as Pigeonhole counts them) */
	if (cc->diag.errors > errors)
		diag_error(&cc->diag, from->file, line, col, "failed to include %s", full.data);
out:
	buf_free(&full);
	return block;
}

/* parse_source - SRC of FILE as an A_BLOCK, includes parsed in place */
static struct ast *
parse_source(struct compile *cc, const char *file, const char *src,
	     size_t len, int sieve)
{
	const char *name = add_file(cc, file, strlen(file));
	struct parser *p;
	struct ast *block;
	char *copy;

	/* keep the text in the compiler's arena: tokens point into it */
	if (name == NULL || (copy = arena_memdup(cc->arena, src, len)) == NULL
	    || (p = arena_zalloc(cc->arena, sizeof(*p))) == NULL) {
		diag_error(&cc->diag, file, 0, 0, "out of memory");
		return NULL;
	}
	if (len > cc->limits.script_size) {
		diag_error(&cc->diag, name, 1, 1, "script larger than mfl_limit_script_size (%zu bytes)",
			   cc->limits.script_size);
		return NULL;
	}
	cc->include_stack[cc->include_depth++] = name;
	parse_init(p, name, copy, len, sieve, cc->arena, &cc->diag);
	p->include = include_file;
	p->include_ctx = cc;
	p->env = cc->env;
	block = sieve ? parse_sieve_script(p) : parse_mfl_script(p);
	cc->include_depth--;
	return block;
}

/* build - move the compiled tables into the program's arena */
static int
build(struct compile *cc)
{
	struct mfl_prog *prog = cc->prog;
	struct arena *a = prog->arena;

#define MOVE(dst, src, n) do {						\
	if ((n) > 0) {							\
		if (((dst) = arena_alloc(a, (n) * sizeof(*(src)))) == NULL) \
			return -1;					\
		memcpy((dst), (src), (n) * sizeof(*(src)));		\
	}								\
} while (0)
	compile_share(cc);
	MOVE(prog->code, cc->code, cc->ncode);
	if (cc->ncode > 0 && linemap_make(prog, a, cc->lines, cc->file_of, cc->ncode) < 0)
		return -1;
	MOVE(prog->consts, cc->consts, cc->nconsts);
	MOVE(prog->sites, cc->sites, cc->nsites);
	MOVE(prog->funcs, cc->funcs, cc->nfuncs);
	MOVE(prog->global_types, cc->global_types, cc->nglobals);
	MOVE(prog->files, cc->files, cc->nfiles);
#undef MOVE
	prog->ncode = cc->ncode;
	prog->ncontrols = cc->env->ncontrols;
	prog->nconsts = cc->nconsts;
	prog->nsites = cc->nsites;
	prog->nfuncs = cc->nfuncs;
	prog->nglobals = cc->nglobals;
	prog->nfiles = cc->nfiles;
	return 0;
}

/* compile_all - parse, collect, generate; 0 when there was no error */
static int
compile_all(struct compile *cc, const char *name, const char *src,
	    size_t len, int sieve)
{
	struct ast *root;
	struct func *main_fn;

	cc->prog->sieve = sieve;
	root = parse_source(cc, name, src, len, sieve);
	/* after errors in some statements, the others are still checked,
	 * so that one run reports every error (as Pigeonhole's validator) */
	if (root == NULL)
		return -1;
	if (grow(cc, (void **) &cc->funcs, 0, &cc->funcs_cap, sizeof(struct func)) < 0
	    || grow(cc, (void **) &cc->func_nodes, 0, &cc->func_nodes_cap, sizeof(struct ast *)) < 0)
		return -1;
	main_fn = &cc->funcs[0];
	memset(main_fn, 0, sizeof(*main_fn));
	main_fn->name = "main";
	main_fn->file = cc->files[0];
	main_fn->line = 1;
	cc->func_nodes[0] = root;
	cc->nfuncs = 1;
	collect_funcs(cc, root);
	cc->fn = &cc->funcs[0];
	cc->depth = 0;
	for (size_t i = 0; i < root->nitems; i++)
		compile_stmt(cc, root->items[i]);
	cc->at = NULL;
	emit(cc, OP_RET, 0);
	for (size_t f = 1; f < cc->nfuncs; f++)
		compile_func(cc, f);
	return cc->diag.errors ? -1 : 0;
}

/* mfl_compile_mem - compile SRC, named NAME; NULL with errors in ERRORS */
struct mfl_prog *
mfl_compile_mem(const struct mfl_env *env, const char *name, const char *src,
		size_t len, int sieve, struct buf *errors)
{
	struct compile cc;
	struct mfl_prog *prog = NULL;
	struct arena *pa;

	memset(&cc, 0, sizeof(cc));
	cc.env = env;
	mfl_env_limits(env, &cc.limits);
	diag_init(&cc.diag);
	if (sieve < 0)
		sieve = mfl_env_get_int(env, "mfl_mode_sieve") || mfl_file_is_sieve(name, src, len);
	if ((cc.arena = arena_create(0)) == NULL || (pa = arena_create(0)) == NULL
	    || (cc.prog = arena_zalloc(pa, sizeof(*cc.prog))) == NULL) {
		buf_printf(errors, "%s: error: out of memory\n", name);
		goto out;
	}
	cc.prog->arena = pa;
	cc.prog->env = env;
	if (compile_all(&cc, name, src, len, sieve) == 0 && build(&cc) == 0
	    && prog_verify(cc.prog, errors) == 0) {
		prog = cc.prog;
		cc.prog = NULL;
	}
	if (cc.diag.errors)
		buf_append(errors, cc.diag.text.data, cc.diag.text.len);
out:
	if (cc.prog != NULL)
		mfl_prog_free(cc.prog);
	free(cc.code);
	free(cc.lines);
	free(cc.file_of);
	arena_free(cc.arena);
	diag_free(&cc.diag);
	return prog;
}

/* mfl_compile_file - compile the script at PATH */
struct mfl_prog *
mfl_compile_file(const struct mfl_env *env, const char *path, int sieve,
		 struct buf *errors)
{
	struct mfl_limits limits;
	struct mfl_prog *prog;
	size_t len;
	int err;
	char *src;

	mfl_env_limits(env, &limits);
	if ((src = read_file(path, limits.script_size, &len, &err)) == NULL) {
		buf_printf(errors, "%s: error: %s\n", path, read_error(err));
		return NULL;
	}
	prog = mfl_compile_mem(env, path, src, len, sieve, errors);
	free(src);
	return prog;
}

/* prog_on_free - call FN(PTR) when PROG is freed (compiled patterns) */
int
prog_on_free(struct mfl_prog *prog, void (*fn)(void *), void *ptr)
{
	struct prog_cleanup *c = arena_alloc(prog->arena, sizeof(*c));

	if (c == NULL)
		return -1;
	c->fn = fn;
	c->ptr = ptr;
	c->next = prog->cleanups;
	prog->cleanups = c;
	return 0;
}

/* mfl_prog_free - a program and everything in it */
void
mfl_prog_free(struct mfl_prog *prog)
{
	if (prog == NULL)
		return;
	for (struct prog_cleanup *c = prog->cleanups; c != NULL; c = c->next)
		c->fn(c->ptr);
	arena_free(prog->arena);
}

/* mfl_prog_has_hook - the script defines $hook_NAME */
int
mfl_prog_has_hook(const struct mfl_prog *prog, const char *name)
{
	for (size_t i = 1; i < prog->nfuncs; i++)
		if (strncmp(prog->funcs[i].name, "hook_", 5) == 0
		    && strcmp(prog->funcs[i].name + 5, name) == 0)
			return 1;
	return 0;
}

/* mfl_prog_sites - how many sites of PROG call intrinsic NAME (0: it
 * is never called; calls alike share a site); FN, if given, sees each
 * site's constant first argument (intrinsics flagged INTR_F_CONST_ARG;
 * each string of a constant list), or NULL when it is computed */
size_t
mfl_prog_sites(const struct mfl_prog *prog, const char *name,
	       void (*fn)(void *ctx, const char *arg, size_t len), void *ctx)
{
	size_t n = 0;

	for (size_t i = 0; i < prog->nsites; i++) {
		const struct site *site = &prog->sites[i];

		if (strcmp(site->intr->name, name) != 0)
			continue;
		n++;
		if (fn == NULL)
			continue;
		if (!(site->intr->flags & INTR_F_CONST_ARG) || !site->pattern_list) {
			fn(ctx, (site->intr->flags & INTR_F_CONST_ARG) ? site->pattern : NULL,
			   site->pattern_len);
			continue;
		}
		for (const char *p = site->pattern; p < site->pattern + site->pattern_len;
		     p += strlen(p) + 1)
			fn(ctx, p, strlen(p));
	}
	return n;
}

/* mfl_prog_sites_tagged - how many sites of PROG call intrinsic NAME
 * with the tag :TAG (0: no call gives it) */
size_t
mfl_prog_sites_tagged(const struct mfl_prog *prog, const char *name, const char *tag)
{
	size_t n = 0;

	for (size_t i = 0; i < prog->nsites; i++) {
		const struct site *site = &prog->sites[i];

		if (strcmp(site->intr->name, name) != 0 || site->intr->tags == NULL)
			continue;
		for (const struct intr_tag *t = site->intr->tags; t->name != NULL; t++)
			if (strcmp(t->name, tag) == 0 && t->group != TG_MATCH
			    && t->group != TG_ADDRPART && t->group != TG_COMPARATOR
			    && (site->tags & (1u << t->id)))
				n++;
	}
	return n;
}

/* mfl_prog_files - the files PROG was compiled from (the script and
 * what it includes), into *FILES_R; how many */
size_t
mfl_prog_files(const struct mfl_prog *prog, const char *const **files_r)
{
	*files_r = prog->files;
	return prog->nfiles;
}

/* mfl_prog_is_sieve - PROG's main file was read in Sieve mode */
int
mfl_prog_is_sieve(const struct mfl_prog *prog)
{
	return prog->sieve;
}
