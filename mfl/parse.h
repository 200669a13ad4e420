/* parse.h - what the MFL and Sieve parsers share */
#ifndef MFL_PARSE_H
#define MFL_PARSE_H

#include "ast.h"
#include "lex.h"

struct diag;
struct parser;
struct mfl_env;

/* The compiler's hook for "include": parse FILE, NULL after an error. */
typedef struct ast *(*include_fn)(void *ctx, struct parser *from,
				  const char *path, size_t len, int line, int col);

#define PARSE_CAPS_MAX	64
#define PARSE_TYPEDEFS_MAX	64
#define PARSE_DEPTH_MAX		100	/* nested blocks, parentheses, tests */
#define PARSE_CHAIN_MAX		1000	/* binary operators in one chain */

struct parse_typedef {
	const char *name;
	size_t len;
	int type;
};

struct parser {
	struct lexer lx;
	struct token tok;	/* the current token */
	struct token next;	/* one token of lookahead */
	int have_next;
	struct arena *arena;
	struct diag *diag;
	const char *file;
	int sieve;
	const char *caps[PARSE_CAPS_MAX];	/* required capabilities */
	size_t ncaps;
	int seen_command;	/* require must come first */
	int encoded_character;	/* RFC 5228 2.4.2.4 is on */
	include_fn include;
	void *include_ctx;
	int include_once;	/* the include being read has :once */
	struct {
		int line, col;
	} extracttext_at;	/* where extracttext was required, or 0 */
	unsigned required_pairs;	/* parse_conflicting(): which of a
				 * pair of extensions was required */
	const struct mfl_env *env;	/* the host's intrinsics */
	int arg_mode;		/* reading a Sieve argument: " [" starts the next */
	int depth;		/* nesting, against PARSE_DEPTH_MAX */
	struct parse_typedef typedefs[PARSE_TYPEDEFS_MAX];	/* MFL mode */
	size_t ntypedefs;
};

void parse_init(struct parser *p, const char *file, const char *src,
		size_t len, int sieve, struct arena *arena, struct diag *diag);
void parse_advance(struct parser *p);
const struct token *parse_peek(struct parser *p);
int parse_accept(struct parser *p, enum tok_kind kind);
int parse_expect(struct parser *p, enum tok_kind kind, const char *what);
void parse_expected(struct parser *p, const char *what);
struct ast *parse_sieve_include(struct parser *p);
const char *parse_capability(const struct mfl_env *env, const char *s, size_t len);
const char *parse_ihave_capability(const struct mfl_env *env, const char *s, size_t len);
void parse_enable(struct parser *p, const char *cap);
void parse_error(struct parser *p, const struct token *at,
		 const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void parse_sync(struct parser *p);
void parse_items(struct parser *p, struct ast *block, enum tok_kind end,
		 struct ast *(*item)(struct parser *p, int top), int top);
int parse_is_ident_len(const struct token *tok, const char *word, size_t len);
/* parse_is_ident - TOK is the bare word WORD, a lower-case literal */
#define parse_is_ident(tok, word) parse_is_ident_len((tok), (word), sizeof(word) - 1)
int parse_enter(struct parser *p);
void parse_leave(struct parser *p);
struct ast *parse_node(struct parser *p, enum ast_kind kind,
		       const struct token *at);
int parse_require(struct parser *p, struct ast *list, const struct token *at);
const char *parse_conflicting(struct parser *p, const char *cap);
int parse_has_cap(const struct parser *p, const char *cap);
struct ast *parse_string(struct parser *p, const struct token *tok);
int parse_sieve_args(struct parser *p, struct ast *node,
		     struct ast *(*positional)(struct parser *p), size_t max_pos);


struct ast *parse_sieve_script(struct parser *p);
struct ast *parse_mfl_script(struct parser *p);

#endif
