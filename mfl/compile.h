/* compile.h - the compiler's state, shared by its modules */
#ifndef MFL_COMPILE_H
#define MFL_COMPILE_H

#include <stddef.h>
#include <stdint.h>

#include "ast.h"
#include "diag.h"
#include "mflapi.h"
#include "opcodes.h"
#include "prog.h"

#define SCOPE_LOCAL	0
#define SCOPE_GLOBAL	1
#define SCOPE_CONTROL	2

struct sym {
	const char *name;
	size_t len;
	int type;
	int scope;
	int slot;
	int depth;		/* block depth it was declared at */
};

struct loop {
	struct loop *outer;
	size_t *breaks;		/* code indexes of JMPs to patch */
	size_t nbreaks;
	size_t *continues;
	size_t ncontinues;
};

struct compile {
	const struct mfl_env *env;
	struct mfl_limits limits;
	struct arena *arena;	/* AST and symbols: freed after codegen */
	struct diag diag;
	struct mfl_prog *prog;
	/* code, growing; copied into the program at the end */
	uint32_t *code, *lines;
	uint16_t *file_of;
	size_t ncode, code_cap;
	struct value *consts;
	size_t nconsts, consts_cap;
	struct site *sites;
	size_t nsites, sites_cap;
	struct func *funcs;
	size_t nfuncs, funcs_cap;
	struct ast **func_nodes;
	size_t func_nodes_cap;
	int *global_types;
	const char **global_names;
	size_t nglobals, globals_cap;
	const char **files;
	size_t nfiles;
	/* scopes */
	struct sym *syms;
	size_t nsyms, syms_cap;
	int depth;
	struct func *fn;	/* being compiled; funcs[0] is the top level */
	int nlocals;
	struct loop *loop;
	const struct ast *at;	/* node whose line new code gets */
	struct sym *svars;	/* Sieve variables (RFC 5229) */
	size_t nsvars, svars_cap;
	/* the Sieve include being compiled (RFC 6609): its variables are
	 * its own (prefix) but for those it declares global */
	const char *var_prefix;
	const char **scope_globals;
	size_t nscope_globals;
	struct jumps_list *include_returns;
	struct fep *fep;	/* the innermost foreverypart being compiled */
	const char *include_stack[128];
	int include_depth;
};

size_t emit(struct compile *cc, enum opcode op, int32_t arg);
void patch(struct compile *cc, size_t at, size_t target);
int const_int(struct compile *cc, int64_t v);
int const_str(struct compile *cc, const char *s, size_t len);
int const_value(struct compile *cc, struct value v);
void cerror(struct compile *cc, const struct ast *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int compile_expr(struct compile *cc, struct ast *n, int want);
int compile_stmt(struct compile *cc, struct ast *n);
int compile_site(struct compile *cc, struct ast *n);
void compile_share(struct compile *cc);
int site_valid(const struct site *site, size_t nglobals);
/* What site_valid() checks a site against, the same for every site of
 * one intrinsic: worked out once when a cache's sites are read. */
struct intr_facts {
	size_t required, max_pos;	/* positional arguments */
	uint32_t known, valued;		/* tag ids: its own; taking a value */
};
void intr_facts_of(const struct intrinsic *intr, struct intr_facts *f);
int site_valid_as(const struct site *site, size_t nglobals, const struct intr_facts *f);
int compile_zero(struct compile *cc, int type);
int compile_grow(struct compile *cc, void **v, size_t n, size_t *cap, size_t size);

/* Sieve variables (intr_variables.c) */
enum { VREF_NONE, VREF_NUM, VREF_NAME, VREF_NS };
int var_ref_kind(const char *name, size_t len);
int var_ref_next(const char *s, size_t len, size_t *pos, size_t *start,
		 const char **name, size_t *name_len);
int sieve_var_slot(struct compile *cc, const struct ast *at, const char *name,
		   size_t len);
int compile_interp(struct compile *cc, struct ast *n);
int sieve_var_name_slot(struct compile *cc, const struct ast *name, const char *what);
int sieve_var_global(struct compile *cc, const struct ast *at, const char *name,
		     size_t len);
int compile_include(struct compile *cc, struct ast *n);
int compile_sieve_return(struct compile *cc, struct ast *n);
int compile_foreverypart(struct compile *cc, struct ast *n);
int compile_sieve_break(struct compile *cc, struct ast *n);
int type_assignable(int to, int from);
struct sym *sym_lookup(struct compile *cc, const char *name, size_t len);
int func_lookup(struct compile *cc, const char *name, size_t len);

#endif
