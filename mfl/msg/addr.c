/*
 * addr - parse RFC 5322 address lists, including section 4.4's obsolete
 * forms: phrases with dots, source routes, CFWS around dots and "@",
 * empty list elements, groups (empty ones too), comments anywhere.
 *
 * The text is first cut into tokens (atoms, quoted strings, domain
 * literals, specials; comments dropped), then addresses are read off the
 * token list. Deployed mail breaks every rule, so nothing is refused: a
 * missing ">" ends at the next comma, a missing domain leaves domain NULL,
 * and an element that is no address at all comes back flagged
 * ADDR_F_INVALID with its raw text, for the caller to treat as it must
 * (Sieve's address test compares such a value with :all only).
 *
 * The local part is kept unquoted; addr_spec() quotes it again where
 * RFC 5322 needs it. Display names are RFC 2047-decoded to UTF-8.
 *
 * DIAGNOSTICS: -1 with errno ENOMEM when the arena is full.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "arena.h"
#include "buf.h"
#include "rfc2047.h"
#include "str.h"

enum tok_type { TOK_ATOM, TOK_QSTR, TOK_DLIT, TOK_SPECIAL };

struct tok {
	enum tok_type type;
	const char *ptr;	/* the text (unquoted for TOK_QSTR) */
	size_t len;
	const char *src;	/* where it stands in the input */
	const char *src_end;
	int space_before;	/* white space or a comment before it */
};

struct tokens {
	struct tok *v;
	size_t n, cap;
};

struct parse {
	struct arena *arena;
	struct tokens toks;
	struct addr *list;
	size_t count, cap;
	const char *group;
};

/* is_atext - RFC 5322 atext, plus 8-bit bytes (RFC 6532) and stray '\' */
static int
is_atext(unsigned char c)
{
	if (c >= 0x80)
		return 1;
	if (c <= ' ' || c == 127)
		return 0;
	return strchr("()<>[]:;@,.\"", c) == NULL;
}

/* tok_push - append a token; -1 when out of memory */
static int
tok_push(struct tokens *t, struct tok tok)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct tok *v = realloc(t->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = tok;
	return 0;
}

/* rfc822_skip_comment - past the (nested) RFC 5322 comment at P */
const char *
rfc822_skip_comment(const char *p, const char *end)
{
	int depth = 0;

	for (; p < end; p++) {
		if (*p == '\\' && p + 1 < end)
			p++;
		else if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			return p + 1;
	}
	return end;
}

/* lex_qstr - quoted string at P, unquoted into the arena */
static const char *
lex_qstr(struct parse *ps, const char *p, const char *end, struct tok *tok)
{
	const char *q = p + 1;
	char *out, *o;

	if ((out = arena_alloc(ps->arena, (size_t) (end - p) + 1)) == NULL)
		return NULL;
	o = out;
	for (; q < end && *q != '"'; q++) {
		if (*q == '\\' && q + 1 < end)
			q++;
		else if (*q == '\r' || *q == '\n')
			continue;	/* folded quoted string */
		*o++ = *q;
	}
	*o = 0;
	tok->type = TOK_QSTR;
	tok->ptr = out;
	tok->len = (size_t) (o - out);
	return q < end ? q + 1 : end;
}

/* lex - cut TEXT into tokens */
static int
lex(struct parse *ps, const char *p, const char *end)
{
	int space = 0;

	while (p < end) {
		unsigned char c = (unsigned char) *p;
		struct tok tok = { TOK_SPECIAL, p, 1, p, NULL, space };

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			p++, space = 1;
			continue;
		}
		if (c == '(') {
			p = rfc822_skip_comment(p, end), space = 1;
			continue;
		}
		if (c == '"') {
			if ((p = lex_qstr(ps, p, end, &tok)) == NULL)
				return -1;
		} else if (c == '[') {
			const char *close = memchr(p, ']', (size_t) (end - p));

			tok.type = TOK_DLIT;
			p = close != NULL ? close + 1 : end;
			tok.len = (size_t) (p - tok.ptr);
		} else if (is_atext(c)) {
			while (p < end && is_atext((unsigned char) *p))
				p++;
			tok.type = TOK_ATOM;
			tok.len = (size_t) (p - tok.ptr);
		} else {
			p++;
		}
		tok.src_end = p;
		if (tok_push(&ps->toks, tok) < 0)
			return -1;
		space = 0;
	}
	return 0;
}

/* is_special - token is the special character C */
static int
is_special(const struct tok *t, int c)
{
	return t->type == TOK_SPECIAL && *t->ptr == c;
}

/* join - tokens [A, B) as text: words spaced as in the input */
static char *
join(struct parse *ps, size_t a, size_t b, int keep_space)
{
	struct buf out = BUF_INIT;
	char *s;

	for (size_t i = a; i < b; i++) {
		const struct tok *t = &ps->toks.v[i];

		if (keep_space && i > a && t->space_before)
			buf_putc(&out, ' ');
		buf_append(&out, t->ptr, t->len);
	}
	s = out.failed ? NULL : arena_memdup(ps->arena, out.data ? out.data : "", out.len);
	buf_free(&out);
	return s;
}

/* phrase - display name from tokens [A, B), decoded, or NULL if none */
static int
phrase(struct parse *ps, size_t a, size_t b, const char **name_r)
{
	struct buf out = BUF_INIT;
	char *joined;

	*name_r = NULL;
	if (a >= b)
		return 0;
	if ((joined = join(ps, a, b, 1)) == NULL)
		return -1;
	rfc2047_decode(joined, strlen(joined), &out);
	*name_r = out.failed ? NULL : arena_memdup(ps->arena, out.data ? out.data : "", out.len);
	buf_free(&out);
	return *name_r == NULL ? -1 : 0;
}

/* add - a new address for tokens [A, B); NULL when out of memory */
static struct addr *
add(struct parse *ps, size_t a, size_t b)
{
	struct addr *addr;

	if (ps->count == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 4;
		struct addr *list = arena_alloc(ps->arena, cap * sizeof(*list));

		if (list == NULL)
			return NULL;
		if (ps->count > 0)
			memcpy(list, ps->list, ps->count * sizeof(*list));
		ps->list = list;
		ps->cap = cap;
	}
	addr = &ps->list[ps->count++];
	memset(addr, 0, sizeof(*addr));
	addr->group = ps->group;
	if (a < b) {
		addr->raw = ps->toks.v[a].src;
		addr->raw_len = (size_t) (ps->toks.v[b - 1].src_end - addr->raw);
	} else {
		addr->raw = "";
	}
	return addr;
}

/* addr_spec_tokens - local "@" domain from tokens [A, B) into ADDR */
static int
addr_spec_tokens(struct parse *ps, size_t a, size_t b, struct addr *addr)
{
	size_t at = b;

	for (size_t i = a; i < b; i++)
		if (is_special(&ps->toks.v[i], '@'))
			at = i;
	/* local-part = dot-atom / quoted-string / obs-local-part: words
	 * separated by dots; two words side by side make no address. */
	for (size_t i = a; i < at; i++) {
		const struct tok *t = &ps->toks.v[i];
		int word = t->type == TOK_ATOM || t->type == TOK_QSTR;

		if (!word && !is_special(t, '.'))
			addr->flags |= ADDR_F_INVALID;
		if (word && i > a && ps->toks.v[i - 1].type != TOK_SPECIAL)
			addr->flags |= ADDR_F_INVALID;
	}
	if ((addr->local = join(ps, a, at, 0)) == NULL)
		return -1;
	if (at == b)
		return 0;		/* no domain */
	for (size_t i = at + 1; i < b; i++) {
		const struct tok *t = &ps->toks.v[i];

		if (t->type == TOK_QSTR || (t->type == TOK_SPECIAL
		    && !is_special(t, '.')))
			addr->flags |= ADDR_F_INVALID;
	}
	if ((addr->domain = join(ps, at + 1, b, 0)) == NULL)
		return -1;
	if (at == a || at + 1 == b)
		addr->flags |= ADDR_F_INVALID;
	return 0;
}

/* angle_addr - "<" [obs-route] addr-spec ">" from token I; next token */
static int
angle_addr(struct parse *ps, size_t phrase_start, size_t lt, size_t *next_r)
{
	size_t n = ps->toks.n, gt = lt + 1, spec = lt + 1, stop;
	struct addr *addr;

	while (gt < n && !is_special(&ps->toks.v[gt], '>'))
		gt++;
	stop = gt;
	if (gt == n) {			/* no ">": end at the next comma */
		for (stop = lt + 1; stop < n; stop++)
			if (is_special(&ps->toks.v[stop], ','))
				break;
	}
	/* obs-route: "@a,@b:" before the address proper */
	if (spec < stop && is_special(&ps->toks.v[spec], '@')) {
		for (size_t i = spec; i < stop; i++) {
			if (is_special(&ps->toks.v[i], ':')) {
				spec = i + 1;
				break;
			}
		}
	}
	if ((addr = add(ps, phrase_start, gt < n ? gt + 1 : stop)) == NULL)
		return -1;
	if (spec != lt + 1)
		addr->flags |= ADDR_F_ROUTE;
	if (gt == n)
		addr->flags |= ADDR_F_UNCLOSED;
	if (phrase(ps, phrase_start, lt, &addr->name) < 0)
		return -1;
	if (spec == stop) {
		addr->local = "";
		addr->flags |= ADDR_F_NULL;
	} else if (addr_spec_tokens(ps, spec, stop, addr) < 0) {
		return -1;
	}
	/* Whatever follows ">" up to the end of the element is junk. */
	for (stop = gt < n ? gt : stop; stop < n; stop++)
		if (is_special(&ps->toks.v[stop], ',')
		    || is_special(&ps->toks.v[stop], ';'))
			break;
	*next_r = stop;
	return 0;
}

/* element - one mailbox, group start or group end from token I */
static int
element(struct parse *ps, size_t i, size_t *next_r)
{
	size_t n = ps->toks.n, j;
	struct addr *addr;

	for (j = i; j < n; j++) {
		const struct tok *t = &ps->toks.v[j];

		if (is_special(t, ',') || is_special(t, ';')
		    || is_special(t, '<') || is_special(t, ':'))
			break;
	}
	if (j < n && is_special(&ps->toks.v[j], '<'))
		return angle_addr(ps, i, j, next_r);
	if (j < n && is_special(&ps->toks.v[j], ':') && ps->group == NULL) {
		const char *name;

		if (phrase(ps, i, j, &name) < 0)
			return -1;
		ps->group = name != NULL ? name : "";
		*next_r = j + 1;
		return 0;
	}
	if (j < n && is_special(&ps->toks.v[j], ':')) {
		/* a group inside a group: not an address */
		while (j < n && !is_special(&ps->toks.v[j], ',')
		       && !is_special(&ps->toks.v[j], ';'))
			j++;
		if ((addr = add(ps, i, j)) == NULL)
			return -1;
		addr->flags |= ADDR_F_INVALID;
		addr->local = "";
		*next_r = j;
		return 0;
	}
	if (j > i) {
		if ((addr = add(ps, i, j)) == NULL
		    || addr_spec_tokens(ps, i, j, addr) < 0)
			return -1;
	}
	*next_r = j;
	return 0;
}

/* addr_parse_list - the addresses in TEXT; 0, or -1 when out of memory */
int
addr_parse_list(struct arena *arena, const char *text, size_t len,
		struct addr **list_r, size_t *count_r)
{
	struct parse ps = { arena, { NULL, 0, 0 }, NULL, 0, 0, NULL };
	size_t i = 0;
	int ret = -1;

	if (lex(&ps, text, text + len) < 0)
		goto out;
	while (i < ps.toks.n) {
		const struct tok *t = &ps.toks.v[i];

		if (is_special(t, ',')) {
			i++;
		} else if (is_special(t, ';')) {
			ps.group = NULL;
			i++;
		} else if (element(&ps, i, &i) < 0) {
			goto out;
		}
	}
	*list_r = ps.list;
	*count_r = ps.count;
	ret = 0;
out:
	free(ps.toks.v);
	if (ret < 0)
		errno = ENOMEM;
	return ret;
}

/* needs_quotes - local part that is not a dot-atom (RFC 5322 3.4.1) */
static int
needs_quotes(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || s[0] == '.' || s[len - 1] == '.' || strstr(s, ".."))
		return len > 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] != '.' && !is_atext((unsigned char) s[i]))
			return 1;
	return 0;
}

/* addr_spec - append "local@domain", quoting the local part if needed */
void
addr_spec(const struct addr *addr, struct buf *out)
{
	if (needs_quotes(addr->local)) {
		buf_putc(out, '"');
		for (const char *s = addr->local; *s; s++) {
			if (*s == '"' || *s == '\\')
				buf_putc(out, '\\');
			buf_putc(out, *s);
		}
		buf_putc(out, '"');
	} else {
		buf_puts(out, addr->local);
	}
	if (addr->domain != NULL) {
		buf_putc(out, '@');
		buf_puts(out, addr->domain);
	}
}

/* addr_detail - split LOCAL at the first separator (RFC 5233); 1 if found */
int
addr_detail(const char *local, size_t len, const char *separators,
	    size_t *user_len_r, const char **detail_r, size_t *detail_len_r)
{
	for (size_t i = 0; i < len; i++) {
		if (local[i] != 0 && strchr(separators, local[i]) != NULL) {
			*user_len_r = i;
			*detail_r = local + i + 1;
			*detail_len_r = len - i - 1;
			return 1;
		}
	}
	*user_len_r = len;
	*detail_r = NULL;
	*detail_len_r = 0;
	return 0;
}

/* path_domain_ok - a domain of an SMTP path: dot-separated labels of
 * letters, digits, '-', '_' (hostnames in the wild have them) and UTF-8,
 * none empty; or an address literal */
static int
path_domain_ok(const char *d, size_t len)
{
	size_t label = 0;

	if (len >= 2 && d[0] == '[')
		return d[len - 1] == ']';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) d[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (ascii_isalpha(c) || ascii_isdigit(c) || c == '-' || c == '_' || c >= 0x80) {
			label++;
		} else {
			return 0;
		}
	}
	return len > 0 && label > 0;
}

/* path_atext - RFC 5322 atext (and UTF-8, RFC 6531), or '.' */
static int
path_atext(unsigned char c)
{
	return ascii_isalpha(c) || ascii_isdigit(c) || c >= 0x80 || c == '.'
	    || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* addr_parse_path - an SMTP path as MTAs hand it over (RFC 5321 4.1.2:
 * "<" [source route ":"] mailbox ">", the brackets optional, a local
 * part alone allowed, a source route ignored) into *OUT; -1 when it is
 * not one: stray or doubled brackets, a bad route, a local part with
 * spaces or specials, an "@" without a domain, two "@" */
int
addr_parse_path(struct arena *arena, const char *s, size_t len, struct addr *out)
{
	const char *p = s, *end = s + len, *local;
	struct buf unq = BUF_INIT;

	memset(out, 0, sizeof(*out));
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (p < end && *p == '<') {
		if (end - p < 2 || end[-1] != '>')
			return -1;
		p++, end--;
	}
	if (memchr(p, '<', (size_t) (end - p)) || memchr(p, '>', (size_t) (end - p)))
		return -1;
	if (p < end && *p == '@') {	/* "@a,@b:" */
		const char *colon = memchr(p, ':', (size_t) (end - p));

		if (colon == NULL)
			return -1;
		while (p < colon) {
			const char *e = ++p;

			if (p[-1] != '@')
				return -1;
			while (e < colon && *e != ',')
				e++;
			if (!path_domain_ok(p, (size_t) (e - p)) || (e < colon && e + 1 == colon))
				return -1;
			p = e < colon ? e + 1 : e;
		}
		p = colon + 1;
	}
	local = p;
	if (p < end && *p == '"') {	/* quoted-string */
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < end)
				p++;
			buf_putc(&unq, *p);
		}
		if (p == end)
			return buf_free(&unq), -1;
		p++;
	} else {
		while (p < end && path_atext((unsigned char) *p))
			buf_putc(&unq, *p++);
	}
	if (p == local || (p < end && *p != '@')
	    || (p < end && !path_domain_ok(p + 1, (size_t) (end - p - 1)))) {
		buf_free(&unq);
		return -1;
	}
	out->local = arena_memdup(arena, unq.data ? unq.data : "", unq.len);
	out->domain = p < end ? arena_memdup(arena, p + 1, (size_t) (end - p - 1)) : NULL;
	out->raw = s;
	out->raw_len = len;
	buf_free(&unq);
	return out->local == NULL || (p < end && out->domain == NULL) ? -1 : 0;
}
