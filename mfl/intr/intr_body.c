/*
 * intr_body - RFC 5173 body: the message body against the keys, as it
 * travels (:raw), or as the text of the MIME parts whose content type
 * is asked for (:content), or of the text parts (:text, the default).
 *
 * Parts are found by the MIME tree of mime.c; a part's text is its
 * transfer encoding undone and its charset converted to UTF-8. Only
 * leaves carry content: a multipart's preamble and epilogue are not
 * tested. Each part's text is one value, so :is and :matches compare a
 * whole part, :contains searches it, and :count counts parts.
 *
 * DIAGNOSTICS: runtime errors when the budget (each byte searched is
 * charged) or memory runs out.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "compile.h"
#include "msg/buf.h"
#include "msg/mime.h"
#include "msg/msg.h"
#include "msg/str.h"
#include "prog.h"
#include "tmatch.h"

enum { BODY_RAW, BODY_CONTENT, BODY_TEXT };

static const struct intr_tag body_tags[] = {
	{ .name = "raw", .group = TG_TRANSFORM, .id = BODY_RAW },
	{ .name = "content", .arg = TAGARG_STRLIST, .group = TG_TRANSFORM, .id = BODY_CONTENT },
	{ .name = "text", .group = TG_TRANSFORM, .id = BODY_TEXT },
	{ .name = NULL }
};

/* strcasestr_n - WORD (lower case) in the LEN bytes at S, any case;
 * the byte after it, or NULL */
static const char *
strcasestr_n(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);

	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp(s + i, word, n) == 0)
			return s + i + n - 1;
	return NULL;
}

/* type_wanted - PART's content type is one of TYPES: "" is any,
 * "text" any text subtype, "text/plain" that one (RFC 5173 5.2) */
static int
type_wanted(const struct mime_part *part, const struct value *types, size_t n)
{
	size_t tlen = strlen(part->type);

	for (size_t i = 0; i < n; i++) {
		const char *t = types[i].u.s.ptr, *slash;
		size_t len = types[i].u.s.len;

		if (len == 0)
			return 1;
		if ((slash = memchr(t, '/', len)) == NULL) {
			if (str_ieq_cstr(t, len, part->type))
				return 1;
			continue;
		}
		/* "type/sub/more" is no content type: it names nothing */
		if (memchr(slash + 1, '/', len - (size_t) (slash - t) - 1) != NULL)
			continue;
		if ((size_t) (slash - t) == tlen && mem_ieq(t, part->type, tlen)
		    && str_ieq_cstr(slash + 1, len - tlen - 1, part->subtype))
			return 1;
	}
	return 0;
}

/* type_named - PART's type is named in TYPES ("" does not count) */
static int
type_named(const struct mime_part *part, const struct value *types, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (types[i].u.s.len > 0 && type_wanted(part, &types[i], 1))
			return 1;
	return 0;
}

/* delimiter - where the line "--BOUNDARY" (FINAL: "--BOUNDARY--")
 * starts in BODY (LEN), from FROM; NULL if nowhere */
static const char *
delimiter(const char *body, size_t len, size_t from, const char *boundary, int final)
{
	size_t blen = strlen(boundary);

	for (size_t i = from; i + 2 + blen <= len; i++) {
		if (i > 0 && body[i - 1] != '\n')
			continue;
		if (body[i] != '-' || body[i + 1] != '-' || memcmp(body + i + 2, boundary, blen) != 0)
			continue;
		if (!final || (i + 4 + blen <= len && body[i + 2 + blen] == '-'
			       && body[i + 3 + blen] == '-'))
			return body + i;
	}
	return NULL;
}

/* container_values - what :content matches in a part that holds others
 * (RFC 5173 5.2): a multipart's prologue and epilogue, a
 * message/rfc822's header */
static int
container_values(struct tmatch *tm, const struct mime_part *part)
{
	int m = 0;

	if (mime_is_multipart(part)) {
		const char *boundary = mime_part_param(part, "boundary"), *first, *last, *eol;
		size_t n;

		if (boundary == NULL)
			return 0;
		if ((first = delimiter(part->body, part->body_len, 0, boundary, 0)) != NULL) {
			n = (size_t) (first - part->body);
			while (n > 0 && (part->body[n - 1] == '\n' || part->body[n - 1] == '\r'))
				n--;
			m = tmatch_one(tm, part->body, n);
		}
		if (m == 0 && (last = delimiter(part->body, part->body_len, 0, boundary, 1)) != NULL
		    && (eol = memchr(last, '\n', part->body_len - (size_t) (last - part->body))) != NULL)
			m = tmatch_one(tm, eol + 1, part->body_len - (size_t) (eol + 1 - part->body));
		return m;
	}
	if (part->child != NULL && strcmp(part->type, "message") == 0
	    && part->child->body >= part->child->start) {
		const char *h = part->child->start;
		size_t n = (size_t) (part->child->body - h);

		/* the header fields, each with its line end, not the empty
		 * line after them (as Pigeonhole matches it) */
		if (n >= 4 && memcmp(h + n - 4, "\r\n\r\n", 4) == 0)
			n -= 2;
		else if (n >= 2 && h[n - 1] == '\n' && h[n - 2] == '\n')
			n -= 1;
		return tmatch_one(tm, h, n);
	}
	return 0;
}

/* body_parts - each leaf part of the wanted types against the keys,
 * and the parts that hold others when their type is named */
static int
body_parts(struct tmatch *tm, struct mime_part *part, const struct value *types,
	   size_t ntypes)
{
	int m = 0;

	if (part->child != NULL) {
		if (type_named(part, types, ntypes))
			m = container_values(tm, part);
		for (struct mime_part *c = part->child; c != NULL && m == 0; c = c->next)
			m = body_parts(tm, c, types, ntypes);
		return m;
	}
	if (type_wanted(part, types, ntypes)) {
		struct buf scratch = BUF_INIT;
		const char *text;
		size_t len;

		if (mime_part_text_view(part, &scratch, &text, &len) < 0) {
			buf_free(&scratch);
			return run_error(tm->run, tm->site, "out of memory");
		}
		m = tmatch_one(tm, text, len);
		buf_free(&scratch);
	}
	return m;
}

/* html_text - the text of HTML (LEN bytes) onto OUT: tags, comments,
 * scripts and styles left out, the common entities decoded (RFC 5173
 * 5.3: :text sees what a reader sees) */
static void
html_text(const char *html, size_t len, struct buf *out)
{
	static const struct {
		const char *name;
		char c;
	} entities[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' },
		{ "apos;", '\'' }, { "nbsp;", ' ' },
	};
	size_t i = 0;

	while (i < len) {
		if (html[i] == '<') {
			const char *end = NULL;

			if (len - i >= 4 && memcmp(html + i, "<!--", 4) == 0)
				end = memmem(html + i, len - i, "-->", 3);
			else if (len - i >= 7 && strncasecmp(html + i, "<script", 7) == 0)
				end = strcasestr_n(html + i, len - i, "</script>");
			else if (len - i >= 6 && strncasecmp(html + i, "<style", 6) == 0)
				end = strcasestr_n(html + i, len - i, "</style>");
			if (end == NULL)
				end = memchr(html + i, '>', len - i);
			if (end == NULL)
				break;
			i = (size_t) (end - html) + 1;
			if (html[i - 1] != '>')		/* past the closing text */
				while (i < len && html[i - 1] != '>')
					i++;
			continue;
		}
		if (html[i] == '&') {
			size_t k;

			for (k = 0; k < sizeof(entities) / sizeof(entities[0]); k++) {
				size_t n = strlen(entities[k].name);

				if (len - i - 1 >= n && strncasecmp(html + i + 1, entities[k].name, n) == 0) {
					buf_putc(out, entities[k].c);
					i += n + 1;
					break;
				}
			}
			if (k < sizeof(entities) / sizeof(entities[0]))
				continue;
		}
		buf_putc(out, html[i++]);
	}
}

/* text_parts - body :text: each part a reader reads as text (text types
 * with a well-formed type, and XHTML), HTML as its text */
static int
text_parts(struct tmatch *tm, struct mime_part *part)
{
	struct buf text = BUF_INIT, plain = BUF_INIT;
	const char *view;
	size_t len;
	int html, m;

	if (part->child != NULL) {
		m = 0;
		for (struct mime_part *c = part->child; c != NULL && m == 0; c = c->next)
			m = text_parts(tm, c);
		return m;
	}
	html = (strcasecmp(part->type, "text") == 0 && strcasecmp(part->subtype, "html") == 0)
	    || (strcasecmp(part->type, "application") == 0
		&& strcasecmp(part->subtype, "xhtml+xml") == 0);
	if (!html && (strcasecmp(part->type, "text") != 0 || strchr(part->subtype, '/') != NULL))
		return 0;
	/* RFC 2045 6.4: an unknown encoding makes it application/octet-stream */
	if (part->cte == MIME_CTE_UNKNOWN)
		return 0;
	if (mime_part_text_view(part, &text, &view, &len) < 0) {
		buf_free(&text);
		return run_error(tm->run, tm->site, "out of memory");
	}
	if (html) {
		html_text(view, len, &plain);
		m = tmatch_one(tm, plain.data ? plain.data : "", plain.len);
	} else {
		m = tmatch_one(tm, view, len);
	}
	buf_free(&text);
	buf_free(&plain);
	return m;
}

/* body: body [COMPARATOR] [MATCH-TYPE] [BODY-TRANSFORM] <key-list> */
static int
body_run(struct mfl_run *run, const struct site *site, struct value *args,
	 struct value *ret)
{
	static const struct value text_type = { .type = V_STR, .u.s = { "text", 4 } };
	const struct value *types = &text_type;
	size_t ntypes = 1;
	struct value *content;
	struct mime_part *root;
	struct tmatch tm;
	int m = 0;

	*ret = value_int(0);
	if (run->msg == NULL)
		return 0;
	tmatch_init(&tm, run, site, &args[0]);
	tm.no_caps = 1;		/* RFC 5173 6: body sets no match variables */
	if (intr_tag_present(site, BODY_RAW, args, NULL)) {
		size_t len = 0;
		const char *body = msg_body(run->msg, &len);

		/* an empty body is no value: nothing matches it, not even
		 * :contains "" (as Pigeonhole) */
		m = len > 0 ? tmatch_one(&tm, body, len) : 0;
	} else if (intr_tag_present(site, BODY_TEXT, args, NULL)) {
		if ((root = msg_mime(run->msg)) == NULL)
			return run_error(run, site, "out of memory");
		m = text_parts(&tm, root);
	} else {
		if (intr_tag_present(site, BODY_CONTENT, args, &content) && content != NULL)
			run_strlist(run, site, content, &ntypes, &types);
		if ((root = msg_mime(run->msg)) == NULL)
			return run_error(run, site, "out of memory");
		m = body_parts(&tm, root, types, ntypes);
	}
	if (m == 0)
		m = tmatch_end(&tm);
	*ret = value_int(m > 0);
	return m < 0 ? -1 : 0;
}

const struct intrinsic intr_body = {
	.name = "body",
	.kind = INTR_TEST,
	.capability = "body",
	.args = "l",
	.flags = INTR_F_MATCH,
	.tags = body_tags,
	.run = body_run,
};
