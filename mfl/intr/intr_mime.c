/*
 * intr_mime - RFC 5703 mime and foreverypart: the :mime tags of header,
 * address and exists (which MIME part's header they look at, and which
 * piece of a Content-Type-like value), the current part that
 * foreverypart steps through, and the hidden intrinsics its loop is
 * compiled to (compile_include.c's neighbour, compile.c, emits them).
 *
 * Without :mime the tests read the message's own header, inside
 * foreverypart too; with :mime they read the current part's (the whole
 * message outside a loop), and with :anychild also every part below it.
 * foreverypart steps through the parts in document order: the outermost
 * loop through the message itself and all its parts, a nested one
 * through the parts below its enclosing loop's current part.
 *
 * DIAGNOSTICS: compile errors for a :mime option without :mime and for
 * foreverypart nested past MIME_LOOPS_MAX; runtime errors for memory.
 */
#include "config.h"

#include <string.h>

#include "compile.h"
#include "msg/arena.h"
#include "msg/buf.h"
#include "msg/hdr.h"
#include "msg/mime.h"
#include "msg/mimeparam.h"
#include "msg/msg.h"
#include "msg/str.h"
#include "prog.h"

/* :mime and its options, shared by header, address and exists (ids
 * beside :index and :last) */
const struct intr_tag intr_mime_tags[] = {
	{ .name = "index", .arg = TAGARG_NUMBER, .id = INTR_TAG_INDEX, .capability = "index" },
	{ .name = "last", .id = INTR_TAG_LAST, .capability = "index" },
	{ .name = "mime", .id = INTR_TAG_MIME, .capability = "mime" },
	{ .name = "anychild", .id = INTR_TAG_ANYCHILD, .capability = "mime" },
	{ .name = "type", .group = TG_MIMEOPT, .id = INTR_TAG_TYPE, .capability = "mime" },
	{ .name = "subtype", .group = TG_MIMEOPT, .id = INTR_TAG_SUBTYPE, .capability = "mime" },
	{ .name = "contenttype", .group = TG_MIMEOPT, .id = INTR_TAG_CONTENTTYPE,
	  .capability = "mime" },
	{ .name = "param", .arg = TAGARG_STRLIST, .group = TG_MIMEOPT, .id = INTR_TAG_PARAM,
	  .capability = "mime" },
	{ .name = NULL }
};

/* intr_mime_check - the options need :mime (RFC 5703 4.1), and only
 * header takes the ones that pick a Content-Type part (4.2, 4.3: address
 * and exists take :anychild alone) */
int
intr_mime_check(struct compile *cc, struct ast *n, struct site *site)
{
	uint32_t picks = 1u << INTR_TAG_TYPE | 1u << INTR_TAG_SUBTYPE
	    | 1u << INTR_TAG_CONTENTTYPE | 1u << INTR_TAG_PARAM;
	uint32_t opts = 1u << INTR_TAG_ANYCHILD | picks;

	if ((site->tags & picks) && strcmp(n->intr->name, "header") != 0) {
		cerror(cc, n, "%s: :type, :subtype, :contenttype and :param are header's "
		       "(RFC 5703 4.2, 4.3)", n->intr->name);
		return -1;
	}

	if ((site->tags & opts) && !(site->tags & (1u << INTR_TAG_MIME))) {
		cerror(cc, n, "%s: :anychild, :type, :subtype, :contenttype and :param "
		       "need :mime", n->intr->name);
		return -1;
	}
	return intr_index_check(cc, n, site);
}

/* next_part - P's successor in document order, not leaving LIMIT's
 * subtree; NULL after the last */
static struct mime_part *
next_part(struct mime_part *p, const struct mime_part *limit)
{
	if (p->child != NULL)
		return p->child;
	for (; p != NULL && p != limit; p = p->parent)
		if (p->next != NULL)
			return p->next;
	return NULL;
}

/* current_part - the part foreverypart is at, or the whole message */
static struct mime_part *
current_part(struct mfl_run *run)
{
	if (run->nloops > 0 && run->loops[run->nloops - 1].cur != NULL)
		return run->loops[run->nloops - 1].cur;
	return run->msg != NULL ? msg_mime(run->msg) : NULL;
}

/* intr_test_indexes - the header indexes a test looks at: the
 * message's, or with :mime the current part's (and its descendants'
 * with :anychild); their number, 0 when there is no message */
size_t
intr_test_indexes(struct mfl_run *run, const struct site *site,
		  struct hdr_index ***out)
{
	struct mime_part *cur, *p;
	size_t n = 0, cap = 16;
	struct hdr_index **v;

	*out = NULL;
	if (run->msg == NULL)
		return 0;
	if (!(site->tags & (1u << INTR_TAG_MIME))) {
		if ((v = arena_alloc(run->arena, sizeof(*v))) == NULL
		    || (v[0] = msg_headers(run->msg)) == NULL)
			return 0;
		*out = v;
		return 1;
	}
	if ((cur = current_part(run)) == NULL
	    || (v = arena_alloc(run->arena, cap * sizeof(*v))) == NULL)
		return 0;
	for (p = cur; p != NULL; p = (site->tags & (1u << INTR_TAG_ANYCHILD)) ? next_part(p, cur) : NULL) {
		if (p->hdrs == NULL)
			continue;
		if (n == cap) {
			struct hdr_index **w = arena_alloc(run->arena, 2 * cap * sizeof(*w));

			if (w == NULL)
				break;
			memcpy(w, v, n * sizeof(*w));
			v = w;
			cap *= 2;
		}
		v[n++] = p->hdrs;
	}
	*out = v;
	return n;
}

/* intr_mime_values - with :type, :subtype, :contenttype or :param, the
 * pieces of the value TEXT the test matches, each given to FN (which
 * returns non-zero to stop); without them TEXT itself. FN's answer. */
int
intr_mime_values(struct mfl_run *run, const struct site *site, struct value *args,
		 const char *text, size_t len,
		 int (*fn)(void *ctx, const char *s, size_t n), void *ctx)
{
	const char *token, *slash;
	struct mime_param *params;
	size_t nparams, tlen;
	struct value *names;

	if (!(site->tags & (1u << INTR_TAG_TYPE | 1u << INTR_TAG_SUBTYPE
			    | 1u << INTR_TAG_CONTENTTYPE | 1u << INTR_TAG_PARAM)))
		return fn(ctx, text, len);
	if (mime_param_parse(run->arena, text, len, &token, &params, &nparams) < 0)
		return run_error(run, site, "out of memory");
	tlen = token != NULL ? strlen(token) : 0;
	slash = token != NULL ? memchr(token, '/', tlen) : NULL;
	if (site->tags & (1u << INTR_TAG_CONTENTTYPE))
		return fn(ctx, token ? token : "", tlen);
	if (site->tags & (1u << INTR_TAG_TYPE))
		return fn(ctx, token ? token : "", slash ? (size_t) (slash - token) : tlen);
	if (site->tags & (1u << INTR_TAG_SUBTYPE))
		/* a value with no "/" (Content-Disposition) has an empty
		 * subtype, as Pigeonhole reads it */
		return slash ? fn(ctx, slash + 1, tlen - (size_t) (slash + 1 - token)) : fn(ctx, "", 0);
	if (intr_tag_present(site, INTR_TAG_PARAM, args, &names) && names != NULL) {
		const struct value *items;
		size_t n;
		int r;

		run_strlist(run, site, names, &n, &items);
		for (size_t i = 0; i < nparams; i++)
			for (size_t k = 0; k < n; k++)
				if (str_ieq_cstr(items[k].u.s.ptr, items[k].u.s.len, params[i].name)
				    && (r = fn(ctx, params[i].value, params[i].value_len)) != 0)
					return r;
	}
	return 0;
}

/* The loop foreverypart is compiled to:
 *	INTR fep_begin; top: INTR fep_next; JZ end; body; JMP top;
 *	end: INTR fep_end
 * and break is a JMP to that loop's end. */

static int
fep_begin_run(struct mfl_run *run, const struct site *site, struct value *args,
	      struct value *ret)
{
	struct mime_part *scope = NULL;

	(void) args;
	(void) ret;
	if (run->nloops == MIME_LOOPS_MAX)
		return run_error(run, site, "foreverypart nested deeper than %d", MIME_LOOPS_MAX);
	if (run->nloops > 0)
		scope = run->loops[run->nloops - 1].cur;
	run->loops[run->nloops].scope = scope;
	run->loops[run->nloops].cur = NULL;
	run->loops[run->nloops].started = 0;
	run->nloops++;
	return 0;
}

static int
fep_next_run(struct mfl_run *run, const struct site *site, struct value *args,
	     struct value *ret)
{
	struct mime_loop *l = &run->loops[run->nloops - 1];

	(void) site;
	(void) args;
	if (!l->started) {
		l->started = 1;
		if (l->scope != NULL)
			l->cur = l->scope->child;	/* below the enclosing part */
		else
			l->cur = run->msg != NULL ? msg_mime(run->msg) : NULL;
	} else if (l->cur != NULL) {
		l->cur = next_part(l->cur, l->scope);
	}
	*ret = value_int(l->cur != NULL);
	return 0;
}

static int
fep_end_run(struct mfl_run *run, const struct site *site, struct value *args,
	    struct value *ret)
{
	(void) site;
	(void) args;
	(void) ret;
	if (run->nloops > 0)
		run->nloops--;
	return 0;
}

const struct intrinsic intr_fep_begin = {
	.name = "\001fep_begin", .kind = INTR_COMMAND, .args = "", .run = fep_begin_run,
};
const struct intrinsic intr_fep_next = {
	.name = "\001fep_next", .kind = INTR_TEST, .args = "", .run = fep_next_run,
};
const struct intrinsic intr_fep_end = {
	.name = "\001fep_end", .kind = INTR_COMMAND, .args = "", .run = fep_end_run,
};

/* intr_current_part - for extracttext: the part foreverypart is at */
struct mime_part *
intr_current_part(struct mfl_run *run)
{
	return run->nloops > 0 ? run->loops[run->nloops - 1].cur : NULL;
}

/* extracttext's tags: set's modifiers (same ids as intr_variables.c's
 * set) and :first */
enum {
	X_LOWER, X_UPPER, X_LOWERFIRST, X_UPPERFIRST, X_QUOTEWILDCARD, X_QUOTEREGEX,
	X_LENGTH, X_FIRST
};

static const struct intr_tag extracttext_tags[] = {
	{ .name = "lower", .group = TG_CASE, .id = X_LOWER },
	{ .name = "upper", .group = TG_CASE, .id = X_UPPER },
	{ .name = "lowerfirst", .group = TG_FIRST, .id = X_LOWERFIRST },
	{ .name = "upperfirst", .group = TG_FIRST, .id = X_UPPERFIRST },
	{ .name = "quotewildcard", .group = TG_QUOTE, .id = X_QUOTEWILDCARD },
	{ .name = "quoteregex", .group = TG_QUOTE, .id = X_QUOTEREGEX, .capability = "regex" },
	{ .name = "length", .id = X_LENGTH },
	{ .name = "first", .arg = TAGARG_NUMBER, .id = X_FIRST },
	{ .name = NULL }
};

/* html_text - the text of HTML: each run of tags one space (none at
 * the start or after white space), the common entities decoded; close
 * to what Pigeonhole's extracttext gives */
static void
html_text(const char *s, size_t len, struct buf *out)
{
	static const struct { const char *name, *text; } entities[] = {
		{ "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" },
		{ "&#39;", "'" }, { "&nbsp;", " " },
	};

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '<') {
			const char *end = memchr(s + i, '>', len - i);
			size_t tl = end ? (size_t) (end - s - i) : len - i;

			if (out->len > 0 && !strchr(" \t\n", out->data[out->len - 1]))
				buf_putc(out, ' ');
			i += tl;
			continue;
		}
		if (s[i] == '&') {
			size_t k;

			for (k = 0; k < sizeof(entities) / sizeof(entities[0]); k++) {
				size_t el = strlen(entities[k].name);

				if (len - i >= el && mem_ieq(s + i, entities[k].name, el)) {
					buf_puts(out, entities[k].text);
					i += el - 1;
					break;
				}
			}
			if (k < sizeof(entities) / sizeof(entities[0]))
				continue;
		}
		if (s[i] != '\r')
			buf_putc(out, s[i]);
	}
}

/* extracttext: extracttext [MODIFIER] [":first" n] <varname> - the
 * current part's content (RFC 5703 7): a text part decoded to UTF-8
 * (HTML without its tags), another leaf with its transfer encoding
 * undone (as Pigeonhole), a multipart empty */
static int
extracttext_run(struct mfl_run *run, const struct site *site, struct value *args,
		struct value *ret)
{
	struct mime_part *part = intr_current_part(run);
	struct buf raw = BUF_INIT, text = BUF_INIT;
	struct value *first;
	int rc;

	(void) ret;
	if (part != NULL && part->child == NULL && strcmp(part->type, "text") != 0) {
		if (mime_part_decode(part, &text) < 0) {
			buf_free(&text);
			return run_error(run, site, "out of memory");
		}
	} else if (part != NULL && part->child == NULL) {
		if (mime_part_text(part, &raw) < 0) {
			buf_free(&raw);
			return run_error(run, site, "out of memory");
		}
		if (strcmp(part->subtype, "html") == 0)
			html_text(raw.data ? raw.data : "", raw.len, &text);
		else
			buf_append(&text, raw.data ? raw.data : "", raw.len);
	}
	if (intr_tag_present(site, X_FIRST, args, &first) && first != NULL && first->u.i >= 0) {
		size_t chars = 0, i = 0;

		/* characters, not octets */
		for (; i < text.len; i++)
			if (((unsigned char) text.data[i] & 0xc0) != 0x80 && chars++ == (size_t) first->u.i)
				break;
		text.len = i;
	}
	rc = intr_set_value(run, site, site->tags & ~(1u << X_FIRST),
			    text.data ? text.data : "", text.len);
	buf_free(&raw);
	buf_free(&text);
	return rc;
}

/* extracttext_check - inside foreverypart, into a constant variable */
static int
extracttext_check(struct compile *cc, struct ast *n, struct site *site)
{
	if (cc->fep == NULL) {
		cerror(cc, n, "extracttext outside foreverypart (RFC 5703 7)");
		return -1;
	}
	return (site->aux = sieve_var_name_slot(cc, n->items[0], "extracttext")) < 0 ? -1 : 0;
}

const struct intrinsic intr_extracttext = {
	.name = "extracttext",
	.kind = INTR_COMMAND,
	.aux = INTR_AUX_GLOBAL,
	.capability = "extracttext",
	.args = "s",
	.tags = extracttext_tags,
	.check = extracttext_check,
	.run = extracttext_run,
};
