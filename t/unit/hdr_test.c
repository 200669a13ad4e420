/*
 * hdr_test - the header index: field boundaries, folding, obsolete
 * syntax, where the body starts, lookups, and hostile sizes.
 * Each case is a message and its index described as
 * "Name=unfolded|Name=unfolded|...#body".
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "msg/msg.h"
#include "tap.h"

static const struct hdr_case {
	const char *input;
	const char *want;
} cases[] = {
	{ "Subject: hi\nFrom: a@b\n\nbody\n", "Subject=hi|From=a@b#body\n" },
	{ "Subject: hi\r\nFrom: a@b\r\n\r\nbody\r\n", "Subject=hi|From=a@b#body\r\n" },
	{ "Subject: one\n two\n\tthree\n\nb", "Subject=one two\tthree#b" },
	{ "Subject: one\r\n two\r\n\r\nb", "Subject=one two#b" },
	{ "Subject:   padded   \n\n", "Subject=padded#" },
	{ "Subject:\n\n", "Subject=#" },
	{ "Subject:\n folded-only\n\n", "Subject=folded-only#" },
	{ "Subject :obsolete\n\n", "Subject=obsolete#" },
	{ "HeaderWithWSP \t  \t:\t\tvalue.\n\n", "HeaderWithWSP=value.#" },
	{ "Subject: x\n       \n and empty lines\n\nb",
	  "Subject=x        and empty lines#b" },
	{ "X-8bit\xc3\xa9: v\n\n", "X-8bit\xc3\xa9=v#" },
	{ "A: 1\nB: 2", "A=1|B=2#" },
	{ "A: 1\nB: 2\n", "A=1|B=2#" },
	{ "", "#" },
	{ "\n", "#" },
	{ "\nbody", "#body" },
	{ "no header here\nsecond line\n", "#no header here\nsecond line\n" },
	{ "A: 1\nnot a header\nB: 2\n\nb", "A=1#not a header\nB: 2\n\nb" },
	{ "A: 1\nBad Name: 2\n", "A=1#Bad Name: 2\n" },
	{ ": empty name\n", "#: empty name\n" },
	{ "A: 1\n \r\nbody starts\n", "A=1#body starts\n" },
	{ " leading continuation\nA: 1\n\nb", "A=1#b" },
	{ "A: bare\rCR\n\n", "A=bare\rCR#" },
	{ "A: x\n\r\nbody", "A=x#body" },
	{ "A: nul\0byte\n\n", "A=nul#" },	/* strlen stops at the NUL */
	{ "A:b:c\n\n", "A=b:c#" },
	{ "A: 1\r\n\r\n\r\n", "A=1#\r\n" },
	{ "From: x\nFrom: y\nfrom: z\n\n", "From=x|From=y|from=z#" },
};

/* describe - the index in the notation of the cases */
static void
describe(struct hdr_index *idx, const char *block, struct buf *out)
{
	for (size_t i = 0; i < idx->count; i++) {
		struct hdr_field *f = &idx->fields[i];

		if (hdr_unfolded(idx, f) < 0) {
			buf_puts(out, "ENOMEM");
			return;
		}
		if (i > 0)
			buf_putc(out, '|');
		buf_append(out, f->name, f->name_len);
		buf_putc(out, '=');
		buf_append(out, f->unfolded, f->unfolded_len);
	}
	buf_putc(out, '#');
	buf_puts(out, block + idx->body_off);
}

/* test_lookup - hdr_find and hdr_count, case-insensitive, in order */
static void
test_lookup(struct arena *arena)
{
	const char *m = "Received: a\nTo: t\nreceived: b\nRECEIVED: c\n"
	    "Subject: =?utf-8?q?caf=C3=A9?=\n\n";
	struct hdr_index *idx = hdr_index_build(arena, m, strlen(m), NULL, NULL);
	struct hdr_field *f;

	tap_is_int((long long) hdr_count(idx, "received", 8), 3, "count received");
	tap_is_int((long long) hdr_count(idx, "X-None", 6), 0, "count absent");
	f = hdr_find(idx, "Received", 8, 2);
	tap_ok(f != NULL && f->value_len == 2 && memcmp(f->value, " c", 2) == 0,
	       "third Received is c");
	tap_ok(hdr_find(idx, "Received", 8, 3) == NULL, "no fourth Received");
	tap_ok(hdr_find(idx, "Receive", 7, 0) == NULL, "prefix does not match");
	f = hdr_find(idx, "SUBJECT", 7, 0);
	tap_ok(f != NULL && hdr_decoded(idx, f) == 0, "subject decoded");
	tap_is_str(f ? f->decoded : NULL, "caf\xc3\xa9", "decoded subject");
	tap_is_mem(f ? f->raw : NULL, f ? f->raw_len : 0,
		   "Subject: =?utf-8?q?caf=C3=A9?=", 30, "raw span");
}

/* test_hostile - 100,000 fields and a 1 MB line */
static void
test_hostile(struct arena *arena)
{
	size_t n = 100000, len = n * 8 + 1, line = 1 << 20;
	char *m = malloc(len), *p = m;
	struct hdr_index *idx;
	struct hdr_field *f;

	for (size_t i = 0; i < n; i++, p += 8)
		memcpy(p, "X-A: 1\r\n", 8);
	*p = '\n';
	idx = hdr_index_build(arena, m, len, NULL, NULL);
	tap_ok(idx != NULL, "100,000 fields indexed");
	tap_is_int(idx ? (long long) hdr_count(idx, "x-a", 3) : -1, (long long) n,
		   "100,000 fields counted");
	free(m);

	m = malloc(line + 16);
	memcpy(m, "Subject: ", 9);
	memset(m + 9, 'x', line);
	memcpy(m + 9 + line, "\n\nbody", 6);
	idx = hdr_index_build(arena, m, line + 15, NULL, NULL);
	f = idx ? hdr_find(idx, "subject", 7, 0) : NULL;
	tap_ok(f != NULL && hdr_unfolded(idx, f) == 0 && f->unfolded_len == line,
	       "1 MB header line");
	tap_ok(idx != NULL && idx->body_off == line + 11, "body after 1 MB line");
	free(m);
}

/* test_edit_empty - a field added to a message with no header at all
 * (mvmda -D runs scripts on an empty message before DATA): edit_begin
 * copied NULL fields with memcpy, which UBSan reported */
static void
test_edit_empty(struct arena *arena)
{
	struct hdr_index *idx = hdr_index_build(arena, "", 0, NULL, NULL);
	struct hdr_field *f;

	tap_ok(idx != NULL && idx->count == 0, "an empty message has no fields");
	tap_is_int(idx ? hdr_insert(idx, 0, "X-Seen: yes", 11) : -1, 0,
		   "a field inserted into it");
	f = idx ? hdr_find(idx, "x-seen", 6, 0) : NULL;
	tap_ok(f != NULL && idx->count == 1, "and found there");
}

int
main(void)
{
	struct arena *arena = arena_create(0);
	struct buf got = BUF_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *in = cases[i].input;
		struct hdr_index *idx = hdr_index_build(arena, in, strlen(in),
							NULL, NULL);

		buf_reset(&got);
		if (idx == NULL) {
			tap_ok(0, "hdr %zu: out of memory", i);
			continue;
		}
		describe(idx, in, &got);
		tap_is_str(buf_cstr(&got), cases[i].want, "hdr %zu", i);
	}
	test_lookup(arena);
	test_hostile(arena);
	test_edit_empty(arena);
	buf_free(&got);
	arena_free(arena);
	return tap_done();
}
