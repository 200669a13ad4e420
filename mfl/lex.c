/*
 * lex - cut MFL or Sieve source into tokens
 *
 * One lexer serves both grammars. What differs is small and decided by
 * the mode: Sieve strings know only "\\" and "\"" as escapes (RFC 5228
 * 2.4.2; any other backslash is dropped), MFL strings have C's escapes;
 * "$name" and the C operators exist only in MFL mode. Both modes have
 * "#" and C comments, "text:" multi-line strings with dot-unstuffing,
 * and numbers with the K, M and G quantifiers (RFC 5228 2.4.1).
 *
 * Token text points into the source, except strings, whose unescaped
 * value is made in the compiler's arena.
 *
 * DIAGNOSTICS: errors go to the diag with file:line:col; the lexer then
 * returns T_ERROR for that token and goes on after it.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "diag.h"
#include "lex.h"
#include "msg/arena.h"
#include "msg/buf.h"

static const char *const tok_names[] = {
	"end of file", "identifier", "variable", "tag", "string", "number",
	"'('", "')'", "'{'", "'}'", "'['", "']'", "';'", "','", "'?'", "':'",
	"'='", "'+='", "'-='", "'*='", "'/='", "'%='",
	"'=='", "'!='", "'<'", "'<='", "'>'", "'>='",
	"'+'", "'-'", "'*'", "'/'", "'%'",
	"'&&'", "'||'", "'!'", "'&'", "'|'", "'^'", "'~'", "'<<'", "'>>'",
	"'++'", "'--'", "invalid token",
};

/* tok_name - how an error message names a token kind */
const char *
tok_name(enum tok_kind kind)
{
	return tok_names[kind];
}

/* lex_init - start lexing SRC */
void
lex_init(struct lexer *lx, const char *file, const char *src, size_t len,
	 int sieve, struct arena *arena, struct diag *diag)
{
	lx->src = lx->p = lx->line_start = src;
	lx->end = src + len;
	lx->file = file;
	lx->line = 1;
	lx->sieve = sieve;
	lx->arena = arena;
	lx->diag = diag;
}

/* lex_error - report at AT, which may be lines back (where an
 * unterminated string or comment started) */
static void
lex_error(struct lexer *lx, const char *at, const char *msg)
{
	const char *line_start = lx->line_start;
	int line = lx->line;

	if (at < line_start) {
		for (const char *q = at; q < lx->line_start; q++)
			line -= *q == '\n';
		for (line_start = at; line_start > lx->src && line_start[-1] != '\n'; line_start--)
			;
	}
	diag_error(lx->diag, lx->file, line, (int) (at - line_start) + 1, "%s", msg);
}

/* newline - count a line that ends at P */
static void
newline(struct lexer *lx, const char *p)
{
	lx->line++;
	lx->line_start = p + 1;
}

/* skip_space - past white space and comments */
static void
skip_space(struct lexer *lx)
{
	const char *p = lx->p;

	while (p < lx->end) {
		if (*p == '\n') {
			newline(lx, p);
			p++;
		} else if (*p == ' ' || *p == '\t' || *p == '\r') {
			p++;
		} else if (*p == '#' || (!lx->sieve && *p == '/' && p + 1 < lx->end
					 && p[1] == '/')) {
			while (p < lx->end && *p != '\n')
				p++;
		} else if (*p == '/' && p + 1 < lx->end && p[1] == '*') {
			const char *start = p;

			for (p += 2; p < lx->end; p++) {
				if (*p == '\n')
					newline(lx, p);
				else if (*p == '*' && p + 1 < lx->end && p[1] == '/')
					break;
			}
			if (p >= lx->end) {
				lx->p = p;
				lex_error(lx, start, "unterminated comment");
				return;
			}
			p += 2;
		} else {
			break;
		}
	}
	lx->p = p;
}

#define C_START	1	/* may start an identifier */
#define C_IDENT	2	/* may continue one */

/* Character classes, so the hot loops test one table entry a byte. */
static const unsigned char cclass[256] = {
	['0' ... '9'] = C_IDENT,
	['A' ... 'Z'] = C_START | C_IDENT,
	['a' ... 'z'] = C_START | C_IDENT,
	['_'] = C_START | C_IDENT,
};

/* is_ident - identifier characters (RFC 5228 8.1) */
static inline int
is_ident(int c, int first)
{
	return cclass[(unsigned char) c] & (first ? C_START : C_IDENT);
}

/* hexval - value of hex digit C, or -1 */
static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* mfl_escape - one C escape after the backslash at P; where it ends */
static const char *
mfl_escape(const char *p, const char *end, struct buf *out)
{
	int hi, lo;

	switch (*p) {
	case 'n': buf_putc(out, '\n'); return p + 1;
	case 't': buf_putc(out, '\t'); return p + 1;
	case 'r': buf_putc(out, '\r'); return p + 1;
	case '0': buf_putc(out, 0); return p + 1;
	case 'x':
		if (end - p >= 3 && (hi = hexval((unsigned char) p[1])) >= 0
		    && (lo = hexval((unsigned char) p[2])) >= 0) {
			buf_putc(out, hi * 16 + lo);
			return p + 3;
		}
		buf_putc(out, 'x');
		return p + 1;
	default:
		buf_putc(out, (unsigned char) *p);	/* \\ \" and others */
		return p + 1;
	}
}

/* lex_plain - the common string with no escape and no line end: its
 * text is a view into the source, which outlives the compile; 0 if the
 * string needs lex_quoted's slow path */
static int
lex_plain(struct lexer *lx, struct token *tok)
{
	const char *p = lx->p + 1;

	while (p < lx->end && *p != '"' && *p != '\\' && *p != '\n')
		p++;
	if (p >= lx->end || *p != '"')
		return 0;
	tok->kind = T_STRING;
	tok->text = lx->p + 1;
	tok->len = (size_t) (p - tok->text);
	lx->p = p + 1;
	return 1;
}

/* lex_quoted - a "quoted string" */
static void
lex_quoted(struct lexer *lx, struct token *tok)
{
	const char *p = lx->p + 1, *start = lx->p;
	struct buf out = BUF_INIT;

	if (lex_plain(lx, tok))
		return;

	while (p < lx->end && *p != '"') {
		if (*p == '\\' && p + 1 < lx->end) {
			p++;
			if (lx->sieve) {
				/* RFC 5228 2.4.2: only \\ and \" mean
				 * anything; other backslashes vanish */
				if (*p == '\n')
					newline(lx, p);
				buf_putc(&out, (unsigned char) *p++);
			} else {
				p = mfl_escape(p, lx->end, &out);
			}
			continue;
		}
		if (*p == '\n') {
			newline(lx, p);
			/* Sieve's line ends are CRLF (RFC 5228 2.4.2), as
			 * Pigeonhole makes them whatever the file has */
			if (lx->sieve && (out.len == 0 || out.data[out.len - 1] != '\r'))
				buf_putc(&out, '\r');
		}
		buf_putc(&out, (unsigned char) *p++);
	}
	if (p >= lx->end) {
		lx->p = p;
		lex_error(lx, start, "unterminated string");
		tok->kind = T_ERROR;
		buf_free(&out);
		return;
	}
	lx->p = p + 1;
	tok->kind = T_STRING;
	tok->text = arena_memdup(lx->arena, out.data ? out.data : "", out.len);
	tok->len = out.len;
	buf_free(&out);
}

/* lex_text - a "text:" multi-line string (RFC 5228 2.4.2) */
static void
lex_text(struct lexer *lx, struct token *tok)
{
	const char *p = lx->p + 5, *start = lx->p;
	struct buf out = BUF_INIT;

	while (p < lx->end && (*p == ' ' || *p == '\t'))
		p++;
	if (p < lx->end && *p == '#')
		while (p < lx->end && *p != '\n')
			p++;
	if (p < lx->end && *p == '\r')
		p++;
	if (p >= lx->end || *p != '\n') {
		lx->p = p;
		lex_error(lx, start, "text: must be followed by a line end");
		tok->kind = T_ERROR;
		return;
	}
	newline(lx, p);
	p++;
	for (;;) {
		const char *nl = memchr(p, '\n', (size_t) (lx->end - p));
		const char *eol = nl ? nl : lx->end;
		const char *content_end = eol > p && eol[-1] == '\r' ? eol - 1 : eol;

		if (content_end - p == 1 && *p == '.') {	/* the end */
			if (nl)
				newline(lx, nl);
			p = nl ? nl + 1 : lx->end;
			break;
		}
		if (nl == NULL) {
			lx->p = lx->end;
			lex_error(lx, start, "unterminated text: string");
			tok->kind = T_ERROR;
			buf_free(&out);
			return;
		}
		if (*p == '.' && p + 1 < eol && p[1] == '.')
			p++;			/* dot-unstuffing */
		buf_append(&out, p, (size_t) (content_end - p));
		buf_append(&out, "\r\n", 2);
		newline(lx, nl);
		p = nl + 1;
	}
	lx->p = p;
	tok->kind = T_STRING;
	tok->text_block = 1;
	tok->text = arena_memdup(lx->arena, out.data ? out.data : "", out.len);
	tok->len = out.len;
	buf_free(&out);
}

/* lex_number - digits with an optional K, M or G quantifier */
static void
lex_number(struct lexer *lx, struct token *tok)
{
	const char *p = lx->p, *start = p;
	uint64_t v = 0;
	int overflow = 0, base = 10;

	if (!lx->sieve && p + 2 < lx->end && p[0] == '0' && (p[1] | 0x20) == 'x'
	    && hexval((unsigned char) p[2]) >= 0) {
		base = 16;
		p += 2;
	}
	for (; p < lx->end; p++) {
		int d = base == 16 ? hexval((unsigned char) *p)
		    : (*p >= '0' && *p <= '9' ? *p - '0' : -1);

		if (d < 0)
			break;
		if (v > (UINT64_MAX - (uint64_t) d) / (uint64_t) base)
			overflow = 1;
		v = v * (uint64_t) base + (uint64_t) d;
	}
	if (p < lx->end && base == 10) {
		int shift = 0;

		switch (*p) {
		case 'K': case 'k': shift = 10; break;
		case 'M': case 'm': shift = 20; break;
		case 'G': case 'g': shift = 30; break;
		}
		if (shift) {
			if (v > (UINT64_MAX >> shift))
				overflow = 1;
			v <<= shift;
			p++;
		}
	}
	if (p < lx->end && is_ident((unsigned char) *p, 0)) {
		lx->p = p;
		lex_error(lx, start, "invalid number");
		tok->kind = T_ERROR;
		while (lx->p < lx->end && is_ident((unsigned char) *lx->p, 0))
			lx->p++;
		return;
	}
	lx->p = p;
	if (overflow || v > INT64_MAX) {
		lex_error(lx, start, "number too large");
		tok->kind = T_ERROR;
		return;
	}
	tok->kind = T_NUMBER;
	tok->number = (int64_t) v;
}

/* Operators of MFL mode, longest first. */
static const struct op {
	const char *text;
	enum tok_kind kind;
} ops[] = {
	{ "<<", T_SHL }, { ">>", T_SHR }, { "==", T_EQ }, { "!=", T_NE },
	{ "<=", T_LE }, { ">=", T_GE }, { "&&", T_AND }, { "||", T_OR },
	{ "+=", T_ADD_ASSIGN }, { "-=", T_SUB_ASSIGN }, { "*=", T_MUL_ASSIGN },
	{ "/=", T_DIV_ASSIGN }, { "%=", T_MOD_ASSIGN }, { "++", T_INC },
	{ "--", T_DEC }, { "?", T_QUESTION }, { ":", T_COLON }, { "=", T_ASSIGN },
	{ "<", T_LT }, { ">", T_GT }, { "+", T_PLUS }, { "-", T_MINUS },
	{ "*", T_STAR }, { "/", T_SLASH }, { "%", T_PERCENT }, { "!", T_NOT },
	{ "&", T_AMP }, { "|", T_PIPE }, { "^", T_CARET }, { "~", T_TILDE },
};

/* lex_punct - punctuation of both modes, operators of MFL mode */
static int
lex_punct(struct lexer *lx, struct token *tok)
{
	static const char simple[] = "(){}[];,";
	static const enum tok_kind simple_kinds[] = {
		T_LPAREN, T_RPAREN, T_LBRACE, T_RBRACE, T_LBRACKET, T_RBRACKET,
		T_SEMI, T_COMMA,
	};
	const char *s = strchr(simple, *lx->p);

	if (*lx->p != 0 && s != NULL) {
		tok->kind = simple_kinds[s - simple];
		lx->p++;
		return 1;
	}
	if (lx->sieve)
		return 0;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t n = strlen(ops[i].text);

		if ((size_t) (lx->end - lx->p) >= n && memcmp(lx->p, ops[i].text, n) == 0) {
			tok->kind = ops[i].kind;
			lx->p += n;
			return 1;
		}
	}
	return 0;
}

/* lex_next - the next token */
void
lex_next(struct lexer *lx, struct token *tok)
{
	const char *p;

	memset(tok, 0, sizeof(*tok));
	p = lx->p;
	skip_space(lx);
	tok->space_before = lx->p != p;
	p = lx->p;
	tok->line = lx->line;
	tok->col = (int) (p - lx->line_start) + 1;
	if (p >= lx->end) {
		tok->kind = T_EOF;
		return;
	}
	if (*p == '"') {
		lex_quoted(lx, tok);
	} else if (*p >= '0' && *p <= '9') {
		lex_number(lx, tok);
	} else if (lx->end - p >= 5 && memcmp(p, "text:", 5) == 0) {
		lex_text(lx, tok);
	} else if (is_ident((unsigned char) *p, 1)) {
		while (lx->p < lx->end && is_ident((unsigned char) *lx->p, 0))
			lx->p++;
		tok->kind = T_IDENT;
		tok->text = p;
		tok->len = (size_t) (lx->p - p);
	} else if (*p == ':' && p + 1 < lx->end && is_ident((unsigned char) p[1], 1)) {
		for (lx->p = p + 1; lx->p < lx->end && is_ident((unsigned char) *lx->p, 0);)
			lx->p++;
		tok->kind = T_TAG;
		tok->text = p + 1;
		tok->len = (size_t) (lx->p - p - 1);
	} else if (*p == '$' && !lx->sieve && p + 1 < lx->end
		   && is_ident((unsigned char) p[1], 1)) {
		for (lx->p = p + 1; lx->p < lx->end && is_ident((unsigned char) *lx->p, 0);)
			lx->p++;
		tok->kind = T_VAR;
		tok->text = p + 1;
		tok->len = (size_t) (lx->p - p - 1);
	} else if (!lex_punct(lx, tok)) {
		lex_error(lx, p, (unsigned char) *p >= 0x20 && (unsigned char) *p < 0x7f
			  ? "unexpected character" : "unexpected byte");
		tok->kind = T_ERROR;
		lx->p = p + 1;
	}
}
