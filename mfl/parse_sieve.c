/*
 * parse_sieve - RFC 5228 section 8's grammar, onto the common AST
 *
 *   commands  = *command
 *   command   = identifier arguments (";" / block)
 *   block     = "{" commands "}"
 *   arguments = *argument [test / test-list]
 *   argument  = string-list / number / tag
 *   test      = identifier arguments
 *   test-list = "(" test *("," test) ")"
 *
 * "if", "elsif", "else", "require" and "stop" are the control commands;
 * every other command and test is looked up in the intrinsic table,
 * which also says which tags it takes and what capability it needs.
 *
 * DIAGNOSTICS: errors with file:line:col; parsing resumes after the next
 * ';' or at the next '}'.
 */
#include "config.h"

#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "diag.h"
#include "intr/intr.h"
#include "mflapi.h"
#include "msg/arena.h"
#include "msg/buf.h"
#include "msg/charset.h"
#include "parse.h"

static struct ast *sieve_test(struct parser *p);
static struct ast *sieve_block(struct parser *p);

/* string_list: string / "[" string *("," string) "]" */
static struct ast *
sieve_string_list(struct parser *p)
{
	struct ast *list = parse_node(p, A_LIST, &p->tok), *s;

	if (list == NULL)
		return NULL;
	if (p->tok.kind == T_STRING) {
		if ((s = parse_string(p, &p->tok)) == NULL || ast_push(p->arena, list, s) < 0)
			return NULL;
		parse_advance(p);
		list->num = 1;		/* written as a single string */
		return list;
	}
	if (!parse_expect(p, T_LBRACKET, "a string or string list"))
		return NULL;
	do {
		if (p->tok.kind != T_STRING) {
			parse_expect(p, T_STRING, "a string");
			return NULL;
		}
		if ((s = parse_string(p, &p->tok)) == NULL || ast_push(p->arena, list, s) < 0)
			return NULL;
		parse_advance(p);
	} while (parse_accept(p, T_COMMA));
	if (!parse_expect(p, T_RBRACKET, "',' or ']'"))
		return NULL;
	return list;
}

/* argument: string-list / number (a tag's value, or positional) */
static struct ast *
sieve_argument(struct parser *p)
{
	struct ast *node;

	if (p->tok.kind == T_NUMBER) {
		if ((node = parse_node(p, A_INT, &p->tok)) != NULL)
			node->num = p->tok.number;
		parse_advance(p);
		return node;
	}
	if (p->tok.kind == T_STRING) {
		/* a single string stays a string; the compiler widens it */
		node = parse_string(p, &p->tok);
		parse_advance(p);
		return node;
	}
	return sieve_string_list(p);
}

/* has_cap - parse_has_cap for intr_find_enabled */
static int
has_cap(void *ctx, const char *cap)
{
	return parse_has_cap(ctx, cap);
}

/* sieve_intrinsic - a command or test INTR, its arguments */
static struct ast *
sieve_intrinsic(struct parser *p, enum intr_kind kind)
{
	struct token name = p->tok;
	const struct intrinsic *intr = intr_find_enabled(p->env, name.text, name.len, kind,
							 has_cap, p);
	struct ast *node;

	if (intr == NULL) {
		parse_error(p, &name, "unknown %s '%.*s'",
			    kind == INTR_TEST ? "test" : "command",
			    (int) (name.len > 40 ? 40 : name.len), name.text);
		return NULL;
	}
	if (!parse_has_cap(p, intr->capability)) {
		parse_error(p, &name, "%s '%s' needs require \"%s\"",
			    kind == INTR_TEST ? "test" : "command", intr->name,
			    intr->capability);
		return NULL;
	}
	if ((node = parse_node(p, A_SIEVE, &name)) == NULL)
		return NULL;
	node->intr = intr;
	node->str = intr->name;
	parse_advance(p);
	if (parse_sieve_args(p, node, sieve_argument, (size_t) -1) < 0)
		return NULL;
	/* RFC 6609 3.4: global is include's, and declares variables */
	if (strcmp(intr->name, "global") == 0 && !parse_has_cap(p, "variables")) {
		parse_error(p, &name, "global needs require \"variables\" too (RFC 6609 3.4)");
		return NULL;
	}
	/* RFC 5232 3, 4: the flag commands and hasflag take a variable
	 * name (or list) before their flags only with "variables" */
	if (node->nitems == 2 && (strcmp(intr->name, "setflag") == 0
				  || strcmp(intr->name, "addflag") == 0
				  || strcmp(intr->name, "removeflag") == 0
				  || strcmp(intr->name, "hasflag") == 0)
	    && !parse_has_cap(p, "variables")) {
		parse_error(p, &name, "%s: a variable name needs require \"variables\"",
			    intr->name);
		return NULL;
	}
	return node;
}

/* test_list: "(" test *("," test) ")" into NODE's items */
static int
sieve_test_list(struct parser *p, struct ast *node)
{
	if (!parse_expect(p, T_LPAREN, "'('"))
		return -1;
	do {
		struct ast *t = sieve_test(p);

		if (t == NULL || ast_push(p->arena, node, t) < 0)
			return -1;
	} while (parse_accept(p, T_COMMA));
	return parse_expect(p, T_RPAREN, "',' or ')'") ? 0 : -1;
}

static struct ast *sieve_test_inner(struct parser *p);

/* test: depth-checked, see sieve_test_inner */
static struct ast *
sieve_test(struct parser *p)
{
	struct ast *n;

	if (parse_enter(p) < 0)
		return NULL;
	n = sieve_test_inner(p);
	parse_leave(p);
	return n;
}

/* test: allof / anyof / not / true / false / an intrinsic test */
static struct ast *
sieve_test_inner(struct parser *p)
{
	struct token at = p->tok;
	struct ast *node;

	if (at.kind != T_IDENT) {
		parse_expect(p, T_IDENT, "a test");
		return NULL;
	}
	if (parse_is_ident(&at, "allof") || parse_is_ident(&at, "anyof")) {
		if ((node = parse_node(p, parse_is_ident(&at, "allof") ? A_AND : A_OR, &at)) == NULL)
			return NULL;
		parse_advance(p);
		return sieve_test_list(p, node) < 0 ? NULL : node;
	}
	if (parse_is_ident(&at, "not")) {
		if ((node = parse_node(p, A_NOT, &at)) == NULL)
			return NULL;
		parse_advance(p);
		return (node->a = sieve_test(p)) == NULL ? NULL : node;
	}
	if (parse_is_ident(&at, "true") || parse_is_ident(&at, "false")) {
		if ((node = parse_node(p, A_INT, &at)) == NULL)
			return NULL;
		node->num = parse_is_ident(&at, "true");
		parse_advance(p);
		return node;
	}
	return sieve_intrinsic(p, INTR_TEST);
}

/* skip_block - past a balanced "{ ... }" without reading what is in it
 * (RFC 5463 4: the block of an ihave that fails); an empty block */
static struct ast *
skip_block(struct parser *p)
{
	struct ast *block = parse_node(p, A_BLOCK, &p->tok);
	int depth = 1;

	if (block == NULL || !parse_expect(p, T_LBRACE, "'{'"))
		return NULL;
	while (depth > 0) {
		if (p->tok.kind == T_EOF) {
			parse_error(p, &p->tok, "'}' expected");
			return NULL;
		}
		depth += (p->tok.kind == T_LBRACE) - (p->tok.kind == T_RBRACE);
		parse_advance(p);
	}
	return block;
}

/* ihave_known - TEST is "ihave" with constant strings: 1 when all are
 * known (and now on), 0 when one is not, -1 when it is no such test */
static int
ihave_known(struct parser *p, const struct ast *test)
{
	const struct ast *list;
	struct ast **items;
	size_t n;

	if (test->kind != A_SIEVE || strcmp(test->intr->name, "ihave") != 0
	    || test->nitems != 1)
		return -1;
	list = test->items[0];
	items = list->kind == A_LIST ? list->items : test->items;
	n = list->kind == A_LIST ? list->nitems : 1;
	for (size_t i = 0; i < n; i++)
		if (items[i]->kind != A_STR)
			return -1;
	for (size_t i = 0; i < n; i++)
		if (parse_ihave_capability(p->env, items[i]->str, items[i]->len) == NULL)
			return 0;
	for (size_t i = 0; i < n; i++) {
		const char *cap = parse_ihave_capability(p->env, items[i]->str, items[i]->len);
		const char *other = parse_conflicting(p, cap);

		if (other != NULL)	/* as require would say */
			diag_error(p->diag, p->file, items[i]->line, items[i]->col,
				   "%s cannot be used together with %s", cap, other);
		parse_enable(p, cap);
	}
	return 1;
}

/* requires_complete - RFC 5703 7: extracttext needs variables and
 * foreverypart required with it */
static void
requires_complete(struct parser *p)
{
	static const char *const needs[] = { "variables", "foreverypart" };

	if (p->extracttext_at.line == 0)
		return;
	for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]); i++)
		if (!parse_has_cap(p, needs[i]))
			diag_error(p->diag, p->file, p->extracttext_at.line, p->extracttext_at.col,
				   "extracttext needs require \"%s\" too (RFC 5703 7)", needs[i]);
}

/* if: "if" test block *("elsif" test block) ["else" block] */
static struct ast *
sieve_if(struct parser *p)
{
	struct ast *node = parse_node(p, A_IF, &p->tok);
	int have;

	if (node == NULL)
		return NULL;
	parse_advance(p);
	if ((node->a = sieve_test(p)) == NULL)
		return NULL;
	/* RFC 5463: an ihave's block may use what it asked for (and, as in
	 * Pigeonhole, the rest of the script too), and is not read at all
	 * when something it asked for is missing */
	have = ihave_known(p, node->a);
	node->b = have == 0 ? skip_block(p) : sieve_block(p);
	if (node->b == NULL)
		return NULL;
	if (parse_is_ident(&p->tok, "elsif")) {
		node->c = sieve_if(p);
		return node->c ? node : NULL;
	}
	if (parse_is_ident(&p->tok, "else")) {
		parse_advance(p);
		if ((node->c = sieve_block(p)) == NULL)
			return NULL;
	}
	return node;
}

/* include_dir - where include finds scripts: :global's directory, or
 * the personal one ($mfl_sieve_dir, else the including script's own) */
static void
include_dir(struct parser *p, int global, struct buf *dir)
{
	const char *d = mfl_env_get_string(p->env, global ? "mfl_sieve_global_dir" : "mfl_sieve_dir");

	if (d != NULL && *d) {
		buf_puts(dir, d);
		buf_putc(dir, '/');
	} else if (global) {
		buf_putc(dir, '/');
	}
	/* else the including script's own directory: the compiler reads a
	 * relative name from there (naming it here too would double it) */
}

/* tag_is - TOK is the tag :WORD (without case) */
static int
tag_is(const struct token *tok, const char *word)
{
	return tok->kind == T_TAG && tok->len == strlen(word)
	    && strncasecmp(tok->text, word, tok->len) == 0;
}

/* parse_sieve_include: "include" [":personal" / ":global"] [":once"]
 *	[":optional"] <value: string> ";" (RFC 6609); MFL mode's include
 *	with a tag comes here too */
struct ast *
parse_sieve_include(struct parser *p)
{
	struct token at = p->tok, name;
	struct ast *node = parse_node(p, A_INCLUDE, &at), *str;
	int global = -1, once = 0, optional = 0;
	struct buf path = BUF_INIT;

	if (node == NULL)
		return NULL;
	parse_advance(p);
	while (p->tok.kind == T_TAG) {
		int *flag = tag_is(&p->tok, "personal") || tag_is(&p->tok, "global") ? &global
		    : tag_is(&p->tok, "once") ? &once : tag_is(&p->tok, "optional") ? &optional
		    : NULL;

		if (flag == NULL || (flag == &global && global >= 0) || (flag != &global && *flag)) {
			parse_error(p, &p->tok, "include: unknown or repeated tag ':%.*s'",
				    (int) (p->tok.len > 20 ? 20 : p->tok.len), p->tok.text);
			return NULL;
		}
		*flag = flag == &global ? tag_is(&p->tok, "global") : 1;
		parse_advance(p);
	}
	name = p->tok;
	if (!parse_expect(p, T_STRING, "a script name") || !parse_expect(p, T_SEMI, "';'"))
		return NULL;
	/* encoded characters decoded, as in every string (RFC 5228 2.4.2.4) */
	if ((str = parse_string(p, &name)) == NULL)
		return NULL;
	/* a name, not a path (RFC 6609 3.1): the statement is read, so the
	 * next one is parsed whatever this one says */
	if (!utf8_name_ok(str->str, str->len)) {
		parse_error(p, &name, "include: invalid script name \"%.*s\"",
			    (int) (name.len > 60 ? 60 : name.len), name.text);
		node->kind = A_NOP;
		return node;
	}
	include_dir(p, global > 0, &path);
	buf_append(&path, str->str, str->len);
	buf_puts(&path, ".sieve");
	node->str = arena_memdup(p->arena, buf_cstr(&path), path.len);
	node->len = path.len;
	node->num = once;
	if (optional && access(buf_cstr(&path), R_OK) < 0) {
		node->kind = A_NOP;	/* :optional: a missing script is none */
	} else if (node->str != NULL && p->include != NULL) {
		p->include_once = once;
		node->a = p->include(p->include_ctx, p, node->str, node->len, at.line, at.col);
		p->include_once = 0;
	}
	buf_free(&path);
	return node->str != NULL ? node : NULL;
}

/* loop_name - [":name" <name: string>] of foreverypart and break */
static int
loop_name(struct parser *p, struct ast *node)
{
	if (!tag_is(&p->tok, "name"))
		return 0;
	parse_advance(p);
	if (p->tok.kind != T_STRING) {
		parse_expect(p, T_STRING, "a loop name");
		return -1;
	}
	node->str = p->tok.text;
	node->len = p->tok.len;
	parse_advance(p);
	return 0;
}

/* foreverypart: "foreverypart" [":name" string] block (RFC 5703 3.1) */
static struct ast *
sieve_foreverypart(struct parser *p)
{
	struct ast *node = parse_node(p, A_FOREVERYPART, &p->tok);

	if (node == NULL)
		return NULL;
	parse_advance(p);
	if (loop_name(p, node) < 0 || (node->a = sieve_block(p)) == NULL)
		return NULL;
	return node;
}

/* test: "test" string block - one case of a vnd.dovecot.testsuite
 * script (mflc -T) */
static struct ast *
sieve_testblock(struct parser *p)
{
	struct ast *node = parse_node(p, A_TESTBLOCK, &p->tok);

	if (node == NULL)
		return NULL;
	parse_advance(p);
	if (p->tok.kind != T_STRING) {
		parse_expect(p, T_STRING, "a test name");
		return NULL;
	}
	if ((node->b = parse_string(p, &p->tok)) == NULL)
		return NULL;
	parse_advance(p);
	if ((node->a = sieve_block(p)) == NULL)
		return NULL;
	return node;
}

/* command: control command or intrinsic, then ";" */
static struct ast *
sieve_command(struct parser *p)
{
	struct token at = p->tok;
	struct ast *node;

	if (at.kind != T_IDENT) {
		parse_expect(p, T_IDENT, "a command");
		return NULL;
	}
	if (parse_is_ident(&at, "require")) {
		struct ast *list;

		parse_advance(p);
		if ((list = sieve_string_list(p)) == NULL
		    || !parse_expect(p, T_SEMI, "';'"))
			return NULL;
		parse_require(p, list, &at);
		return parse_node(p, A_NOP, &at);
	}
	p->seen_command = 1;
	if (parse_is_ident(&at, "if"))
		return sieve_if(p);
	if (parse_is_ident(&at, "elsif") || parse_is_ident(&at, "else")) {
		parse_error(p, &at, "%.*s without if", (int) at.len, at.text);
		return NULL;
	}
	if (parse_is_ident(&at, "include") && parse_has_cap(p, "include"))
		return parse_sieve_include(p);
	if (parse_is_ident(&at, "foreverypart") && parse_has_cap(p, "foreverypart"))
		return sieve_foreverypart(p);
	if (parse_is_ident(&at, "test") && parse_has_cap(p, "vnd.dovecot.testsuite"))
		return sieve_testblock(p);
	if (parse_is_ident(&at, "break") && parse_has_cap(p, "foreverypart")) {
		if ((node = parse_node(p, A_BREAK, &at)) == NULL)
			return NULL;
		parse_advance(p);
		if (loop_name(p, node) < 0 || !parse_expect(p, T_SEMI, "';'"))
			return NULL;
		return node;
	}
	if (parse_is_ident(&at, "stop")) {
		parse_advance(p);
		node = parse_node(p, A_STOP, &at);
	} else if (parse_is_ident(&at, "return") && parse_has_cap(p, "include")) {
		/* RFC 6609 3.2: back to the including script (stop at the top) */
		parse_advance(p);
		node = parse_node(p, A_RETURN, &at);
	} else if ((node = sieve_intrinsic(p, INTR_COMMAND)) == NULL) {
		return NULL;
	}
	if (p->tok.kind == T_LBRACE) {
		parse_error(p, &p->tok, "%.*s takes no block", (int) at.len, at.text);
		return NULL;
	}
	if (!parse_expect(p, T_SEMI, "';'"))
		return NULL;
	return node;
}

/* sieve_item - a command, for parse_items */
static struct ast *
sieve_item(struct parser *p, int top)
{
	(void) top;
	return sieve_command(p);
}

/* block: "{" commands "}" */
static struct ast *
sieve_block(struct parser *p)
{
	struct ast *block = parse_node(p, A_BLOCK, &p->tok);

	if (block == NULL || parse_enter(p) < 0)
		return NULL;
	if (!parse_expect(p, T_LBRACE, "'{'")) {
		parse_leave(p);
		return NULL;
	}
	parse_items(p, block, T_RBRACE, sieve_item, 0);
	parse_leave(p);
	if (!parse_expect(p, T_RBRACE, "'}'"))
		return NULL;
	return block;
}

/* parse_sieve_script - a whole Sieve script as an A_BLOCK */
struct ast *
parse_sieve_script(struct parser *p)
{
	struct ast *block = parse_node(p, A_BLOCK, &p->tok);

	if (block == NULL)
		return NULL;
	parse_items(p, block, T_EOF, sieve_item, 1);
	requires_complete(p);
	return block;
}
