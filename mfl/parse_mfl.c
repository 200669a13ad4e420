/*
 * parse_mfl - MFL mode: C's statements, declarations and expressions,
 * with every Sieve command usable as a statement and every Sieve test as
 * an expression, onto the common AST.
 *
 *   script    = *(function / declaration / typedef / statement)
 *   function  = type var "(" [param *("," param)] ")" block
 *   declaration = type var ["=" expr] *("," var ["=" expr]) ";"
 *   typedef   = "typedef" type identifier ";"
 *   type      = ("int" / "string" / "void" / typedef-name) *("[" "]")
 *   statement = block / if / while / for / "break" ";" / "continue" ";"
 *             / "return" [expr] ";" / "stop" ";" / include / require
 *             / sieve-command / expr ";" / ";"
 *
 * Expressions follow C's precedence. A Sieve test's arguments are unary
 * expressions (literals, variables, calls, indexing, parenthesised
 * expressions), so "header :is "x" $v || $n > 3" reads as C would.
 *
 * DIAGNOSTICS: errors with file:line:col; parsing resumes after the next
 * ';' or at the next '}'.
 */
#include "config.h"

#include <string.h>

#include "intr/intr.h"
#include "msg/arena.h"
#include "parse.h"

static struct ast *mfl_expr(struct parser *p);
static struct ast *mfl_cond(struct parser *p);
static struct ast *mfl_unary(struct parser *p);
static struct ast *mfl_statement(struct parser *p, int top);
static struct ast *mfl_block(struct parser *p);

/* base_type - the type a bare word names, or -1 */
static int
base_type(const struct parser *p, const struct token *tok)
{
	if (parse_is_ident(tok, "int"))
		return TYPE_INT;
	if (parse_is_ident(tok, "string"))
		return TYPE_STRING;
	if (parse_is_ident(tok, "void"))
		return TYPE_VOID;
	for (size_t i = 0; tok->kind == T_IDENT && i < p->ntypedefs; i++)
		if (p->typedefs[i].len == tok->len
		    && memcmp(p->typedefs[i].name, tok->text, tok->len) == 0)
			return p->typedefs[i].type;
	return -1;
}

/* type: base *("[" "]") */
static int
mfl_type(struct parser *p)
{
	int type = base_type(p, &p->tok);

	if (type < 0)
		return -1;
	parse_advance(p);
	while (p->tok.kind == T_LBRACKET && parse_peek(p)->kind == T_RBRACKET) {
		parse_advance(p);
		parse_advance(p);
		type = TYPE_ARRAY(type);
	}
	return type;
}

/* call_args: "(" [expr *("," expr)] ")" into NODE's items */
static int
mfl_call_args(struct parser *p, struct ast *node)
{
	int mode = p->arg_mode, ok = -1;

	if (!parse_expect(p, T_LPAREN, "'('"))
		return -1;
	if (parse_accept(p, T_RPAREN))
		return 0;
	p->arg_mode = 0;
	do {
		struct ast *arg = mfl_expr(p);

		if (arg == NULL || ast_push(p->arena, node, arg) < 0)
			goto out;
	} while (parse_accept(p, T_COMMA));
	ok = parse_expect(p, T_RPAREN, "',' or ')'") ? 0 : -1;
out:
	p->arg_mode = mode;
	return ok;
}

/* sieve_test: allof / anyof / not / true / false / intrinsic test */
static struct ast *
mfl_sieve_test(struct parser *p)
{
	struct token at = p->tok;
	const struct intrinsic *intr;
	struct ast *node;

	if (parse_is_ident(&at, "allof") || parse_is_ident(&at, "anyof")) {
		if ((node = parse_node(p, parse_is_ident(&at, "allof") ? A_AND : A_OR, &at)) == NULL)
			return NULL;
		parse_advance(p);
		return mfl_call_args(p, node) < 0 ? NULL : node;
	}
	if (parse_is_ident(&at, "not")) {
		if ((node = parse_node(p, A_NOT, &at)) == NULL || parse_enter(p) < 0)
			return NULL;
		parse_advance(p);
		node->a = mfl_unary(p);
		parse_leave(p);
		return node->a == NULL ? NULL : node;
	}
	if (parse_is_ident(&at, "true") || parse_is_ident(&at, "false")) {
		if ((node = parse_node(p, A_INT, &at)) == NULL)
			return NULL;
		node->num = parse_is_ident(&at, "true");
		parse_advance(p);
		return node;
	}
	if ((intr = intr_find(p->env, at.text, at.len, INTR_TEST)) == NULL) {
		parse_error(p, &at, "unknown test or word '%.*s'",
			    (int) (at.len > 40 ? 40 : at.len), at.text);
		return NULL;
	}
	if ((node = parse_node(p, A_SIEVE, &at)) == NULL)
		return NULL;
	node->intr = intr;
	node->str = intr->name;
	parse_advance(p);
	if (parse_sieve_args(p, node, mfl_unary, intr_max_positional(intr)) < 0)
		return NULL;
	return node;
}

/* primary: number / string / var / call / "(" expr ")" / list / test */
static struct ast *
mfl_primary(struct parser *p)
{
	struct token at = p->tok;
	struct ast *node;
	int mode;

	switch (at.kind) {
	case T_NUMBER:
		if ((node = parse_node(p, A_INT, &at)) != NULL)
			node->num = at.number;
		parse_advance(p);
		return node;
	case T_STRING:
		node = parse_string(p, &at);
		parse_advance(p);
		return node;
	case T_VAR:
		parse_advance(p);
		if ((node = parse_node(p, p->tok.kind == T_LPAREN ? A_CALL : A_VAR, &at)) == NULL)
			return NULL;
		node->str = at.text;
		node->len = at.len;
		if (node->kind == A_CALL && mfl_call_args(p, node) < 0)
			return NULL;
		return node;
	case T_LPAREN: {
		mode = p->arg_mode;
		parse_advance(p);
		p->arg_mode = 0;	/* inside parentheses: plain C */
		node = mfl_expr(p);
		p->arg_mode = mode;
		if (node == NULL || !parse_expect(p, T_RPAREN, "')'"))
			return NULL;
		return node;
	}
	case T_LBRACKET:
		if ((node = parse_node(p, A_LIST, &at)) == NULL)
			return NULL;
		parse_advance(p);
		if (parse_accept(p, T_RBRACKET))
			return node;
		mode = p->arg_mode;
		p->arg_mode = 0;
		do {
			struct ast *item = mfl_expr(p);

			if (item == NULL || ast_push(p->arena, node, item) < 0) {
				p->arg_mode = mode;
				return NULL;
			}
		} while (parse_accept(p, T_COMMA));
		p->arg_mode = mode;
		return parse_expect(p, T_RBRACKET, "',' or ']'") ? node : NULL;
	case T_IDENT:
		return mfl_sieve_test(p);
	default:
		parse_expected(p, "an expression");	/* the end of the file too */
		return NULL;
	}
}

/* postfix: primary *("[" expr "]" / "++" / "--") */
static struct ast *
mfl_postfix(struct parser *p)
{
	struct ast *node = mfl_primary(p);

	while (node != NULL) {
		struct token at = p->tok;
		struct ast *op;

		/* among a Sieve test's arguments, "$a [..." is two of them */
		if (at.kind == T_LBRACKET && !(p->arg_mode && at.space_before)) {
			parse_advance(p);
			if ((op = parse_node(p, A_INDEX, &at)) == NULL)
				return NULL;
			op->a = node;
			if ((op->b = mfl_expr(p)) == NULL || !parse_expect(p, T_RBRACKET, "']'"))
				return NULL;
		} else if (at.kind == T_INC || at.kind == T_DEC) {
			parse_advance(p);
			if ((op = parse_node(p, A_INCDEC, &at)) == NULL)
				return NULL;
			op->a = node;
			op->num = at.kind == T_INC ? 1 : -1;
			op->postfix = 1;
		} else {
			break;
		}
		node = op;
	}
	return node;
}

/* unary: ("!" / "-" / "~" / "++" / "--") unary / postfix */
static struct ast *
mfl_unary(struct parser *p)
{
	struct token at = p->tok;
	struct ast *node;

	switch (at.kind) {
	case T_NOT:
	case T_MINUS:
	case T_TILDE:
		parse_advance(p);
		if ((node = parse_node(p, at.kind == T_NOT ? A_NOT : A_UNARY, &at)) == NULL
		    || parse_enter(p) < 0)
			return NULL;
		node->op = at.kind;
		node->a = mfl_unary(p);
		parse_leave(p);
		return node->a == NULL ? NULL : node;
	case T_INC:
	case T_DEC:
		parse_advance(p);
		if ((node = parse_node(p, A_INCDEC, &at)) == NULL)
			return NULL;
		node->num = at.kind == T_INC ? 1 : -1;
		return (node->a = mfl_unary(p)) == NULL ? NULL : node;
	default:
		return mfl_postfix(p);
	}
}

/* Binary operators by precedence level, lowest first. */
static const enum tok_kind levels[][5] = {
	{ T_OR }, { T_AND }, { T_PIPE }, { T_CARET }, { T_AMP },
	{ T_EQ, T_NE }, { T_LT, T_LE, T_GT, T_GE }, { T_SHL, T_SHR },
	{ T_PLUS, T_MINUS }, { T_STAR, T_SLASH, T_PERCENT },
};
#define NLEVELS	((int) (sizeof(levels) / sizeof(levels[0])))

/* in_level - token kind K is an operator of LEVEL */
static int
in_level(int level, enum tok_kind k)
{
	for (int i = 0; i < 5 && levels[level][i] != T_EOF; i++)
		if (levels[level][i] == k)
			return 1;
	return 0;
}

/* binary: operand *(op operand), left-associative, by level */
static struct ast *
mfl_binary(struct parser *p, int level)
{
	struct ast *left;

	if (level == NLEVELS)
		return mfl_unary(p);
	if ((left = mfl_binary(p, level + 1)) == NULL)
		return NULL;
	for (int chain = 0; in_level(level, p->tok.kind); chain++) {
		struct token at = p->tok;
		struct ast *node;

		if (chain == PARSE_CHAIN_MAX) {
			parse_error(p, &at, "more than %d operators in a row", PARSE_CHAIN_MAX);
			return NULL;
		}
		parse_advance(p);
		node = parse_node(p, at.kind == T_AND ? A_AND : at.kind == T_OR ? A_OR
				  : A_BINARY, &at);
		if (node == NULL)
			return NULL;
		node->op = at.kind;
		if (node->kind == A_BINARY) {
			node->a = left;
			if ((node->b = mfl_binary(p, level + 1)) == NULL)
				return NULL;
		} else {
			struct ast *right = mfl_binary(p, level + 1);

			if (right == NULL || ast_push(p->arena, node, left) < 0
			    || ast_push(p->arena, node, right) < 0)
				return NULL;
		}
		left = node;
	}
	return left;
}

/* cond: binary ["?" expr ":" cond] */
static struct ast *
mfl_cond(struct parser *p)
{
	struct ast *node = mfl_binary(p, 0), *c;
	struct token at = p->tok;

	if (node == NULL || !parse_accept(p, T_QUESTION))
		return node;
	if ((c = parse_node(p, A_COND, &at)) == NULL)
		return NULL;
	c->a = node;
	if ((c->b = mfl_expr(p)) == NULL || !parse_expect(p, T_COLON, "':'")
	    || (c->c = mfl_cond(p)) == NULL)
		return NULL;
	return c;
}

static struct ast *mfl_expr_inner(struct parser *p);

/* expr: depth-checked, see mfl_expr_inner */
static struct ast *
mfl_expr(struct parser *p)
{
	struct ast *n;

	if (parse_enter(p) < 0)
		return NULL;
	n = mfl_expr_inner(p);
	parse_leave(p);
	return n;
}

/* expr: cond [assign-op expr] (right-associative) */
static struct ast *
mfl_expr_inner(struct parser *p)
{
	struct ast *left = mfl_cond(p), *node;
	struct token at = p->tok;

	if (left == NULL)
		return NULL;
	switch (at.kind) {
	case T_ASSIGN: case T_ADD_ASSIGN: case T_SUB_ASSIGN:
	case T_MUL_ASSIGN: case T_DIV_ASSIGN: case T_MOD_ASSIGN:
		parse_advance(p);
		if ((node = parse_node(p, A_ASSIGN, &at)) == NULL)
			return NULL;
		node->op = at.kind;
		node->a = left;
		return (node->b = mfl_expr(p)) == NULL ? NULL : node;
	default:
		return left;
	}
}

/* declaration: after the type, var ["=" expr] *("," ...) ";" */
static struct ast *
mfl_declaration(struct parser *p, int type, const struct token *at)
{
	struct ast *block = parse_node(p, A_BLOCK, at);

	if (block == NULL)
		return NULL;
	block->num = 1;		/* no scope of its own */
	do {
		struct ast *decl;

		if (p->tok.kind != T_VAR) {
			parse_expect(p, T_VAR, "a variable name");
			return NULL;
		}
		if ((decl = parse_node(p, A_DECL, &p->tok)) == NULL)
			return NULL;
		decl->str = p->tok.text;
		decl->len = p->tok.len;
		decl->type = type;
		parse_advance(p);
		if (parse_accept(p, T_ASSIGN) && (decl->a = mfl_expr(p)) == NULL)
			return NULL;
		if (ast_push(p->arena, block, decl) < 0)
			return NULL;
	} while (parse_accept(p, T_COMMA));
	return parse_expect(p, T_SEMI, "';'") ? block : NULL;
}

/* function: after "type var": "(" params ")" block */
static struct ast *
mfl_function(struct parser *p, int type, const struct token *name)
{
	struct ast *fn = parse_node(p, A_FUNC, name), *params;

	if (fn == NULL || (params = parse_node(p, A_BLOCK, name)) == NULL)
		return NULL;
	fn->str = name->text;
	fn->len = name->len;
	fn->type = type;
	fn->a = params;
	parse_advance(p);		/* "(" */
	if (!parse_accept(p, T_RPAREN)) {
		do {
			struct token at = p->tok;
			int ptype = mfl_type(p);
			struct ast *decl;

			if (ptype < 0 || ptype == TYPE_VOID) {
				parse_error(p, &at, "expected a parameter type");
				return NULL;
			}
			if (p->tok.kind != T_VAR) {
				parse_expect(p, T_VAR, "a parameter name");
				return NULL;
			}
			if ((decl = parse_node(p, A_DECL, &p->tok)) == NULL)
				return NULL;
			decl->str = p->tok.text;
			decl->len = p->tok.len;
			decl->type = ptype;
			parse_advance(p);
			if (ast_push(p->arena, params, decl) < 0)
				return NULL;
		} while (parse_accept(p, T_COMMA));
		if (!parse_expect(p, T_RPAREN, "',' or ')'"))
			return NULL;
	}
	fn->b = mfl_block(p);
	return fn->b ? fn : NULL;
}

/* if_stmt: "if" "(" expr ")" statement ["else" statement] */
static struct ast *
mfl_if(struct parser *p)
{
	struct ast *node = parse_node(p, A_IF, &p->tok);

	if (node == NULL)
		return NULL;
	parse_advance(p);
	if (!parse_expect(p, T_LPAREN, "'(' after if") || (node->a = mfl_expr(p)) == NULL
	    || !parse_expect(p, T_RPAREN, "')'") || (node->b = mfl_statement(p, 0)) == NULL)
		return NULL;
	if (parse_is_ident(&p->tok, "else")) {
		parse_advance(p);
		if ((node->c = mfl_statement(p, 0)) == NULL)
			return NULL;
	}
	return node;
}

/* while_stmt: "while" "(" expr ")" statement */
static struct ast *
mfl_while(struct parser *p)
{
	struct ast *node = parse_node(p, A_WHILE, &p->tok);

	if (node == NULL)
		return NULL;
	parse_advance(p);
	if (!parse_expect(p, T_LPAREN, "'(' after while") || (node->a = mfl_expr(p)) == NULL
	    || !parse_expect(p, T_RPAREN, "')'") || (node->b = mfl_statement(p, 0)) == NULL)
		return NULL;
	return node;
}

/* foreverypart_stmt: "foreverypart" statement - RFC 5703's loop in MFL
 * mode; break and continue work in it as in while */
static struct ast *
mfl_foreverypart(struct parser *p)
{
	struct ast *node = parse_node(p, A_FOREVERYPART, &p->tok);

	if (node == NULL)
		return NULL;
	parse_advance(p);
	if ((node->a = mfl_statement(p, 0)) == NULL)
		return NULL;
	return node;
}

/* for_stmt: "for" "(" [decl / expr] ";" [expr] ";" [expr] ")" statement */
static struct ast *
mfl_for(struct parser *p)
{
	struct ast *node = parse_node(p, A_FOR, &p->tok);
	int type;

	if (node == NULL)
		return NULL;
	parse_advance(p);
	if (!parse_expect(p, T_LPAREN, "'(' after for"))
		return NULL;
	if (p->tok.kind == T_IDENT && base_type(p, &p->tok) >= 0) {
		struct token at = p->tok;

		type = mfl_type(p);
		if ((node->a = mfl_declaration(p, type, &at)) == NULL)
			return NULL;
	} else if (!parse_accept(p, T_SEMI)) {
		if ((node->a = mfl_expr(p)) == NULL || !parse_expect(p, T_SEMI, "';'"))
			return NULL;
	}
	if (p->tok.kind != T_SEMI && (node->b = mfl_expr(p)) == NULL)
		return NULL;
	if (!parse_expect(p, T_SEMI, "';'"))
		return NULL;
	if (p->tok.kind != T_RPAREN && (node->c = mfl_expr(p)) == NULL)
		return NULL;
	if (!parse_expect(p, T_RPAREN, "')'") || (node->d = mfl_statement(p, 0)) == NULL)
		return NULL;
	return node;
}

/* simple statements: break, continue, return, stop */
static struct ast *
mfl_jump(struct parser *p, enum ast_kind kind)
{
	struct ast *node = parse_node(p, kind, &p->tok);

	if (node == NULL)
		return NULL;
	parse_advance(p);
	if (kind == A_RETURN && p->tok.kind != T_SEMI && (node->a = mfl_expr(p)) == NULL)
		return NULL;
	return parse_expect(p, T_SEMI, "';'") ? node : NULL;
}

/* include: "include" string ";" - the file, parsed in its own mode;
 * with a tag (:personal, :global, :once, :optional) it is RFC 6609's
 * include of a Sieve script by name, as in Sieve mode */
static struct ast *
mfl_include(struct parser *p)
{
	struct token at = p->tok;
	struct token path;

	if (parse_peek(p)->kind == T_TAG)
		return parse_sieve_include(p);
	parse_advance(p);
	if (p->tok.kind != T_STRING) {
		parse_expect(p, T_STRING, "a file name after include");
		return NULL;
	}
	path = p->tok;
	parse_advance(p);
	if (!parse_expect(p, T_SEMI, "';'"))
		return NULL;
	if (p->include == NULL) {
		parse_error(p, &at, "include is not available here");
		return NULL;
	}
	return p->include(p->include_ctx, p, path.text, path.len, at.line, at.col);
}

/* sieve_command: a command as a statement, its arguments, ";" */
static struct ast *
mfl_sieve_command(struct parser *p, const struct intrinsic *intr)
{
	struct ast *node = parse_node(p, A_SIEVE, &p->tok);

	if (node == NULL)
		return NULL;
	node->intr = intr;
	node->str = intr->name;
	parse_advance(p);
	/* a command ends at ';', so its arguments can be whole expressions
	 * (fileinto "Lists/" + $name;), where a test's must be unary */
	if (parse_sieve_args(p, node, mfl_cond, intr_max_positional(intr)) < 0)
		return NULL;
	return parse_expect(p, T_SEMI, "';'") ? node : NULL;
}

/* statements with a leading bare word */
static struct ast *
mfl_word_statement(struct parser *p, int top)
{
	struct token at = p->tok;
	const struct intrinsic *intr;
	int type;

	if (parse_is_ident(&at, "if"))
		return mfl_if(p);
	if (parse_is_ident(&at, "while"))
		return mfl_while(p);
	if (parse_is_ident(&at, "for"))
		return mfl_for(p);
	if (parse_is_ident(&at, "foreverypart"))
		return mfl_foreverypart(p);
	if (parse_is_ident(&at, "break"))
		return mfl_jump(p, A_BREAK);
	if (parse_is_ident(&at, "continue"))
		return mfl_jump(p, A_CONTINUE);
	if (parse_is_ident(&at, "return"))
		return mfl_jump(p, A_RETURN);
	if (parse_is_ident(&at, "stop"))
		return mfl_jump(p, A_STOP);
	if (parse_is_ident(&at, "include"))
		return mfl_include(p);
	if (parse_is_ident(&at, "require")) {
		struct ast *list;

		parse_advance(p);
		if ((list = mfl_primary(p)) == NULL || !parse_expect(p, T_SEMI, "';'"))
			return NULL;
		if (list->kind == A_STR) {
			struct ast *one = parse_node(p, A_LIST, &at);

			if (one == NULL || ast_push(p->arena, one, list) < 0)
				return NULL;
			list = one;
		}
		for (size_t i = 0; i < list->nitems; i++)
			if (list->items[i]->kind != A_STR) {
				parse_error(p, &at, "require takes constant strings");
				return NULL;
			}
		parse_require(p, list, &at);
		return parse_node(p, A_NOP, &at);
	}
	if (parse_is_ident(&at, "typedef")) {
		struct token name;

		parse_advance(p);
		if ((type = mfl_type(p)) < 0) {
			parse_error(p, &p->tok, "expected a type after typedef");
			return NULL;
		}
		name = p->tok;
		if (!parse_expect(p, T_IDENT, "a type name") || !parse_expect(p, T_SEMI, "';'"))
			return NULL;
		if (p->ntypedefs == PARSE_TYPEDEFS_MAX) {
			parse_error(p, &name, "too many typedefs");
			return NULL;
		}
		p->typedefs[p->ntypedefs].name = name.text;
		p->typedefs[p->ntypedefs].len = name.len;
		p->typedefs[p->ntypedefs++].type = type;
		return parse_node(p, A_NOP, &at);
	}
	if ((type = base_type(p, &at)) >= 0) {
		type = mfl_type(p);
		if (p->tok.kind == T_VAR && parse_peek(p)->kind == T_LPAREN) {
			struct token name = p->tok;

			if (!top) {
				parse_error(p, &name, "functions are defined at the top level only");
				return NULL;
			}
			parse_advance(p);
			return mfl_function(p, type, &name);
		}
		if (type == TYPE_VOID) {
			parse_error(p, &at, "variables cannot be void");
			return NULL;
		}
		return mfl_declaration(p, type, &at);
	}
	if ((intr = intr_find(p->env, at.text, at.len, INTR_COMMAND)) != NULL)
		return mfl_sieve_command(p, intr);
	if (parse_is_ident(&at, "else")) {
		parse_error(p, &at, "else without if");
		parse_advance(p);
		return NULL;
	}
	return NULL;		/* not a statement word: an expression */
}

static struct ast *mfl_statement_inner(struct parser *p, int top);

/* statement: depth-checked, see mfl_statement_inner */
static struct ast *
mfl_statement(struct parser *p, int top)
{
	struct ast *n;

	if (parse_enter(p) < 0)
		return NULL;
	n = mfl_statement_inner(p, top);
	parse_leave(p);
	return n;
}

/* statement: see the grammar at the top */
static struct ast *
mfl_statement_inner(struct parser *p, int top)
{
	struct token at = p->tok;
	struct ast *node;

	if (at.kind == T_LBRACE)
		return mfl_block(p);
	if (parse_accept(p, T_SEMI))
		return parse_node(p, A_NOP, &at);
	if (at.kind == T_IDENT) {
		if ((node = mfl_word_statement(p, top)) != NULL)
			return node;
		if (p->tok.line != at.line || p->tok.col != at.col)
			return NULL;	/* a statement word, with an error */
	}
	if ((node = parse_node(p, A_EXPR, &at)) == NULL || (node->a = mfl_expr(p)) == NULL)
		return NULL;
	return parse_expect(p, T_SEMI, "';'") ? node : NULL;
}

/* block: "{" *statement "}" */
static struct ast *
mfl_block(struct parser *p)
{
	struct ast *block = parse_node(p, A_BLOCK, &p->tok);

	if (block == NULL || parse_enter(p) < 0)
		return NULL;
	if (!parse_expect(p, T_LBRACE, "'{'")) {
		parse_leave(p);
		return NULL;
	}
	parse_items(p, block, T_RBRACE, mfl_statement, 0);
	parse_leave(p);
	return parse_expect(p, T_RBRACE, "'}'") ? block : NULL;
}

/* parse_mfl_script - a whole MFL file as an A_BLOCK */
struct ast *
parse_mfl_script(struct parser *p)
{
	struct ast *block = parse_node(p, A_BLOCK, &p->tok);

	if (block == NULL)
		return NULL;
	parse_items(p, block, T_EOF, mfl_statement, 1);
	return block;
}
