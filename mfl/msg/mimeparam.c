/*
 * mimeparam - parse "token *(; attribute=value)" header values:
 * Content-Type (RFC 2045 5.1) and Content-Disposition (RFC 2183), with
 * RFC 2231 continuations ("name*0", "name*1*") and charset'language'
 * percent-encoded values.
 *
 * Real mail is forgiving here: an unquoted value runs to the next ';'
 * whatever it contains (boundaries like "----=_NextPart" are everywhere),
 * a quoted value may lack its closing quote, and junk between parameters
 * is skipped. The first occurrence of a repeated parameter wins.
 *
 * Limits: at most MIME_PARAM_MAX parameters are read, and a continuation
 * number above 999 is ignored, so a hostile header costs linear time.
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
#include "charset.h"
#include "codec.h"
#include "mimeparam.h"
#include "str.h"

#define SECTION_MAX	999

/* One "name[*N][*]=value" as written. */
struct raw_param {
	const char *name;	/* base name, no "*" parts */
	size_t name_len;
	int section;		/* -1 when not continued */
	int extended;		/* value is charset'lang'%XX */
	const char *value;
	size_t value_len;
	int quoted;		/* value still has its quotes and escapes */
	int used;
};

/* skip_cfws - past white space and comments */
static const char *
skip_cfws(const char *p, const char *end)
{
	while (p < end) {
		if (is_wsp(*p) || *p == '\r' || *p == '\n') {
			p++;
		} else if (*p == '(') {
			p = rfc822_skip_comment(p, end);
		} else {
			break;
		}
	}
	return p;
}

/* split_name - base name, section and extended flag of a parameter */
static void
split_name(struct raw_param *rp, const char *name, size_t len)
{
	const char *star = memchr(name, '*', len);

	rp->name = name;
	rp->name_len = len;
	rp->section = -1;
	rp->extended = 0;
	if (star == NULL)
		return;
	rp->name_len = (size_t) (star - name);
	if (name[len - 1] == '*') {
		rp->extended = 1;
		len--;
	}
	if (star < name + len) {	/* "*N" */
		const char *d = star + 1;
		long n = 0;

		for (; d < name + len && *d >= '0' && *d <= '9' && n <= SECTION_MAX; d++)
			n = n * 10 + (*d - '0');
		rp->section = d == name + len && d > star + 1 && n <= SECTION_MAX
		    ? (int) n : SECTION_MAX + 1;
	}
}

/* read_value - the value at P: quoted string or text up to ';' */
static const char *
read_value(struct raw_param *rp, const char *p, const char *end)
{
	if (p < end && *p == '"') {
		const char *q = p + 1;

		while (q < end && *q != '"') {
			if (*q == '\\' && q + 1 < end)
				q++;
			q++;
		}
		rp->value = p + 1;
		rp->value_len = (size_t) ((q < end ? q : end) - rp->value);
		rp->quoted = 1;
		return q < end ? q + 1 : end;
	} else {
		const char *semi = memchr(p, ';', (size_t) (end - p));
		struct str v = str_trim(p, (size_t) ((semi ? semi : end) - p));

		rp->value = v.ptr;
		rp->value_len = v.len;
		rp->quoted = 0;
		return semi ? semi : end;
	}
}

/* unquote - append a quoted string's contents, escapes undone */
static void
unquote(const char *p, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\\' && i + 1 < len)
			i++;
		else if (p[i] == '\r' || p[i] == '\n')
			continue;
		buf_putc(out, (unsigned char) p[i]);
	}
}

/* percent_decode - append RFC 2231 %XX-encoded text */
static void
percent_decode(const char *p, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (p[i] == '%' && i + 2 < len
		    && (hi = hex_value((unsigned char) p[i + 1])) >= 0
		    && (lo = hex_value((unsigned char) p[i + 2])) >= 0) {
			buf_putc(out, hi * 16 + lo);
			i += 2;
		} else {
			buf_putc(out, (unsigned char) p[i]);
		}
	}
}

/* section_text - append one raw section's bytes; charset from section 0 */
static void
section_text(const struct raw_param *rp, int first, struct buf *out,
	     struct str *charset)
{
	const char *v = rp->value;
	size_t len = rp->value_len;

	if (!rp->extended) {
		if (rp->quoted)
			unquote(v, len, out);
		else
			buf_append(out, v, len);
		return;
	}
	if (first) {			/* charset'language'text */
		const char *q1 = memchr(v, '\'', len), *q2 = NULL;

		if (q1 != NULL)
			q2 = memchr(q1 + 1, '\'', (size_t) (v + len - q1 - 1));
		if (q2 != NULL) {
			charset->ptr = v;
			charset->len = (size_t) (q1 - v);
			len -= (size_t) (q2 + 1 - v);
			v = q2 + 1;
		}
	}
	percent_decode(v, len, out);
}

/* assemble - value of parameter RAW[I] and its continuations, as UTF-8 */
static int
assemble(struct arena *arena, struct raw_param *raw, size_t n, size_t i,
	 struct mime_param *param)
{
	struct buf bytes = BUF_INIT, out = BUF_INIT;
	struct str charset = { NULL, 0 };
	int ret = -1;

	if (raw[i].section < 0) {
		raw[i].used = 1;
		section_text(&raw[i], 1, &bytes, &charset);
	} else {
		/* sections 0, 1, 2 ... in order, whatever order they came in */
		for (int s = 0; s <= SECTION_MAX; s++) {
			size_t k;

			for (k = i; k < n; k++)
				if (!raw[k].used && raw[k].section == s
				    && raw[k].name_len == raw[i].name_len
				    && mem_ieq(raw[k].name, raw[i].name, raw[i].name_len))
					break;
			if (k == n)
				break;
			raw[k].used = 1;
			section_text(&raw[k], s == 0, &bytes, &charset);
		}
	}
	if (charset.len == 0 || charset_to_utf8(charset.ptr, charset.len,
			    bytes.data ? bytes.data : "", bytes.len, &out) < 0) {
		buf_reset(&out);
		if (charset.len > 0)
			utf8_repair(bytes.data ? bytes.data : "", bytes.len, &out);
		else
			buf_append(&out, bytes.data ? bytes.data : "", bytes.len);
	}
	if (!bytes.failed && !out.failed) {
		param->value = arena_memdup(arena, out.data ? out.data : "", out.len);
		param->value_len = out.len;
		ret = param->value != NULL ? 0 : -1;
	}
	buf_free(&bytes);
	buf_free(&out);
	return ret;
}

/* lower_dup - lower-cased copy of a name */
static char *
lower_dup(struct arena *arena, const char *p, size_t len)
{
	char *s = arena_memdup(arena, p, len);

	if (s != NULL)
		for (size_t i = 0; i < len; i++)
			s[i] = (char) ascii_lower((unsigned char) s[i]);
	return s;
}

/* read_params - the raw parameters after the first ';' */
static size_t
read_params(const char *p, const char *end, struct raw_param *raw, size_t max)
{
	size_t n = 0;

	while (p < end && n < max) {
		const char *name, *eq, *semi;
		struct str nm;

		p = skip_cfws(p, end);
		if (p < end && *p == ';') {
			p++;
			continue;
		}
		name = p;
		eq = memchr(p, '=', (size_t) (end - p));
		semi = memchr(p, ';', (size_t) (end - p));
		if (eq == NULL || (semi != NULL && semi < eq)) {
			if (semi == NULL)	/* no more "name=value" */
				break;
			p = semi + 1;
			continue;
		}
		nm = str_trim(name, (size_t) (eq - name));
		p = skip_cfws(eq + 1, end);
		if (nm.len == 0) {
			p = read_value(&raw[n], p, end);
			continue;
		}
		split_name(&raw[n], nm.ptr, nm.len);
		raw[n].used = 0;
		p = read_value(&raw[n], p, end);
		n++;
	}
	return n;
}

/* mime_param_parse - leading token and parameters of a field value */
int
mime_param_parse(struct arena *arena, const char *text, size_t len,
		 const char **token_r, struct mime_param **params_r,
		 size_t *count_r)
{
	const char *end = text + len, *p = skip_cfws(text, end);
	const char *semi = memchr(p, ';', (size_t) (end - p));
	struct raw_param *raw;
	struct mime_param *params;
	struct str tok;
	size_t n, max = 1, count = 0;

	*params_r = NULL;
	*count_r = 0;
	tok = str_trim(p, (size_t) ((semi ? semi : end) - p));
	/* A comment may follow the token: "text/plain (comment)". */
	for (size_t i = 0; i < tok.len; i++)
		if (tok.ptr[i] == '(' || is_wsp(tok.ptr[i])) {
			tok.len = i;
			break;
		}
	if ((*token_r = lower_dup(arena, tok.ptr, tok.len)) == NULL)
		goto nomem;
	if (semi == NULL)
		return 0;
	/* each parameter but the first follows a ';' of its own */
	for (const char *s = semi + 1; s < end && max < MIME_PARAM_MAX; s++)
		if (*s == ';' || *s == '=')
			max++;
	if ((raw = calloc(max, sizeof(*raw))) == NULL)
		goto nomem;
	n = read_params(semi + 1, end, raw, max);
	if (n > 0 && (params = arena_alloc(arena, n * sizeof(*params))) == NULL) {
		free(raw);
		goto nomem;
	}
	for (size_t i = 0; i < n; i++) {
		if (raw[i].used || raw[i].section > SECTION_MAX)
			continue;
		params[count].name = lower_dup(arena, raw[i].name, raw[i].name_len);
		if (params[count].name == NULL
		    || assemble(arena, raw, n, i, &params[count]) < 0) {
			free(raw);
			goto nomem;
		}
		/* a repeated name: the first one wins */
		if (mime_param_get(params, count, params[count].name) == NULL)
			count++;
	}
	free(raw);
	*params_r = count > 0 ? params : NULL;
	*count_r = count;
	return 0;
nomem:
	errno = ENOMEM;
	return -1;
}

/* mime_param_get - value of parameter NAME (lower case), or NULL */
const char *
mime_param_get(const struct mime_param *params, size_t count,
	       const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(params[i].name, name) == 0)
			return params[i].value;
	return NULL;
}
