/* lex.h - one lexer for MFL and Sieve */
#ifndef MFL_LEX_H
#define MFL_LEX_H

#include <stddef.h>
#include <stdint.h>

struct arena;
struct diag;

enum tok_kind {
	T_EOF, T_IDENT, T_VAR, T_TAG, T_STRING, T_NUMBER,
	/* punctuation */
	T_LPAREN, T_RPAREN, T_LBRACE, T_RBRACE, T_LBRACKET, T_RBRACKET,
	T_SEMI, T_COMMA, T_QUESTION, T_COLON,
	T_ASSIGN, T_ADD_ASSIGN, T_SUB_ASSIGN, T_MUL_ASSIGN, T_DIV_ASSIGN,
	T_MOD_ASSIGN,
	T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
	T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PERCENT,
	T_AND, T_OR, T_NOT, T_AMP, T_PIPE, T_CARET, T_TILDE, T_SHL, T_SHR,
	T_INC, T_DEC,
	T_ERROR
};

struct token {
	enum tok_kind kind;
	const char *text;	/* identifier, variable (no '$'), tag (no ':'),
				 * or the string's value, unescaped */
	size_t len;
	int64_t number;
	int line, col;
	int text_block;		/* a Sieve "text:" string */
	int space_before;	/* white space or a comment came before it */
};

struct lexer {
	const char *src, *p, *end;
	const char *file;
	int line;
	const char *line_start;
	int sieve;		/* Sieve mode: its escapes, no $ or operators */
	struct arena *arena;
	struct diag *diag;
};

void lex_init(struct lexer *lx, const char *file, const char *src,
	      size_t len, int sieve, struct arena *arena, struct diag *diag);
void lex_next(struct lexer *lx, struct token *tok);
const char *tok_name(enum tok_kind kind);

#endif
