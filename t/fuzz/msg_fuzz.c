/*
 * msg_fuzz - libFuzzer target for the message model: the input is a
 * message; every header is unfolded and decoded, every field value is
 * parsed as an address list and as a Content-Type value, and the MIME
 * tree is built with every leaf decoded to UTF-8. The invariants the
 * corpus test checks are asserted here too, so a wrong span is a crash.
 *
 * Built with --enable-fuzz (clang); without it, t/fuzz/replay.c links
 * the same entry point so make check replays the seed corpus.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* must - abort (a crash the fuzzer reports) when an invariant fails */
static void
must(int cond)
{
	if (!cond)
		abort();
}

/* fuzz_fields - every field: decoded, as addresses, as parameters */
static void
fuzz_fields(struct msg *m, struct hdr_index *idx)
{
	struct arena *arena = msg_arena(m);

	for (size_t i = 0; i < idx->count; i++) {
		struct hdr_field *f = &idx->fields[i];
		struct addr *list;
		struct mime_param *params;
		const char *token;
		size_t n;

		if (hdr_decoded(idx, f) < 0)
			return;
		must(utf8_valid(f->decoded, f->decoded_len));
		if (addr_parse_list(arena, f->unfolded, f->unfolded_len, &list, &n) == 0)
			for (size_t k = 0; k < n; k++)
				must(list[k].name == NULL
				     || utf8_valid(list[k].name, strlen(list[k].name)));
		mime_param_parse(arena, f->unfolded, f->unfolded_len, &token,
				 &params, &n);
	}
}

/* fuzz_part - decode every leaf; children inside their parent */
static void
fuzz_part(const struct mime_part *part)
{
	struct buf text = BUF_INIT;

	must(part->body >= part->start
	     && part->body + part->body_len == part->start + part->len);
	if (part->child == NULL && mime_part_text(part, &text) == 0)
		must(utf8_valid(text.data ? text.data : "", text.len));
	buf_free(&text);
	for (const struct mime_part *c = part->child; c != NULL; c = c->next) {
		must(c->start >= part->body
		     && c->start + c->len <= part->body + part->body_len);
		fuzz_part(c);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg *m = msg_from_mem((const char *) data, size, 256u << 20);
	struct hdr_index *idx;
	struct mime_part *root;

	if (m == NULL)
		return 0;
	if ((idx = msg_headers(m)) != NULL)
		fuzz_fields(m, idx);
	if ((root = msg_mime(m)) != NULL)
		fuzz_part(root);
	msg_free(m);
	return 0;
}
