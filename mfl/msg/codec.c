/*
 * codec - transfer decoding of RFC 2045 (bodies) and RFC 2047 (headers)
 *
 * Decoders are forgiving the way deployed MUAs are: base64 skips bytes
 * outside its alphabet and decodes a final partial quantum; quoted-
 * printable keeps an '=' that starts no valid escape, accepts lower-case
 * hex, and drops the trailing white space that RFC 2045 section 6.7 (3)
 * says transports may add.
 *
 * DIAGNOSTICS: none; every input decodes to something. Memory failures
 * show in out->failed.
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "codec.h"
#include "str.h"

/* base64_value - 6-bit value of CH, or -1 */
static int
base64_value(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* hex_value - value of hex digit CH, or -1 */
int
hex_value(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* base64_decode - append the bytes IN encodes (RFC 2045 section 6.8) */
void
base64_decode(const char *in, size_t len, struct buf *out)
{
	unsigned long acc = 0;
	int bits = 0;

	if (buf_reserve(out, len / 4 * 3 + 3) < 0)
		return;
	for (size_t i = 0; i < len; i++) {
		int v = base64_value((unsigned char) in[i]);

		if (v < 0) {
			/* '=' ends the data; anything after it is ignored
			 * unless more base64 follows a line break, as in
			 * concatenated encoder output. */
			if (in[i] == '=')
				bits = 0, acc = 0;
			continue;
		}
		acc = (acc << 6) | (unsigned long) v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_putc(out, (int) ((acc >> bits) & 0xff));
		}
	}
}

/* qp_line - decode one line (without its line end) into OUT */
static void
qp_line(const char *p, const char *end, struct buf *out, int *soft_r)
{
	const char *run = p;

	*soft_r = 0;
	/* RFC 2045 6.7 (3): trailing white space is transport padding */
	while (end > p && is_wsp(end[-1]))
		end--;
	while (p < end) {
		int hi, lo;

		if (*p != '=') {
			p++;
			continue;
		}
		buf_append(out, run, (size_t) (p - run));
		if (p + 1 == end) {		/* soft line break */
			*soft_r = 1;
			return;
		}
		if (end - p >= 3
		    && (hi = hex_value((unsigned char) p[1])) >= 0
		    && (lo = hex_value((unsigned char) p[2])) >= 0) {
			buf_putc(out, hi * 16 + lo);
			p += 3;
		} else {
			buf_putc(out, '=');	/* not an escape: keep it */
			p++;
		}
		run = p;
	}
	buf_append(out, run, (size_t) (p - run));
}

/* qp_decode - append the bytes quoted-printable IN encodes */
void
qp_decode(const char *in, size_t len, struct buf *out)
{
	const char *p = in, *end = in + len;

	if (buf_reserve(out, len) < 0)
		return;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		const char *line_end = nl != NULL ? nl : end;
		const char *content_end = line_end;
		int soft;

		if (content_end > p && content_end[-1] == '\r')
			content_end--;
		qp_line(p, content_end, out, &soft);
		if (nl != NULL && !soft)
			buf_append(out, content_end, (size_t) (nl + 1 - content_end));
		p = nl != NULL ? nl + 1 : end;
	}
}

/* qp_decode_header - RFC 2047 "Q" encoding: like QP, '_' is a space */
void
qp_decode_header(const char *in, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (in[i] == '_') {
			buf_putc(out, ' ');
		} else if (in[i] == '=' && i + 2 < len
			   && (hi = hex_value((unsigned char) in[i + 1])) >= 0
			   && (lo = hex_value((unsigned char) in[i + 2])) >= 0) {
			buf_putc(out, hi * 16 + lo);
			i += 2;
		} else {
			buf_putc(out, (unsigned char) in[i]);
		}
	}
}
