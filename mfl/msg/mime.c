/*
 * mime - split a message into its MIME tree (RFC 2045, RFC 2046)
 *
 * One pass over the message with a stack of open boundaries: a line that
 * starts with "--" is checked against them from the innermost out, so an
 * outer delimiter ends every part inside it even when inner close
 * delimiters are missing. A delimiter matches when only white space or
 * "--" follows the boundary, so boundaries that are prefixes of each
 * other stay apart. The line end before a delimiter belongs to it (RFC
 * 2046 5.1.1). message/rfc822 bodies are parsed as messages unless they
 * are themselves base64 or quoted-printable encoded.
 *
 * Nothing is rejected: a multipart without boundary is a leaf, a missing
 * first delimiter gives a multipart with no children, a missing close
 * delimiter ends the part at its parent's next delimiter or at the end of
 * the data. Parts refer into the message; decoding (transfer encoding,
 * then charset to UTF-8) is done on demand into the caller's buffer.
 *
 * Limits: MIME_MAX_DEPTH nesting levels and MIME_MAX_PARTS parts; past
 * them parts are not split further (flag MIME_F_CAPPED) and their bytes
 * stay in the enclosing part's body.
 *
 * DIAGNOSTICS: NULL, or -1, with errno ENOMEM when the arena is full.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "charset.h"
#include "codec.h"
#include "hdr.h"
#include "mime.h"
#include "mimeparam.h"
#include "str.h"

struct mime_ctx {
	struct arena *arena;
	const char *data;
	const char *end;
	const char *bounds[MIME_MAX_DEPTH];
	size_t bound_lens[MIME_MAX_DEPTH];
	int nbounds;
	unsigned nparts;
	int nomem;
};

/* Where a scan stopped: a delimiter line of LEVEL, or the end (-1). */
struct mime_stop {
	const char *line;	/* start of the delimiter line */
	const char *next;	/* the line after it */
	int level;
	int close;		/* "--boundary--" */
};

static struct mime_stop mime_entity(struct mime_ctx *, struct mime_part *,
				    const char *, struct hdr_index *);

/* bound_match - level of the boundary LINE delimits, or -1 */
static int
bound_match(const struct mime_ctx *ctx, const char *line, size_t len,
	    int *close_r)
{
	if (len < 2 || line[0] != '-' || line[1] != '-')
		return -1;
	for (int level = ctx->nbounds - 1; level >= 0; level--) {
		size_t blen = ctx->bound_lens[level];
		const char *rest;
		size_t rlen;

		if (len - 2 < blen || memcmp(line + 2, ctx->bounds[level], blen) != 0)
			continue;
		rest = line + 2 + blen;
		rlen = len - 2 - blen;
		*close_r = rlen >= 2 && rest[0] == '-' && rest[1] == '-';
		if (*close_r)
			rest += 2, rlen -= 2;
		while (rlen > 0 && (is_wsp(*rest) || *rest == '\r'))
			rest++, rlen--;
		if (rlen == 0)
			return level;
	}
	return -1;
}

/* bound_stop - hdr_stop_fn: a delimiter line ends a header block too */
static int
bound_stop(void *ctx, const char *line, size_t len)
{
	int close;

	return bound_match(ctx, line, len, &close) >= 0;
}

/* mime_scan - the first delimiter line at or after P */
static struct mime_stop
mime_scan(const struct mime_ctx *ctx, const char *p)
{
	struct mime_stop st = { ctx->end, ctx->end, -1, 0 };

	if (ctx->nbounds == 0)
		return st;
	while (p < ctx->end) {
		const char *nl = memchr(p, '\n', (size_t) (ctx->end - p));
		const char *next = nl != NULL ? nl + 1 : ctx->end;
		const char *eol = nl != NULL ? nl : ctx->end;

		if (*p == '-') {
			int level = bound_match(ctx, p, (size_t) (eol - p), &st.close);

			if (level >= 0) {
				st.line = p;
				st.next = next;
				st.level = level;
				return st;
			}
		}
		p = next;
	}
	st.close = 0;
	return st;
}

/* mime_new - a new part under PARENT, or NULL */
static struct mime_part *
mime_new(struct mime_ctx *ctx, struct mime_part *parent)
{
	struct mime_part *part = arena_zalloc(ctx->arena, sizeof(*part));

	if (part == NULL) {
		ctx->nomem = 1;
		return NULL;
	}
	part->index = ctx->nparts++;
	if (parent != NULL) {
		struct mime_part **tail = &parent->child;

		while (*tail != NULL)
			tail = &(*tail)->next;
		*tail = part;
		part->parent = parent;
		part->depth = parent->depth + 1;
		parent->nchildren++;
	}
	return part;
}

/* mime_content_type - type, subtype and parameters from Content-Type */
static void
mime_content_type(struct mime_ctx *ctx, struct mime_part *part)
{
	struct hdr_field *f = hdr_find(part->hdrs, "Content-Type", 12, 0);
	const struct mime_part *parent = part->parent;
	const char *token = NULL, *slash;

	if (f != NULL && hdr_unfolded(part->hdrs, f) == 0
	    && mime_param_parse(ctx->arena, f->unfolded, f->unfolded_len,
				&token, &part->params, &part->nparams) < 0)
		ctx->nomem = 1;
	if (token != NULL && (slash = strchr(token, '/')) != NULL
	    && slash > token && slash[1] != 0) {
		char *type = arena_memdup(ctx->arena, token, (size_t) (slash - token));

		if (type == NULL)
			ctx->nomem = 1;
		part->type = type;
		part->subtype = slash + 1;
		return;
	}
	/* RFC 2046 5.1.5: in a digest the default is message/rfc822 */
	part->flags |= MIME_F_DEFAULT_TYPE;
	if (parent != NULL && strcmp(parent->type, "multipart") == 0
	    && strcmp(parent->subtype, "digest") == 0) {
		part->type = "message";
		part->subtype = "rfc822";
	} else {
		part->type = "text";
		part->subtype = "plain";
	}
}

/* mime_cte_parse - the Content-Transfer-Encoding of PART */
static enum mime_cte
mime_cte_parse(struct mime_part *part)
{
	static const struct {
		const char *name;
		enum mime_cte cte;
	} names[] = {
		{ "7bit", MIME_CTE_7BIT }, { "8bit", MIME_CTE_8BIT },
		{ "binary", MIME_CTE_BINARY }, { "base64", MIME_CTE_BASE64 },
		{ "quoted-printable", MIME_CTE_QP },
	};
	struct hdr_field *f = hdr_find(part->hdrs, "Content-Transfer-Encoding", 25, 0);
	struct str v;

	if (f == NULL || hdr_unfolded(part->hdrs, f) < 0)
		return MIME_CTE_7BIT;
	v = str_trim(f->unfolded, f->unfolded_len);
	for (size_t i = 0; i < v.len; i++)	/* "base64 (comment)" */
		if (v.ptr[i] == '(' || v.ptr[i] == ';' || is_wsp(v.ptr[i])) {
			v.len = i;
			break;
		}
	if (v.len == 0)
		return MIME_CTE_7BIT;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (str_ieq_cstr(v.ptr, v.len, names[i].name))
			return names[i].cte;
	return MIME_CTE_UNKNOWN;
}

/* mime_multipart - children of PART between its delimiters */
static struct mime_stop
mime_multipart(struct mime_ctx *ctx, struct mime_part *part,
	       const char *boundary)
{
	int level = ctx->nbounds++;
	struct mime_stop st;

	ctx->bounds[level] = boundary;
	ctx->bound_lens[level] = strlen(boundary);
	st = mime_scan(ctx, part->body);	/* past the preamble */
	while (st.level == level && !st.close && !ctx->nomem) {
		struct mime_part *child;

		if (ctx->nparts >= MIME_MAX_PARTS) {
			part->flags |= MIME_F_CAPPED;
			st = mime_scan(ctx, st.next);
			continue;
		}
		if ((child = mime_new(ctx, part)) == NULL)
			break;
		st = mime_entity(ctx, child, st.next, NULL);
	}
	ctx->nbounds--;
	if (st.level == level && st.close)	/* skip the epilogue */
		return mime_scan(ctx, st.next);
	part->flags |= MIME_F_NO_END;
	return st;
}

/* mime_body - the body of PART: children, an enclosed message, or text */
static struct mime_stop
mime_body(struct mime_ctx *ctx, struct mime_part *part)
{
	int room = part->depth + 1 < MIME_MAX_DEPTH
	    && ctx->nbounds < MIME_MAX_DEPTH && ctx->nparts < MIME_MAX_PARTS;
	struct mime_part *child;

	if (strcmp(part->type, "multipart") == 0) {
		const char *boundary = mime_part_param(part, "boundary");

		if (boundary == NULL || *boundary == 0)
			part->flags |= MIME_F_NO_BOUNDARY;
		else if (!room)
			part->flags |= MIME_F_CAPPED;
		else
			return mime_multipart(ctx, part, boundary);
	} else if (strcmp(part->type, "message") == 0
		   && (strcmp(part->subtype, "rfc822") == 0
		       || strcmp(part->subtype, "global") == 0)
		   && part->cte != MIME_CTE_BASE64 && part->cte != MIME_CTE_QP) {
		if (!room)
			part->flags |= MIME_F_CAPPED;
		else if ((child = mime_new(ctx, part)) != NULL)
			return mime_entity(ctx, child, part->body, NULL);
	}
	return mime_scan(ctx, part->body);
}

/* mime_entity - headers and body of PART from START; where it stopped */
static struct mime_stop
mime_entity(struct mime_ctx *ctx, struct mime_part *part, const char *start,
	    struct hdr_index *hdrs)
{
	struct mime_stop st;
	const char *end;

	part->start = start;
	if (hdrs == NULL)
		hdrs = hdr_index_build(ctx->arena, start, (size_t) (ctx->end - start),
				       ctx->nbounds > 0 ? bound_stop : NULL, ctx);
	if (hdrs == NULL) {
		ctx->nomem = 1;
		part->body = start;
		part->type = "text", part->subtype = "plain";
		return (struct mime_stop) { ctx->end, ctx->end, -1, 0 };
	}
	part->hdrs = hdrs;
	part->body = start + hdrs->body_off;
	mime_content_type(ctx, part);
	part->cte = mime_cte_parse(part);
	st = mime_body(ctx, part);
	/* The line end before a delimiter belongs to the delimiter. */
	end = st.line;
	if (st.level >= 0 && end > part->body && end[-1] == '\n') {
		end--;
		if (end > part->body && end[-1] == '\r')
			end--;
	}
	if (end < part->body)
		end = part->body;
	/* An empty last child may end on the delimiter line itself; the
	 * parent then ends there too, so it still encloses its children. */
	for (const struct mime_part *c = part->child; c != NULL; c = c->next)
		if (c->next == NULL && c->start + c->len > end)
			end = c->start + c->len;
	part->len = (size_t) (end - start);
	part->body_len = (size_t) (end - part->body);
	return st;
}

/* mime_parse - the MIME tree of DATA, whose header index is HDRS */
struct mime_part *
mime_parse(struct arena *arena, const char *data, size_t len,
	   struct hdr_index *hdrs)
{
	struct mime_ctx ctx;
	struct mime_part *root;

	memset(&ctx, 0, sizeof(ctx));
	ctx.arena = arena;
	ctx.data = data;
	ctx.end = data + len;
	if ((root = mime_new(&ctx, NULL)) == NULL)
		return NULL;
	mime_entity(&ctx, root, data, hdrs);
	if (ctx.nomem) {
		errno = ENOMEM;
		return NULL;
	}
	return root;
}

/* mime_part_param - Content-Type parameter NAME (lower case), or NULL */
const char *
mime_part_param(const struct mime_part *part, const char *name)
{
	return mime_param_get(part->params, part->nparams, name);
}

/* mime_is_multipart - PART has children of its own */
int
mime_is_multipart(const struct mime_part *part)
{
	return strcmp(part->type, "multipart") == 0;
}

/* mime_cte_name - the encoding's name as RFC 2045 writes it */
const char *
mime_cte_name(enum mime_cte cte)
{
	static const char *const names[] = {
		"7bit", "8bit", "binary", "quoted-printable", "base64", "unknown"
	};

	return names[cte];
}

/* mime_part_decode - append PART's body with its transfer encoding undone */
int
mime_part_decode(const struct mime_part *part, struct buf *out)
{
	switch (part->cte) {
	case MIME_CTE_BASE64:
		base64_decode(part->body, part->body_len, out);
		break;
	case MIME_CTE_QP:
		qp_decode(part->body, part->body_len, out);
		break;
	default:
		buf_append(out, part->body, part->body_len);
		break;
	}
	return out->failed ? -1 : 0;
}

/* mime_part_text_view - PART's text as mime_part_text makes it, into
 * *TEXT_R and *LEN_R: its body itself when that is the text already (no
 * transfer encoding, UTF-8 or US-ASCII, valid as it is), so a big part
 * is not copied; else made in SCRATCH (the caller frees it); -1 when
 * memory runs out */
int
mime_part_text_view(const struct mime_part *part, struct buf *scratch,
		    const char **text_r, size_t *len_r)
{
	const char *charset = mime_part_param(part, "charset");

	if (part->cte != MIME_CTE_QP && part->cte != MIME_CTE_BASE64
	    && (charset == NULL || charset_utf8(charset, strlen(charset)))
	    && utf8_valid(part->body, part->body_len)) {
		*text_r = part->body_len > 0 ? part->body : "";
		*len_r = part->body_len;
		return 0;
	}
	if (mime_part_text(part, scratch) < 0)
		return -1;
	*text_r = scratch->data ? scratch->data : "";
	*len_r = scratch->len;
	return 0;
}

/* mime_part_text - append PART's body decoded and converted to UTF-8 */
int
mime_part_text(const struct mime_part *part, struct buf *out)
{
	struct buf raw = BUF_INIT;
	const char *charset = mime_part_param(part, "charset");
	int ret;

	if ((ret = mime_part_decode(part, &raw)) == 0) {
		if (charset == NULL)
			charset = "us-ascii";
		if (charset_to_utf8(charset, strlen(charset),
				    raw.data ? raw.data : "", raw.len, out) < 0)
			utf8_repair(raw.data ? raw.data : "", raw.len, out);
		ret = out->failed ? -1 : 0;
	}
	buf_free(&raw);
	return ret;
}
