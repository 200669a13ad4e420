/*
 * mime_test - the MIME tree: delimiters, nesting, broken structure,
 * enclosed messages, limits, and decoding. A tree is described as
 * "type/subtype[flags]{leaf body}" or "type/subtype[flags](children)".
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "msg/msg.h"
#include "tap.h"

static const struct mime_case {
	const char *input;
	const char *want;
} cases[] = {
	{ "Subject: x\n\nhello\n", "text/plain[default]{hello\n}" },
	{ "Content-Type: text/html\n\n<p>\n", "text/html{<p>\n}" },
	{ "Content-Type: text\n\nx", "text/plain[default]{x}" },
	{ "Content-Type: multipart/mixed; boundary=b\n\npreamble\n--b\n"
	  "Content-Type: text/plain\n\nA\n--b\n\nB\n--b--\nepilogue\n",
	  "multipart/mixed(text/plain{A},text/plain[default]{B})" },
	{ "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
	  "Content-Type: text/plain\r\n\r\nA\r\n--b\r\n\r\nB\r\n--b--\r\n",
	  "multipart/mixed(text/plain{A},text/plain[default]{B})" },
	{ "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nA\n--b\n\nB\n",
	  "multipart/mixed[noend](text/plain[default]{A},text/plain[default]{B\n})" },
	{ "Content-Type: multipart/mixed\n\n--b\n\nA\n",
	  "multipart/mixed[nobound]{--b\n\nA\n}" },
	{ "Content-Type: multipart/mixed; boundary=b\n\nno delimiters\n",
	  "multipart/mixed[noend]()" },
	/* an outer delimiter ends the inner multipart */
	{ "Content-Type: multipart/mixed; boundary=outer\n\n--outer\n"
	  "Content-Type: multipart/alternative; boundary=inner\n\n--inner\n\nx\n"
	  "--outer\n\ny\n--outer--\n",
	  "multipart/mixed(multipart/alternative[noend](text/plain[default]{x}),"
	  "text/plain[default]{y})" },
	/* boundaries that are prefixes of each other stay apart */
	{ "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	  "Content-Type: multipart/mixed; boundary=b-1\n\n--b-1\n\nx\n--b-1--\n"
	  "--b\n\ny\n--b--\n",
	  "multipart/mixed(multipart/mixed(text/plain[default]{x}),"
	  "text/plain[default]{y})" },
	{ "Content-Type: multipart/mixed; boundary=b\n\n--b \t\n\nx\n--b-- \n",
	  "multipart/mixed(text/plain[default]{x})" },
	{ "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--bxyz\n--b--\n",
	  "multipart/mixed(text/plain[default]{x\n--bxyz})" },
	{ "Content-Type: multipart/mixed; boundary=b\n\n--b\n--b--\n",
	  "multipart/mixed(text/plain[default]{})" },
	{ "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	  "Content-Type: text/html\n--b--\n",
	  "multipart/mixed(text/html{})" },
	{ "Content-Type: multipart/mixed; boundary=b\n\n--b\n\n\n--b--\n",
	  "multipart/mixed(text/plain[default]{})" },
	/* enclosed messages */
	{ "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	  "Content-Type: message/rfc822\n\nSubject: inner\n"
	  "Content-Type: text/plain\n\ninner body\n--b--\n",
	  "multipart/mixed(message/rfc822(text/plain{inner body}))" },
	{ "Content-Type: multipart/digest; boundary=d\n\n--d\n\n"
	  "Subject: one\n\nfirst\n--d\nContent-Type: text/plain\n\nsecond\n--d--\n",
	  "multipart/digest(message/rfc822[default](text/plain[default]{first}),"
	  "text/plain{second})" },
	{ "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
	  "U3ViamVjdDogeAoKYm9keQo=\n",
	  "message/rfc822{U3ViamVjdDogeAoKYm9keQo=\n}" },
	{ "Content-Type: message/rfc822\n\n"
	  "Content-Type: multipart/mixed; boundary=z\n\n--z\n\nin\n--z--\n",
	  "message/rfc822(multipart/mixed(text/plain[default]{in}))" },
	/* parameters and header quirks */
	{ "Content-Type: multipart/mixed;\n boundary=\"----=_Part_1\"\n\n"
	  "------=_Part_1\n\nx\n------=_Part_1--\n",
	  "multipart/mixed(text/plain[default]{x})" },
	{ "Content-type: Multipart/Mixed; BOUNDARY=\"B\"\n\n--B\n\nx\n--B--\n",
	  "multipart/mixed(text/plain[default]{x})" },
};

/* describe - the tree in the notation of the cases */
static void
describe(const struct mime_part *part, struct buf *out)
{
	int flags = part->flags;

	buf_printf(out, "%s/%s", part->type, part->subtype);
	if (flags) {
		buf_putc(out, '[');
		if (flags & MIME_F_DEFAULT_TYPE)
			buf_puts(out, "default");
		if (flags & MIME_F_NO_END)
			buf_puts(out, "noend");
		if (flags & MIME_F_NO_BOUNDARY)
			buf_puts(out, "nobound");
		if (flags & MIME_F_CAPPED)
			buf_puts(out, "capped");
		buf_putc(out, ']');
	}
	if (part->child == NULL && !mime_is_multipart(part)) {
		buf_putc(out, '{');
		buf_append(out, part->body, part->body_len);
		buf_putc(out, '}');
		return;
	}
	if (part->child == NULL && (flags & MIME_F_NO_BOUNDARY)) {
		buf_putc(out, '{');
		buf_append(out, part->body, part->body_len);
		buf_putc(out, '}');
		return;
	}
	buf_putc(out, '(');
	for (const struct mime_part *c = part->child; c != NULL; c = c->next) {
		if (c != part->child)
			buf_putc(out, ',');
		describe(c, out);
	}
	buf_putc(out, ')');
}

/* parse - the tree of a NUL-terminated message */
static struct mime_part *
parse(struct arena *arena, const char *m)
{
	struct hdr_index *idx = hdr_index_build(arena, m, strlen(m), NULL, NULL);

	return idx ? mime_parse(arena, m, strlen(m), idx) : NULL;
}

/* test_decode - transfer decoding and charset conversion of leaves */
static void
test_decode(struct arena *arena)
{
	const char *m = "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	    "Content-Type: text/plain; charset=iso-8859-1\n"
	    "Content-Transfer-Encoding: quoted-printable\n\ncaf=E9=\n!\n--b\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: BASE64\n\nY2Fmw6k=\n--b\n"
	    "Content-Type: application/octet-stream\n"
	    "Content-Transfer-Encoding: x-uuencode\n\nbegin\n--b\n"
	    "Content-Type: text/plain; charset=x-nonsense\n\ncaf\xe9\n--b--\n";
	const char *want[] = { "caf\xc3\xa9!", "caf\xc3\xa9", "begin", "caf\xef\xbf\xbd" };
	const enum mime_cte ctes[] = { MIME_CTE_QP, MIME_CTE_BASE64, MIME_CTE_UNKNOWN, MIME_CTE_7BIT };
	struct mime_part *root = parse(arena, m), *c;
	struct buf text = BUF_INIT;
	size_t i = 0;

	tap_ok(root != NULL && root->nchildren == 4, "decode: four parts");
	for (c = root ? root->child : NULL; c != NULL && i < 4; c = c->next, i++) {
		buf_reset(&text);
		tap_ok(mime_part_text(c, &text) == 0, "decode %zu: ok", i);
		tap_is_str(buf_cstr(&text), want[i], "decode %zu: text", i);
		tap_is_int(c->cte, ctes[i], "decode %zu: cte", i);
	}
	buf_free(&text);
}

/* test_limits - deep nesting and many parts stay within the caps */
static void
test_limits(struct arena *arena)
{
	struct buf m = BUF_INIT;
	struct mime_part *root, *p;
	unsigned depth = 0;
	int capped = 0;

	for (int i = 0; i < 150; i++)
		buf_printf(&m, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n", i, i);
	buf_puts(&m, "\ndeep\n");
	root = parse(arena, buf_cstr(&m));
	tap_ok(root != NULL, "150 levels parsed");
	for (p = root; p != NULL; p = p->child) {
		depth = p->depth;
		capped |= p->flags & MIME_F_CAPPED;
	}
	tap_ok(depth < MIME_MAX_DEPTH, "depth %u kept under %d", depth, MIME_MAX_DEPTH);
	tap_ok(capped, "the deepest multipart is flagged capped");

	buf_reset(&m);
	buf_puts(&m, "Content-Type: multipart/mixed; boundary=b\n\n");
	for (int i = 0; i < MIME_MAX_PARTS + 2000; i++)
		buf_puts(&m, "--b\n\nx\n");
	buf_puts(&m, "--b--\n");
	root = parse(arena, buf_cstr(&m));
	tap_ok(root != NULL && root->nchildren == MIME_MAX_PARTS - 1,
	       "parts capped at %d", MIME_MAX_PARTS);
	tap_ok(root != NULL && (root->flags & MIME_F_CAPPED), "multipart flagged capped");
	buf_free(&m);
}

int
main(void)
{
	struct arena *arena = arena_create(0);
	struct buf got = BUF_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mime_part *root = parse(arena, cases[i].input);

		buf_reset(&got);
		if (root == NULL) {
			tap_ok(0, "mime %zu: out of memory", i);
			continue;
		}
		describe(root, &got);
		tap_is_str(buf_cstr(&got), cases[i].want, "mime %zu", i);
	}
	test_decode(arena);
	test_limits(arena);
	buf_free(&got);
	arena_free(arena);
	return tap_done();
}
