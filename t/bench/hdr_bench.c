/*
 * hdr_bench - header indexing and address parsing throughput
 *
 * Generates a corpus of realistic header blocks (Received chains with
 * folding, DKIM signatures, list headers, address fields, RFC 2047
 * subjects; 1.5-6 KB each), then measures, over the same bytes:
 *   - memchr line scan: the floor any line-based header parser pays;
 *   - hdr_index_build: the header index (names, spans, hash chains);
 *   - hdr_index_build + unfolding and decoding of every field;
 *   - addr_parse_list over every address field value;
 *   - the peer, GMime 3, doing the same (when configure found it).
 * Prints MB/s and ratios: to the line scan (the physical floor) and of
 * the peer to libmfl. No assertions: numbers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg/msg.h"
#ifdef HAVE_GMIME
#include "peer_gmime.h"
#endif

#define NMSG	2000

static const char *const names[] = {
	"Alice Example", "\"Bob O'Brien\"", "=?utf-8?q?J=C3=B6rg_M=C3=BCller?=",
	"Carol", "\"Smith, Dave\"", "",
};

/* now - monotonic seconds */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* gen_headers - one generated header block, ending in an empty line */
static void
gen_headers(struct buf *b, unsigned seed)
{
	unsigned hops = 2 + seed % 6;

	buf_printf(b, "Return-Path: <sender%u@example.org>\r\n", seed);
	buf_printf(b, "Delivered-To: user%u@example.net\r\n", seed % 97);
	for (unsigned h = 0; h < hops; h++)
		buf_printf(b, "Received: from mx%u.example.org (mx%u.example.org [192.0.2.%u])\r\n"
			   "\tby mail%u.example.net (Postfix) with ESMTPS id 4F%05X%u\r\n"
			   "\tfor <user%u@example.net>; Mon, 2 Nov 2026 10:%02u:%02u +0000 (UTC)\r\n",
			   h, h, (seed + h) % 250, h, seed, h, seed % 97, h, seed % 60);
	buf_printf(b, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org;\r\n"
		   "\ts=sel%u; t=17000%05u; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n"
		   "\th=From:To:Subject:Date:Message-ID;\r\n"
		   "\tb=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSBidXQgaXQgaXMgYXMgbG9uZyBhcyBvbmU\r\n"
		   "\t dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSBidXQgaXQgaXMgYXMgbG9uZyBhcyBvbmU=\r\n",
		   seed % 9, seed);
	buf_printf(b, "From: %s <sender%u@example.org>\r\n", names[seed % 6], seed);
	buf_printf(b, "To: %s <user%u@example.net>, team-%u@example.net,\r\n"
		   " \"Group, Inc.\" <info@example.com>\r\n", names[(seed + 1) % 6], seed % 97, seed % 7);
	if (seed % 3 == 0)
		buf_printf(b, "Cc: list-%u@lists.example.org, Carol <carol@example.com>\r\n", seed % 5);
	buf_printf(b, "Subject: %s report %u for week %u\r\n",
		   seed % 4 ? "Re: weekly" : "=?utf-8?b?V8O2Y2hlbnRsaWNoZXI=?=", seed, seed % 52);
	buf_printf(b, "Date: Mon, 2 Nov 2026 10:%02u:%02u +0000\r\n", seed % 60, seed % 60);
	buf_printf(b, "Message-ID: <%u.%u@mail.example.org>\r\n", seed, seed * 7);
	buf_puts(b, "MIME-Version: 1.0\r\n");
	buf_puts(b, "Content-Type: multipart/alternative;\r\n\tboundary=\"----=_Part_1234_5678.1700000000000\"\r\n");
	if (seed % 2 == 0)
		buf_printf(b, "List-Id: Developers <dev%u.lists.example.org>\r\n"
			   "List-Unsubscribe: <mailto:dev-leave@lists.example.org>\r\n"
			   "Precedence: list\r\n", seed % 5);
	buf_printf(b, "X-Spam-Score: %u.%u\r\nX-Mailer: Generator %u\r\n\r\n", seed % 10, seed % 10, seed);
}

struct corpus {
	char *data;
	size_t *offs;
	size_t *lens;
	size_t total;
};

/* run_scan - the floor: find every line end */
static size_t
run_scan(const struct corpus *c)
{
	size_t lines = 0;

	for (size_t i = 0; i < NMSG; i++) {
		const char *p = c->data + c->offs[i], *end = p + c->lens[i];

		while ((p = memchr(p, '\n', (size_t) (end - p))) != NULL) {
			p++;
			lines++;
		}
	}
	return lines;
}

/* run_index - hdr_index_build over every block */
static size_t
run_index(const struct corpus *c, int decode)
{
	size_t fields = 0;

	for (size_t i = 0; i < NMSG; i++) {
		struct arena *a = arena_create(0);
		struct hdr_index *idx = hdr_index_build(a, c->data + c->offs[i],
							c->lens[i], NULL, NULL);

		fields += idx->count;
		if (decode)
			for (size_t k = 0; k < idx->count; k++)
				hdr_decoded(idx, &idx->fields[k]);
		arena_free(a);
	}
	return fields;
}

/* run_addr - parse every address field; returns addresses found */
static size_t
run_addr(const struct corpus *c, size_t *bytes_r)
{
	static const char *const fields[] = { "From", "To", "Cc", "Return-Path", "Delivered-To" };
	size_t addrs = 0, bytes = 0;

	for (size_t i = 0; i < NMSG; i++) {
		struct arena *a = arena_create(0);
		struct hdr_index *idx = hdr_index_build(a, c->data + c->offs[i],
							c->lens[i], NULL, NULL);

		for (size_t k = 0; k < 5; k++) {
			struct hdr_field *f = hdr_find(idx, fields[k], strlen(fields[k]), 0);
			struct addr *list;
			size_t n;

			if (f == NULL || hdr_unfolded(idx, f) < 0)
				continue;
			bytes += f->unfolded_len;
			if (addr_parse_list(a, f->unfolded, f->unfolded_len, &list, &n) == 0)
				addrs += n;
		}
		arena_free(a);
	}
	*bytes_r = bytes;
	return addrs;
}

#ifdef HAVE_GMIME
/* run_gmime - the peer parses every block into a message */
static size_t
run_gmime(const struct corpus *c)
{
	size_t fields = 0;

	for (size_t i = 0; i < NMSG; i++)
		fields += peer_gmime_headers(c->data + c->offs[i], c->lens[i]);
	return fields;
}

/* run_gmime_addr - the peer parses the same address fields */
static size_t
run_gmime_addr(const struct corpus *c)
{
	static const char *const fields[] = { "From", "To", "Cc", "Return-Path", "Delivered-To" };
	size_t addrs = 0;

	for (size_t i = 0; i < NMSG; i++) {
		struct arena *a = arena_create(0);
		struct hdr_index *idx = hdr_index_build(a, c->data + c->offs[i],
							c->lens[i], NULL, NULL);

		for (size_t k = 0; k < 5; k++) {
			struct hdr_field *f = hdr_find(idx, fields[k], strlen(fields[k]), 0);

			if (f != NULL && hdr_unfolded(idx, f) == 0)
				addrs += peer_gmime_addresses(
				    arena_memdup(a, f->unfolded, f->unfolded_len));
		}
		arena_free(a);
	}
	return addrs;
}
#endif

/* measure - run FN until a second has passed; MB/s over BYTES a round */
#define MEASURE(label, bytes, expr, limit_mbs) do {			\
	double t0 = now(), t;						\
	unsigned rounds = 0;						\
	volatile size_t sink = 0;					\
	do {								\
		sink += (expr);						\
		rounds++;						\
	} while ((t = now() - t0) < 1.0);				\
	double mbs = (double) (bytes) * rounds / t / 1e6;		\
	if ((limit_mbs) > 0)						\
		printf("%-34s %9.1f MB/s  %5.2fx the line scan\n",	\
		       label, mbs, (limit_mbs) / mbs);			\
	else								\
		printf("%-34s %9.1f MB/s\n", label, mbs);		\
	last_mbs = mbs;							\
	(void) sink;							\
} while (0)

int
main(void)
{
	struct buf all = BUF_INIT;
	struct corpus c;
	double last_mbs = 0, scan_mbs, index_mbs, decode_mbs, addr_mbs;
	size_t addr_bytes = 0;

	c.offs = calloc(NMSG, sizeof(size_t));
	c.lens = calloc(NMSG, sizeof(size_t));
	for (unsigned i = 0; i < NMSG; i++) {
		c.offs[i] = all.len;
		gen_headers(&all, i * 2654435761u >> 7);
		c.lens[i] = all.len - c.offs[i];
	}
	c.data = all.data;
	c.total = all.len;
	printf("corpus: %d header blocks, %.2f MB, mean %.0f bytes\n", NMSG,
	       (double) c.total / 1e6, (double) c.total / NMSG);
	MEASURE("memchr line scan (physical floor)", c.total, run_scan(&c), 0);
	scan_mbs = last_mbs;
	MEASURE("hdr_index_build", c.total, run_index(&c, 0), scan_mbs);
	index_mbs = last_mbs;
	MEASURE("hdr_index_build + decode all", c.total, run_index(&c, 1), scan_mbs);
	decode_mbs = last_mbs;
	run_addr(&c, &addr_bytes);
	MEASURE("addr_parse_list (address fields)", addr_bytes, run_addr(&c, &addr_bytes), 0);
	addr_mbs = last_mbs;
#ifdef HAVE_GMIME
	peer_gmime_init();
	MEASURE("peer: GMime message from headers", c.total, run_gmime(&c), scan_mbs);
	printf("%-34s %9.2fx faster than GMime\n", "  hdr_index_build", index_mbs / last_mbs);
	printf("%-34s %9.2fx faster than GMime\n", "  hdr_index_build + decode all", decode_mbs / last_mbs);
	MEASURE("peer: GMime address lists", addr_bytes, run_gmime_addr(&c), 0);
	printf("%-34s %9.2fx faster than GMime\n", "  addr_parse_list", addr_mbs / last_mbs);
#else
	printf("peer: GMime not found at configure time (apt-get install libgmime-3.0-dev)\n");
#endif
	buf_free(&all);
	free(c.offs);
	free(c.lens);
	return 0;
}
