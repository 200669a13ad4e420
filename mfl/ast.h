/* ast.h - the syntax tree both parsers build and the compiler reads */
#ifndef MFL_AST_H
#define MFL_AST_H

#include <stddef.h>
#include <stdint.h>

#include "value.h"

struct intrinsic;
struct intr_tag;
struct arena;


enum ast_kind {
	A_INT, A_STR, A_LIST, A_VAR, A_INDEX, A_UNARY, A_BINARY, A_AND, A_OR,
	A_NOT, A_COND, A_ASSIGN, A_INCDEC, A_CALL, A_SIEVE,
	A_BLOCK, A_IF, A_WHILE, A_FOR, A_BREAK, A_CONTINUE, A_RETURN, A_STOP,
	A_EXPR, A_DECL, A_FUNC, A_NOP,
	A_INTERP,		/* a Sieve string holding "${...}" (RFC 5229) */
	A_INCLUDE,		/* a Sieve include (RFC 6609): a = the script's
				 * block, str = its path, num = :once */
	A_FOREVERYPART,		/* RFC 5703: a = block, str = :name or NULL */
	A_TESTBLOCK		/* vnd.dovecot.testsuite's test: a = block,
				 * b = its name (A_STR) */
};

struct sieve_tag {
	const char *name;
	size_t len;
	int line, col;
	const struct intr_tag *def;	/* set by the parser */
	struct ast *arg;		/* its argument, or NULL */
};

struct ast {
	enum ast_kind kind;
	const char *file;
	int line, col;
	int op;			/* token kind of an operator; ++/-- prefix flag;
				 * A_INTERP: ${env.NAME} allowed */
	int64_t num;		/* A_INT; A_INCDEC: +1 or -1 */
	const char *str;	/* A_STR value, A_VAR/A_CALL/A_FUNC/A_DECL name */
	size_t len;
	struct ast *a, *b, *c, *d;	/* children, by kind */
	struct ast **items;	/* A_BLOCK statements, A_LIST items, args */
	size_t nitems;
	struct sieve_tag *tags;	/* A_SIEVE */
	size_t ntags;
	const struct intrinsic *intr;	/* A_SIEVE, A_CALL of an intrinsic */
	int type;		/* A_DECL/A_FUNC declared type; else computed */
	int postfix;		/* A_INCDEC: x++ rather than ++x */
	int sieve_mode;		/* made by the Sieve parser */
	int slot;		/* resolved by the compiler */
	int scope;		/* resolved: 0 local, 1 global, 2 control */
};

struct ast *ast_new(struct arena *arena, enum ast_kind kind, const char *file,
		    int line, int col);
int ast_push(struct arena *arena, struct ast *node, struct ast *item);
const char *type_name(int type, char *buf, size_t size);

#endif
