/*
 * parse - the parts of parsing MFL and Sieve share: token lookahead,
 * errors with recovery, "require" and the capabilities it turns on,
 * RFC 5228 2.4.2.4 encoded-character strings, and the arguments of a
 * Sieve command or test (tags, their values, positional arguments),
 * which both grammars read the same way except for what a positional
 * argument may be.
 *
 * DIAGNOSTICS: errors go to the diag; a parser that met one keeps going
 * from the next ';' or '}' so that a file's every error is reported.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "compile.h"
#include "diag.h"
#include "env.h"
#include "intr/intr.h"
#include "match.h"
#include "msg/arena.h"
#include "msg/buf.h"
#include "msg/charset.h"
#include "parse.h"

/* Capabilities this build knows (RFC 5228 require). */
static const char *const known_caps[] = {
	"fileinto", "envelope", "encoded-character",
	"comparator-i;octet", "comparator-i;ascii-casemap",
	"comparator-i;ascii-numeric", "reject", "ereject", "relational",
	"regex", "subaddress", "variables", "copy", "imap4flags", "body",
	"environment", "date", "index", "spamtest", "spamtestplus",
	"virustest", "ihave", "mailbox", "editheader",
	"duplicate", "vacation", "vacation-seconds", "include",
	"foreverypart", "mime", "extracttext", "imapflags", "vnd.dovecot.duplicate",
	"enotify", "vnd.dovecot.debug", "special-use", "vnd.dovecot.environment",
	"extlists", "fcc", "notify", "vnd.dovecot.report", "replace", "enclose",
	"comparator-i;unicode-casemap",
};

/* parse_init - ready to read SRC */
void
parse_init(struct parser *p, const char *file, const char *src, size_t len,
	   int sieve, struct arena *arena, struct diag *diag)
{
	memset(p, 0, sizeof(*p));
	lex_init(&p->lx, file, src, len, sieve, arena, diag);
	p->arena = arena;
	p->diag = diag;
	p->file = file;
	p->sieve = sieve;
	parse_advance(p);
}

/* parse_advance - move to the next token */
void
parse_advance(struct parser *p)
{
	if (p->have_next) {
		p->tok = p->next;
		p->have_next = 0;
		return;
	}
	do
		lex_next(&p->lx, &p->tok);
	while (p->tok.kind == T_ERROR);
}

/* parse_peek - the token after the current one */
const struct token *
parse_peek(struct parser *p)
{
	if (!p->have_next) {
		do
			lex_next(&p->lx, &p->next);
		while (p->next.kind == T_ERROR);
		p->have_next = 1;
	}
	return &p->next;
}

/* parse_accept - take the current token if it is KIND */
int
parse_accept(struct parser *p, enum tok_kind kind)
{
	if (p->tok.kind != kind)
		return 0;
	parse_advance(p);
	return 1;
}

/* parse_error - an error at token AT */
void
parse_error(struct parser *p, const struct token *at, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_error(p->diag, p->file, at->line, at->col, "%s", msg);
}

/* tok_describe - the current token as an error message shows it */
static const char *
tok_describe(const struct token *tok, char *buf, size_t size)
{
	switch (tok->kind) {
	case T_IDENT:
		snprintf(buf, size, "'%.*s'", (int) (tok->len > 40 ? 40 : tok->len), tok->text);
		return buf;
	case T_VAR:
		snprintf(buf, size, "'$%.*s'", (int) (tok->len > 40 ? 40 : tok->len), tok->text);
		return buf;
	case T_TAG:
		snprintf(buf, size, "':%.*s'", (int) (tok->len > 40 ? 40 : tok->len), tok->text);
		return buf;
	default:
		return tok_name(tok->kind);
	}
}

/* parse_expected - report that WHAT was expected where the current
 * token is (the end of the file included) */
void
parse_expected(struct parser *p, const char *what)
{
	char buf[64];

	parse_error(p, &p->tok, "expected %s, found %s", what,
		    tok_describe(&p->tok, buf, sizeof(buf)));
}

/* parse_expect - take a KIND token or report what was expected */
int
parse_expect(struct parser *p, enum tok_kind kind, const char *what)
{
	if (parse_accept(p, kind))
		return 1;
	parse_expected(p, what ? what : tok_name(kind));
	return 0;
}

/* parse_sync - after an error: skip past the next ';' or to a '}' (in
 * Sieve, also past the block that ends the broken command: a command
 * with a block has no ';') */
void
parse_sync(struct parser *p)
{
	int depth = 0;

	while (p->tok.kind != T_EOF) {
		if (p->tok.kind == T_LBRACE) {
			depth++;
		} else if (p->tok.kind == T_RBRACE) {
			if (depth == 0)		/* the enclosing block's end */
				return;
			if (--depth == 0 && p->sieve) {	/* the broken command's block */
				parse_advance(p);
				/* an if's elsif and else belong to it */
				if (!parse_is_ident(&p->tok, "elsif") && !parse_is_ident(&p->tok, "else"))
					return;
				continue;
			}
		} else if (p->tok.kind == T_SEMI && depth == 0) {
			parse_advance(p);
			return;
		}
		parse_advance(p);
	}
}

/* parse_items - statements (commands) until END ('}' or the end of the
 * file) into BLOCK; after an error, go on from the next ';' or '}' */
void
parse_items(struct parser *p, struct ast *block, enum tok_kind end,
	    struct ast *(*item)(struct parser *p, int top), int top)
{
	while (p->tok.kind != end && p->tok.kind != T_EOF) {
		struct ast *st;

		if (p->tok.kind == T_RBRACE) {	/* only at the top level */
			parse_error(p, &p->tok, "unexpected '}'");
			parse_advance(p);
			continue;
		}
		int before = p->diag->errors;

		if ((st = item(p, top)) == NULL) {
			/* no statement may vanish without a word */
			if (p->diag->errors == before)
				parse_error(p, &p->tok, "syntax error");
			parse_sync(p);
		}
		else if (st->kind != A_NOP)
			ast_push(p->arena, block, st);
	}
}

/* parse_is_ident_len - TOK is the bare word WORD (lower case, LEN bytes) */
int
parse_is_ident_len(const struct token *tok, const char *word, size_t len)
{
	/* Sieve's identifiers are case-insensitive; MFL's words follow */
	return tok->kind == T_IDENT && tok->len == len
	    && (tok->text[0] | 0x20) == word[0]
	    && strncasecmp(tok->text, word, len) == 0;
}

/* parse_enter - one level deeper; -1 (after a message) past the limit,
 * so that no script can exhaust the stack of the parser or compiler */
int
parse_enter(struct parser *p)
{
	if (++p->depth > PARSE_DEPTH_MAX) {
		if (p->depth == PARSE_DEPTH_MAX + 1)
			parse_error(p, &p->tok, "nested deeper than %d levels", PARSE_DEPTH_MAX);
		p->depth--;
		return -1;
	}
	return 0;
}

/* parse_leave - one level back */
void
parse_leave(struct parser *p)
{
	p->depth--;
}

/* parse_node - a node at token AT; NULL (after a message) if no memory */
struct ast *
parse_node(struct parser *p, enum ast_kind kind, const struct token *at)
{
	struct ast *node = ast_new(p->arena, kind, p->file, at->line, at->col);

	if (node == NULL)
		parse_error(p, at, "out of memory");
	else
		node->sieve_mode = p->sieve;
	return node;
}

/* parse_has_cap - CAP was required, or MFL mode, where all are on */
int
parse_has_cap(const struct parser *p, const char *cap)
{
	if (cap == NULL || !p->sieve)
		return 1;
	for (size_t i = 0; i < p->ncaps; i++)
		if (strcmp(p->caps[i], cap) == 0)
			return 1;
	return 0;
}

/* parse_capability - the capability named S (LEN) as the language or
 * the host knows it, or NULL */
const char *
parse_capability(const struct mfl_env *env, const char *s, size_t len)
{
	for (size_t k = 0; k < sizeof(known_caps) / sizeof(known_caps[0]); k++)
		if (strlen(known_caps[k]) == len && memcmp(known_caps[k], s, len) == 0)
			return known_caps[k];
	for (size_t k = 0; env != NULL && k < env->nintrs; k++) {
		const char *c = env->intrs[k]->capability;

		if (c != NULL && strlen(c) == len && memcmp(c, s, len) == 0)
			return c;
	}
	return NULL;
}

/* mfl_capabilities - FN(CTX, capability) for every Sieve capability a
 * script may require here: the built-in ones and the host's */
void
mfl_capabilities(const struct mfl_env *env, void (*fn)(void *ctx, const char *cap), void *ctx)
{
	for (size_t k = 0; k < sizeof(known_caps) / sizeof(known_caps[0]); k++)
		fn(ctx, known_caps[k]);
	for (size_t k = 0; env != NULL && k < env->nintrs; k++) {
		const char *c = env->intrs[k]->capability;
		int seen = 0;

		for (size_t j = 0; c != NULL && j < k; j++)
			seen |= env->intrs[j]->capability != NULL && strcmp(env->intrs[j]->capability, c) == 0;
		if (c != NULL && !seen)
			fn(ctx, c);
	}
}

/* Pigeonhole's rule: an extension and its older, Dovecot-only or draft
 * form do not mix in one script */
static const char *const conflicts[][2] = {
	{ "imapflags", "imap4flags" },
	{ "vnd.dovecot.duplicate", "duplicate" },
	{ "notify", "enotify" },
};

/* parse_conflicting - what CAP, required now, conflicts with of what
 * was required before (and it is remembered as required), or NULL */
const char *
parse_conflicting(struct parser *p, const char *cap)
{
	const char *other = NULL;

	for (size_t i = 0; i < sizeof(conflicts) / sizeof(conflicts[0]); i++)
		for (int side = 0; side < 2; side++)
			if (strcmp(cap, conflicts[i][side]) == 0) {
				p->required_pairs |= 1u << (i * 2 + side);
				if (p->required_pairs & (1u << (i * 2 + !side)))
					other = conflicts[i][!side];
			}
	return other;
}

/* parse_enable - CAP is on from here (Sieve mode; MFL has them all) */
void
parse_enable(struct parser *p, const char *cap)
{
	if (p->sieve && !parse_has_cap(p, cap) && p->ncaps < PARSE_CAPS_MAX)
		p->caps[p->ncaps++] = cap;
	/* RFC 5235 3.2: spamtestplus brings spamtest with it; RFC 6131 2:
	 * vacation-seconds brings vacation (Roundcube requires it alone) */
	if (strcmp(cap, "spamtestplus") == 0)
		parse_enable(p, "spamtest");
	if (strcmp(cap, "vacation-seconds") == 0)
		parse_enable(p, "vacation");
	/* Pigeonhole's vnd.dovecot.environment extends environment */
	if (strcmp(cap, "vnd.dovecot.environment") == 0)
		parse_enable(p, "environment");
	/* the obsolete imapflags draft: its setflag, addflag and removeflag
	 * are imap4flags' (which comes on with it), plus mark and unmark */
	if (strcmp(cap, "imapflags") == 0)
		parse_enable(p, "imap4flags");
	/* Pigeonhole's name for duplicate before RFC 7352 */
	if (strcmp(cap, "vnd.dovecot.duplicate") == 0)
		parse_enable(p, "duplicate");
}

/* parse_ihave_capability - CAP (LEN) as ihave sees it: as
 * parse_capability, but never "variables" or "encoded-character",
 * which change how a script reads and so cannot be asked for at run
 * time (RFC 5463 4: ihave is false for them) */
const char *
parse_ihave_capability(const struct mfl_env *env, const char *s, size_t len)
{
	const char *cap = parse_capability(env, s, len);

	if (cap != NULL && (strcmp(cap, "variables") == 0 || strcmp(cap, "encoded-character") == 0))
		return NULL;
	return cap;
}

/* parse_require - turn on the capabilities in LIST (strings) */
int
parse_require(struct parser *p, struct ast *list, const struct token *at)
{
	int ok = 1;

	if (p->seen_command && p->sieve) {
		parse_error(p, at, "require must come before any other command");
		ok = 0;
	}
	for (size_t i = 0; i < list->nitems; i++) {
		const struct ast *s = list->items[i];
		const char *cap = parse_capability(p->env, s->str, s->len), *other;

		if (cap == NULL) {
			diag_error(p->diag, p->file, s->line, s->col,
				   "unknown capability \"%.*s\"",
				   (int) (s->len > 60 ? 60 : s->len), s->str);
			ok = 0;
			continue;
		}
		if (strcmp(cap, "encoded-character") == 0)
			p->encoded_character = 1;
		if (strcmp(cap, "extracttext") == 0 && p->extracttext_at.line == 0)
			p->extracttext_at.line = s->line, p->extracttext_at.col = s->col;
		if ((other = parse_conflicting(p, cap)) != NULL) {
			diag_error(p->diag, p->file, s->line, s->col,
				   "%s cannot be used together with %s", cap, other);
			ok = 0;
		}
		parse_enable(p, cap);
	}
	return ok;
}

/* encoded_hex - "${hex: 41 42}" bytes; -1 if not well formed */
static int
encoded_hex(const char *p, const char *end, struct buf *out)
{
	int any = 0;

	while (p < end) {
		unsigned v = 0;
		int n = 0;

		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			p++;
		if (p == end)
			break;
		while (p < end && n < 3) {
			int c = *p | 0x20;
			int d = (*p >= '0' && *p <= '9') ? *p - '0'
			    : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;

			if (d < 0)
				break;
			v = v * 16 + (unsigned) d;
			n++, p++;
		}
		if (n == 0 || n > 2 || (p < end && *p != ' ' && *p != '\t'
					&& *p != '\r' && *p != '\n'))
			return -1;
		buf_putc(out, (int) v);
		any = 1;
	}
	return any ? 0 : -1;
}

/* encoded_unicode - "${unicode: 263a}" as UTF-8; -1 if not well formed */
static int
encoded_unicode(const char *p, const char *end, struct buf *out)
{
	int any = 0;

	while (p < end) {
		unsigned long v = 0;
		int n = 0;

		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			p++;
		if (p == end)
			break;
		/* unicode-hex = 1*HEXDIG (RFC 5228 2.4.2.4): leading zeros
		 * are allowed; a value past U+10FFFF stays past it */
		while (p < end) {
			int c = *p | 0x20;
			int d = (*p >= '0' && *p <= '9') ? *p - '0'
			    : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;

			if (d < 0)
				break;
			v = v > 0x10ffff ? v : v * 16 + (unsigned long) d;
			n++, p++;
		}
		if (n == 0
		    || (p < end && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n'))
			return -1;
		if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
			return -2;	/* well formed, but no character */
		utf8_put(out, v);
		any = 1;
	}
	return any ? 0 : -1;
}

/* encoded_character - expand ${hex:..} and ${unicode:..} in S; -1 when
 * a ${unicode:..} names no Unicode scalar value (RFC 5228 2.4.2.4) */
static int
encoded_character(const char *s, size_t len, struct buf *out)
{
	int bad = 0;

	const char *p = s, *end = s + len;

	while (p < end) {
		const char *open = memchr(p, '$', (size_t) (end - p)), *close, *body;
		struct buf tmp = BUF_INIT;
		int unicode, ok;

		if (open == NULL || end - open < 2 || open[1] != '{') {
			buf_append(out, p, (size_t) ((open ? open + 1 : end) - p));
			p = open ? open + 1 : end;
			continue;
		}
		close = memchr(open, '}', (size_t) (end - open));
		body = open + 2;
		unicode = end - body >= 8 && strncasecmp(body, "unicode:", 8) == 0;
		if (close == NULL || (!unicode && !(end - body >= 4
		    && strncasecmp(body, "hex:", 4) == 0))) {
			buf_append(out, p, (size_t) (open + 1 - p));
			p = open + 1;
			continue;
		}
		body += unicode ? 8 : 4;
		ok = unicode ? encoded_unicode(body, close, &tmp) : encoded_hex(body, close, &tmp);
		if (ok == -2)
			bad = 1;
		if (ok == -1) {
			/* not an encoding: the "$" stands as written and what
			 * follows is read again, so "${hex:4${hex:30}}" is
			 * "${hex:40}" (RFC 5228 2.4.2.4, as Pigeonhole) */
			buf_free(&tmp);
			buf_append(out, p, (size_t) (open + 1 - p));
			p = open + 1;
			continue;
		}
		buf_append(out, p, (size_t) (open - p));
		if (ok == 0)
			buf_append(out, tmp.data, tmp.len);
		else
			buf_append(out, open, (size_t) (close + 1 - open));
		buf_free(&tmp);
		p = close + 1;
	}
	return bad ? -1 : 0;
}

/* parse_string - an A_STR for the string token TOK */
struct ast *
parse_string(struct parser *p, const struct token *tok)
{
	struct ast *node = parse_node(p, A_STR, tok);

	if (node == NULL)
		return NULL;
	node->str = tok->text;
	node->len = tok->len;
	if (p->encoded_character && memchr(tok->text, '$', tok->len) != NULL) {
		struct buf out = BUF_INIT;

		if (encoded_character(tok->text, tok->len, &out) < 0)
			parse_error(p, tok, "${unicode:...} names a code point that is not a character");
		node->str = arena_memdup(p->arena, out.data ? out.data : "", out.len);
		node->len = out.len;
		buf_free(&out);
		if (node->str == NULL)
			return NULL;
	}
	/* RFC 5229 3: with variables, "${name}" in a Sieve string is a
	 * reference; the compiler joins the pieces when the test runs */
	if (p->sieve && parse_has_cap(p, "variables")) {
		size_t pos = 0, start, name_len;
		const char *name;

		if (var_ref_next(node->str, node->len, &pos, &start, &name, &name_len)) {
			node->kind = A_INTERP;
			/* ${env.NAME} is a reference only with this */
			node->op = parse_has_cap(p, "vnd.dovecot.environment");
		}
	}
	return node;
}

/* find_tag - the tag NAME in TAGS, or NULL */
static const struct intr_tag *
find_tag(const struct intr_tag *tags, const char *name, size_t len)
{
	for (; tags != NULL && tags->name != NULL; tags++)
		if (strlen(tags->name) == len && strncasecmp(tags->name, name, len) == 0)
			return tags;
	return NULL;
}

/* tag_def - what the tag at TOK means for INTR, or NULL */
static const struct intr_tag *
tag_def(const struct intrinsic *intr, const struct token *tok)
{
	const struct intr_tag *t = find_tag(intr->tags, tok->text, tok->len);

	if (t == NULL && (intr->flags & INTR_F_MATCH))
		t = find_tag(intr_match_tags, tok->text, tok->len);
	if (t == NULL && (intr->flags & INTR_F_ADDRPART))
		t = find_tag(intr_addrpart_tags, tok->text, tok->len);
	return t;
}

/* check_comparator - a known comparator, required if it must be */
static int
check_comparator(struct parser *p, const struct ast *arg)
{
	int cmp;

	if (arg->kind != A_STR)
		return 0;	/* the compiler says it must be constant */
	cmp = comparator_find(arg->str, arg->len);
	if (cmp < 0 || !parse_has_cap(p, comparator_capability(cmp))) {
		diag_error(p->diag, p->file, arg->line, arg->col,
			   "unknown comparator \"%.*s\"%s",
			   (int) (arg->len > 60 ? 60 : arg->len), arg->str,
			   cmp >= 0 ? " (require its capability first)" : "");
		return -1;
	}
	return 0;
}

/* intr_max_positional - how many positional arguments INTR can take */
size_t
intr_max_positional(const struct intrinsic *intr)
{
	size_t n = 0;

	for (const char *a = intr->args; *a; a++) {
		if (*a == '*')
			return (size_t) -1;
		if (*a != '?')
			n++;
	}
	return n;
}

/* parse_sieve_args - tags and positional arguments of a command or test */
int
parse_sieve_args(struct parser *p, struct ast *node,
		 struct ast *(*positional)(struct parser *p), size_t max_pos)
{
	const struct intrinsic *intr = node->intr;
	size_t npos = 0;

	for (;;) {
		if (p->tok.kind == T_TAG) {
			const struct intr_tag *def = tag_def(intr, &p->tok);
			struct sieve_tag *tags;

			if (def == NULL) {
				parse_error(p, &p->tok, "unknown tag ':%.*s' for %s",
					    (int) (p->tok.len > 40 ? 40 : p->tok.len),
					    p->tok.text, intr->name);
				return -1;
			}
			if (!parse_has_cap(p, def->capability)) {
				parse_error(p, &p->tok, "tag ':%s' needs require \"%s\"",
					    def->name, def->capability);
				return -1;
			}
			if (npos > 0 && p->sieve) {
				parse_error(p, &p->tok, "tag ':%s' after positional arguments",
					    def->name);
				return -1;
			}
			tags = arena_alloc(p->arena, (node->ntags + 1) * sizeof(*tags));
			if (tags == NULL)
				return -1;
			if (node->ntags)
				memcpy(tags, node->tags, node->ntags * sizeof(*tags));
			node->tags = tags;
			tags += node->ntags++;
			memset(tags, 0, sizeof(*tags));
			tags->name = def->name;
			tags->len = strlen(def->name);
			tags->line = p->tok.line;
			tags->col = p->tok.col;
			tags->def = def;
			parse_advance(p);
			if (def->arg != TAGARG_NONE) {
				p->arg_mode++;
				tags->arg = positional(p);
				p->arg_mode--;
				if (tags->arg == NULL)
					return -1;
			}
			if (def->group == TG_COMPARATOR && check_comparator(p, tags->arg) < 0)
				return -1;
			continue;
		}
		if (npos >= max_pos)
			break;
		if (p->tok.kind != T_STRING && p->tok.kind != T_NUMBER
		    && p->tok.kind != T_LBRACKET && (p->sieve
			|| (p->tok.kind != T_VAR && p->tok.kind != T_LPAREN
			    && p->tok.kind != T_MINUS && p->tok.kind != T_NOT)))
			break;
		{
			struct ast *arg;

			p->arg_mode++;
			arg = positional(p);
			p->arg_mode--;
			if (arg == NULL || ast_push(p->arena, node, arg) < 0)
				return -1;
			npos++;
		}
	}
	return 0;
}
